package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

// The fault tests run in a testing/synctest bubble: the bot, its store and
// the fake WeCom (reached in memory) share the bubble's clock, so that
// minutes of heartbeats, backoffs and leases pass at once. Every timing
// below is in that clock.

// replica is one process of the service in a bubble.
type replica struct {
	t     *testing.T
	bot   *bot.Bot
	store *models.Store
	logs  *syncBuffer
	h     *answering
}

// inBubble runs f in a synctest bubble on every test database.
func inBubble(t *testing.T, f func(t *testing.T, s *models.Store, fake *wecomtest.Server)) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := storetest.Open(t, driver, storetest.Options{})
				fake := wecomtest.New(wecomtest.WithAIBot(aibotID, aibotSecret))
				t.Cleanup(fake.Close)
				f(t, s, fake)
			})
		})
	}
}

// startReplica starts a bot on s, named id, in the AI-bot-only
// configuration, answering every message; secret "" is the right one.
func startReplica(t *testing.T, s *models.Store, fake *wecomtest.Server, id, secret string) *replica {
	t.Helper()
	return startReplicaGivingUp(t, s, fake, id, secret, 24*time.Hour)
}

// startReplicaGivingUp is startReplica with outbox.give_up_after giveUp.
func startReplicaGivingUp(t *testing.T, s *models.Store, fake *wecomtest.Server, id, secret string, giveUp time.Duration) *replica {
	t.Helper()
	var c config.WeCom
	aibotAlone(fake, groupChat)(&c)
	c.APIBase, c.BotName = "http://wecom.test", botName
	if secret != "" {
		c.AIBot.Secret = config.Secret(secret)
	}
	r := &replica{t: t, store: s, logs: &syncBuffer{}}
	b, err := bot.New(s, bot.Options{
		WeCom: c, WorkerID: id, WSClient: fake.PipeClient(),
		Outbox: config.Outbox{RobotPerMinute: 20, UserPerMinute: 30, GiveUpAfter: config.Duration(giveUp), PollEvery: config.Duration(time.Second)},
		Log:    zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(r.logs), zap.DebugLevel)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.bot = b
	r.h = &answering{store: s, outbox: b.Outbox(), seen: map[string]int{}}
	b.Start(r.h)
	t.Cleanup(func() { r.stop() })
	return r
}

// stop shuts the replica down, once.
func (r *replica) stop() {
	if r.bot == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.bot.Shutdown(ctx); err != nil {
		r.t.Errorf("shutdown: %v", err)
	}
	_ = r.bot.Close()
	r.bot = nil
}

// subscribes returns the fake's subscriptions, accepted or refused.
func subscribes(f *wecomtest.Server) []wecomtest.Request {
	var out []wecomtest.Request
	for _, r := range f.Requests() {
		if r.Route == wecomtest.RouteSubscribe {
			out = append(out, r)
		}
	}
	return out
}

// settle lets the bubble run for d and then until every goroutine waits.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// answers counts the answers WeCom delivered, by content, replies and
// pushes together.
func answers(f *wecomtest.Server) map[string]int {
	out := map[string]int{}
	for _, r := range f.Messages() {
		if r.Route == wecomtest.RouteRespond || r.Route == wecomtest.RouteSendMsg {
			out[r.Content]++
		}
	}
	return out
}

func TestADroppedConnectionLosesNoFrameAndDoublesNone(t *testing.T) {
	inBubble(t, func(t *testing.T, s *models.Store, fake *wecomtest.Server) {
		r := startReplica(t, s, fake, "a", "")
		settle(time.Second)
		if !fake.AIBotConnected() {
			t.Fatalf("not connected:\n%s", r.logs.String())
		}
		push := func(i int) {
			t.Helper()
			// Each from another member's single chat, so that no chat's rate budget paces the test.
			if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: fmt.Sprintf("m%03d", i), ChatType: "single",
				UserID: fmt.Sprintf("u%03d", i), Content: fmt.Sprintf("第%d条", i)}); err != nil {
				t.Fatalf("push %d: %v", i, err)
			}
		}
		for i := range 100 {
			push(i)
		}
		fake.DropConnections() // mid-burst
		settle(2 * time.Second)
		if !fake.AIBotConnected() {
			t.Fatal("not reconnected within 2 s")
		}
		for i := 90; i < 200; i++ { // WeCom sends the last frames before the drop again
			push(i)
		}
		settle(time.Minute)

		var rows []models.Inbound
		if err := s.DB(context.Background()).Order("msg_id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 200 {
			t.Fatalf("%d messages stored, want 200", len(rows))
		}
		got := answers(fake)
		for i := range 200 {
			id := fmt.Sprintf("m%03d", i)
			if n := r.h.times(id); n != 1 {
				t.Errorf("%s handled %d times", id, n)
			}
			if n := got[fmt.Sprintf("收到：第%d条", i)]; n != 1 {
				t.Errorf("%s answered %d times", id, n)
			}
			if rows[i].MsgID != id || rows[i].HandledAt == nil {
				t.Errorf("row %d: %s handled at %v", i, rows[i].MsgID, rows[i].HandledAt)
			}
		}
		if n := len(subscribes(fake)); n != 2 {
			t.Errorf("%d subscriptions, want 2", n)
		}
	})
}

