package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
	"yanzhen/msg"
)

// A backlog of digests to the group must not hold up a reply to a person in
// the same group, nor the daily report enqueued after it: both go at once,
// and the digests keep only their share of the robot's budget.
func TestRepliesAndTheReportGoBeforeDigests(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true})
		ctx := context.Background()
		out := k.bot.Outbox()
		var digests []msg.Message
		for i := 1; i <= 30; i++ {
			m := msg.Plain(msg.ToGroup(""), fmt.Sprintf("超期摘要 #%02d", i))
			m.Priority, m.DedupeKey = msg.Bulk, fmt.Sprintf("digest/%d", i)
			digests = append(digests, m)
		}
		if _, err := out.Enqueue(ctx, s, digests...); err != nil {
			t.Fatal(err)
		}
		report := msg.Plain(msg.ToGroup(""), "工作日报")
		report.Priority, report.DedupeKey = msg.Report, "daily-report/test"
		in := &models.Inbound{Route: models.RouteRobot, MsgID: "m1", ChatID: "wrkGroup", ChatType: "group", FromUserID: "zhangsan",
			ReplyURL: k.wecom.WebhookURL(robotKey)}
		reply := msg.Plain(msg.ReplyTo(in), "已收到")
		reply.Priority, reply.DedupeKey = msg.Reply, "in:robot:m1:0"
		if _, err := out.Enqueue(ctx, s, report, reply); err != nil {
			t.Fatal(err)
		}
		if err := k.bot.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var order []string
		first := map[string]time.Time{}
		for _, r := range k.wecom.Messages() {
			order = append(order, r.Content)
			if _, ok := first[r.Content]; !ok {
				first[r.Content] = r.Time
			}
		}
		if len(order) != 32 {
			t.Fatalf("%d messages delivered, want 32", len(order))
		}
		// The reply and the report go in the first pass, as if no digest waited.
		for _, c := range []string{"已收到", "工作日报"} {
			if at := first[c]; at.Sub(t0) > time.Second {
				t.Errorf("%q went %v after the backlog, want at once", c, at.Sub(t0))
			}
		}
		// Digests use at most 15 of the robot's 20 a minute, whatever else waits.
		perMinute := map[int]int{}
		for _, r := range k.wecom.Messages() {
			if strings.HasPrefix(r.Content, "超期摘要") {
				perMinute[int(r.Time.Sub(t0)/(time.Minute+2*time.Second))]++
			}
		}
		for m, n := range perMinute {
			if n > 15 {
				t.Errorf("minute %d carried %d digests, over the bulk share of 15", m, n)
			}
		}
		// Digests stay in their order among themselves.
		var ds []string
		for _, c := range order {
			if strings.HasPrefix(c, "超期摘要") {
				ds = append(ds, c)
			}
		}
		for i := 1; i < len(ds); i++ {
			if ds[i] < ds[i-1] {
				t.Fatalf("digests out of order: %q before %q", ds[i-1], ds[i])
			}
		}
	})
}
