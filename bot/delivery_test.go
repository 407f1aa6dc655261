package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// contents returns what the requests said, in order.
func contents(rs []wecomtest.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Content)
	}
	return out
}

func TestASlowEndpointHoldsUpNoOtherDestination(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock})
		k.wecom.FailNext(wecomtest.RouteWebhook, wecomtest.Hang(), 1)
		k.enqueue(models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "text", Body: "群公告"})
		k.bot.Start(nil)
		eventually(t, "the robot's call under way", func() bool { return k.wecom.Held() == 1 })

		// Replies to members come in while the robot hangs: none waits for it.
		var replies []models.OutboxMessage
		for _, to := range []string{"zhangsan", "lisi", "wangwu"} {
			for _, n := range []string{"一", "二"} {
				replies = append(replies, models.OutboxMessage{Channel: "app", To: to, Kind: "text", Body: to + " 回复" + n})
			}
		}
		k.enqueue(replies...)
		eventually(t, "the replies delivered", func() bool { return len(delivered(k.wecom, wecomtest.RouteMessage)) == len(replies) })
		if k.wecom.Held() != 1 {
			t.Error("the replies were delivered only once the robot's call ended")
		}

		// The robot's call ends without an answer; its message goes once the
		// destination's short backoff is over.
		k.wecom.ReleaseHeld()
		eventually(t, "the failed call recorded", func() bool { return k.outbox()[0].Attempts == 1 })
		clock.Advance(3 * time.Second)
		eventually(t, "the robot's message delivered", func() bool { return len(delivered(k.wecom, wecomtest.RouteWebhook)) == 1 })
	})
}

func TestAReplyReachesTheMemberOnceWhenWeComAnswersLate(t *testing.T) {
	t.Parallel()
	k := newKit(t, models.DriverSQLite, kitOptions{fakeTime: true, timeout: 250 * time.Millisecond})
	// WeCom carries the message out but answers after the client's timeout.
	k.wecom.FailNext(wecomtest.RouteMessage, wecomtest.Late(), 1)
	k.enqueue(models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: "可用命令：日报、查、帮助"})
	if err := k.bot.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := contents(delivered(k.wecom, wecomtest.RouteMessage)); len(got) != 1 {
		t.Fatalf("the member received %d copies: %q", len(got), got)
	}
	var calls []wecomtest.Request
	for _, r := range k.wecom.Requests() {
		if r.Route == wecomtest.RouteMessage {
			calls = append(calls, r)
		}
	}
	if len(calls) != 2 || !calls[1].Duplicate || !calls[1].Time.Equal(calls[0].Time) {
		t.Fatalf("calls: %+v", calls)
	}
	var body struct {
		Check    int `json:"enable_duplicate_check"`
		Interval int `json:"duplicate_check_interval"`
	}
	if err := json.Unmarshal(calls[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	// give_up_after is 24 h: app messages are tried for 4 h, WeCom's longest check.
	if body.Check != 1 || body.Interval != 14400 {
		t.Errorf("duplicate check %+v", body)
	}
	if row := k.outbox()[0]; row.Status != models.OutboxSent {
		t.Errorf("row %+v", row)
	}

	// The robot webhook has no duplicate check: a call that timed out is
	// tried once more at once, and then the destination waits.
	k.wecom.FailNext(wecomtest.RouteWebhook, wecomtest.Late(), 2)
	k.enqueue(models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "text", Body: "群公告"})
	if err := k.bot.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var at []time.Time
	for _, r := range k.wecom.Requests() {
		if r.Route == wecomtest.RouteWebhook {
			at = append(at, r.Time)
		}
	}
	if len(at) != 3 || !at[1].Equal(at[0]) || at[2].Sub(at[1]) < time.Second {
		t.Errorf("webhook calls at %v: want two at once, then one after the backoff", at)
	}
}

