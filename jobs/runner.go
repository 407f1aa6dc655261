package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// SlotLayout formats a slot's key in the configured zone: 2026-11-20T18:00.
const SlotLayout = "2006-01-02T15:04"

// DefaultLease is how long a claim holds without renewal. A running job
// renews it every third of it, so a replica that dies holding a slot keeps
// it from the others for at most this long: the next minute's check on
// another replica takes it over.
const DefaultLease = 30 * time.Second

// maxRun bounds one run: a job that hangs past it fails and is retried after
// its backoff, instead of holding its slot by renewal for ever.
const maxRun = 10 * time.Minute

// maxBackoff caps the wait before a failed slot is retried.
const maxBackoff = 15 * time.Minute

// Runner runs jobs with exactly-once claims. It is safe for concurrent use.
type Runner struct {
	Env
	// Owner names this runner in the claims: host, process and a random tag.
	Owner string
	// Lease is how long a claim holds unrenewed; DefaultLease when zero.
	Lease time.Duration
	// Sleep is how a run's heartbeat waits between renewals of its lease: d,
	// or until ctx ends (then it returns ctx's error). Nil means a timer;
	// tests wake the heartbeat by hand.
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewRunner returns a runner on env with a fresh owner name.
func NewRunner(env Env) *Runner {
	host, _ := os.Hostname()
	var tag [3]byte
	_, _ = rand.Read(tag[:])
	return &Runner{Env: env, Owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(tag[:])), Lease: DefaultLease}
}

// Result is what a Run did.
type Result struct {
	// Ran is false when the slot was not claimed: done, skipped or held elsewhere.
	Ran bool
	// Messages counts the messages enqueued; Repeated those already sent before.
	Messages, Repeated int
	Summary            string
}

// Run claims the run's slot of job and runs it: Prepare, then Commit, the
// messages and the claim's completion in one transaction, then Then; the
// claim's lease is renewed while the run lasts. When the slot is not free it
// returns a Result with Ran false. A failure is recorded on the claim, which
// may be retried after a backoff, and returned. A panic in the job is such a
// failure: it is logged with its stack, the administrators are told once,
// and the slot is retried at most maxPanicRetries times.
func (r *Runner) Run(ctx context.Context, job *Job, run Run) (Result, error) {
	log := r.Log.With(zap.String("job", job.Name), zap.String("group", run.Group), zap.String("slot", run.SlotKey))
	claim, err := r.Store.ClaimJob(ctx, job.Name, run.Group, run.SlotKey, r.Owner, run.Late, r.lease())
	if err != nil {
		log.Error("job claim failed", zap.Error(err))
		return Result{}, err
	}
	if claim == nil {
		return Result{}, nil
	}
	res, err := r.execute(ctx, job, run, claim)
	if err == nil {
		log.Info("job done", zap.Bool("late", run.Late), zap.Int("messages", res.Messages), zap.String("summary", res.Summary))
		return res, nil
	}
	if errors.Is(err, models.ErrLeaseLost) {
		log.Warn("job lost its slot to another runner; its messages were dropped", zap.Error(err))
		return Result{}, err
	}
	var p *PanicError
	panicked := errors.As(err, &p)
	retry := r.Store.Now().Add(backoff(claim.Attempts))
	if panicked && (claim.Attempts > maxPanicRetries || run.ByHand) {
		retry = time.Time{}
	}
	if ferr := r.Store.FailJob(context.WithoutCancel(ctx), claim, err, retry); ferr != nil {
		log.Error("job failure not recorded", zap.Error(ferr))
	}
	if panicked {
		log.Error("job panicked", zap.Int("attempt", claim.Attempts), zap.Bool("retried", !retry.IsZero()),
			zap.String("panic", fmt.Sprint(p.Value)), zap.String("stack", p.Stack))
		r.tellAdmins(context.WithoutCancel(ctx), job, run, claim.Attempts, retry)
		return Result{}, err
	}
	log.Error("job failed; retried at the next check", zap.Int("attempt", claim.Attempts), zap.Time("retry_after", retry), zap.Error(err))
	return Result{}, err
}