func TestMissedHeartbeatsMeanAReconnectWithin35s(t *testing.T) {
	inBubble(t, func(t *testing.T, s *models.Store, fake *wecomtest.Server) {
		startReplica(t, s, fake, "a", "")
		settle(time.Second)
		fake.MuteHeartbeats(3)
		settle(3 * time.Minute)
		subs := subscribes(fake)
		var pings []wecomtest.Request
		for _, r := range fake.Requests() {
			if r.Route == wecomtest.RoutePing {
				pings = append(pings, r)
			}
		}
		if len(subs) != 2 || len(pings) < 3 || pings[0].Status != 0 || pings[1].Status != 0 {
			t.Fatalf("%d subscriptions, pings %v", len(subs), statuses(pings))
		}
		if !subs[1].Time.After(pings[1].Time) {
			t.Errorf("reconnected at %v, before the second ping went unanswered at %v", subs[1].Time, pings[1].Time)
		}
		if d := subs[1].Time.Sub(pings[1].Time); d > 35*time.Second {
			t.Errorf("reconnected %v after the second unanswered ping, want at most 35 s", d)
		}
		// The new connection works.
		if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: "after", ChatID: groupChat, UserID: "zhangsan", Content: "未报"}); err != nil {
			t.Fatal(err)
		}
		settle(time.Second)
		if got := answers(fake)["收到：未报"]; got != 1 {
			t.Errorf("answered %d times after the reconnect", got)
		}
	})
}

func statuses(rs []wecomtest.Request) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

func TestABadSecretIsReportedAndNotStormed(t *testing.T) {
	inBubble(t, func(t *testing.T, s *models.Store, fake *wecomtest.Server) {
		r := startReplica(t, s, fake, "a", "wrong-secret-0000")
		settle(10 * time.Minute)
		subs := subscribes(fake)
		if len(subs) < 4 {
			t.Fatalf("%d attempts in 10 minutes", len(subs))
		}
		for i, sub := range subs {
			if sub.Errcode != wecomtest.ErrcodeBadCredentials {
				t.Errorf("attempt %d answered %d", i+1, sub.Errcode)
			}
			if i >= 4 && sub.Time.Sub(subs[i-1].Time) < 30*time.Second {
				t.Errorf("attempt %d only %v after the one before", i+1, sub.Time.Sub(subs[i-1].Time))
			}
		}
		if len(subs) > 4+20 {
			t.Errorf("%d attempts in 10 minutes: a storm", len(subs))
		}
		var refused *bot.SubscribeError
		err := r.bot.Health()
		if !errors.As(err, &refused) || refused.Code != wecomtest.ErrcodeBadCredentials || !strings.Contains(err.Error(), "wecom.aibot.secret") {
			t.Errorf("health: %v", err)
		}
		assertNoSecrets(t, "the logs", r.logs.String(), "wrong-secret-0000")
		if !strings.Contains(r.logs.String(), "subscription refused") {
			t.Errorf("the refusal is not logged:\n%s", r.logs.String())
		}
	})
}

func TestATakeoverIsNotFoughtBack(t *testing.T) {
	inBubble(t, func(t *testing.T, s *models.Store, fake *wecomtest.Server) {
		a := startReplica(t, s, fake, "a", "")
		settle(time.Second)
		b := startReplica(t, s, fake, "b", "")
		settle(time.Minute)
		if n := len(subscribes(fake)); n != 1 {
			t.Fatalf("%d subscriptions of two replicas in a minute, want 1", n)
		}
		kicked := time.Now()
		if !fake.Kick() {
			t.Fatal("no connection to kick")
		}
		settle(kickedPause - 10*time.Second)
		if n := len(subscribes(fake)); n != 1 {
			t.Errorf("%d subscriptions within the pause after a takeover, want none new", n)
		}
		if err := a.bot.Health(); err == nil || !strings.Contains(err.Error(), "disconnected_event") {
			t.Errorf("the kicked replica's health: %v", err)
		}
		if err := b.bot.Health(); err != nil {
			t.Errorf("the other replica's health: %v", err)
		}
		lease, err := s.GetKV(context.Background(), bot.LeaseKey)
		if err != nil || lease.Value != "kicked:a" {
			t.Errorf("lease after the takeover: %+v %v", lease, err)
		}
		settle(time.Minute)
		subs := subscribes(fake)
		if len(subs) != 2 || subs[1].Time.Sub(kicked) < kickedPause {
			t.Errorf("subscriptions %d, the second %v after the kick", len(subs), subs[len(subs)-1].Time.Sub(kicked))
		}
	})
}

