package models_test

import (
	"errors"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// clock is a settable store clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock(s string) *clock           { return &clock{t: storetest.At(s)} }

func TestClaimJobOnce(t *testing.T) {
	c := newClock("2026-11-20 18:00")
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *models.Store) {
		const job, slot = "daily-report", "2026-11-20T18:00"
		a, err := s.ClaimJob(ctx, job, "", slot, "a", false, 10*time.Minute)
		if err != nil || a == nil || a.Attempts != 1 {
			t.Fatalf("first claim: %+v %v", a, err)
		}
		if b, err := s.ClaimJob(ctx, job, "", slot, "b", false, 10*time.Minute); err != nil || b != nil {
			t.Fatalf("second claim while leased: %+v %v", b, err)
		}
		err = s.Tx(ctx, func(tx *models.Store) error {
			key := "daily-report/2026-11-20"
			if _, err := tx.Enqueue(ctx, key, []models.OutboxMessage{{Channel: "robot", Kind: "markdown", Body: "日报", DedupeKey: &key}}); err != nil {
				return err
			}
			return tx.FinishJob(ctx, a, "1 message")
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour)
		if b, err := s.ClaimJob(ctx, job, "", slot, "b", true, 10*time.Minute); err != nil || b != nil {
			t.Fatalf("claim of a done slot: %+v %v", b, err)
		}
		run, err := s.JobRunOf(ctx, job, "", slot)
		if err != nil || run.Status != models.JobDone || run.Summary != "1 message" || run.LeaseUntil != nil {
			t.Fatalf("done run: %+v %v", run, err)
		}
		if ok, err := s.Enqueued(ctx, "daily-report/2026-11-20"); !ok || err != nil {
			t.Errorf("Enqueued = %v %v", ok, err)
		}
		if ok, err := s.Enqueued(ctx, "daily-report/2026-11-21"); err != nil || ok {
			t.Errorf("Enqueued of an unknown key (%v)", err)
		}
		if _, err := s.JobRunOf(ctx, job, "", "2026-11-21T18:00"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("missing run: %v", err)
		}
	})
}

func TestClaimJobAfterCrashAndFailure(t *testing.T) {
	c := newClock("2026-11-20 18:00")
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *models.Store) {
		const job, slot = "remind", "2026-11-20T17:30"
		a, err := s.ClaimJob(ctx, job, "", slot, "a", false, 5*time.Minute)
		if err != nil || a == nil {
			t.Fatalf("first claim: %+v %v", a, err)
		}
		c.Advance(6 * time.Minute) // a crashed or hangs: its lease runs out
		b, err := s.ClaimJob(ctx, job, "", slot, "b", true, 5*time.Minute)
		if err != nil || b == nil || b.Attempts != 2 || !b.Late {
			t.Fatalf("reclaim after the lease: %+v %v", b, err)
		}
		// a wakes up and tries to commit: its messages must roll back.
		err = s.Tx(ctx, func(tx *models.Store) error {
			if _, err := tx.Enqueue(ctx, "", []models.OutboxMessage{{Channel: "robot", Kind: "text", Body: "a"}}); err != nil {
				return err
			}
			return tx.FinishJob(ctx, a, "")
		})
		if !errors.Is(err, models.ErrLeaseLost) {
			t.Fatalf("finish after losing the lease: %v", err)
		}
		var n int64
		must(t, s.DB(ctx).Model(&models.OutboxMessage{}).Count(&n).Error)
		if n != 0 {
			t.Fatalf("%d messages of the lost run were kept", n)
		}
		if err := s.FailJob(ctx, b, errors.New("database went away"), c.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if r, err := s.ClaimJob(ctx, job, "", slot, "c", true, 5*time.Minute); err != nil || r != nil {
			t.Fatalf("failed run reclaimed before its retry time (%v)", err)
		}
		c.Advance(2 * time.Minute)
		r, err := s.ClaimJob(ctx, job, "", slot, "c", true, 5*time.Minute)
		if err != nil || r == nil || r.Attempts != 3 || r.Owner != "c" {
			t.Fatalf("retry of a failed run: %+v %v", r, err)
		}
		got, err := s.JobRunOf(ctx, job, "", slot)
		must(t, err)
		if got.Status != models.JobRunning || got.Error != "database went away" {
			t.Errorf("row after retry claim: %+v", got)
		}
	})
}

func TestSkipJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ok, err := s.SkipJob(ctx, "daily-report", "", "2026-11-19T18:00", "missed by 14h")
		if !ok || err != nil {
			t.Fatalf("first skip: %v %v", ok, err)
		}
		if ok, err := s.SkipJob(ctx, "daily-report", "", "2026-11-19T18:00", "again"); err != nil || ok {
			t.Errorf("second skip recorded (%v)", err)
		}
		if r, err := s.ClaimJob(ctx, "daily-report", "", "2026-11-19T18:00", "a", true, time.Minute); r != nil || err != nil {
			t.Errorf("claim of a skipped slot: %+v %v", r, err)
		}
		if _, err := s.ClaimJob(ctx, "remind", "", "2026-11-19T17:30", "a", false, time.Minute); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.SkipJob(ctx, "remind", "", "2026-11-19T17:30", "late"); err != nil || ok {
			t.Errorf("skip overwrote a claimed slot (%v)", err)
		}
	})
}

func TestRenewJobKeepsTheSlotUntilLost(t *testing.T) {
	c := newClock("2026-11-20 18:00")
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *models.Store) {
		c.t = storetest.At("2026-11-20 18:00")
		const job, slot, lease = "daily-report", "2026-11-20T18:00", 30 * time.Second
		a, err := s.ClaimJob(ctx, job, "", slot, "a", false, lease)
		if err != nil || a == nil {
			t.Fatalf("claim: %+v %v", a, err)
		}
		for range 4 { // 40 s of renewals every 10 s: past the first lease
			c.Advance(10 * time.Second)
			if err := s.RenewJob(ctx, a, lease); err != nil {
				t.Fatalf("renewal at %s: %v", c.Now().Format(time.TimeOnly), err)
			}
		}
		// A renewal at the same instant writes the same lease: still held.
		if err := s.RenewJob(ctx, a, lease); err != nil {
			t.Fatalf("renewal within one tick: %v", err)
		}
		if want := c.Now().Add(lease); !a.LeaseUntil.Equal(want) {
			t.Errorf("lease until %s, want %s", a.LeaseUntil, want)
		}
		if b, err := s.ClaimJob(ctx, job, "", slot, "b", false, lease); err != nil || b != nil {
			t.Fatalf("claimed past the first lease although renewed: %+v %v", b, err)
		}
		// a stops renewing; b takes over once the lease has run out.
		c.Advance(lease + time.Second)
		b, err := s.ClaimJob(ctx, job, "", slot, "b", false, lease)
		if err != nil || b == nil || b.Attempts != 2 {
			t.Fatalf("takeover: %+v %v", b, err)
		}
		if err := s.RenewJob(ctx, a, lease); !errors.Is(err, models.ErrLeaseLost) {
			t.Fatalf("renewal of a lost claim: %v", err)
		}
		if err := s.RenewJob(ctx, b, lease); err != nil {
			t.Fatalf("renewal of the new claim: %v", err)
		}
	})
}

func TestFailJobWithoutRetryStaysFailed(t *testing.T) {
	c := newClock("2026-11-20 18:00")
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *models.Store) {
		c.t = storetest.At("2026-11-20 18:00")
		const job, slot = "daily-report", "2026-11-20T18:00"
		a, err := s.ClaimJob(ctx, job, "", slot, "a", false, time.Minute)
		if err != nil || a == nil {
			t.Fatalf("claim: %+v %v", a, err)
		}
		if err := s.FailJob(ctx, a, errors.New("panic: boom"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		c.Advance(24 * time.Hour)
		if b, err := s.ClaimJob(ctx, job, "", slot, "b", true, time.Minute); err != nil || b != nil {
			t.Fatalf("a slot failed for good was claimed again: %+v %v", b, err)
		}
		run, err := s.JobRunOf(ctx, job, "", slot)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != models.JobFailed || !run.Final() || run.Error != "panic: boom" {
			t.Errorf("row: %+v, final %v", run, run.Final())
		}
	})
}