func (r *Runner) lease() time.Duration {
	if r.Lease <= 0 {
		return DefaultLease
	}
	return r.Lease
}

// execute prepares and commits a claimed run while its heartbeat renews the
// claim, then runs the plan's Then; a panic in the job's code becomes a
// *PanicError. When the claim is lost the run's context is cancelled and it
// fails with ErrLeaseLost before committing (the store's check at FinishJob
// guards a run that does not heed its context).
func (r *Runner) execute(ctx context.Context, job *Job, run Run, claim *models.JobRun) (Result, error) {
	ctx, cancelRun := context.WithTimeout(ctx, maxRun)
	defer cancelRun()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := r.heartbeat(ctx, cancel, claim)
	res, then, err := r.work(ctx, job, run, claim)
	stop()
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, models.ErrLeaseLost) {
			return Result{}, fmt.Errorf("jobs: %s %s: %w", job.Name, run.SlotKey, cause)
		}
		return Result{}, err
	}
	if then != nil {
		if err := protect(func() error { return then(ctx) }); err != nil {
			r.Log.Warn("job follow-up failed", zap.String("job", job.Name), zap.String("slot", run.SlotKey), panicStack(err), zap.Error(err))
		}
	}
	return res, nil
}

// work runs the job's Prepare, then its Commit with the messages and the
// claim's completion in one transaction, and returns the plan's Then.
func (r *Runner) work(ctx context.Context, job *Job, run Run, claim *models.JobRun) (Result, func(context.Context) error, error) {
	var plan Plan
	if err := protect(func() (err error) { plan, err = job.Prepare(ctx, &r.Env, run); return err }); err != nil {
		return Result{}, nil, err
	}
	res := Result{Ran: true}
	err := protect(func() error {
		return r.Store.Tx(ctx, func(tx *models.Store) error {
			res.Messages, res.Repeated = 0, 0
			emit := func(msgs ...msg.Message) error {
				fresh, err := r.Outbox.Enqueue(ctx, tx, msgs...)
				res.Messages, res.Repeated = res.Messages+fresh, res.Repeated+len(msgs)-fresh
				return err
			}
			summary, err := commit(ctx, tx, plan, emit)
			if err != nil {
				return err
			}
			res.Summary = summary
			if res.Repeated > 0 {
				res.Summary += fmt.Sprintf("；%d条此前已发送，未重复发送", res.Repeated)
			}
			return tx.FinishJob(ctx, claim, res.Summary)
		})
	})
	if err != nil {
		return Result{}, nil, fmt.Errorf("jobs: %s %s: %w", job.Name, run.SlotKey, err)
	}
	return res, plan.Then, nil
}

// commit runs a plan's Commit, or its Stream, in the run's transaction,
// handing the messages to emit.
func commit(ctx context.Context, tx *models.Store, plan Plan, emit func(...msg.Message) error) (string, error) {
	if plan.Stream != nil {
		return plan.Stream(ctx, tx, emit)
	}
	msgs, summary, err := plan.Commit(ctx, tx)
	if err != nil {
		return "", err
	}
	return summary, emit(msgs...)
}

// heartbeat renews claim every third of the lease until the returned stop is
// called. When the claim is lost, or its lease runs out while renewals fail
// (the database does not answer), it cancels the run with ErrLeaseLost as the
// cause: the run must not commit, and another runner may take the slot over.
func (r *Runner) heartbeat(ctx context.Context, cancelRun context.CancelCauseFunc, claim *models.JobRun) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r.sleep(ctx, r.lease()/3) == nil {
			err := r.Store.RenewJob(ctx, claim, r.lease())
			switch {
			case err == nil:
			case errors.Is(err, models.ErrLeaseLost):
				cancelRun(err)
				return
			case ctx.Err() != nil:
				return
			case !r.Store.Now().Before(*claim.LeaseUntil):
				cancelRun(fmt.Errorf("%w: its lease ran out while renewals failed: %w", models.ErrLeaseLost, err))
				return
			default:
				r.Log.Warn("job lease not renewed; tried again at the next beat",
					zap.String("job", claim.Job), zap.String("slot", claim.Slot), zap.Error(err))
			}
		}
	}()
	return func() { cancel(); <-done }
}

