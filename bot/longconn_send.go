package bot

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
)

// The long connection's outbox channels. A reply row's To is the reply
// reference of the message it answers (replyRef: the connection and the
// req_id, no credential) and its ChatID the chat to push to instead when
// that connection is gone; a push row's ChatID is the chat (a group's
// chatid, or a member's userid for their single chat), "" for the group
// learnt from the first group message.
const (
	channelAIBotReply = "aibot_reply"
	channelAIBotPush  = "aibot_push"
)

// Target kinds of the long connection: a reply on it, and a push.
const (
	targetAIBotWSReply = "aibot_respond_msg"
	targetAIBotPush    = "aibot_send_msg"
)

// aibotPerMinute is how many messages the AI bot puts in one chat in any
// minute, replies and pushes together. WeCom documents no limit for the
// long connection; this is the group robot's, to be safe.
const aibotPerMinute = 20

// errNotConnected fails a send while the long connection is down; the row
// is tried again.
var errNotConnected = errors.New("the AI bot's long connection is down")

// errNoGroupChat fails a group push while no chat is known; the row is
// tried again, and goes as soon as the bot hears from the group.
var errNoGroupChat = errors.New("no group chat for the AI bot: set wecom.aibot.chat_id, or @-mention the bot in the group once")

// replyRefPrefix starts a reply reference, which a ReplyURL of the long
// connection holds instead of a URL.
const replyRefPrefix = "ws:"

// replyRef references the reply to a frame: the connection it came on and
// its req_id.
func replyRef(conn, reqID string) string { return replyRefPrefix + conn + ":" + reqID }

// parseReplyRef reads a reply reference.
func parseReplyRef(ref string) (conn, reqID string, ok bool) {
	rest, ok := strings.CutPrefix(ref, replyRefPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}

// isReplyRef reports whether a ReplyURL is a reply reference of the long connection.
func isReplyRef(s string) bool { return strings.HasPrefix(s, replyRefPrefix) }

// aibotReplyRow is the row of a reply on the long connection to in: in a
// group the group's chat, in a single chat the sender's.
func aibotReplyRow(in *models.Inbound) models.OutboxMessage {
	chat := in.ChatID
	if !in.InGroup() || chat == "" {
		chat = in.FromUserID
	}
	return models.OutboxMessage{Channel: channelAIBotReply, To: in.ReplyURL, ChatID: chat}
}

// aibotMemberRows are the rows of m to members when the long connection
// carries what app messages would: one push to each member's single chat.
// The first member's rows carry m's dedupe key, the others' the key and
// "/@" and the userid.
func aibotMemberRows(m *msg.Message, users []string) []models.OutboxMessage {
	bodies := parts(m, asRichMarkdown, aibotReplyLimit)
	var rows []models.OutboxMessage
	for i, u := range users {
		key := m.DedupeKey
		if i > 0 && key != "" {
			key += "/@" + u
		}
		rows = append(rows, stamped(models.OutboxMessage{Channel: channelAIBotPush, ChatID: u}, bodies, asRichMarkdown, key, m.Priority)...)
	}
	return rows
}

// aibotTarget resolves a row of the long connection's channels.
func aibotTarget(m *models.OutboxMessage) (target, error) {
	if m.Channel == channelAIBotReply {
		if _, _, ok := parseReplyRef(m.To); !ok {
			return target{}, unsendable("AI bot reply without a reply reference")
		}
		return target{Kind: targetAIBotWSReply, Key: m.To, ChatID: m.ChatID}, nil
	}
	return target{Kind: targetAIBotPush, ChatID: m.ChatID}, nil
}

// aibotTargetName names a target of the long connection for logs and
// administrators.
func aibotTargetName(t target) string {
	what := "智能机器人推送"
	if t.Kind == targetAIBotWSReply {
		what = "智能机器人回复"
	}
	if t.ChatID == "" {
		return what + " 群"
	}
	return what + " 会话 " + t.ChatID
}

// away reports whether m goes through the long connection while another
// process holds it: such rows are the holder's to send, and this process's
// worker leaves them.
func (l *longConn) away(m *models.OutboxMessage) bool {
	return (m.Channel == channelAIBotReply || m.Channel == channelAIBotPush) && !l.holds()
}

// deliver sends a row of the long connection's channels. A reply goes on
// the connection with its req_id; when the connection it came on is gone,
// or WeCom no longer takes the req_id, it is pushed to the same chat
// instead. A push goes to its chat, or to the group chat.
func (l *longConn) deliver(ctx context.Context, t target, m *models.OutboxMessage) error {
	s := l.session()
	if s == nil {
		return errNotConnected
	}
	chat := t.ChatID
	if t.Kind == targetAIBotWSReply {
		conn, reqID, _ := parseReplyRef(t.Key)
		if m.Kind == kindCardUpdate {
			return s.updateCard(ctx, reqID, conn == s.id, chat, m)
		}
		if conn == s.id {
			err := s.call(ctx, outFrame{Cmd: cmdRespond, Headers: wsHeaders{ReqID: reqID}, Body: streamBody(m)})
			if !replyRefused(err) {
				return err
			}
			l.log.Info("aibot: WeCom no longer takes the reply's req_id; pushing to the chat instead",
				zap.Uint("outbox_id", m.ID), zap.Error(err))
		}
		if chat == "" {
			return unsendable("AI bot reply without a chat to push to")
		}
	} else if chat == "" {
		var err error
		if chat, err = l.groupChat(ctx); err != nil {
			return err
		}
		if chat == "" {
			return errNoGroupChat
		}
	}
	body := map[string]any{"chatid": chat, "msgtype": "markdown", "markdown": contentField{Content: m.Body}}
	if m.Kind == kindTemplateCard {
		body = map[string]any{"chatid": chat, "msgtype": "template_card", "template_card": json.RawMessage(m.Body)}
	}
	return s.call(ctx, outFrame{Cmd: cmdSendMsg, Headers: wsHeaders{ReqID: newReqID(cmdSendMsg)}, Body: body})
}

// replyRefused reports whether WeCom refused a reply for its req_id (invalid,
// expired, used up) or anything else that a push may not meet: every errcode
// but the rate limit and "busy", which a push would meet too.
func replyRefused(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code != -1 && Classify(err) != BackOff
}

// streamBody is a finished stream reply of a row. The stream's id is the
// row's, so that an attempt again after a lost answer updates the same
// message rather than posting a second.
func streamBody(m *models.OutboxMessage) map[string]any {
	return map[string]any{"msgtype": "stream", "stream": map[string]any{
		"id": "yz" + strconv.FormatUint(uint64(m.ID), 10), "finish": true, "content": m.Body,
	}}
}
