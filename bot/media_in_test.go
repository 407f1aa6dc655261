package bot_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// export is a file a member sends: a few rows of a 12345 export.
var export = []byte("工单编号,受理时间,承办单位\n" + strings.Repeat("2026112000001,2026-11-20 09:00,住建局\n", 40))

// stored returns the one stored callback of msgid.
func (k *kit) stored(msgid string) *models.Inbound {
	k.t.Helper()
	for _, in := range k.inbound() {
		if in.MsgID == msgid {
			return &in
		}
	}
	k.t.Fatalf("no callback %s stored", msgid)
	return nil
}

// TestFilesSentToTheBot follows a file a member sends to the app and to the
// AI bot: the message is stored with a reference to it, and the bot fetches
// it from the fake WeCom (media/get with the access token; the AI bot's link,
// decrypted) within a size bound, or says plainly that WeCom no longer has it.
func TestFilesSentToTheBot(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock})
		ctx := context.Background()
		limit := int64(len(export))

		// To the app: a MediaId, fetched with media/get.
		id := k.wecom.MemberFile("高新区12345工单明细.csv", export)
		if code, _ := k.to("app")(k.app.AppFile(wecomtest.AppFileMessage{FromUserName: "liuyi", MediaID: id, MsgID: "9001", AgentID: agentID})); code != http.StatusOK {
			t.Fatalf("app file callback: %d", code)
		}
		in := k.stored("9001")
		if in.MsgType != "file" || in.Attachment == "" || in.Text != "" || in.FromUserID != "liuyi" {
			t.Fatalf("stored app file message %+v", in)
		}
		var buf bytes.Buffer
		name, size, err := k.bot.FetchAttachment(ctx, in, &buf, limit)
		if err != nil || name != "高新区12345工单明细.csv" || size != limit || !bytes.Equal(buf.Bytes(), export) {
			t.Fatalf("app file: %q %d %v (%d bytes)", name, size, err, buf.Len())
		}
		// Over the bound: WeCom says the size, nothing is read.
		buf.Reset()
		if _, size, err := k.bot.FetchAttachment(ctx, in, &buf, limit-1); err != nil || size <= limit-1 || buf.Len() != 0 {
			t.Errorf("an app file over the bound: %d %v, %d bytes written", size, err, buf.Len())
		}

		// To the AI bot on its callback route: a link to the file encrypted
		// with the callback's key.
		key, err := wecomtest.KeyOf(aibotAESKey)
		if err != nil {
			t.Fatal(err)
		}
		link, err := k.wecom.AIBotFileLink("导出.csv", export, key)
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := k.to("aibot")(k.aibot.AIBotFile(wecomtest.AIBotFileMessage{MsgID: "ab1", AIBotID: "aib1", UserID: "liuyi", URL: link})); code != http.StatusOK {
			t.Fatalf("AI bot file callback: %d", code)
		}
		in = k.stored("ab1")
		if in.MsgType != "file" || in.ChatType != "single" || in.Attachment == "" {
			t.Fatalf("stored AI bot file message %+v", in)
		}
		// The link is a credential of its own: the row keeps it sealed.
		if code := strings.TrimPrefix(link[strings.Index(link, "code="):], "code="); strings.Contains(in.Attachment, code) || strings.Contains(in.Attachment, "http") {
			t.Errorf("the stored reference shows the link: %q", in.Attachment)
		}
		buf.Reset()
		if name, size, err := k.bot.FetchAttachment(ctx, in, &buf, limit); err != nil || name != "导出.csv" || size != limit || !bytes.Equal(buf.Bytes(), export) {
			t.Fatalf("AI bot file: %q %d %v", name, size, err)
		}
		// Over the bound: no more than limit+1 bytes are written.
		buf.Reset()
		if _, size, err := k.bot.FetchAttachment(ctx, in, &buf, limit-100); err != nil || size <= limit-100 || int64(buf.Len()) > limit-99 {
			t.Errorf("an AI bot file over the bound: %d %v, %d bytes written", size, err, buf.Len())
		}
		// A network failure is the system's, to try again, and says nothing of the link.
		k.wecom.FailNext(wecomtest.RouteFileDownload, wecomtest.Hangup(), 1)
		_, _, err = k.bot.FetchAttachment(ctx, in, &bytes.Buffer{}, limit)
		if err == nil || models.ErrorCode(err) != models.EINTERNAL || strings.Contains(err.Error(), "code=") {
			t.Errorf("a hung-up download: %v", err)
		}

		// The link lasts five minutes, the media_id three days.
		clock.Advance(wecomtest.DownloadTTL + time.Second)
		if _, _, err := k.bot.FetchAttachment(ctx, in, &bytes.Buffer{}, limit); models.ErrorCode(err) != models.EINVALID || !strings.Contains(models.UserText(err), "请重新发送") {
			t.Errorf("an expired link: %v", err)
		}
		clock.Advance(wecomtest.MediaTTL)
		if _, _, err := k.bot.FetchAttachment(ctx, k.stored("9001"), &bytes.Buffer{}, limit); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("an expired media_id: %v", err)
		}
		// A text message carries no file.
		if _, _, err := k.bot.FetchAttachment(ctx, &models.Inbound{MsgType: "text", Text: "导入"}, &bytes.Buffer{}, limit); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("a message without a file: %v", err)
		}
		// The downloads deliver no message.
		if got := sent(k.wecom); len(got) != 0 {
			t.Errorf("downloads counted as messages: %v", got)
		}
	})
}
