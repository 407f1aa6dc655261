package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// backlog enqueues n messages to each destination, numbered in order.
type destination struct {
	name string
	out  models.OutboxMessage
}

func destinations(k *kit) []destination {
	return []destination{
		{"robot", models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "markdown"}},
		{"robot-chat", models.OutboxMessage{Channel: "reply", To: k.wecom.WebhookURL(robotKey), ChatID: "wrkGroupA", Kind: "text"}},
		{"zhangsan", models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text"}},
		{"both", models.OutboxMessage{Channel: "app", To: "zhangsan|lisi", Kind: "markdown"}},
	}
}

func enqueueBacklog(k *kit, dests []destination, n int) {
	k.t.Helper()
	var msgs []models.OutboxMessage
	for i := 1; i <= n; i++ {
		for _, d := range dests {
			o := d.out
			o.Body = fmt.Sprintf("%s #%02d", d.name, i)
			msgs = append(msgs, o)
		}
	}
	k.enqueue(msgs...)
}

// assertDelivered checks that the fake saw every message of the backlog
// exactly once, in order per destination, and never over WeCom's limits.
func assertDelivered(t *testing.T, w *wecomtest.Server, dests []destination, n int) {
	t.Helper()
	got := map[string][]string{}
	seen := map[string]int{}
	var robotSends, memberSends []time.Time
	for _, r := range w.Messages() {
		seen[r.Content]++
		name, _, _ := strings.Cut(r.Content, " #")
		got[name] = append(got[name], r.Content)
		if len(r.Dropped) > 0 {
			t.Errorf("WeCom dropped %q for %v: over the member limit", r.Content, r.Dropped)
		}
		switch r.Route {
		case wecomtest.RouteWebhook:
			robotSends = append(robotSends, r.Time)
		case wecomtest.RouteMessage:
			if slices.Contains(r.ToUser, "zhangsan") {
				memberSends = append(memberSends, r.Time)
			}
		}
	}
	for content, c := range seen {
		if c != 1 {
			t.Errorf("%q delivered %d times", content, c)
		}
	}
	for _, d := range dests {
		var want []string
		for i := 1; i <= n; i++ {
			want = append(want, fmt.Sprintf("%s #%02d", d.name, i))
		}
		if !slices.Equal(got[d.name], want) {
			t.Errorf("%s received\n%v\nwant\n%v", d.name, got[d.name], want)
		}
	}
	assertRate(t, "robot", robotSends, 20)
	assertRate(t, "zhangsan", memberSends, 30)
	for _, r := range w.Requests() {
		if r.Errcode == 45009 && !r.Injected {
			t.Errorf("WeCom's own rate limit answered 45009 at %v", r.Time)
		}
	}
}

// assertRate fails when more than n sends fall in any minute.
func assertRate(t *testing.T, who string, sends []time.Time, n int) {
	t.Helper()
	for i := range sends {
		j := i
		for j < len(sends) && sends[j].Sub(sends[i]) < time.Minute {
			j++
		}
		if j-i > n {
			t.Errorf("%s got %d messages within a minute from %v", who, j-i, sends[i])
			return
		}
	}
}

func TestOutboxRidesOutRateLimitsAndBusyAnswers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true})
		dests := destinations(k)
		enqueueBacklog(k, dests, 25)
		for _, route := range []wecomtest.Route{wecomtest.RouteWebhook, wecomtest.RouteMessage} {
			k.wecom.FailFor(route, wecomtest.Errcode(45009), time.Minute)
			k.wecom.FailNext(route, wecomtest.Errcode(-1), 2)
		}
		if err := k.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		assertDelivered(t, k.wecom, dests, 25)
		for _, row := range k.outbox() {
			if row.Status != models.OutboxSent {
				t.Errorf("row %d %q is %s", row.ID, row.Body, row.Status)
			}
		}
		if k.counter("yanzhen_outbox_retried_total", "channel", "robot") == 0 || k.counter("yanzhen_outbox_sent_total", "channel", "app") != 50 {
			t.Error("retries or sends not counted")
		}
		assertNoSecrets(t, "logs", k.logs.String(), k.wire.credentials()...)
	})
}

func TestOutboxRestartMidBacklogLosesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		// The first process sends some messages, then its network dies.
		first := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, worker: "first", broken: func(n int) bool { return n > 30 }})
		dests := destinations(first)
		enqueueBacklog(first, dests, 30)
		var pending *bot.PendingError
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := first.bot.Flush(ctx); !errors.As(err, &pending) {
			t.Fatalf("flush on a dead network: %v", err)
		}
		cancel()
		sentBefore := len(first.wecom.Messages())
		if sentBefore == 0 || sentBefore >= 120 {
			t.Fatalf("the first process sent %d messages", sentBefore)
		}
		// A third process claims the heads, once their retry wait is over,
		// and dies before sending them.
		first.clock.Advance(5 * time.Second)
		claimed, err := s.ClaimOutbox(context.Background(), models.ClaimOptions{
			Worker: "crashed", Now: first.clock.Now(), Lease: 2 * time.Minute, Since: first.clock.Now().Add(-time.Hour), Heads: 100,
			Pick: func(heads []models.OutboxMessage, _ []models.RecentSend) (ids []uint) {
				for _, h := range heads {
					ids = append(ids, h.ID)
				}
				return ids
			},
		})
		if err != nil || len(claimed) == 0 {
			t.Fatalf("crashed claim: %d rows, %v", len(claimed), err)
		}
		// The service restarts, at once: it must wait out the budgets the
		// first process used and the dead claims, and then send the rest.
		second := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, worker: "second", wecom: first.wecom, poll: 5 * time.Second})
		for range 10 {
			err = second.bot.Flush(context.Background())
			if !errors.As(err, &pending) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		assertDelivered(t, second.wecom, dests, 30)
	})
}

// openTwice returns two stores on one database, as two replicas have.
func openTwice(t *testing.T, driver string, now func() time.Time) (*models.Store, *models.Store) {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "shared.db")
	if driver == models.DriverMySQL {
		dsn = storetest.MySQLDSN(t)
	}
	var stores [2]*models.Store
	for i := range stores {
		s, err := models.Open(context.Background(), models.Options{Driver: driver, DSN: dsn, Location: storetest.Shanghai, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	return stores[0], stores[1]
}

func TestTwoWorkersNeverSendARowTwice(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			clock := wecomtest.NewClock(t0)
			s1, s2 := openTwice(t, driver, clock.Now)
			a := newKit(t, "", kitOptions{store: s1, clock: clock, worker: "replica-a"})
			b := newKit(t, "", kitOptions{store: s2, clock: clock, worker: "replica-b", wecom: a.wecom})
			var dests []destination
			for i := range 12 {
				user := fmt.Sprintf("user%02d", i)
				dests = append(dests, destination{user, models.OutboxMessage{Channel: "app", To: user, Kind: "text"}})
			}
			dests = append(dests, destination{"robot", models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "text"}})
			enqueueBacklog(a, dests, 18)
			var wg sync.WaitGroup
			for _, k := range []*kit{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := k.bot.Flush(context.Background()); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			assertDelivered(t, a.wecom, dests, 18)
			if a.counter("yanzhen_outbox_sent_total", "channel", "app") == 0 || b.counter("yanzhen_outbox_sent_total", "channel", "app") == 0 {
				t.Log("one replica sent everything; the test still shows no row went twice")
			}
		})
	}
}

