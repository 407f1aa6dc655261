package bot

import (
	"cmp"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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

// Cards (WeCom document 90372 模板卡片消息, 94888 更新模版卡片消息): a
// msg.Card to members goes as an app message of type template_card,
// button_interaction when it has actions and text_notice otherwise, with a
// task_id unique per card, recorded with its recipients (models.Card). Each
// button's key is the tap it stands for (msg.Tap) and a signature over it
// and the card's task_id, so that a crafted callback cannot make up a tap,
// nor move one to another card. A tap comes back as the app event
// template_card_event with a one-use ResponseCode, which replaces the card
// for all its recipients (message/update_template_card). Elsewhere (a group,
// a channel without cards) a card is its text.

// Message types of card rows.
const (
	kindTemplateCard = "template_card"
	kindCardUpdate   = "card_update"
)

// WeCom's limits on a template card, in characters unless named bytes.
const (
	cardTitleRunes     = 26 // main_title.title (WeCom: 36 bytes shown; keep it whole)
	cardDescRunes      = 44 // main_title.desc
	cardSubTitleRunes  = 160
	cardFieldKeyRunes  = 5
	cardFieldRunes     = 30
	cardMaxFields      = 6
	cardButtonRunes    = 10
	cardEmphasisRunes  = 10 // emphasis_content.title
	cardEmphasisDesc   = 15 // emphasis_content.desc
	cardQuoteRunes     = 60
	cardReplaceRunes   = 20 // button.replace_name
	cardKeyBytes       = 1024
	cardTaskIDBytes    = 128
	cardSignatureBytes = 9 // the signature in a key: 72 bits, 12 characters
)

// noticeLink is where a text_notice card leads when tapped: WeCom requires
// a link on one, and yanzhen has no page of its own to show.
const noticeLink = "https://work.weixin.qq.com/"

// cardSigner signs and checks the keys of card buttons with a key derived
// (HKDF-SHA256) from the callback secrets, as sealBox derives its keys.
type cardSigner struct{ key []byte }

func newCardSigner(secret string) *cardSigner {
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte("card-key"), "yanzhen card button key", 32)
	if err != nil {
		panic(fmt.Sprintf("bot: derive card key: %v", err)) // only for lengths out of range
	}
	return &cardSigner{key: k}
}

// sign returns the key of a button of card taskID that stands for tap.
func (s *cardSigner) sign(taskID string, tap msg.Tap) string {
	return tap.String() + "~" + s.mac(taskID, tap.String())
}

func (s *cardSigner) mac(taskID, tap string) string {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(taskID + "\x00" + tap))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:cardSignatureBytes])
}

// open returns the tap a key of card taskID stands for; ok is false for a
// key the bot did not make for that card.
func (s *cardSigner) open(taskID, key string) (msg.Tap, bool) {
	i := strings.LastIndexByte(key, '~')
	if i < 0 || !hmac.Equal([]byte(key[i+1:]), []byte(s.mac(taskID, key[:i]))) {
		return msg.Tap{}, false
	}
	tap, err := msg.ParseTap(key[:i])
	return tap, err == nil
}

// newTaskID returns a task_id no other card has: "yz" and 24 random hex
// digits, within WeCom's alphabet [A-Za-z0-9_-@].
func newTaskID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "yz" + hex.EncodeToString(b[:])
}

// templateCard is the template_card of an app message and of its update.
type templateCard struct {
	CardType   string       `json:"card_type"`
	MainTitle  cardText     `json:"main_title"`
	Emphasis   *cardText    `json:"emphasis_content,omitempty"`
	QuoteArea  *quoteArea   `json:"quote_area,omitempty"`
	SubTitle   string       `json:"sub_title_text,omitempty"`
	Fields     []cardField  `json:"horizontal_content_list,omitempty"`
	CardAction *cardAction  `json:"card_action,omitempty"`
	TaskID     string       `json:"task_id,omitempty"`
	Buttons    []cardButton `json:"button_list,omitempty"`
}

type cardText struct {
	Title string `json:"title,omitempty"`
	Desc  string `json:"desc,omitempty"`
}

type quoteArea struct {
	Title string `json:"title,omitempty"`
	Quote string `json:"quote_text,omitempty"`
}

type cardField struct {
	Key   string `json:"keyname"`
	Value string `json:"value,omitempty"`
}

type cardAction struct {
	Type int    `json:"type"`
	URL  string `json:"url,omitempty"`
}

type cardButton struct {
	Text  string `json:"text"`
	Style int    `json:"style,omitempty"`
	Key   string `json:"key"`
}

// cardLine makes s one line of at most n characters, as literal text.
func cardLine(s string, n int) string {
	return models.ClipRunes(models.OneLine(escapeText(s)), n)
}

