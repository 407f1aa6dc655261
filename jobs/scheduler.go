package jobs

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/report"
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

// entry is a job for one work group (group "" for a job run once) with
// its parsed schedule and grace window.
type entry struct {
	job   *Job
	group string
	sched cron.Schedule
	grace time.Duration
}

// key names the entry in settled.
func (e entry) key() string { return e.job.Name + "\x00" + e.group }

// Scheduler runs the jobs at their slots: a check every minute (and one at
// start, which catches up a slot missed while the service was down) asks Due
// about each job of each work group and runs, or skips, its latest slot
// through the Runner. The groups are read at each check, so that a group
// imported while the service runs is served from the next minute.
type Scheduler struct {
	runner *Runner
	jobs   []*Job
	now    func() time.Time
	cron   *cron.Cron

	checking sync.Mutex               // one check at a time; it guards settled and specs
	settled  map[string]string        // entry key → key of the latest slot known finished
	specs    map[string]cron.Schedule // parsed specs, by spec
	stop     context.CancelFunc
	done     sync.WaitGroup
}

// NewScheduler returns a scheduler of every job under r's config that is
// not Off. now is the clock; time.Now when nil. A job whose configured spec
// does not parse is refused here.
func NewScheduler(r *Runner, now func() time.Time) (*Scheduler, error) {
	if now == nil {
		now = time.Now
	}
	s := &Scheduler{runner: r, now: now, settled: map[string]string{}, specs: map[string]cron.Schedule{}}
	for _, j := range All() {
		if j.Off != nil && j.Off(r.Config) {
			continue
		}
		s.jobs = append(s.jobs, j)
		if _, err := s.schedule(j, r.Config.Schedule); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// schedule returns the job's parsed schedule under sc, parsing each spec once.
func (s *Scheduler) schedule(j *Job, sc config.Schedule) (cron.Schedule, error) {
	spec := j.Spec(sc)
	if sched, ok := s.specs[spec]; ok {
		return sched, nil
	}
	sched, err := j.ScheduleOf(sc, s.runner.Config.Location())
	if err != nil {
		return nil, err
	}
	s.specs[spec] = sched
	return sched, nil
}

// entries returns every job for every group it runs for, in job order.
func (s *Scheduler) entries(ctx context.Context) ([]entry, error) {
	set, err := s.runner.Store.GroupSet(ctx)
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, j := range s.jobs {
		for _, g := range reachOf(j, set) {
			sc := s.runner.Config.Schedule
			if j.Reach != Once {
				sc = report.Schedule(sc, g)
			}
			sched, err := s.schedule(j, sc)
			if err != nil {
				// A group's time was refused at import; its configured time stands.
				sched, _ = s.schedule(j, s.runner.Config.Schedule)
			}
			grace := sc.Grace.D()
			if j.Grace != nil {
				grace = j.Grace(sc)
			}
			out = append(out, entry{job: j, group: g.Code, sched: sched, grace: grace})
		}
	}
	return out, nil
}

// reachOf returns the groups a job runs for: one (the default group, code
// "") for a job run once, every group, or each district's own group.
func reachOf(j *Job, set *models.GroupSet) []*models.Group {
	var out []*models.Group
	switch j.Reach {
	case Once:
		return []*models.Group{{}}
	case EachDistrict:
		for i := range set.Groups {
			if set.Top(&set.Groups[i]) {
				out = append(out, &set.Groups[i])
			}
		}
	default:
		for i := range set.Groups {
			out = append(out, &set.Groups[i])
		}
	}
	return out
}

// Check looks at every job of every group once at now: it runs a due slot
// (late within the grace window), records and logs a slot missed beyond it,
// and otherwise does nothing. A failed run is retried by a later check while
// its slot is due. Runs go one after another; concurrent checks wait for
// each other.
func (s *Scheduler) Check(ctx context.Context, now time.Time) {
	s.checking.Lock()
	defer s.checking.Unlock()
	s.checkAll(ctx, now)
}

// checkAll checks every entry at now; the caller holds s.checking.
func (s *Scheduler) checkAll(ctx context.Context, now time.Time) {
	now = now.In(s.runner.Config.Location())
	entries, err := s.entries(ctx)
	if err != nil {
		s.runner.Log.Error("job check: cannot read the work groups; tried again at the next check", zap.Error(err))
		return
	}
	r := s.runner.batch()
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		// The runner catches a job's panics; this catches the scheduler's own,
		// so that one job's check never stops the others or the service.
		if err := protect(func() error { s.check(ctx, r, e, now); return nil }); err != nil {
			s.runner.Log.Error("job check panicked", zap.String("job", e.job.Name), zap.String("group", e.group), zap.Error(err), panicStack(err))
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

// SkipDue records as skipped, with reason, the slot of every job of every
// group that a check at now would run (on time or late), and returns how
// many it recorded: what came before now is history, not to be caught up.
// The demo calls it once it has written its district's history.
func (s *Scheduler) SkipDue(ctx context.Context, now time.Time, reason string) (int, error) {
	s.checking.Lock()
	defer s.checking.Unlock()
	now = now.In(s.runner.Config.Location())
	entries, err := s.entries(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		slot, d := s.due(e, now)
		if d != RunOnTime && d != RunLate {
			continue
		}
		recorded, err := s.runner.Store.SkipJob(ctx, e.job.Name, e.group, slot.Format(SlotLayout), reason)
		if err != nil {
			return n, err
		}
		n += b2i(recorded)
	}
	return n, nil
}

// check runs the entry's slot due at now, if any, on r (a batch of the
// check's runs: its reports share one directory).
func (s *Scheduler) check(ctx context.Context, r *Runner, e entry, now time.Time) {
	slot, d := s.due(e, now)
	if d == NoSlot {
		return
	}
	key := slot.Format(SlotLayout)
	if s.settled[e.key()] == key {
		return
	}
	log := s.runner.Log.With(zap.String("job", e.job.Name), zap.String("group", e.group), zap.String("slot", key))
	if d == SkipMissed {
		reason := fmt.Sprintf("错过 %s，超过补发时限 %s，未运行", key, e.grace)
		recorded, err := s.runner.Store.SkipJob(ctx, e.job.Name, e.group, key, reason)
		if err != nil {
			log.Error("missed slot not recorded", zap.Error(err))
			return
		}
		if recorded {
			log.Warn("missed slot skipped: beyond the grace window", zap.Duration("late", now.Sub(slot)), zap.Duration("grace", e.grace))
		}
		s.settled[e.key()] = key
		return
	}
	res, err := r.Run(ctx, e.job, Run{Group: e.group, Slot: slot, SlotKey: key, Now: now, Late: d == RunLate})
	switch {
	case err != nil:
		return // logged by the runner; retried at a later check
	case res.Ran:
		s.settled[e.key()] = key
	default:
		// Held elsewhere, or finished: settle only once it is finished.
		if run, err := s.runner.Store.JobRunOf(ctx, e.job.Name, e.group, key); err == nil && run.Final() {
			s.settled[e.key()] = key
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
	s.runner.Log.Info("scheduler started", zap.Int("jobs", len(s.jobs)), zap.String("timezone", s.runner.Config.Location().String()))
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
