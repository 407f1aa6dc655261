package bot

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/silenceper/wechat/v2/util"
	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
)

// The update of a tapped card: the handler's msg.UpdateCard becomes a
// card_update row to the card's recipients, sent by
// message/update_template_card with the tap's one-use ResponseCode (the
// app), or by aibot_respond_update_msg with the req_id of the tap's frame
// (the AI bot). A code WeCom refuses, used or expired, holds nothing up: the
// tapper is told the card's state by a message instead.

// cardUpdate is the body of a card_update row: the tap's response code (as
// the tap's row kept it: sealed), the card that replaces the tapped one,
// and what the tapper is told instead when WeCom refuses the code (a text
// message: at most textLimit bytes).
type cardUpdate struct {
	Code   string       `json:"code"`
	Card   templateCard `json:"card"`
	Status string       `json:"status"`
	Tapper string       `json:"tapper"`
	Notice string       `json:"notice"`
}

// request is the update_template_card that puts u's card in place: the
// whole card while it has buttons, else its buttons greyed and replaced by
// its status (WeCom's replace_name), since an interaction card needs a button.
func (u *cardUpdate) request(users []string, code string) *cardUpdateRequest {
	r := &cardUpdateRequest{UserIDs: users, ResponseCode: code}
	if len(u.Card.Buttons) > 0 || u.Card.CardType != "button_interaction" {
		r.Card = &u.Card
	} else {
		r.Button = &replaceButton{ReplaceName: cardLine(cmp.Or(u.Status, "已处理"), cardReplaceRunes)}
	}
	return r
}

// updateRows renders the replacement of the card tapped in m.To.Tapped,
// for all the recipients of card, and records it as the card's state.
func (o *Outbox) updateRows(ctx context.Context, tx *models.Store, m *msg.Message) ([]models.OutboxMessage, error) {
	in := m.To.Tapped
	if m.Card == nil {
		return nil, errors.New("bot: a card update without a card")
	}
	card, err := tx.CardByTask(ctx, in.TaskID)
	if err != nil {
		return nil, fmt.Errorf("bot: update card: %w", err)
	}
	tc := renderCard(m, card.TaskID, o.cards)
	state, err := json.Marshal(cardUpdate{Card: tc, Status: m.Card.Status})
	if err != nil {
		return nil, fmt.Errorf("bot: encode card: %w", err)
	}
	if err := tx.SetCardState(ctx, card.TaskID, string(state)); err != nil {
		return nil, err
	}
	return o.updateRowsOf(m, card, tc, in), nil
}

// updateRowsOf is the row that replaces card with tc, by the response code
// of tap in.
func (o *Outbox) updateRowsOf(m *msg.Message, card *models.Card, tc templateCard, in *models.Inbound) []models.OutboxMessage {
	u := cardUpdate{Code: in.ReplyURL, Card: tc, Tapper: in.FromUserID}
	if m.Card != nil {
		u.Status, u.Notice = m.Card.Status, cutToFit(cardAsText(m), asText, textLimit)
	}
	body, err := json.Marshal(u)
	if err != nil {
		panic(fmt.Sprintf("bot: encode card update: %v", err))
	}
	row := models.OutboxMessage{Channel: channelApp, To: strings.Join(card.Recipients, "|"), Kind: kindCardUpdate, Body: string(body), Priority: int(msg.Reply)}
	if in.Route == models.RouteAIBot { // by the req_id of the tap's frame
		row.Channel, row.To, row.ChatID = channelAIBotReply, in.ReplyURL, in.FromUserID
	}
	if m.DedupeKey != "" {
		k := m.DedupeKey
		row.DedupeKey = &k
	}
	return []models.OutboxMessage{row}
}

// sendCardUpdate replaces a tapped card. WeCom's refusal of the response
// code (used, or older than 72 hours) is no reason to hold the queue: the
// tapper is told the card's state by an app message instead.
func (s *wecomSender) sendCardUpdate(ctx context.Context, t target, m *models.OutboxMessage) error {
	var u cardUpdate
	if err := json.Unmarshal([]byte(m.Body), &u); err != nil {
		return unsendable("card update unreadable: %v", err)
	}
	code, _, ok := s.resolver.replies.url(u.Code)
	if !ok {
		return unsendable("card response code sealed under other callback secrets")
	}
	code = strings.TrimPrefix(code, responseCodePrefix)
	err := s.client.updateCard(ctx, u.request(t.Users, code))
	var ae *APIError
	if v := Classify(err); !errors.As(err, &ae) || ae.Code == -1 || v == BackOff || v == Halt || tokenExpired(err) {
		return err // sent, or a failure that may pass
	}
	s.log.Warn("card update refused (response code used or expired): telling the tapper by app message instead",
		zap.Uint("outbox_id", m.ID), zap.Error(err))
	if u.Tapper == "" || u.Notice == "" {
		return nil
	}
	return s.appMessage(ctx, target{Kind: targetApp, Users: []string{u.Tapper}}, m, &appMessage{MsgType: "text", Text: &contentField{Content: u.Notice}})
}

