package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
)

// Outbox tuning that is not configuration. The retry schedule is in
// deliver.go.
const (
	// claimLease is how long a claimed row is reserved for its worker; longer
	// than attemptTimeout, so a live worker never loses a claim.
	claimLease = 2 * time.Minute
	// headsPerPass caps the destinations considered in one pass, and
	// sendsPerPass the rows taken.
	headsPerPass = 500
	sendsPerPass = 64
	// sendParallel is how many rows to one kind of endpoint (robot webhook,
	// app message, AI bot reply) are in flight at once, each to
	// another destination. Each kind has its own slots, so an endpoint that
	// hangs holds up no other.
	sendParallel = 8
	// flushWait is how long Flush waits for a backoff or a rate window when
	// its context has no deadline.
	flushWait = 2 * time.Minute
	// coalesceWait is how long, once a send has ended, the worker waits for
	// the others under way before its next pass (see coalesce).
	coalesceWait = 20 * time.Millisecond
)

// PendingError is Flush's answer when messages are still pending at its
// deadline: they wait on a rate limit, a backoff or another replica, and
// the service's worker will send them.
type PendingError struct {
	Pending int64
	Next    time.Time // when the next may be sent
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("outbox: %d messages still pending, next attempt at %s", e.Pending, e.Next.Format(time.DateTime))
}

// worker sends the outbox: it claims due rows within the rate budgets and
// sends each in a goroutine of its own, so that no destination waits for
// another; the outcome is recorded when the send ends, and the rows behind
// it go in the next pass. Several workers, in one process or in replicas on
// one database, share the outbox safely.
type worker struct {
	store    *models.Store
	outbox   *Outbox
	sender   sender
	resolver *resolver
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	log      *zap.Logger
	metrics  *metrics
	id       string
	limits   limits
	giveUp   time.Duration
	poll     time.Duration
	// away, when set, reports whether a row is another process's to send
	// (the AI bot's long connection held by another replica): the worker
	// leaves it.
	away func(m *models.OutboxMessage) bool
	// appHorizon is the age past which an app message is not tried again:
	// the duplicate check interval its payload carries (see deliver.go).
	appHorizon time.Duration
	// credentials names the app credentials in the dedupe key of the notice
	// that WeCom refused them, without revealing them.
	credentials string

	slots    map[string]chan struct{} // by target kind, "" for rows that cannot be sent; under mu
	inflight sync.WaitGroup
	busy     atomic.Int64

	mu      sync.Mutex
	changed chan struct{} // closed, and replaced, whenever a send ends
	fault   error         // the app credentials WeCom refused; nil while they work
}

// slot returns the send slots of target kind, made at first use.
func (w *worker) slot(kind string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slots == nil {
		w.slots = make(map[string]chan struct{})
	}
	s := w.slots[kind]
	if s == nil {
		s = make(chan struct{}, sendParallel)
		w.slots[kind] = s
	}
	return s
}

// freeSlots returns the free send slots by target kind; a kind not listed
// has all sendParallel free.
func (w *worker) freeSlots() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	free := make(map[string]int, len(w.slots))
	for kind, s := range w.slots {
		free[kind] = cap(s) - len(s)
	}
	return free
}

// changes returns a channel that is closed when the next send ends.
func (w *worker) changes() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	return w.changed
}

// sendEnded wakes whoever waits on changes.
func (w *worker) sendEnded() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed != nil {
		close(w.changed)
	}
	w.changed = make(chan struct{})
}

// run sends until stop ends: a pass, then a wait until a send ends or the
// next row may be due, at most poll, since other processes enqueue too.
// Sends run in work, which outlives stop so that those under way can
// finish; run returns once they have.
func (w *worker) run(stop, work context.Context) {
	defer w.inflight.Wait()
	for stop.Err() == nil {
		changed := w.changes()
		p, err := w.pass(work, work)
		if err != nil && work.Err() == nil {
			w.log.Error("outbox pass failed", zap.Error(err))
		}
		if p.more(w.now()) && err == nil {
			continue
		}
		wait := w.poll
		if !p.wake.IsZero() {
			wait = min(wait, p.wake.Sub(w.now()))
		}
		if w.idle(stop, changed, wait) {
			w.coalesce(stop)
		}
	}
}

