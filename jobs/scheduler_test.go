package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

func newScheduler(t *testing.T, r *jobs.Runner) *jobs.Scheduler {
	t.Helper()
	s, err := jobs.NewScheduler(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twoHandles opens two independent stores on one database, as two replicas
// would, on the clock now (time.Now when nil).
func twoHandles(t *testing.T, driver string, now func() time.Time) (*models.Store, *models.Store) {
	t.Helper()
	s := handles(t, driver, 2, now)
	return s[0], s[1]
}

// handles opens n independent stores on one database, as n replicas would.
func handles(t *testing.T, driver string, n int, now func() time.Time) []*models.Store {
	t.Helper()
	var dsn string
	if driver == models.DriverMySQL {
		dsn = storetest.MySQLDSN(t)
	} else {
		dsn = filepath.Join(t.TempDir(), "shared.db")
	}
	out := make([]*models.Store, n)
	for i := range out {
		s, err := models.Open(ctx, models.Options{Driver: driver, DSN: dsn, Location: storetest.Shanghai, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

func TestTwoSchedulersFireOneSlotOnce(t *testing.T) {
	for _, driver := range []string{models.DriverMySQL, models.DriverSQLite} {
		t.Run(driver, func(t *testing.T) {
			a, b := twoHandles(t, driver, nil)
			d := newDistrict(t, a)
			d.report(t, &d.zjj, "2026-11-20", "2026-11-20 16:00")
			sa, sb := newScheduler(t, runnerOn(a)), newScheduler(t, runnerOn(b))
			var wg sync.WaitGroup
			for _, s := range []*jobs.Scheduler{sa, sb} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.Check(ctx, at("2026-11-20 18:00").Add(2*time.Second))
				}()
			}
			wg.Wait()
			if rows := outbox(t, a, "daily-report/2026-11-20"); len(rows) != 1 {
				t.Fatalf("%d daily report messages, want 1", len(rows))
			}
			run, err := a.JobRunOf(ctx, jobs.DailyReport, "", "2026-11-20T18:00")
			if err != nil || run.Status != models.JobDone || run.Attempts != 1 || run.Late {
				t.Errorf("job run: %+v %v", run, err)
			}
			// And again a minute later on both: nothing more.
			sa.Check(ctx, at("2026-11-20 18:01"))
			sb.Check(ctx, at("2026-11-20 18:01"))
			if rows := outbox(t, b, "daily-report/"); len(rows) != 1 {
				t.Errorf("%d daily report messages after later checks", len(rows))
			}
		})
	}
}

func TestRestartCatchesUpWithinGraceOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		d.report(t, &d.zjj, "2026-11-20", "2026-11-20 16:00")
		// Down over 18:00; a restart at 18:20 catches up, marked 补发.
		newScheduler(t, d.runner).Check(ctx, at("2026-11-20 18:20"))
		rows := outbox(t, s, "daily-report/")
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "补发") {
			t.Fatalf("catch-up: %+v", rows)
		}
		if run, err := s.JobRunOf(ctx, jobs.DailyReport, "", "2026-11-20T18:00"); err != nil || !run.Late {
			t.Errorf("the run is not marked late (%v)", err)
		}
		// Another restart soon after does not post it again.
		restarted := newScheduler(t, runnerOn(s))
		restarted.Check(ctx, at("2026-11-20 18:30"))
		restarted.Check(ctx, at("2026-11-20 18:31"))
		if rows := outbox(t, s, "daily-report/"); len(rows) != 1 {
			t.Errorf("%d daily reports after a second restart", len(rows))
		}
		// The reminder of 17:30 is not made up after the report time.
		if rows := outbox(t, s, "remind/"); len(rows) != 0 {
			t.Errorf("a reminder was made up after the report: %+v", rows)
		}
	})
}

func TestRestartNextMorningSkipsYesterdaysReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		newScheduler(t, d.runner).Check(ctx, at("2026-11-21 09:00"))
		if rows := outbox(t, s, "daily-report/"); len(rows) != 0 {
			t.Fatalf("yesterday's report posted the next morning: %+v", rows)
		}
		run, err := s.JobRunOf(ctx, jobs.DailyReport, "", "2026-11-20T18:00")
		if err != nil || run.Status != models.JobSkipped || !strings.Contains(run.Summary, "超过补发时限") {
			t.Errorf("skipped slot: %+v %v", run, err)
		}
	})
}

func TestHolidaysAndMakeUpDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		sched := newScheduler(t, d.runner)
		// 国庆节: no reminder, no report.
		for _, now := range []string{"2026-10-01 17:30", "2026-10-01 18:00"} {
			sched.Check(ctx, at(now))
		}
		if rows := outbox(t, s, "remind/"); len(rows) != 0 {
			t.Errorf("reminder on a holiday: %d", len(rows))
		}
		if rows := outbox(t, s, "daily-report/"); len(rows) != 0 {
			t.Errorf("report on a holiday: %d", len(rows))
		}
		// Saturday 2026-10-10 is a make-up working day (国庆节调休): both.
		sched.Check(ctx, at("2026-10-10 17:30"))
		sched.Check(ctx, at("2026-10-10 18:00"))
		if rows := outbox(t, s, "remind/2026-10-10"); len(rows) == 0 {
			t.Error("no reminder on a make-up Saturday")
		}
		rows := outbox(t, s, "daily-report/2026-10-10")
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "国庆节调休") {
			t.Errorf("make-up Saturday report: %+v", rows)
		}
		// `yanzhen run` runs even on a day off.
		if res := mustRun(t, d.runner, jobs.DailyReport, "2026-10-01 18:00"); res.Messages != 1 {
			t.Errorf("run on a holiday: %+v", res)
		}
	})
}

func TestFailedRunIsRetriedAndNeverRunsTwice(t *testing.T) {
	clock := &struct{ t time.Time }{at("2026-11-20 18:00")}
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return clock.t }}, func(t *testing.T, s *models.Store) {
		clock.t = at("2026-11-20 18:00")
		r := runnerOn(s)
		calls := 0
		job := &jobs.Job{Name: "flaky", Prepare: func(context.Context, *jobs.Env, jobs.Run) (jobs.Plan, error) {
			calls++
			if calls == 1 {
				return jobs.Plan{}, errors.New("database went away")
			}
			return jobs.Plan{Commit: func(context.Context, *models.Store) ([]msg.Message, string, error) {
				m := msg.Plain(msg.ToGroup(""), "x")
				m.DedupeKey = "flaky/1"
				return []msg.Message{m}, "ok", nil
			}}, nil
		}}
		run := jobs.Run{Slot: at("2026-11-20 18:00"), SlotKey: "2026-11-20T18:00", Now: at("2026-11-20 18:00")}
		if _, err := r.Run(ctx, job, run); err == nil {
			t.Fatal("the failure was not returned")
		}
		row, err := s.JobRunOf(ctx, "flaky", "", run.SlotKey)
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != models.JobFailed || row.Error != "database went away" {
			t.Fatalf("failed run: %+v", row)
		}
		if res, err := r.Run(ctx, job, run); res.Ran || err != nil {
			t.Fatalf("retried before the backoff: %+v %v", res, err)
		}
		clock.t = clock.t.Add(61 * time.Second)
		if res, err := r.Run(ctx, job, run); !res.Ran || err != nil || res.Messages != 1 {
			t.Fatalf("retry: %+v %v", res, err)
		}
		clock.t = clock.t.Add(time.Hour)
		if res, err := r.Run(ctx, job, run); err != nil || res.Ran || calls != 2 {
			t.Errorf("a done slot ran again: %+v, %d calls (%v)", res, calls, err)
		}
	})
}

// TestSkipDueLeavesNothingToCatchUp: the slots a starting scheduler would run
// are recorded as skipped, and its first check then runs none of them.
func TestSkipDueLeavesNothingToCatchUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		create(t, s, &models.Ticket{Number: "2026111300501", Title: "积水", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 09:00"))})
		sched := newScheduler(t, d.runner)
		n, err := sched.SkipDue(ctx, at("2026-11-20 18:20"), "历史")
		// The daily report (18:00, late), the scan and 提级 (18:15, on time);
		// the reminder is past its grace and the weekly list and 整改公示
		// (17:00) within it.
		if err != nil || n != 5 {
			t.Fatalf("skipped %d (%v), want 5", n, err)
		}
		for _, c := range []struct{ job, slot string }{
			{jobs.DailyReport, "2026-11-20T18:00"}, {jobs.OverdueScan, "2026-11-20T18:15"}, {jobs.Raise, "2026-11-20T18:15"},
			{jobs.WeeklyReport, "2026-11-20T17:00"}, {jobs.Publicity, "2026-11-20T17:00"},
		} {
			if run, err := s.JobRunOf(ctx, c.job, "", c.slot); err != nil || run.Status != models.JobSkipped || run.Summary != "历史" {
				t.Errorf("%s %s: %+v %v", c.job, c.slot, run, err)
			}
		}
		if rows := since(t, s, func() { sched.Check(ctx, at("2026-11-20 18:21")) }); len(rows) != 0 {
			t.Errorf("the first check after SkipDue sent %q", destinations(rows))
		}
	})
}
