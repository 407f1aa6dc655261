package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Message types of attachment rows: the column Kind of an outbox row, whose
// Media holds the payload's hash and Body the file's name.
const (
	kindImage = "image"
	kindFile  = "file"
)

// mediaKeep is how long a payload is kept once no pending row needs it:
// past the life of its media_id, so that a row sent again finds it.
const mediaKeep = 7 * 24 * time.Hour

// rows renders m as the outbox rows it becomes: its text (see textRows),
// then a row for each attachment, keyed m.DedupeKey/a1, /a2 … Attachments
// travel as the text does, except where the channel takes no image or file:
// an AI bot's reply sends them to the asker by app message, as does a
// robot's answer in a single chat that would pass its 3 messages, and the
// reply says so; without an app, and on the AI bot's pushes, they are left
// out and the text says that instead.
func (o *Outbox) rows(m *msg.Message, p place) []models.OutboxMessage {
	return markGroupPosts(m, p, o.allRows(m, p))
}

// allRows is rows before the group posts are marked.
func (o *Outbox) allRows(m *msg.Message, p place) []models.OutboxMessage {
	if len(m.Attachments) == 0 {
		return o.textRows(m, p)
	}
	dest, note, send := o.attachmentDestination(m, p)
	text := m
	if note != "" {
		noted := *m
		noted.Sections = append(append([]msg.Section(nil), m.Sections...), msg.S(msg.L(msg.Text(note))))
		text = &noted
	}
	var rows []models.OutboxMessage
	if len(text.Sections) > 0 {
		rows = o.textRows(text, p)
	}
	if !send {
		return rows
	}
	for i, a := range m.Attachments {
		row := dest
		row.Kind, row.Body, row.Media, row.Priority = attachmentKind(a, dest.Channel), a.Name, models.MediaHash(a.Data), int(m.Priority)
		if m.DedupeKey != "" {
			key := m.DedupeKey + "/a" + strconv.Itoa(i+1)
			row.DedupeKey = &key
		}
		rows = append(rows, row)
	}
	return rows
}

// attachmentDestination returns where m's attachments go, the line the text
// adds when they do not go the text's way, and whether they go at all.
func (o *Outbox) attachmentDestination(m *msg.Message, p place) (dest models.OutboxMessage, note string, send bool) {
	toAsker := func(in *models.Inbound) (models.OutboxMessage, string, bool) {
		if !o.app || in.FromUserID == "" {
			return models.OutboxMessage{}, unsent(m.Attachments), false
		}
		return models.OutboxMessage{Channel: channelApp, To: in.FromUserID}, sentByApp(m.Attachments), true
	}
	switch in := m.To.ReplyTo; {
	case in != nil && in.Route == models.RouteAIBot:
		return toAsker(in)
	case in != nil && in.Route == models.RouteRobot:
		if !in.InGroup() && len(o.textRows(m, p))+len(m.Attachments) > robotSingleReplies {
			return toAsker(in)
		}
		return models.OutboxMessage{Channel: channelReply, To: in.ReplyURL, ChatID: in.ChatID}, "", true
	case in != nil:
		return models.OutboxMessage{Channel: channelApp, To: in.FromUserID}, "", true
	case len(m.To.Members) > 0 && o.aibotMembers, len(m.To.Members) == 0 && p.aibot:
		return models.OutboxMessage{}, unsent(m.Attachments), false
	case len(m.To.Members) > 0:
		return models.OutboxMessage{Channel: channelApp, To: strings.Join(appendNew(nil, m.To.Members...), "|")}, "", true
	}
	return p.robotRow(), "", true
}

// attachmentKind is how an attachment is sent on a channel: an image as an
// image while the channel takes its size, else as a file.
func attachmentKind(a msg.Attachment, channel string) string {
	limit := robotImageLimit
	if channel == channelApp {
		limit = appImageLimit
	}
	if a.Kind == msg.Image && len(a.Data) <= limit {
		return kindImage
	}
	return kindFile
}

// sentByApp is the line a reply carries when its attachments went by app message.
func sentByApp(atts []msg.Attachment) string {
	return attachmentWords(atts) + "已通过应用消息发送给您，请在应用中查看。"
}

// unsent is the line a message carries when its attachments cannot be sent:
// the AI bot alone takes neither images nor files, and without an app
// nothing can carry them to the member instead.
func unsent(atts []msg.Attachment) string {
	return "当前渠道不能发送" + attachmentWords(atts) + "，请配置群机器人或自建应用后再试。"
}

// attachmentWords names what atts are: 图片, 文件, or 图片和文件.
func attachmentWords(atts []msg.Attachment) string {
	images, files := false, false
	for _, a := range atts {
		if a.Kind == msg.Image {
			images = true
		} else {
			files = true
		}
	}
	switch {
	case images && files:
		return "图片和文件"
	case images:
		return "图片"
	}
	return "文件"
}

// checkAttachments refuses, in words for the sender, an attachment WeCom
// cannot take: an empty one, or a file over its 20 MB.
func checkAttachments(m *msg.Message) error {
	for _, a := range m.Attachments {
		switch {
		case len(a.Data) < fileMin:
			return models.Errorf(models.EINVALID, "“%s”内容为空，无法发送", a.Name)
		case len(a.Data) > fileLimit:
			return models.Errorf(models.EINVALID, "“%s”大小为%.1fMB，超过企业微信单个文件20MB的上限，请缩短时间范围后再试",
				a.Name, float64(len(a.Data))/(1<<20))
		}
	}
	return nil
}

// storeAttachments puts the payloads of m's attachments in the store of tx
// and lets go of the payloads no pending row needs any more, and of the
// media_ids WeCom no longer keeps.
func storeAttachments(ctx context.Context, tx *models.Store, m *msg.Message) error {
	if len(m.Attachments) == 0 {
		return nil
	}
	for _, a := range m.Attachments {
		if _, err := tx.PutMedia(ctx, a.Data); err != nil {
			return fmt.Errorf("bot: store %s: %w", a.Name, err)
		}
	}
	if _, err := tx.PruneMedia(ctx, tx.Now().Add(-mediaKeep)); err != nil {
		return fmt.Errorf("bot: prune media: %w", err)
	}
	if _, err := tx.PruneKV(ctx, mediaIDPrefix); err != nil {
		return fmt.Errorf("bot: prune media_ids: %w", err)
	}
	return nil
}