// coalesce waits, once a send has ended, up to coalesceWait of real time
// for the other sends under way to end too, so that one pass takes the rows
// behind all of them rather than one pass each. A send that hangs costs the
// others no more than that.
func (w *worker) coalesce(ctx context.Context) {
	t := time.NewTimer(coalesceWait)
	defer t.Stop()
	for w.busy.Load() > 0 {
		changed := w.changes()
		if w.busy.Load() == 0 {
			return
		}
		select {
		case <-changed:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// idle waits d, or until changed is closed or ctx ends; it reports whether
// a send ended.
func (w *worker) idle(ctx context.Context, changed <-chan struct{}, d time.Duration) bool {
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-ictx.Done():
		}
	}()
	_ = w.sleep(ictx, d)
	select {
	case <-changed:
		return true
	default:
		return false
	}
}

// flush sends until no row is pending, and returns once its sends have
// ended. It returns a *PendingError when the next row could only be sent
// after ctx's deadline (or, without one, more than flushWait from now), and
// a *CredentialsError when only messages held for refused credentials
// remain.
func (w *worker) flush(ctx context.Context) error {
	sends, endSends := sendContext(ctx)
	defer endSends()
	defer w.inflight.Wait()
	for {
		changed := w.changes()
		p, err := w.pass(ctx, sends)
		switch {
		case err != nil && ctx.Err() != nil: // the deadline came in the middle of a pass
			return w.pending(ctx, w.now())
		case err != nil:
			return err
		case p.more(w.now()):
			continue
		case w.busy.Load() > 0 || p.taken > 0: // the clock stands still while sends are under way
			select {
			case <-changed:
				w.coalesce(ctx)
				continue
			case <-ctx.Done():
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return w.pending(ctx, w.now())
				}
				return fmt.Errorf("outbox flush: %w", ctx.Err())
			}
		case p.wake.IsZero() && p.held > 0:
			return w.credentialsError(p.held)
		case p.wake.IsZero():
			return nil
		}
		// The deadline is wall time and wake is on the bot's clock: compare
		// what is left of each.
		left := flushWait
		if deadline, ok := ctx.Deadline(); ok {
			left = time.Until(deadline)
		}
		if p.wake.Sub(w.now()) > left {
			return w.pending(ctx, p.wake)
		}
		if err := w.sleep(ctx, p.wake.Sub(w.now())); err != nil {
			return fmt.Errorf("outbox flush: %w", err)
		}
	}
}

// sendContext returns the context of the sends a flush starts: ctx
// without its deadline, ended when ctx is cancelled. A send under way when
// the deadline passes is finished (within attemptTimeout), not cut off: a
// cut send may have reached WeCom and would be sent again.
func sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	sends, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.Canceled) {
			cancel()
		}
	})
	return sends, func() { stop(); cancel() }
}

// pending returns the *PendingError of a flush that ends with messages
// pending, the next of which may go at next, or nil when none is; the count
// is read even when ctx's deadline has passed.
func (w *worker) pending(ctx context.Context, next time.Time) error {
	rctx, cancel := outcomeContext(ctx)
	defer cancel()
	backlog, _, err := w.store.OutboxBacklog(rctx)
	if err != nil {
		return err
	}
	var n int64
	for _, c := range backlog {
		n += c
	}
	if n == 0 {
		return nil
	}
	return &PendingError{Pending: n, Next: next}
}

// passResult is what one pass did and saw.
type passResult struct {
	taken int       // rows claimed and sent off
	wake  time.Time // when the next pending row may be sent; zero when none waits
	held  int       // heads held because WeCom refused the app credentials
}