func TestRefusedCredentialsHoldAppMessagesAndTellTheAdminsOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		const rotated = "rotated-corp-secret-0a1b2c"
		// The secret was reset in WeCom's console; the configuration has the old one.
		fake := wecomtest.New(wecomtest.WithCorp(sampleCorpID, rotated, agentID), wecomtest.WithWebhookKeys(robotKey))
		fake.Now = clock.Now
		fake.Start()
		t.Cleanup(fake.Close)
		if _, err := s.UpsertMember(context.Background(), &models.Member{UserID: "admin1", Name: "管理员", Role: models.RoleAdmin, Active: true}); err != nil {
			t.Fatal(err)
		}
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecom: fake, worker: "old-secret"})
		k.enqueue(
			models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: "回复一"},
			models.OutboxMessage{Channel: "app", To: "lisi", Kind: "text", Body: "回复二"},
			models.OutboxMessage{Channel: "robot", ChatID: kitChat, Kind: "text", Body: "群公告"},
		)
		var ce *bot.CredentialsError
		if err := k.bot.Flush(context.Background()); !errors.As(err, &ce) || ce.Code != 40001 || ce.Held != 2 {
			t.Fatalf("flush with a refused secret: %v", err)
		}
		gettoken := func() (n int) {
			for _, r := range fake.Requests() {
				if r.Route == wecomtest.RouteToken {
					n++
				}
			}
			return n
		}
		asked := gettoken()
		// Not retried: a second flush, an hour on, asks WeCom nothing.
		clock.Advance(time.Hour)
		if err := k.bot.Flush(context.Background()); !errors.As(err, &ce) {
			t.Fatalf("second flush: %v", err)
		}
		if gettoken() != asked || asked > 2 {
			t.Errorf("gettoken asked %d times, then %d", asked, gettoken())
		}
		if err := k.bot.Health(); !errors.As(err, &ce) || !strings.Contains(err.Error(), "40001") {
			t.Errorf("health = %v", err)
		}
		// A second replica meets the same refusal and tells nobody again.
		other := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecom: fake, worker: "old-secret-2"})
		if err := other.bot.Flush(context.Background()); !errors.As(err, &ce) {
			t.Fatalf("second replica: %v", err)
		}
		robot := contents(delivered(fake, wecomtest.RouteWebhook))
		if len(robot) != 2 || robot[0] != "群公告" || !strings.Contains(robot[1], "错误码 40001") || !strings.Contains(robot[1], "wecom.secret") {
			t.Fatalf("robot posts: %q", robot)
		}
		if notice := fake.Messages()[1]; !slices.Equal(notice.Mentions, []string{"admin1"}) {
			t.Errorf("the notice mentions %v", notice.Mentions)
		}
		for _, row := range k.outbox() {
			if row.Channel == "app" {
				if row.Status != models.OutboxPending || !strings.Contains(row.LastError, "40001") {
					t.Errorf("held row %+v", row)
				}
			}
		}
		assertNoSecrets(t, "logs", k.logs.String()+other.logs.String()+strings.Join(robot, "\n"), rotated)

		// Corrected and restarted: the held messages go.
		fixed := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecom: fake, worker: "new-secret", secret: rotated})
		if err := fixed.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := fixed.bot.Health(); err != nil {
			t.Errorf("health after the fix: %v", err)
		}
		got := contents(delivered(fake, wecomtest.RouteMessage)) // to two destinations, in either order
		if slices.Sort(got); !slices.Equal(got, []string{"回复一", "回复二"}) {
			t.Errorf("after the fix delivered %q", got)
		}
	})
}

func TestAccessTokenIsStoredEncrypted(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true})
		k.enqueue(models.OutboxMessage{Channel: "app", To: "zhangsan", Kind: "text", Body: "一"})
		if err := k.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var rows []models.KV
		if err := s.DB(context.Background()).Where("`key` LIKE ?", "wecom/access_token/%").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		creds := k.wire.credentials()
		if len(rows) != 1 || len(creds) == 0 {
			t.Fatalf("%d stored tokens, %d credentials on the wire", len(rows), len(creds))
		}
		assertNoSecrets(t, "the stored token", rows[0].Value, creds...)
		// Another replica with the same secret reads it and asks WeCom for none.
		other := newKit(t, "", kitOptions{store: s, clock: clock, fakeTime: true, wecom: k.wecom})
		other.enqueue(models.OutboxMessage{Channel: "app", To: "lisi", Kind: "text", Body: "二"})
		if err := other.bot.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		tokens := 0
		for _, r := range k.wecom.Requests() {
			if r.Route == wecomtest.RouteToken {
				tokens++
			}
		}
		if tokens != 1 {
			t.Errorf("gettoken called %d times for two replicas", tokens)
		}
	})
}
