package bot

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"yanzhen/models"
	"yanzhen/msg"
)

// Cards (WeCom document 90372 模板卡片消息, 94888 更新模版卡片消息): a
// msg.Card to members goes as an app message of type template_card (without
// the app, as a push to each member's single chat with the AI bot),
// button_interaction when it has actions and text_notice otherwise, with a
// task_id unique per card, recorded with its recipients (models.Card). Each
// button's key is the tap it stands for (msg.Tap) and a signature over it
// and the card's task_id, so that a crafted callback cannot make up a tap,
// nor move one to another card. A tap comes back as the app event
// template_card_event with a one-use ResponseCode, which replaces the card
// for all its recipients (card_update.go). Elsewhere (a group, a channel
// without cards) a card is its text.

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
	cardMaxButtons     = 6 // button_list
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
	return &cardSigner{key: deriveKey(secret, "card-key", "yanzhen card button key")}
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
		if i == cardMaxButtons {
			break
		}
		style := 1
		if i > 0 {
			style = 2
		}
		// A key is some 40 bytes, far below cardKeyBytes; clipping one would
		// only make it a key that no longer opens.
		tc.Buttons = append(tc.Buttons, cardButton{Text: cardLine(a.Label, cardButtonRunes), Style: style,
			Key: s.sign(taskID, msg.Tap{Ref: c.Ref, Verb: a.Verb})})
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
