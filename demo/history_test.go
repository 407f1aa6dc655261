package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// demoAt is a demo district seeded at a time, with its jobs runner.
type demoAt struct {
	store  *models.Store
	cfg    *config.Config
	runner *jobs.Runner
	opts   HistoryOptions
}

// seededAt seeds the demo district on store (whose clock the caller pins)
// as of now.
func seededAt(t *testing.T, store *models.Store, now time.Time) *demoAt {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	svc := ticketService(t, store, cfg)
	if _, err := Seed(ctx, svc, cfg, now); err != nil {
		t.Fatal(err)
	}
	out := bot.NewOutbox(cfg.WeCom)
	runner := jobs.NewRunner(jobs.NewEnv(store, out, cfg.Domain(), svc.Calendar, nil))
	return &demoAt{store: store, cfg: cfg, runner: runner, opts: HistoryOptions{
		Config: cfg, Store: store, Calendar: svc.Calendar, Outbox: out, Jobs: runner, Now: now,
	}}
}

// pending counts the outbox rows waiting to be sent.
func pending(t *testing.T, s *models.Store) int64 {
	t.Helper()
	var n int64
	if err := s.DB(context.Background()).Model(&models.OutboxMessage{}).Where("status = ?", models.OutboxPending).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHistoryIsStoredAsSentAndTheDemoStartsQuiet: the demo's past — the
// leaders' dispatches of the day before and the overdue scan up to now — is in
// the store, what it said stored as sent at its time, and a scheduler
// starting then sends nothing: the chat starts empty.
func TestHistoryIsStoredAsSentAndTheDemoStartsQuiet(t *testing.T) {
	ctx := context.Background()
	start := storetest.At("2026-11-20 15:07") // a Friday, in working hours, past the 15:00 scan
	now := start
	clock := func() time.Time { return now }
	storetest.EachWith(t, storetest.Options{Now: clock}, func(t *testing.T, store *models.Store) {
		now = start
		d := seededAt(t, store, now)
		past, err := History(ctx, d.opts)
		if err != nil {
			t.Fatal(err)
		}
		if past.Dispatches != 2 || past.Sent == 0 || past.Skipped == 0 {
			t.Fatalf("history: %+v", past)
		}
		// The leaders' dispatches (the seed's 责令检视 is a dispatch too).
		var dispatches []models.Dispatch
		if err := store.DB(ctx).Preload("Targets").Where("kind = ?", models.DispatchDirect).Order("id").Find(&dispatches).Error; err != nil {
			t.Fatal(err)
		}
		if len(dispatches) != 2 || !dispatches[0].IssuedAt.Equal(storetest.At("2026-11-19 15:40")) ||
			!dispatches[1].IssuedAt.Equal(storetest.At("2026-11-19 16:25")) || dispatches[0].Status != models.DispatchOpen {
			t.Fatalf("dispatches: %+v", dispatches)
		}
		var rows []models.OutboxMessage
		if err := store.DB(ctx).Order("id").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		said := map[string]bool{}
		for _, r := range rows {
			if r.Status != models.OutboxSent || r.SentAt == nil || !r.SentAt.Equal(r.CreatedAt) || r.CreatedAt.After(now) {
				t.Errorf("a history row is not stored as sent in the past: %+v", r)
			}
			said[r.Channel] = true
		}
		// The dispatches were announced in the group and sent to their
		// targets; the scan told people by app message.
		if !said["robot"] || !said["app"] || !said["reply"] {
			t.Errorf("the history says nothing on some channel: %v", said)
		}
		var alerts int64
		if err := store.DB(ctx).Model(&models.Alert{}).Count(&alerts).Error; err != nil || alerts == 0 {
			t.Errorf("the scan's history recorded %d alerts (%v)", alerts, err)
		}
		// The service starts: its scheduler catches up nothing, sends nothing.
		sched, err := jobs.NewScheduler(d.runner, nil)
		if err != nil {
			t.Fatal(err)
		}
		sched.Check(ctx, now)
		sched.Check(ctx, now.Add(time.Minute))
		if n := pending(t, store); n != 0 {
			t.Errorf("the demo's start sends %d messages", n)
		}
		run, err := store.JobRunOf(ctx, jobs.OverdueScan, "", "2026-11-20T15:00")
		if err != nil || run.Status != models.JobSkipped || !strings.Contains(run.Summary, "历史") {
			t.Errorf("the 15:00 scan: %+v %v", run, err)
		}
		// A second start issues nothing again.
		now = now.Add(2 * time.Hour)
		d.opts.Now = now
		again, err := History(ctx, d.opts)
		if err != nil || again.Dispatches != 0 {
			t.Errorf("second start: %+v %v", again, err)
		}
		if n := pending(t, store); n != 0 {
			t.Errorf("the second start leaves %d messages to send", n)
		}
	})
}