func TestAccessTokenRefreshedWhenWeComRefusesIt(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true})
		send := func(body string) {
			t.Helper()
			k.enqueue(models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: body})
			if err := k.bot.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		send("first")
		k.wecom.ExpireTokens()
		send("after 42001")
		k.wecom.RevokeTokens()
		send("after 40014")
		var tokens, refused int
		for _, r := range k.wecom.Requests() {
			switch {
			case r.Route == wecomtest.RouteToken:
				tokens++
			case r.Errcode == 42001 || r.Errcode == 40014:
				refused++
			}
		}
		if tokens != 3 || refused != 2 {
			t.Errorf("gettoken called %d times, token refused %d times", tokens, refused)
		}
		var got []string
		for _, r := range k.wecom.Messages() {
			got = append(got, r.Content)
		}
		if !slices.Equal(got, []string{"first", "after 42001", "after 40014"}) {
			t.Errorf("delivered %v", got)
		}
		// A second replica on the same store uses the token already fetched.
		other := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecom: k.wecom})
		other.enqueue(models.OutboxMessage{Channel: "app", To: "lisi", Kind: "text", Body: "from the other replica"})
		if err := other.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		tokens = 0
		for _, r := range k.wecom.Requests() {
			if r.Route == wecomtest.RouteToken {
				tokens++
			}
		}
		if tokens != 3 {
			t.Errorf("the second replica fetched its own token (%d gettoken calls)", tokens)
		}
		assertNoSecrets(t, "logs", k.logs.String()+other.logs.String(), k.wire.credentials()...)
	})
}

func TestPermanentFailuresFailAtOnceAndTellTheAdmins(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		const goneKey = "removed-robot-key-1234"
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecomCfg: func(c *config.WeCom) {
			c.Robots = map[string]config.Robot{"gone": {WebhookKey: goneKey}}
		}})
		for _, m := range []models.Member{
			{UserID: "admin1", Name: "管理员", Role: models.RoleAdmin, Active: true},
			{UserID: "zhangsan", Name: "张三", Role: models.RoleHead, Active: true},
		} {
			if _, err := s.UpsertMember(context.Background(), &m); err != nil {
				t.Fatal(err)
			}
		}
		k.enqueue(
			models.OutboxMessage{Channel: "robot", To: "gone", ChatID: "wrkGone", Kind: "text", Body: "给已移除机器人的消息"},
			models.OutboxMessage{Channel: "robot", To: "gone", ChatID: "wrkGone", Kind: "text", Body: "第二条"},
			models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: strings.Repeat("长", 10)},
		)
		// A response URL used twice: the second reply is refused for good.
		resp := k.wecom.ResponseURL("wrkAI")
		k.enqueue(models.OutboxMessage{Channel: "reply", To: resp, Kind: "markdown", Body: "一"})
		if err := k.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		k.enqueue(models.OutboxMessage{Channel: "reply", To: resp, Kind: "markdown", Body: "二"})
		if err := k.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		status := map[string]models.OutboxMessage{}
		for _, r := range k.outbox() {
			status[r.Body] = r
		}
		for _, body := range []string{"给已移除机器人的消息", "第二条", "二"} {
			if r := status[body]; r.Status != models.OutboxFailed || r.Attempts != 1 {
				t.Errorf("%q: status %s after %d attempts", body, r.Status, r.Attempts)
			}
		}
		var notices []string
		for _, r := range k.wecom.Messages() {
			if slices.Contains(r.ToUser, "admin1") {
				notices = append(notices, r.Content)
			}
		}
		// One notice per broken destination and hour.
		if len(notices) != 2 || !strings.Contains(notices[0], "机器人已被移除") || !strings.Contains(notices[0], "给已移除机器人的消息") {
			t.Errorf("admin notices: %q", notices)
		}
		logs := k.logs.String()
		if !strings.Contains(logs, "outbox message failed") || !strings.Contains(logs, "机器人 ") {
			t.Errorf("no log line names the broken robot:\n%s", logs)
		}
		assertNoSecrets(t, "logs", logs, append(k.wire.credentials(), goneKey)...)
		assertNoSecrets(t, "notices", strings.Join(notices, "\n"), goneKey)
	})
}

