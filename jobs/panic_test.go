package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

// addAdmin registers an administrator, who hears of failures.
func addAdmin(t *testing.T, s *models.Store) {
	t.Helper()
	create(t, s, &models.Member{UserID: "admin1", Name: "管理员", Role: models.RoleAdmin, Active: true})
}

// panicNotices returns the administrators' notices of a job's panics.
func panicNotices(t *testing.T, s *models.Store, job string) []models.OutboxMessage {
	t.Helper()
	return outbox(t, s, "job-panic/"+job+"/")
}

func TestPanickingJobFailsItsRunAndIsRetriedTwice(t *testing.T) {
	c := newTestClock("2026-11-20 18:00")
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *models.Store) {
		c.Set(at("2026-11-20 18:00"))
		d := newDistrict(t, s)
		addAdmin(t, s)
		core, logs := observer.New(zap.ErrorLevel)
		d.runner.Log = zap.New(core)
		calls := 0
		job := &jobs.Job{Name: "buggy", Summary: "有缺陷的任务", Prepare: func(context.Context, *jobs.Env, jobs.Run) (jobs.Plan, error) {
			calls++
			return jobs.Plan{Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
				// A write before the panic must roll back with the run.
				partial := msg.Plain(msg.ToGroup(""), "半成品")
				partial.DedupeKey = "buggy/partial"
				if _, err := d.runner.Outbox.Enqueue(ctx, tx, partial); err != nil {
					return nil, "", err
				}
				panic("index out of range [3] with length 3")
			}}, nil
		}}
		run := jobs.Run{Slot: at("2026-11-20 18:00"), SlotKey: "2026-11-20T18:00", Now: at("2026-11-20 18:00")}
		for attempt := 1; attempt <= 3; attempt++ {
			_, err := d.runner.Run(ctx, job, run)
			var p *jobs.PanicError
			if !errors.As(err, &p) {
				t.Fatalf("attempt %d: %v, want the panic as an error", attempt, err)
			}
			row, err := s.JobRunOf(ctx, job.Name, "", run.SlotKey)
			if err != nil {
				t.Fatal(err)
			}
			if row.Status != models.JobFailed || row.Attempts != attempt || !strings.Contains(row.Error, "panic: index out of range") {
				t.Fatalf("attempt %d recorded as %+v", attempt, row)
			}
			if final := attempt == 3; row.Final() != final {
				t.Fatalf("attempt %d: final %v, want %v", attempt, row.Final(), final)
			}
			c.Advance(time.Hour) // past any backoff
		}
		if res, err := d.runner.Run(ctx, job, run); res.Ran || err != nil || calls != 3 {
			t.Fatalf("a slot that panicked three times ran again: %+v %v, %d calls", res, err, calls)
		}
		if rows := outbox(t, s, "buggy/"); len(rows) != 0 {
			t.Errorf("the panicking runs left messages: %+v", rows)
		}
		notices := panicNotices(t, s, "buggy")
		if len(notices) != 1 {
			t.Fatalf("%d notices to the administrators, want 1", len(notices))
		}
		if n := notices[0]; n.Channel != "app" || n.To != "admin1" ||
			!strings.Contains(n.Body, "有缺陷的任务（buggy）") || !strings.Contains(n.Body, "2026-11-20 18:00") || !strings.Contains(n.Body, "自动重试") {
			t.Errorf("notice: %+v", n)
		}
		panics := logs.FilterMessage("job panicked").All()
		if len(panics) != 3 {
			t.Fatalf("%d panic log lines, want 3", len(panics))
		}
		if stack, _ := panics[0].ContextMap()["stack"].(string); !strings.Contains(stack, "panic_test.go") {
			t.Errorf("the log line has no stack of the panic: %q", stack)
		}
	})
}

func TestPanicInAScheduledJobLeavesTheSchedulerRunning(t *testing.T) {
	c := newTestClock("2026-11-20 18:00")
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		addAdmin(t, s)
		d.report(t, &d.zjj, "2026-11-20", "2026-11-20 16:00")
		reports := d.runner.Reports
		d.runner.Reports = nil // a bug: every report job dereferences nil
		sched := newScheduler(t, d.runner)
		check := func(when time.Time) {
			c.Set(when)
			sched.Check(ctx, when)
		}
		check(at("2026-11-20 18:00").Add(2 * time.Second))
		row, err := s.JobRunOf(ctx, jobs.DailyReport, "", "2026-11-20T18:00")
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != models.JobFailed || row.Attempts != 1 || !strings.Contains(row.Error, "panic") {
			t.Fatalf("panicked run recorded as %+v", row)
		}
		// The same check went on to the jobs after it.
		if scan, err := s.JobRunOf(ctx, jobs.OverdueScan, "", "2026-11-20T18:00"); err != nil || scan.Status != models.JobDone {
			t.Errorf("the overdue scan after the panic: %+v %v", scan, err)
		}
		// Retried after 1 and 2 minutes, then left failed.
		for _, when := range []string{"2026-11-20 18:01", "2026-11-20 18:04", "2026-11-20 18:10", "2026-11-20 18:30"} {
			check(at(when).Add(5 * time.Second))
		}
		row, err = s.JobRunOf(ctx, jobs.DailyReport, "", "2026-11-20T18:00")
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != models.JobFailed || row.Attempts != 3 || !row.Final() {
			t.Errorf("after the retries: %+v", row)
		}
		if n := len(panicNotices(t, s, jobs.DailyReport)); n != 1 {
			t.Errorf("%d notices of the daily report's panic, want 1", n)
		}
		if rows := outbox(t, s, "daily-report/"); len(rows) != 0 {
			t.Errorf("the panicking report posted %d messages", len(rows))
		}
		// Fixed, it can still be run by hand.
		d.runner.Reports = reports
		if res := mustRun(t, d.runner, jobs.DailyReport, "2026-11-20 18:00"); res.Messages != 1 {
			t.Errorf("run by hand: %+v", res)
		}
	})
}
