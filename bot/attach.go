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
// travel as the text does, except that an AI bot's reply takes no image
// or file: they go to the asker by app message, and the reply says so, as
// does a robot's answer in a single chat that would pass its 3 messages.
func (o *Outbox) rows(m *msg.Message) []models.OutboxMessage {
	if len(m.Attachments) == 0 {
		return o.textRows(m)
	}
	dest, viaApp := o.attachmentDestination(m)
	text := m
	if viaApp {
		noted := *m
		noted.Sections = append(append([]msg.Section(nil), m.Sections...), msg.S(msg.L(msg.Text(sentByApp(m.Attachments)))))
		text = &noted
	}
	var rows []models.OutboxMessage
	if len(text.Sections) > 0 {
		rows = o.textRows(text)
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

// attachmentDestination returns where m's attachments go, and whether they
// go by app message to the asker instead of the way the reply travels.
func (o *Outbox) attachmentDestination(m *msg.Message) (models.OutboxMessage, bool) {
	switch in := m.To.ReplyTo; {
	case in != nil && in.Route == models.RouteAIBot:
		return models.OutboxMessage{Channel: channelApp, To: in.FromUserID}, true
	case in != nil && in.Route == models.RouteRobot:
		if in.ChatType == "single" && in.FromUserID != "" && len(o.textRows(m))+len(m.Attachments) > robotSingleReplies {
			return models.OutboxMessage{Channel: channelApp, To: in.FromUserID}, true
		}
		return models.OutboxMessage{Channel: channelReply, To: in.ReplyURL, ChatID: in.ChatID}, false
	case in != nil:
		return models.OutboxMessage{Channel: channelApp, To: in.FromUserID}, false
	case len(m.To.Members) > 0:
		return models.OutboxMessage{Channel: channelApp, To: strings.Join(appendNew(nil, m.To.Members...), "|")}, false
	}
	return models.OutboxMessage{Channel: channelRobot, ChatID: o.robotChat}, false
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
	images, files := false, false
	for _, a := range atts {
		if a.Kind == msg.Image {
			images = true
		} else {
			files = true
		}
	}
	what := "文件"
	switch {
	case images && files:
		what = "图片和文件"
	case images:
		what = "图片"
	}
	return what + "已通过应用消息发送给您，请在应用中查看。"
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