// kickedPause is how long the replicas stand down after a takeover.
const kickedPause = 5 * time.Minute

func TestAKilledHolderIsTakenOverWithin30s(t *testing.T) {
	inBubble(t, func(t *testing.T, s *models.Store, fake *wecomtest.Server) {
		a := startReplica(t, s, fake, "a", "")
		settle(time.Second)
		b := startReplica(t, s, fake, "b", "")
		var msgs []msg.Message
		for i := range 60 {
			m := msg.Plain(msg.ToGroup(""), fmt.Sprintf("通知%02d", i))
			m.DedupeKey = fmt.Sprintf("notice/%02d", i)
			msgs = append(msgs, m)
		}
		if _, err := a.bot.Outbox().Enqueue(context.Background(), s, msgs...); err != nil {
			t.Fatal(err)
		}
		settle(30 * time.Second)
		if n := len(delivered(fake, wecomtest.RouteSendMsg)); n != 20 {
			t.Fatalf("%d pushes in the first half minute, want the chat's 20", n)
		}
		killed := time.Now()
		a.bot.Crash()
		a.stop()
		settle(30 * time.Second)
		subs := subscribes(fake)
		if len(subs) != 2 {
			t.Fatalf("%d subscriptions, want the holder's and its successor's", len(subs))
		}
		if d := subs[1].Time.Sub(killed); d > 30*time.Second {
			t.Errorf("taken over %v after the holder died, want at most 30 s", d)
		}
		settle(3 * time.Minute)
		got := answers(fake)
		for i := range 60 {
			if n := got[fmt.Sprintf("通知%02d", i)]; n != 1 {
				t.Errorf("notice %d sent %d times", i, n)
			}
		}
		if n := len(subscribes(fake)); n != 2 {
			t.Errorf("%d subscriptions in all: the replicas fought", n)
		}
		if err := b.bot.Health(); err != nil {
			t.Errorf("health: %v", err)
		}
		pushes := delivered(fake, wecomtest.RouteSendMsg)
		if !slices.IsSortedFunc(pushes, func(x, y wecomtest.Request) int { return strings.Compare(x.Content, y.Content) }) {
			t.Error("the notices to the group went out of order")
		}
	})
}

func TestMessagesWaitingForADownConnectionAreGivenUpAndReported(t *testing.T) {
	inBubble(t, func(t *testing.T, s *models.Store, fake *wecomtest.Server) {
		ctx := context.Background()
		if _, err := s.UpsertMember(ctx, &models.Member{UserID: "admin1", Name: "管理员", Role: models.RoleAdmin, Active: true}); err != nil {
			t.Fatal(err)
		}
		r := startReplicaGivingUp(t, s, fake, "a", "wrong-secret-0000", 10*time.Minute)
		m := msg.Plain(msg.ToGroup(""), "17:30 未报提醒")
		if _, err := r.bot.Outbox().Enqueue(ctx, s, m); err != nil {
			t.Fatal(err)
		}
		settle(5 * time.Minute)
		var row models.OutboxMessage
		if err := s.DB(ctx).Order("id").First(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.Status != models.OutboxPending || row.Attempts < 3 || !strings.Contains(row.LastError, "long connection is down") {
			t.Fatalf("after 5 minutes down: %s, %d attempts, %q", row.Status, row.Attempts, row.LastError)
		}
		settle(25 * time.Minute) // the attempt after the give-up age, backoff and all
		if err := s.DB(ctx).First(&row, row.ID).Error; err != nil {
			t.Fatal(err)
		}
		if row.Status != models.OutboxFailed {
			t.Errorf("after the give-up age: %s", row.Status)
		}
		var notices []models.OutboxMessage
		if err := s.DB(ctx).Where("id > ?", row.ID).Find(&notices).Error; err != nil {
			t.Fatal(err)
		}
		if len(notices) != 1 || notices[0].Channel != "aibot_push" || notices[0].ChatID != "admin1" || !strings.Contains(notices[0].Body, "消息发送失败") {
			t.Errorf("notices to the administrators: %+v", notices)
		}
	})
}