// sleep waits d, or until ctx ends, through r.Sleep when set.
func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait before the next attempt after the n-th failed one: 1, 2, 4 … 15 minutes.
func backoff(attempts int) time.Duration {
	d := time.Minute << min(max(attempts-1, 0), 4)
	return min(d, maxBackoff)
}

// RunAt runs a job by name now, as if it were at: for `yanzhen run`. A job
// of each work group runs for every group whose own time for the job is at
// (a group without its own time has the configured one), or for every group
// when none has its time then. It runs whether or not at is a working day,
// on a slot of its own, so that it is never refused because the scheduler
// ran or skipped that time; the messages' dedupe keys still keep a report
// from going out twice. The result sums the groups' runs.
func (r *Runner) RunAt(ctx context.Context, name string, at time.Time) (Result, error) {
	job := Find(name)
	if job == nil {
		return Result{}, models.Errorf(models.EINVALID, "没有名为 %s 的任务", name)
	}
	at = at.In(r.Config.Location())
	set, err := r.Store.GroupSet(ctx)
	if err != nil {
		return Result{}, err
	}
	groups := reachOf(job, set)
	if job.Reach != Once {
		var timed []*models.Group
		for _, g := range groups {
			if r.slotAt(job, g, at) {
				timed = append(timed, g)
			}
		}
		if len(timed) > 0 {
			groups = timed
		}
	}
	var total Result
	var summaries []string
	var errs []error
	batch := r.batch()
	for _, g := range groups {
		res, err := batch.runByHand(ctx, job, g.Code, at)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		total.Ran = total.Ran || res.Ran
		total.Messages += res.Messages
		total.Repeated += res.Repeated
		if res.Summary != "" {
			if len(groups) > 1 {
				res.Summary = g.Name + "：" + res.Summary
			}
			summaries = append(summaries, res.Summary)
		}
	}
	total.Summary = strings.Join(summaries, "；")
	return total, errors.Join(errs...)
}

// RunGroupAt runs a job by name for one work group (its code; "" for the
// default group, or for a job run once) now, as if it were at, as RunAt does.
func (r *Runner) RunGroupAt(ctx context.Context, name, group string, at time.Time) (Result, error) {
	job := Find(name)
	if job == nil {
		return Result{}, models.Errorf(models.EINVALID, "没有名为 %s 的任务", name)
	}
	if job.Reach == Once {
		group = ""
	} else if group == "" {
		set, err := r.Store.GroupSet(ctx)
		if err != nil {
			return Result{}, err
		}
		group = set.Default().Code
	}
	return r.runByHand(ctx, job, group, at.In(r.Config.Location()))
}

// slotAt reports whether at is a slot of job under group g's schedule.
func (r *Runner) slotAt(job *Job, g *models.Group, at time.Time) bool {
	sched, err := job.ScheduleOf(report.Schedule(r.Config.Schedule, g), r.Config.Location())
	minute := at.Truncate(time.Minute)
	return err == nil && sched.Next(minute.Add(-time.Minute)).Equal(minute)
}

// batch returns a copy of r for runs made at one time, one after another:
// their reports read the directory once (report.Builder.Batch).
func (r *Runner) batch() *Runner {
	b := *r
	if r.Reports != nil {
		b.Reports = r.Reports.Batch()
	}
	return &b
}

// runByHand runs job for group at, on a slot of its own.
func (r *Runner) runByHand(ctx context.Context, job *Job, group string, at time.Time) (Result, error) {
	var tag [2]byte
	_, _ = rand.Read(tag[:])
	run := Run{Group: group, Slot: at, SlotKey: at.Format(SlotLayout) + "/m" + hex.EncodeToString(tag[:]), Now: at, ByHand: true}
	return r.Run(ctx, job, run)
}
