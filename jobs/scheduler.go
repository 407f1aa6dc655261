package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
)

// OnTime is how late a check may find a slot and still run it as on time: a
// retry a few minutes after a failure is not 补发.
const OnTime = 5 * time.Minute

// lookback is how far before now a check looks for a job's latest slot; a
// slot older than that is neither run nor reported as skipped.
const lookback = 26 * time.Hour

// Decision is what a check does with a job's latest slot.
type Decision int

// The decisions of Due.
const (
	// NoSlot: the job has no slot within the look-back.
	NoSlot Decision = iota
	// RunOnTime: the slot came within OnTime.
	RunOnTime
	// RunLate: the slot was missed but is within the grace window: run it, marked 补发.
	RunLate
	// SkipMissed: the slot was missed beyond the grace window: record and log it, do not run it.
	SkipMissed
)

func (d Decision) String() string {
	return [...]string{"no slot", "on time", "late", "missed"}[d]
}

// Due returns the latest slot of sched at or before now, counting only slots
// on working days when workday is not nil, and what to do with it: run it on
// time, run it late within grace, or skip it. It is pure: tests call it with
// pinned times.
func Due(sched cron.Schedule, now time.Time, grace time.Duration, workday func(time.Time) bool) (time.Time, Decision) {
	var slot time.Time
	for t := sched.Next(now.Add(-lookback)); !t.After(now); t = sched.Next(t) {
		if workday == nil || workday(t) {
			slot = t
		}
	}
	switch late := now.Sub(slot); {
	case slot.IsZero():
		return slot, NoSlot
	case late < OnTime:
		return slot, RunOnTime
	case late <= grace:
		return slot, RunLate
	}
	return slot, SkipMissed
}

// entry is a job with its parsed schedule and grace window.
type entry struct {
	job   *Job
	sched cron.Schedule
	grace time.Duration
}

// Scheduler runs the jobs at their slots: a check every minute (and one at
// start, which catches up a slot missed while the service was down) asks Due
// about each job and runs, or skips, its latest slot through the Runner.
type Scheduler struct {
	runner  *Runner
	entries []entry
	now     func() time.Time
	cron    *cron.Cron

	checking sync.Mutex        // one check at a time; it guards settled
	settled  map[string]string // job name → key of the latest slot known finished
	stop     context.CancelFunc
	done     sync.WaitGroup
}

// NewScheduler returns a scheduler of every job under r's config. now is the
// clock; time.Now when nil.
func NewScheduler(r *Runner, now func() time.Time) (*Scheduler, error) {
	if now == nil {
		now = time.Now
	}
	cfg := r.Config
	s := &Scheduler{runner: r, now: now, settled: map[string]string{}}
	for _, j := range All() {
		if j.Off != nil && j.Off(cfg) {
			continue
		}
		sched, err := j.ScheduleOf(cfg.Schedule, cfg.Location())
		if err != nil {
			return nil, err
		}
		grace := cfg.Schedule.Grace.D()
		if j.Grace != nil {
			grace = j.Grace(cfg.Schedule)
		}
		s.entries = append(s.entries, entry{job: j, sched: sched, grace: grace})
	}
	return s, nil
}

// Check looks at every job once at now: it runs a due slot (late within the
// grace window), records and logs a slot missed beyond it, and otherwise does
// nothing. A failed run is retried by a later check while its slot is due.
// Jobs run one after another; concurrent checks wait for each other.
func (s *Scheduler) Check(ctx context.Context, now time.Time) {
	s.checking.Lock()
	defer s.checking.Unlock()
	s.checkAll(ctx, now)
}

// checkAll checks every job at now; the caller holds s.checking.
func (s *Scheduler) checkAll(ctx context.Context, now time.Time) {
	now = now.In(s.runner.Config.Location())
	for _, e := range s.entries {
		if ctx.Err() != nil {
			return
		}
		// The runner catches a job's panics; this catches the scheduler's own,
		// so that one job's check never stops the others or the service.
		if err := protect(func() error { s.check(ctx, e, now); return nil }); err != nil {
			s.runner.Log.Error("job check panicked", zap.String("job", e.job.Name), zap.Error(err), panicStack(err))
		}
	}
}

// due returns the entry's latest slot at now and what to do with it.
func (s *Scheduler) due(e entry, now time.Time) (time.Time, Decision) {
	var workday func(time.Time) bool
	if e.job.Workdays {
		workday = s.runner.Calendar.IsWorkday
	}
	return Due(e.sched, now, e.grace, workday)
}

// SkipDue records as skipped, with reason, the slot of every job that a check
// at now would run (on time or late), and returns how many it recorded: what
// came before now is history, not to be caught up. The demo calls it once it
// has written its district's history.
func (s *Scheduler) SkipDue(ctx context.Context, now time.Time, reason string) (int, error) {
	now = now.In(s.runner.Config.Location())
	n := 0
	for _, e := range s.entries {
		slot, d := s.due(e, now)
		if d != RunOnTime && d != RunLate {
			continue
		}
		recorded, err := s.runner.Store.SkipJob(ctx, e.job.Name, slot.Format(SlotLayout), reason)
		if err != nil {
			return n, err
		}
		n += b2i(recorded)
	}
	return n, nil
}

func (s *Scheduler) check(ctx context.Context, e entry, now time.Time) {
	slot, d := s.due(e, now)
	if d == NoSlot {
		return
	}
	key := slot.Format(SlotLayout)
	if s.settled[e.job.Name] == key {
		return
	}
	log := s.runner.Log.With(zap.String("job", e.job.Name), zap.String("slot", key))
	if d == SkipMissed {
		reason := fmt.Sprintf("错过 %s，超过补发时限 %s，未运行", key, e.grace)
		recorded, err := s.runner.Store.SkipJob(ctx, e.job.Name, key, reason)
		if err != nil {
			log.Error("missed slot not recorded", zap.Error(err))
			return
		}
		if recorded {
			log.Warn("missed slot skipped: beyond the grace window", zap.Duration("late", now.Sub(slot)), zap.Duration("grace", e.grace))
		}
		s.settled[e.job.Name] = key
		return
	}
	res, err := s.runner.Run(ctx, e.job, Run{Slot: slot, SlotKey: key, Now: now, Late: d == RunLate})
	switch {
	case err != nil:
		return // logged by the runner; retried at a later check
	case res.Ran:
		s.settled[e.job.Name] = key
	default:
		// Held elsewhere, or finished: settle only once it is finished.
		if run, err := s.runner.Store.JobRunOf(ctx, e.job.Name, key); err == nil && run.Final() {
			s.settled[e.job.Name] = key
		}
	}
}

// Start runs a check at once, then one at the top of every minute in the
// configured zone, until Stop or ctx ends. A minute's check is skipped while
// the previous one still runs.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.stop = context.WithCancel(ctx)
	s.cron = cron.New(cron.WithLocation(s.runner.Config.Location()))
	s.cron.AddFunc("* * * * *", func() {
		if s.checking.TryLock() {
			defer s.checking.Unlock()
			s.checkAll(ctx, s.now())
		}
	})
	s.cron.Start()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		s.Check(ctx, s.now())
	}()
	s.runner.Log.Info("scheduler started", zap.Int("jobs", len(s.entries)), zap.String("timezone", s.runner.Config.Location().String()))
}

// Stop stops the checks and waits for a running one to finish (its context is
// cancelled, so a run in progress gives up and is retried elsewhere or later).
func (s *Scheduler) Stop() {
	if s.stop == nil {
		return
	}
	s.stop()
	<-s.cron.Stop().Done()
	s.done.Wait()
}
