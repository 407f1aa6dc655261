package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

// sleeper is a runner's heartbeat sleep that the test wakes by hand: asleep
// receives when the heartbeat waits (its previous renewal is done), and a
// send on wake ends the wait.
type sleeper struct {
	asleep chan time.Duration
	wake   chan struct{}
}

func newSleeper() *sleeper {
	return &sleeper{asleep: make(chan time.Duration), wake: make(chan struct{})}
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case s.asleep <- d:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// blockingJob is a job whose first run waits in Prepare until release is
// closed or its context ends; started receives when it waits. Later runs
// are quick. Every run that commits posts one message, keyed per slot.
type blockingJob struct {
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex
	calls   int
}

func newBlockingJob() *blockingJob {
	return &blockingJob{started: make(chan struct{}), release: make(chan struct{})}
}

func (b *blockingJob) job() *jobs.Job {
	return &jobs.Job{Name: "long", Prepare: func(ctx context.Context, _ *jobs.Env, r jobs.Run) (jobs.Plan, error) {
		b.mu.Lock()
		b.calls++
		first := b.calls == 1
		b.mu.Unlock()
		if first {
			close(b.started)
			select {
			case <-b.release:
			case <-ctx.Done():
				return jobs.Plan{}, ctx.Err()
			}
		}
		return jobs.Plan{Commit: func(context.Context, *models.Store) ([]msg.Message, string, error) {
			m := msg.Plain(msg.ToGroup(""), "长任务结果")
			m.DedupeKey = "long/" + r.SlotKey
			return []msg.Message{m}, "ok", nil
		}}, nil
	}}
}

type runOutcome struct {
	res jobs.Result
	err error
}

// runAsync runs job on r in a goroutine and returns its outcome's channel.
func runAsync(r *jobs.Runner, job *jobs.Job, run jobs.Run) <-chan runOutcome {
	out := make(chan runOutcome, 1)
	go func() {
		res, err := r.Run(ctx, job, run)
		out <- runOutcome{res, err}
	}()
	return out
}

var slot18 = jobs.Run{Slot: at("2026-11-20 18:00"), SlotKey: "2026-11-20T18:00", Now: at("2026-11-20 18:00")}

func TestLeaseIsShort(t *testing.T) {
	if jobs.DefaultLease > 30*time.Second {
		t.Errorf("DefaultLease = %s: a dead replica would hold a slot that long", jobs.DefaultLease)
	}
}

// A replica dies right after claiming the 18:00 slot: the other one's next
// minute check takes it over and posts the report once.
func TestDeadReplicasSlotIsTakenOverWithinAMinute(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			c := newTestClock("2026-11-20 18:00")
			a, b := twoHandles(t, driver, c.Now)
			d := newDistrict(t, a)
			d.report(t, &d.zjj, "2026-11-20", "2026-11-20 16:00")
			claim, err := a.ClaimJob(ctx, jobs.DailyReport, "", "2026-11-20T18:00", "replica-a", false, jobs.DefaultLease)
			if err != nil || claim == nil {
				t.Fatalf("replica a's claim: %+v %v", claim, err)
			}
			// Replica a is gone. Replica b checks at 18:00:01 and each minute.
			sb := newScheduler(t, runnerOn(b))
			for _, when := range []time.Time{at("2026-11-20 18:00").Add(time.Second), at("2026-11-20 18:01")} {
				c.Set(when)
				sb.Check(ctx, when)
			}
			if rows := outbox(t, a, "daily-report/2026-11-20"); len(rows) != 1 {
				t.Fatalf("%d daily reports by 18:01, want 1", len(rows))
			}
			run, err := a.JobRunOf(ctx, jobs.DailyReport, "", "2026-11-20T18:00")
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != models.JobDone || run.Owner == "replica-a" || run.Attempts != 2 {
				t.Errorf("run after the takeover: %+v", run)
			}
			if delay := run.StartedAt.Sub(claim.StartedAt); delay > time.Minute {
				t.Errorf("taken over %s after the dead claim, want within a minute", delay)
			}
			c.Set(at("2026-11-20 18:02"))
			sb.Check(ctx, at("2026-11-20 18:02"))
			if rows := outbox(t, b, "daily-report/"); len(rows) != 1 {
				t.Errorf("%d daily reports after a later check", len(rows))
			}
		})
	}
}

// Replica a hangs in its run without renewing; b takes the slot over once
// the lease ran out. When a wakes, its renewal fails and it stops before
// committing: one set of messages.
func TestHungRunnerStopsWhenItsSlotIsTakenOver(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			c := newTestClock("2026-11-20 18:00")
			a, b := twoHandles(t, driver, c.Now)
			ra, rb := runnerOn(a), runnerOn(b)
			sa := newSleeper()
			ra.Sleep = sa.Sleep
			bj := newBlockingJob()
			job := bj.job()
			done := runAsync(ra, job, slot18)
			<-bj.started
			if d := <-sa.asleep; d > jobs.DefaultLease/2 {
				t.Errorf("renewals every %s: a lease of %s would lapse between two", d, jobs.DefaultLease)
			}
			c.Advance(jobs.DefaultLease - time.Second)
			if res, err := rb.Run(ctx, job, slot18); res.Ran || err != nil {
				t.Fatalf("b took the slot within the lease: %+v %v", res, err)
			}
			c.Advance(2 * time.Second)
			if res, err := rb.Run(ctx, job, slot18); !res.Ran || err != nil || res.Messages != 1 {
				t.Fatalf("b's takeover: %+v %v", res, err)
			}
			sa.wake <- struct{}{} // a wakes and renews
			out := <-done
			if !errors.Is(out.err, models.ErrLeaseLost) || out.res.Ran {
				t.Fatalf("a after losing its slot: %+v %v", out.res, out.err)
			}
			if rows := outbox(t, a, "long/"); len(rows) != 1 {
				t.Errorf("%d messages of the slot, want 1", len(rows))
			}
			run, err := a.JobRunOf(ctx, "long", "", slot18.SlotKey)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != models.JobDone || run.Owner != rb.Owner || run.Attempts != 2 {
				t.Errorf("run row: %+v", run)
			}
		})
	}
}

// A run longer than its lease keeps its slot by renewing it.
func TestLongRunKeepsItsSlotByRenewing(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			c := newTestClock("2026-11-20 18:00")
			a, b := twoHandles(t, driver, c.Now)
			ra, rb := runnerOn(a), runnerOn(b)
			sa := newSleeper()
			ra.Sleep = sa.Sleep
			bj := newBlockingJob()
			job := bj.job()
			done := runAsync(ra, job, slot18)
			<-bj.started
			for range 4 { // 40 s
				d := <-sa.asleep
				c.Advance(d)
				sa.wake <- struct{}{}
			}
			<-sa.asleep // the last renewal is done
			if res, err := rb.Run(ctx, job, slot18); res.Ran || err != nil {
				t.Fatalf("b took a slot that a kept renewing, 40 s after a's claim: %+v %v", res, err)
			}
			close(bj.release)
			out := <-done
			if out.err != nil || !out.res.Ran || out.res.Messages != 1 {
				t.Fatalf("a's long run: %+v %v", out.res, out.err)
			}
			run, err := a.JobRunOf(ctx, "long", "", slot18.SlotKey)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != models.JobDone || run.Owner != ra.Owner || run.Attempts != 1 {
				t.Errorf("run row: %+v", run)
			}
			if rows := outbox(t, a, "long/"); len(rows) != 1 {
				t.Errorf("%d messages of the slot, want 1", len(rows))
			}
		})
	}
}
