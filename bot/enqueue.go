package bot

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// Outbox channels: the column Channel of an outbox row, where it goes.
const (
	channelRobot = "robot" // a group robot's webhook; To names the robot of wecom.robots, "" for wecom.robot
	channelApp   = "app"   // app message to members; To is "userid1|userid2"
	channelReply = "reply" // a callback's reply (robot WebhookUrl or AI-bot response_url); To says where
)

// robotSingleReplies is how many messages a robot may send in answer to one
// message in a single chat; seeInApp ends the last of them when the answer
// is longer.
const (
	robotSingleReplies = 3
	seeInApp           = "\n……内容较长，请在应用中查看"
)

// Message types: the column Kind of an outbox row.
const (
	kindText     = "text"
	kindMarkdown = "markdown"
)

// Outbox puts messages in the outbox: it decides how each travels (a group
// post, app messages, the reply to a callback), renders it for that channel
// and splits it to the channel's limits. Handlers and jobs enqueue through it
// in the transaction of the change a message reports. It is safe for
// concurrent use.
type Outbox struct {
	// robotChat is the chat id of the configured robot's group; "" posts
	// without one.
	robotChat string
	// aibotGroup sends group posts by the AI bot's long connection to
	// aibotChat (the AI bot runs on it and no robot webhook key is set), and
	// aibotMembers messages to members by it too (no app is configured).
	aibotGroup, aibotMembers bool
	aibotChat                string
	// cards signs the buttons of cards.
	cards *cardSigner
	// app says whether the self-built app can send: where a channel takes no
	// image or file, they go to the member by app message.
	app bool
}