// more reports whether another pass at now may take more rows at once (the
// pass took its fill). The rows behind those it took wait for their sends
// to end, which wakes the worker.
func (p passResult) more(now time.Time) bool {
	return p.taken > 0 && !p.wake.IsZero() && !p.wake.After(now)
}

// pass claims, in ctx, the rows that may be sent now and starts their sends
// in sends, without waiting for them.
func (w *worker) pass(ctx, sends context.Context) (passResult, error) {
	now := w.now()
	free := w.freeSlots()
	var p passResult
	rows, err := w.store.ClaimOutbox(ctx, models.ClaimOptions{
		Worker: w.id, Now: now, Lease: claimLease, Since: now.Add(-time.Hour - windowSlack), Heads: headsPerPass,
		Pick: func(heads []models.OutboxMessage, recent []models.RecentSend) []uint {
			var ids []uint
			ids, p.wake, p.held = w.pick(now, heads, recent, free)
			return ids
		},
	})
	if err != nil {
		return passResult{}, fmt.Errorf("outbox: %w", err)
	}
	for i := range rows {
		m := &rows[i]
		slot := w.slot(w.kind(m))
		slot <- struct{}{} // free unless a Flush beside the worker took it: then wait for it
		w.busy.Add(1)
		w.inflight.Add(1)
		go func() {
			defer func() {
				<-slot
				w.busy.Add(-1)
				w.sendEnded()
				w.inflight.Done()
			}()
			w.deliver(sends, m)
		}()
	}
	p.taken = len(rows)
	return p, nil
}

// kind returns the target kind of m, which picks its send slots; "" when m
// cannot be sent.
func (w *worker) kind(m *models.OutboxMessage) string {
	t, err := w.resolver.target(m)
	if err != nil {
		return ""
	}
	return t.Kind
}

// pick chooses the heads to send now, oldest first, within the rate budgets
// and the free send slots, and returns the earliest time one of the others
// may go and how many are held for refused app credentials. A head that
// waits for a slot needs no wake: the send that frees it wakes the worker.
func (w *worker) pick(now time.Time, heads []models.OutboxMessage, recent []models.RecentSend, slots map[string]int) ([]uint, time.Time, int) {
	b := newBudget(now, w.limits, recent, w.resolver)
	free := maps.Clone(slots)
	var ids []uint
	var wake time.Time
	held := 0
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	fault := w.credentialsFault()
	// The most urgent first, so that what must not wait takes the budget a
	// robot's chats share: replies, then the daily report, then notices, then
	// digests; in order of enqueueing within each.
	heads = slices.Clone(heads)
	slices.SortStableFunc(heads, func(a, b models.OutboxMessage) int { return cmp.Compare(b.Priority, a.Priority) })
	for _, h := range heads {
		switch {
		case w.away != nil && w.away(&h):
			continue
		case h.ClaimedUntil != nil && !h.ClaimedUntil.Before(now):
			later(*h.ClaimedUntil) // another worker is on it, and may well finish sooner
			later(now.Add(w.poll))
			continue
		case h.NextAttemptAt.After(now):
			later(h.NextAttemptAt)
			continue
		case len(ids) == sendsPerPass:
			later(now)
			continue
		}
		var keys []string
		kind := ""
		if t, err := w.resolver.target(&h); err == nil { // an unsendable row is taken to be failed
			keys, kind = budgetKeys(t), t.Kind
		}
		if fault != nil && needsToken(kind) {
			held++
			continue
		}
		n, ok := free[kind]
		if !ok {
			n = sendParallel
		}
		if n == 0 {
			continue
		}
		if ok, at := b.admit(keys, msg.Priority(h.Priority)); !ok {
			later(at)
			continue
		}
		b.take(keys)
		free[kind] = n - 1
		ids = append(ids, h.ID)
	}
	return ids, wake, held
}

// sleepContext waits d, or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
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