func TestMessagesAreGivenUpAfterTheConfiguredAge(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{fakeTime: true, giveUp: 30 * time.Minute})
	k.wecom.FailFor(wecomtest.RouteWebhook, wecomtest.HTTPStatus(502), 25*time.Hour)
	k.enqueue(models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "text", Body: "stuck"})
	for range 1000 {
		err := k.bot.Flush(context.Background())
		var pending *bot.PendingError
		if !errors.As(err, &pending) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		k.clock.Advance(pending.Next.Sub(k.clock.Now()))
	}
	rows := k.outbox()
	if rows[0].Status != models.OutboxFailed || !strings.Contains(rows[0].LastError, "wecom webhook/send: HTTP status 502") {
		t.Fatalf("row = %+v", rows[0])
	}
	// Tried at most a minute apart until the row was 30 minutes old.
	if age := k.clock.Now().Sub(t0); age < 30*time.Minute || age > 31*time.Minute {
		t.Errorf("given up after %v", age)
	}
	if calls := len(k.wecom.Requests()); calls < 30 || calls > 70 {
		t.Errorf("%d attempts in 30 minutes", calls)
	}
	if got := k.counter("yanzhen_outbox_failed_total", "channel", "robot", "reason", "give_up"); got != 1 {
		t.Errorf("give_up counted %v", got)
	}
}

func TestRepliesNeverLeaveAPIBase(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{fakeTime: true})
	k.enqueue(
		models.OutboxMessage{Channel: "reply", To: "http://attacker.example/cgi-bin/webhook/send?key=stolen", ChatID: "wrkChat", Kind: "text", Body: "回复一"},
		models.OutboxMessage{Channel: "reply", To: "http://attacker.example/cgi-bin/aibot/response?response_code=x", ChatID: "wrkChat2", Kind: "markdown", Body: "回复二"},
		models.OutboxMessage{Channel: "reply", To: k.wecom.URL() + "@attacker.example/cgi-bin/webhook/send?key=" + robotKey, ChatID: "wrkChat3", Kind: "text", Body: "回复三"},
	)
	if err := k.bot.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for host := range k.wire.hosts() {
		if strings.Contains(host, "attacker") {
			t.Errorf("the bot called %s", host)
		}
	}
	went := map[string]string{}
	for _, m := range k.wecom.Messages() {
		if m.Key == robotKey {
			went[m.Content] = m.ChatID
		}
	}
	if len(went) != 2 || went["回复一"] != "wrkChat" || went["回复三"] != "wrkChat3" {
		t.Errorf("replies went to the configured robot in chats %v", went)
	}
	if rows := k.outbox(); rows[1].Status != models.OutboxFailed {
		t.Errorf("a foreign AI bot response_url was not refused: %+v", rows[1])
	}
}

func TestNoCredentialInAnyErrorOrLogLine(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{fakeTime: true, broken: func(n int) bool { return n%3 == 1 }})
	k.wecom.FailNext(wecomtest.RouteMessage, wecomtest.HTTPStatus(502), 1)
	k.wecom.FailNext(wecomtest.RouteWebhook, wecomtest.Hangup(), 1)
	k.enqueue(
		models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: "a"},
		models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "text", Body: "b"},
		models.OutboxMessage{Channel: "reply", To: k.wecom.ResponseURL("c"), Kind: "text", Body: "c"},
	)
	if err := k.bot.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.wecom.ExpireTokens()
	k.enqueue(models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: "e"})
	if err := k.bot.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A bad signature, too.
	cb, err := k.robot.RobotText(wecomtest.RobotMessage{Content: "x"})
	cb.Query.Set("msg_signature", "bad")
	k.to("robot")(cb, err)

	creds := k.wire.credentials()
	if len(creds) < 4 {
		t.Fatalf("only %d credentials went over the wire", len(creds))
	}
	var lastErrors []string
	for _, r := range k.outbox() {
		lastErrors = append(lastErrors, r.LastError)
	}
	logs := k.logs.String()
	if !strings.Contains(logs, "REDACTED") {
		t.Errorf("no failed call was logged:\n%s", logs)
	}
	assertNoSecrets(t, "logs", logs, creds...)
	assertNoSecrets(t, "last errors", strings.Join(lastErrors, "\n"), creds...)
}