// Enqueue renders msgs and puts them in the outbox of st (a store, or a
// transaction of it, with which they commit) in order. A message whose
// DedupeKey was enqueued before is skipped; Enqueue returns how many were
// not. A message that says nothing is an error.
func (o *Outbox) Enqueue(ctx context.Context, st *models.Store, msgs ...msg.Message) (int, error) {
	n := 0
	places := map[string]place{}
	err := st.Tx(ctx, func(tx *models.Store) error {
		for i := range msgs {
			p, err := o.placeFor(ctx, tx, &msgs[i], places)
			if err != nil {
				return err
			}
			rows, err := o.rowsIn(ctx, tx, &msgs[i], p)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return fmt.Errorf("bot: enqueue: message %q says nothing", msgs[i].DedupeKey)
			}
			if err := checkAttachments(&msgs[i]); err != nil {
				return err
			}
			if err := storeAttachments(ctx, tx, &msgs[i]); err != nil {
				return err
			}
			fresh, err := tx.Enqueue(ctx, msgs[i].DedupeKey, rows)
			if err != nil {
				return fmt.Errorf("bot: enqueue: %w", err)
			}
			if !fresh {
				continue
			}
			n++
			if msgs[i].Card != nil {
				if err := recordCards(ctx, tx, &msgs[i], rows); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return n, err
}

// NewOutbox returns the Outbox of a WeCom configuration.
func NewOutbox(c config.WeCom) *Outbox {
	ws := c.AIBot.WebSocket()
	return &Outbox{
		robotChat:  c.Robot.ChatID,
		aibotGroup: ws && !c.Robot.WebhookKey.IsSet(), aibotMembers: ws && !c.AppConfigured(), aibotChat: c.AIBot.ChatID,
		app:   c.AppConfigured(),
		cards: newCardSigner(cardSecret(c)),
	}
}

// cardSecret is what the keys of card buttons are signed with: the secrets
// that send the cards (the app's, the AI bot's) with the callback keys.
// A callback is crafted with the callback's token and AES key alone, so
// the sending secrets, which never travel in a callback, must be in it.
func cardSecret(c config.WeCom) string {
	return strings.Join([]string{c.Secret.Reveal(), c.AIBot.Secret.Reveal(), c.AppCallback.AESKey.Reveal(), c.AIBot.AESKey.Reveal()}, "\x00")
}

// rowsIn is rows, and for the update of a tapped card the row that reads
// the card on st.
func (o *Outbox) rowsIn(ctx context.Context, st *models.Store, m *msg.Message, p place) ([]models.OutboxMessage, error) {
	if m.To.Tapped != nil {
		return o.updateRows(ctx, st, m)
	}
	return o.rows(m, p), nil
}

// Render returns the outbox rows m becomes, as Enqueue would store them
// (without their destination, status and times), a message to a work group
// by the chat of a single-group installation: `yanzhen report` prints them,
// and tests read them.
func (o *Outbox) Render(m msg.Message) []models.OutboxMessage {
	p := o.defaultPlace()
	p.group = m.To.Group
	return o.rows(&m, p)
}

// textRows renders the text of m as the outbox rows it becomes, keyed
// m.DedupeKey, then m.DedupeKey/2, /3 … for further parts; a message to a
// work group goes to p.
func (o *Outbox) textRows(m *msg.Message, p place) []models.OutboxMessage {
	if len(m.Sections) == 0 {
		return nil
	}
	var rows []models.OutboxMessage
	add := func(r models.OutboxMessage, bodies []string, f format) {
		rows = append(rows, stamped(r, bodies, f, m.DedupeKey, m.Priority)...)
	}
	f := asText
	if m.Styled() {
		f = asMarkdown
	}
	switch {
	case m.To.ReplyTo != nil:
		in := m.To.ReplyTo
		row := models.OutboxMessage{Channel: channelReply, To: in.ReplyURL, ChatID: in.ChatID}
		switch in.Route {
		case models.RouteAIBot:
			if isReplyRef(in.ReplyURL) { // a frame of the long connection
				row = aibotReplyRow(in)
			}
			// An AI bot's response_url, like a stream reply, takes one markdown message only.
			add(row, []string{cutToFit(m, asRichMarkdown, aibotReplyLimit)}, asRichMarkdown)
		case models.RouteRobot:
			mentions := m.Mentions
			if in.InGroup() && in.FromUserID != "" && f == asText {
				mentions = appendNew(mentions, in.FromUserID) // the answer is seen to be theirs
			}
			row, bodies, f := o.withMentions(row, m, f, mentions)
			if !in.InGroup() && len(bodies) > robotSingleReplies && in.FromUserID != "" {
				// A robot answers a single chat with 3 messages at most: the
				// rest is cut, and the whole goes to the sender by app message.
				add(row, cutAnswer(bodies, f), f)
				whole := msg.Message{To: msg.ToMembers(in.FromUserID), Title: m.Title, Sections: m.Sections, Priority: m.Priority}
				if m.DedupeKey != "" {
					whole.DedupeKey = m.DedupeKey + "/app"
				}
				rows = append(rows, o.textRows(&whole, p)...)
				break
			}
			add(row, bodies, f)
		default:
			row := models.OutboxMessage{Channel: channelApp, To: in.FromUserID}
			add(row, parts(m, f, textLimit), f)
		}
	case m.Card != nil && len(m.To.Members) > 0 && (o.app || o.aibotMembers):
		rows = append(rows, o.cardRows(m, appendNew(nil, m.To.Members...))...)
	case m.Card != nil:
		return o.textRows(cardAsText(m), p)
	case len(m.To.Members) > 0 && o.aibotMembers:
		rows = append(rows, aibotMemberRows(m, appendNew(nil, m.To.Members...))...)
	case len(m.To.Members) > 0:
		users := appendNew(nil, m.To.Members...)
		add(models.OutboxMessage{Channel: channelApp, To: strings.Join(users, "|")}, parts(m, f, textLimit), f)
	case p.aibot:
		// The AI bot cannot @-mention in its markdown: inline mentions show
		// the name, and m.Mentions are left out.
		add(models.OutboxMessage{Channel: channelAIBotPush, ChatID: p.chatID}, parts(m, asRichMarkdown, aibotReplyLimit), asRichMarkdown)
	default:
		add(o.withMentions(p.robotRow(), m, f, m.Mentions))
	}
	return rows
}

// markGroupPosts marks the rows of a message to a work group as posts of
// the group it went to (p), so that the day's group posts can be counted.
func markGroupPosts(m *msg.Message, p place, rows []models.OutboxMessage) []models.OutboxMessage {
	if m.To.ReplyTo == nil && len(m.To.Members) == 0 {
		for i := range rows {
			rows[i].GroupPost, rows[i].Group = true, p.group
		}
	}
	return rows
}

// stamped returns the rows of bodies, one message's parts in format f on
// the channel of r: with the message's priority, the mentions on the first
// part only, and the dedupe key key on the first, then key/2, key/3 … on
// the others ("" for none).
func stamped(r models.OutboxMessage, bodies []string, f format, key string, p msg.Priority) []models.OutboxMessage {
	rows := make([]models.OutboxMessage, 0, len(bodies))
	for i, body := range bodies {
		row := r
		row.Kind, row.Body, row.Priority = f.kind(), body, int(p)
		if i > 0 {
			row.Mentions = nil
		}
		if key != "" {
			k := key
			if i > 0 {
				k += "/" + strconv.Itoa(i+1)
			}
			row.DedupeKey = &k
		}
		rows = append(rows, row)
	}
	return rows
}

// withMentions renders m for a robot (a group post or a reply in a group):
// text of at most textLimit bytes with its mentions in the mention list, or
// markdown of at most robotMarkdownLimit bytes with mentions the body does
// not carry yet added as a last line where they fit.
func (o *Outbox) withMentions(row models.OutboxMessage, m *msg.Message, f format, mentions []string) (models.OutboxMessage, []string, format) {
	if f == asText {
		row.Mentions = mentions
		return row, parts(m, f, textLimit), f
	}
	bodies := parts(m, f, robotMarkdownLimit)
	var tags strings.Builder
	for _, u := range mentions {
		if tag := "<@" + u + ">"; validUserID(u) && !strings.Contains(bodies[0], tag) {
			tags.WriteString(tag)
		}
	}
	if tags.Len() > 0 && len(bodies[0])+1+tags.Len() <= robotMarkdownLimit {
		bodies[0] += "\n" + tags.String()
	}
	return row, bodies, f
}

// cutAnswer keeps the first robotSingleReplies bodies, the last of them
// ending with seeInApp.
func cutAnswer(bodies []string, f format) []string {
	limit := textLimit
	if f == asMarkdown {
		limit = robotMarkdownLimit
	}
	out := append([]string(nil), bodies[:robotSingleReplies]...)
	last := out[len(out)-1]
	if len(last)+len(seeInApp) > limit {
		last = splitBody(last, limit-len(seeInApp))[0]
	}
	out[len(out)-1] = last + seeInApp
	return out
}

// appendNew appends the ids not blank and not in list yet.
func appendNew(list []string, ids ...string) []string {
	out := append([]string(nil), list...)
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
