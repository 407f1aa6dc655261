package wecomtest

import (
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The cards the app and the AI bot sent, and what happens to them (document
// 94888, 更新模版卡片消息, and the event 模板卡片事件推送):
//   - message/send of a card with a task_id answers a response_code; a tap
//     on the card (Tap) arrives as the event template_card_event with a fresh
//     ResponseCode. Each code may update the card once
//     (message/update_template_card), within ResponseCodeTTL; a used or
//     expired one is refused with errcode 40058;
//   - on the AI bot's long connection a tap is pushed as template_card_event
//     and the card is updated by aibot_respond_update_msg with the event's
//     req_id within EventReplyWindow; an update whose template_card.task_id
//     is not the tapped card's is acknowledged and discarded, as WeCom does.
//
// A task_id is unique among the cards the fake has seen: a second card with
// one is refused with errcode 40058.

// RouteUpdateCard is the app's update of a template card it sent. It
// delivers no message: the card it updates changes in place (Cards).
const RouteUpdateCard Route = "message/update_template_card" // POST /cgi-bin/message/update_template_card?access_token=

// ResponseCodeTTL is how long a card's response_code may be used
// ("response_code的有效期是72小时").
const ResponseCodeTTL = 72 * time.Hour

// The errors of Tap.
var (
	ErrUnknownCard  = errors.New("wecomtest: no card was sent with this task_id")
	ErrNotRecipient = errors.New("wecomtest: the card did not reach this member")
	ErrNoSuchButton = errors.New("wecomtest: the card shows the member no clickable button with this key")
)

// SentCard is a template card with a task_id that the app or the AI bot
// sent, as its recipients see it now.
type SentCard struct {
	TaskID   string
	CardType string // as sent
	Route    Route  // RouteMessage, or the long connection's cmd that sent it
	Seq      int    // the Request that sent it
	Sent     time.Time
	ChatID   string // AI bot: the group chat it went to; "" for members
	// Recipients are the members it reached, in lower case; empty for a
	// card in a group chat.
	Recipients []string
	// Views is what each recipient sees now, by userid; a group chat's card
	// has one view, under "".
	Views map[string]CardView
}

// CardView is a card as one recipient sees it.
type CardView struct {
	Card json.RawMessage // the template_card object shown
	// ReplaceName is set when an update made the card's buttons unclickable
	// (button.replace_name): they show this text instead.
	ReplaceName string
	Updated     time.Time // zero until an update
}

// View returns what userid sees of the card.
func (c SentCard) View(userid string) (CardView, bool) {
	if c.ChatID != "" {
		v, ok := c.Views[""]
		return v, ok
	}
	v, ok := c.Views[strings.ToLower(userid)]
	return v, ok
}

// CardEvent is a member's tap on a card button, as WeCom reports it to the
// app (template_card_event; sign it with CallbackSigner.AppCardEvent) or,
// for a card the AI bot sent, pushes it on the long connection.
type CardEvent struct {
	UserID   string
	TaskID   string
	EventKey string
	CardType string
	AgentID  int
	// ResponseCode is the event's one-use code for update_template_card
	// (app cards only).
	ResponseCode string
	// ReqID is the req_id of the pushed event frame, which the AI bot's
	// aibot_respond_update_msg must carry (AI bot cards only).
	ReqID string
	Time  time.Time
}

// sentCard is the fake's record of a card; guarded by Server.mu.
type sentCard struct {
	SentCard
	aibot bool // sent on the long connection
}

// cardCode is a response_code: the card it may update once, until expires.
type cardCode struct {
	taskID  string
	expires time.Time
	used    bool
}

// Cards returns the cards sent with a task_id, in the order sent, as their
// recipients see them now.
func (s *Server) Cards() []SentCard {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SentCard, 0, len(s.cardOrder))
	for _, id := range s.cardOrder {
		out = append(out, s.cards[id].snapshot())
	}
	return out
}

// Card returns the card sent with taskID, as its recipients see it now.
func (s *Server) Card(taskID string) (SentCard, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cards[taskID]
	if c == nil {
		return SentCard{}, false
	}
	return c.snapshot(), true
}

func (c *sentCard) snapshot() SentCard {
	out := c.SentCard
	out.Recipients = slices.Clone(c.Recipients)
	out.Views = maps.Clone(c.Views)
	return out
}

// taskIDFreeLocked refuses a card whose task_id another card has.
func (s *Server) taskIDFreeLocked(c *templateCard) answer {
	if c != nil && c.TaskID != "" && s.cards[c.TaskID] != nil {
		return badCard("task_id %s already exists", c.TaskID)
	}
	return success(nil)
}

// keepCardLocked records a delivered card with a task_id: to the members
// users, or to the group chat chatID.
func (s *Server) keepCardLocked(req *Request, c *templateCard, raw json.RawMessage, chatID string, users []string) {
	if c == nil || c.TaskID == "" {
		return
	}
	req.TaskID = c.TaskID
	sc := &sentCard{
		SentCard: SentCard{TaskID: c.TaskID, CardType: c.CardType, Route: req.Route, Seq: req.Seq, Sent: req.Time, ChatID: chatID, Views: map[string]CardView{}},
		aibot:    req.Route != RouteMessage,
	}
	if chatID != "" {
		sc.Views[""] = CardView{Card: raw}
	} else {
		sc.Recipients = lowerAll(users)
		for _, u := range sc.Recipients {
			sc.Views[u] = CardView{Card: raw}
		}
	}
	s.cards[c.TaskID] = sc
	s.cardOrder = append(s.cardOrder, c.TaskID)
}

// mintCodeLocked returns a fresh response_code for the card taskID.
func (s *Server) mintCodeLocked(taskID string, now time.Time) string {
	code := randomHex(24)
	s.codes[code] = &cardCode{taskID: taskID, expires: now.Add(ResponseCodeTTL)}
	return code
}

// updateCard serves POST /cgi-bin/message/update_template_card: it spends a
// response_code to replace the buttons' text (button.replace_name, on an
// interaction card) or the whole card (template_card) for the members named
// in userids, or for everyone it reached with atall.
func (s *Server) updateCard(req *Request, q url.Values, p *payload, err error) answer {
	if a, ok := s.checkAppCallLocked(req, q, err); !ok {
		return a
	}
	code := s.codes[p.ResponseCode]
	if code == nil || code.used || !req.Time.Before(code.expires) {
		return failure(40058, "response_code is invalid, used or expired. invalid Request Parameter")
	}
	sc := s.cards[code.taskID]
	req.TaskID, req.MsgType = sc.TaskID, "template_card"
	var view CardView
	switch {
	case p.TemplateCard != nil:
		raw := cardJSON(req.Body)
		if p.TemplateCard.TaskID == "" {
			p.TemplateCard.TaskID, raw = sc.TaskID, withTaskID(raw, sc.TaskID)
		}
		if p.TemplateCard.TaskID != sc.TaskID {
			return badCard("task_id must be the task_id of the card the response_code belongs to")
		}
		if a := checkCard(p.TemplateCard, allCards); a.errcode != 0 {
			return a
		}
		view, req.Content = CardView{Card: raw, Updated: req.Time}, p.TemplateCard.text()
	case p.Button != nil && p.Button.ReplaceName != "":
		if !interactive(sc.CardType) {
			return failure(40058, "button can be replaced only on button_interaction, vote_interaction and multiple_interaction cards. invalid Request Parameter")
		}
		view, req.Content = CardView{ReplaceName: p.Button.ReplaceName, Updated: req.Time}, p.Button.ReplaceName
	default:
		return failure(40058, "button.replace_name or template_card missing. invalid Request Parameter")
	}
	targets, invalid := sc.Recipients, []string{}
	if p.AtAll != 1 {
		targets = nil
		for _, u := range lowerAll(p.UserIDs) {
			if _, ok := sc.Views[u]; ok {
				targets = append(targets, u)
			} else {
				invalid = append(invalid, u)
			}
		}
	}
	if len(targets) == 0 {
		a := failure(81013, "user & party & tag all invalid")
		a.extra = map[string]any{"invaliduser": invalid}
		return a
	}
	code.used = true
	req.ToUser = targets
	for _, u := range targets {
		v := view
		if v.Card == nil { // replace_name keeps the card and greys its buttons
			v.Card = sc.Views[u].Card
		}
		sc.Views[u] = v
	}
	return success(map[string]any{"invaliduser": invalid})
}

// Tap is the member userid tapping the button (or submit button, or menu
// action) with key on the card taskID, as WeCom reports it: for an app card
// it returns the event with a fresh ResponseCode, to be signed with
// CallbackSigner.AppCardEvent and posted to the app's callback URL; for an
// AI bot card it pushes the event on the long connection and returns it with
// the frame's ReqID. A card nobody sent is ErrUnknownCard, a member it did
// not reach ErrNotRecipient, and a key the member's view of the card does
// not show as clickable (greyed by replace_name, or replaced by an update)
// ErrNoSuchButton.
func (s *Server) Tap(userid, taskID, key string) (CardEvent, error) {
	s.mu.Lock()
	sc := s.cards[taskID]
	if sc == nil {
		s.mu.Unlock()
		return CardEvent{}, ErrUnknownCard
	}
	view, ok := sc.View(userid)
	if !ok {
		s.mu.Unlock()
		return CardEvent{}, ErrNotRecipient
	}
	var shown templateCard
	if view.ReplaceName != "" || json.Unmarshal(view.Card, &shown) != nil || !slices.Contains(shown.keys(), key) {
		s.mu.Unlock()
		return CardEvent{}, ErrNoSuchButton
	}
	ev := CardEvent{UserID: userid, TaskID: taskID, EventKey: key, CardType: sc.CardType, AgentID: s.agentID, Time: s.now()}
	if !sc.aibot {
		ev.ResponseCode = s.mintCodeLocked(taskID, ev.Time)
		s.mu.Unlock()
		return ev, nil
	}
	chatType := "single"
	if sc.ChatID != "" {
		chatType = "group"
	}
	s.mu.Unlock()
	reqID, err := s.PushEvent(AIBotEvent{EventType: "template_card_event", ChatID: sc.ChatID, ChatType: chatType, UserID: userid,
		EventKey: key, TaskID: taskID, CardType: sc.CardType})
	if err != nil {
		return CardEvent{}, err
	}
	ev.AgentID, ev.ReqID = 0, reqID
	return ev, nil
}
