package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
	"yanzhen/msg"
)

var (
	chart    = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{3}, 5000)...)
	workbook = append([]byte("PK\x03\x04"), bytes.Repeat([]byte("台账"), 3000)...)
)

// sent returns what the fake delivered, as route, type, destination and
// the name and size of its media.
func sent(w *wecomtest.Server) []string {
	var out []string
	for _, r := range w.Messages() {
		line := fmt.Sprintf("%s %s %s%v", r.Route, r.MsgType, r.ChatID, r.ToUser)
		if r.Media != nil {
			line += fmt.Sprintf(" %s/%d", r.Media.Type, len(r.Media.Data))
		}
		out = append(out, line)
	}
	return out
}

// TestImagesAndFilesReachTheChat sends a report with a chart and a workbook
// to the group and to a member through the fake WeCom: the robot's image
// goes inline, its file and the app's media are uploaded once, and the chat
// shows exactly the bytes enqueued, while the outbox rows hold none of them.
func TestImagesAndFilesReachTheChat(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true})
		ctx := context.Background()
		atts := []msg.Attachment{msg.ImageAttachment("排名.png", chart), msg.FileAttachment("台账.xlsx", workbook)}
		report := msg.Message{To: msg.ToGroup(""), Sections: []msg.Section{msg.S(msg.L(msg.Text("月度通报")))}, Attachments: atts, DedupeKey: "monthly"}
		private := msg.Message{To: msg.ToMembers("zhangsan"), Attachments: atts}
		if n, err := k.bot.Outbox().Enqueue(ctx, s, report, private); err != nil || n != 2 {
			t.Fatalf("enqueued %d: %v", n, err)
		}
		for _, row := range k.outbox() {
			if len(row.Body) > 100 {
				t.Errorf("row %d holds %d bytes", row.ID, len(row.Body))
			}
		}
		if err := k.bot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"webhook/send text " + kitChat + "[]", "webhook/send image " + kitChat + "[] image/5008", fmt.Sprintf("webhook/send file %s[] file/%d", kitChat, len(workbook)),
			"message/send image [zhangsan] image/5008", fmt.Sprintf("message/send file [zhangsan] file/%d", len(workbook)),
		}
		// The group and the member are served side by side, each in order.
		got := sent(k.wecom)
		for _, to := range []string{"webhook/send", "message/send"} {
			g := slices.DeleteFunc(slices.Clone(got), func(l string) bool { return !strings.HasPrefix(l, to) })
			w := slices.DeleteFunc(slices.Clone(want), func(l string) bool { return !strings.HasPrefix(l, to) })
			if !slices.Equal(g, w) {
				t.Errorf("%s shows\n%v\nwant\n%v", to, g, w)
			}
		}
		for _, r := range k.wecom.Messages() {
			if r.Media != nil && !bytes.Equal(r.Media.Data, chart) && !bytes.Equal(r.Media.Data, workbook) {
				t.Errorf("%s shows other bytes than were sent", r.MsgType)
			}
			if r.MsgType == "file" && r.Media.Name != "台账.xlsx" {
				t.Errorf("the file is called %q", r.Media.Name)
			}
		}
		uploads := func() (n int) {
			for _, r := range k.wecom.Requests() {
				if r.Route == wecomtest.RouteUpload || r.Route == wecomtest.RouteMediaUpload {
					n++
				}
			}
			return n
		}
		if n := uploads(); n != 3 {
			t.Errorf("%d uploads, want 3 (the robot's file, the app's image and file)", n)
		}

		// The same workbook again: the robot sends the media_id it has.
		again := msg.Message{To: msg.ToGroup(""), Attachments: atts[1:]}
		if _, err := k.bot.Outbox().Enqueue(ctx, s, again); err != nil {
			t.Fatal(err)
		}
		if err := k.bot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := uploads(); n != 3 {
			t.Errorf("a file sent twice was uploaded again (%d uploads)", n)
		}
		// WeCom refuses the cached media_id once: the file is uploaded again.
		k.wecom.FailNext(wecomtest.RouteWebhook, wecomtest.Errcode(40007), 1)
		if _, err := k.bot.Outbox().Enqueue(ctx, s, again); err != nil {
			t.Fatal(err)
		}
		if err := k.bot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := uploads(); n != 4 {
			t.Errorf("a refused media_id is not uploaded again (%d uploads)", n)
		}
		// Three days on the media_id has run out: uploaded anew, not refused.
		clock.Advance(72 * time.Hour)
		if _, err := k.bot.Outbox().Enqueue(ctx, s, again); err != nil {
			t.Fatal(err)
		}
		if err := k.bot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := uploads(); n != 5 {
			t.Errorf("an expired media_id is used (%d uploads)", n)
		}
		for _, row := range k.outbox() {
			if row.Status != models.OutboxSent {
				t.Errorf("row %d %s %q is %s: %s", row.ID, row.Kind, row.Body, row.Status, row.LastError)
			}
		}
		assertNoSecrets(t, "logs", k.logs.String(), k.wire.credentials()...)
	})
}

// TestImagesCountAgainstTheRobotsBudget sends a text and 24 charts to the
// group: every one is a message of the robot's 20 a minute, and WeCom never
// has to refuse one.
func TestImagesCountAgainstTheRobotsBudget(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true})
		var atts []msg.Attachment
		for i := range 24 {
			atts = append(atts, msg.ImageAttachment(fmt.Sprintf("排名%d.png", i), append(chart, byte(i))))
		}
		m := msg.Message{To: msg.ToGroup(""), Sections: []msg.Section{msg.S(msg.L(msg.Text("排名图")))}, Attachments: atts}
		if _, err := k.bot.Outbox().Enqueue(context.Background(), s, m); err != nil {
			t.Fatal(err)
		}
		if err := k.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var times []time.Time
		for _, r := range k.wecom.Requests() {
			if r.Errcode == 45009 {
				t.Errorf("WeCom refused a message over the robot's limit at %v", r.Time)
			}
			if r.Delivered() {
				times = append(times, r.Time)
			}
		}
		if len(times) != 25 {
			t.Fatalf("%d messages delivered, want 25", len(times))
		}
		assertRate(t, "robot", times, 20)
		if times[24].Sub(times[0]) < time.Minute {
			t.Errorf("25 messages went within %v", times[24].Sub(times[0]))
		}
	})
}