// responseCodePrefix marks a tap's response code among the reply URLs a
// row keeps (sealed, as a credential).
const responseCodePrefix = "response_code:"

// cardUpdateRequest is the body of message/update_template_card.
type cardUpdateRequest struct {
	UserIDs      []string       `json:"userids"`
	AgentID      int64          `json:"agentid"`
	ResponseCode string         `json:"response_code"`
	Button       *replaceButton `json:"button,omitempty"`
	Card         *templateCard  `json:"template_card,omitempty"`
}

type replaceButton struct {
	ReplaceName string `json:"replace_name"`
}

// updateCard replaces a card by a tap's response code.
func (c *client) updateCard(ctx context.Context, r *cardUpdateRequest) error {
	r.AgentID = c.agentID
	return c.withToken(ctx, func(tok string) error {
		var res util.CommonError
		u := c.endpoint("/cgi-bin/message/update_template_card", url.Values{"access_token": {tok}})
		return c.call(ctx, "message/update_template_card", u, r, &res, &res)
	})
}

// answerRepeat answers a repeated tap (a button tapped again, which takes
// no second step) by replacing the card with its current state, through o
// on st, by the repeat's own response code or frame, once the first tap
// has been handled. A callback WeCom sends again is no tap.
func answerRepeat(ctx context.Context, st *models.Store, o *Outbox, log *zap.Logger, in *models.Inbound) {
	if in.ReplyURL == "" {
		return // nothing to answer by
	}
	first, err := st.StoredInbound(ctx, in.Route, in.MsgID)
	if err != nil {
		log.Warn("answering a repeated tap failed", zap.Error(err))
		return
	}
	switch {
	case first.ReplyURL == in.ReplyURL:
		return // WeCom sending the first tap again: its code is the first's, spent on its step
	case first.HandledAt == nil:
		// The first tap is still being handled: its update, which shows
		// the card as the step leaves it, answers this one too. Answered
		// now, the repeat would show the card before the step, and might
		// be sent after the first's update.
		return
	}
	card, err := st.CardByTask(ctx, in.TaskID)
	if err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			log.Warn("answering a repeated tap failed", zap.Error(err))
		}
		return
	}
	// The state is the last update (a cardUpdate), or the card as first sent.
	var u cardUpdate
	err = json.Unmarshal([]byte(card.State), &u)
	if err == nil && u.Card.CardType == "" {
		err = json.Unmarshal([]byte(card.State), &u.Card)
	}
	if err != nil {
		log.Warn("answering a repeated tap failed: the card's state is unreadable", zap.String("task_id", card.TaskID), zap.Error(err))
		return
	}
	rows := o.updateRowsOf(&msg.Message{Priority: msg.Reply, Card: &msg.Card{Status: u.Status}}, card, u.Card, in)
	sum := sha256.Sum256([]byte(in.ReplyURL))
	key := "tap-repeat:" + hex.EncodeToString(sum[:16])
	rows[0].DedupeKey = &key
	if _, err := st.Enqueue(ctx, key, rows); err != nil {
		log.Warn("answering a repeated tap failed", zap.Error(err))
	}
}

// aibotCard is the card an AI bot's update puts in place: u's card, or
// without buttons a notice card showing its status (an interaction card
// needs a button, and the AI bot cannot grey them).
func (u *cardUpdate) aibotCard() templateCard {
	c := u.Card
	if len(c.Buttons) == 0 && c.CardType == "button_interaction" {
		c.CardType, c.CardAction = "text_notice", &cardAction{Type: 1, URL: noticeLink}
		c.MainTitle.Desc = cardLine(u.Status, cardDescRunes)
	}
	return c
}

// updateCard replaces a tapped card by the req_id of the tap's frame (on
// this session when same), for the tapper; when the frame came on another
// connection, or WeCom no longer takes its req_id (after a few seconds), the
// tapper is told the card's state in the chat instead.
func (s *session) updateCard(ctx context.Context, reqID string, same bool, chat string, m *models.OutboxMessage) error {
	var u cardUpdate
	if err := json.Unmarshal([]byte(m.Body), &u); err != nil {
		return unsendable("card update unreadable: %v", err)
	}
	if same {
		err := s.call(ctx, outFrame{Cmd: cmdUpdateCard, Headers: wsHeaders{ReqID: reqID}, Body: map[string]any{
			"response_type": "update_template_card", "userids": []string{chat}, "template_card": u.aibotCard(),
		}})
		if !replyRefused(err) {
			return err
		}
	}
	if u.Notice == "" {
		return nil
	}
	return s.call(ctx, outFrame{Cmd: cmdSendMsg, Headers: wsHeaders{ReqID: newReqID(cmdSendMsg)}, Body: map[string]any{
		"chatid": chat, "msgtype": "markdown", "markdown": contentField{Content: escapeRichMarkdown(u.Notice)},
	}})
}