// renderCard renders m's card with task_id taskID, its buttons signed by s.
func renderCard(m *msg.Message, taskID string, s *cardSigner) templateCard {
	c := m.Card
	tc := templateCard{
		CardType:  "button_interaction",
		MainTitle: cardText{Title: cardLine(m.Title, cardTitleRunes), Desc: cardLine(c.Status, cardDescRunes)},
		SubTitle:  models.ClipRunes(escapeText(strings.TrimSpace(strings.TrimPrefix(m.PlainText(), m.Title))), cardSubTitleRunes),
		TaskID:    taskID,
	}
	for _, f := range c.Fields {
		if len(tc.Fields) < cardMaxFields {
			tc.Fields = append(tc.Fields, cardField{Key: cardLine(f.Label, cardFieldKeyRunes), Value: cardLine(f.Value, cardFieldRunes)})
		}
	}
	for i, a := range c.Actions {
		if i == msg.MaxActions {
			break
		}
		style := 1
		if i > 0 {
			style = 2
		}
		tc.Buttons = append(tc.Buttons, cardButton{Text: cardLine(a.Label, cardButtonRunes), Style: style,
			Key: models.ClipBytes(s.sign(taskID, msg.Tap{Ref: c.Ref, Verb: a.Verb}), cardKeyBytes)})
	}
	emphasis := c.Emphasis.Value != ""
	switch {
	case len(tc.Buttons) == 0 && c.Status == "":
		tc.CardType, tc.CardAction = "text_notice", &cardAction{Type: 1, URL: noticeLink}
		if emphasis {
			tc.Emphasis = &cardText{Title: cardLine(c.Emphasis.Value, cardEmphasisRunes), Desc: cardLine(c.Emphasis.Label, cardEmphasisDesc)}
		}
	case emphasis:
		tc.QuoteArea = &quoteArea{Title: cardLine(c.Emphasis.Label, cardFieldKeyRunes*2), Quote: cardLine(c.Emphasis.Value, cardQuoteRunes)}
	}
	return tc
}

// cardAsText is what a card says where no card can go: its text, which
// says what the highlighted line and the fields repeat, and its status.
func cardAsText(m *msg.Message) *msg.Message {
	out := *m
	out.Card = nil
	if m.Card.Status != "" {
		out.Sections = append(append([]msg.Section(nil), m.Sections...), msg.S(msg.L(msg.Strong(m.Card.Status))))
	}
	return &out
}

// cardRows renders a card to members: one app message, or without the app
// one push to each member's single chat with the AI bot, each its own card.
// The pushes after the first are keyed m.DedupeKey/@userid.
func (o *Outbox) cardRows(m *msg.Message, users []string) []models.OutboxMessage {
	row := func(r models.OutboxMessage, key string) models.OutboxMessage {
		body, err := json.Marshal(renderCard(m, newTaskID(), o.cards))
		if err != nil {
			panic(fmt.Sprintf("bot: encode card: %v", err)) // plain structs of strings
		}
		r.Kind, r.Body, r.Priority = kindTemplateCard, string(body), int(m.Priority)
		if key != "" {
			r.DedupeKey = &key
		}
		return r
	}
	if o.app {
		return []models.OutboxMessage{row(models.OutboxMessage{Channel: channelApp, To: strings.Join(users, "|")}, m.DedupeKey)}
	}
	var rows []models.OutboxMessage
	for i, u := range users {
		key := m.DedupeKey
		if i > 0 && key != "" {
			key += "/@" + u
		}
		rows = append(rows, row(models.OutboxMessage{Channel: channelAIBotPush, ChatID: u}, key))
	}
	return rows
}

// cardUpdate is the body of a card_update row: the tap's response code (as
// the tap's row kept it: sealed), the card that replaces the tapped one,
// and what the tapper is told instead when WeCom refuses the code.
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
		u.Status, u.Notice = m.Card.Status, renderWhole(cardAsText(m), asText)
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

// recordCards records the cards among rows, just enqueued for m.
func recordCards(ctx context.Context, tx *models.Store, m *msg.Message, rows []models.OutboxMessage) error {
	for _, r := range rows {
		if r.Kind != kindTemplateCard {
			continue
		}
		var tc templateCard
		if err := json.Unmarshal([]byte(r.Body), &tc); err != nil {
			return fmt.Errorf("bot: read card: %w", err)
		}
		to := strings.Split(r.To, "|")
		if r.Channel == channelAIBotPush {
			to = []string{r.ChatID}
		}
		c := &models.Card{TaskID: tc.TaskID, RefKind: string(m.Card.Ref.Kind), RefID: m.Card.Ref.ID, Recipients: to, State: r.Body}
		if err := tx.CreateCard(ctx, c); err != nil {
			return err
		}
	}
	return nil
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
// no second step) by replacing the card with its current state, by the
// repeat's own response code. A callback WeCom sends again is no tap.
func (b *Bot) answerRepeat(ctx context.Context, in *models.Inbound) {
	st := b.journal.store
	if first, err := st.StoredInbound(ctx, in.Route, in.MsgID); err != nil || first.ReplyURL == in.ReplyURL {
		return // WeCom sending the first tap again: its code is the first's, spent on its step
	}
	card, err := st.CardByTask(ctx, in.TaskID)
	if err != nil {
		if models.ErrorCode(err) != models.ENOTFOUND {
			b.log.Warn("answering a repeated tap failed", zap.Error(err))
		}
		return
	}
	// The state is the last update (a cardUpdate), or the card as first sent.
	var u cardUpdate
	if err := json.Unmarshal([]byte(card.State), &u); err != nil || in.ReplyURL == "" {
		return
	}
	if u.Card.CardType == "" {
		if err := json.Unmarshal([]byte(card.State), &u.Card); err != nil {
			return
		}
	}
	rows := b.outbox.updateRowsOf(&msg.Message{Priority: msg.Reply, Card: &msg.Card{Status: u.Status}}, card, u.Card, in)
	sum := sha256.Sum256([]byte(in.ReplyURL))
	key := "tap-repeat:" + hex.EncodeToString(sum[:16])
	rows[0].DedupeKey = &key
	if _, err := st.Enqueue(ctx, key, rows); err != nil {
		b.log.Warn("answering a repeated tap failed", zap.Error(err))
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
