package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
)

// Inbound tuning.
const (
	// maxBatch caps the callbacks stored in one transaction.
	maxBatch = 256
	// queueSize is the handling queue; a message that finds it full waits
	// for the sweep.
	queueSize = 4096
	// handlerWorkers is how many messages are handled at once.
	handlerWorkers = 8
	// handlerTimeout bounds one attempt at handling a message; the claim
	// lasts longer, so no other replica starts the next attempt meanwhile.
	handlerTimeout = 30 * time.Second
	handlerLease   = handlerTimeout + 30*time.Second
	// maxAttempts bounds the attempts at handling one message; the retries
	// wait 10 s, 40 s, 160 s, 640 s.
	maxAttempts  = 5
	retryInbound = 10 * time.Second
	// sweepBatch caps the messages one sweep takes.
	sweepBatch = 256
)

// errClosed answers a callback that arrives while the bot closes.
var errClosed = errors.New("bot: closed")

// journal writes the callbacks' rows with group commit: the callbacks that
// arrive while one insert commits are written together by the next. Under
// load each costs a fraction of a commit, and on SQLite one writer never
// waits for another; each callback is still answered only once its own row
// is committed. The handled marks, which no caller waits for, are written
// apart, a batch at most every markEvery, so that they never hold up an
// answer.
type journal struct {
	store *models.Store
	now   func() time.Time
	log   *zap.Logger
	reqs  chan journalReq
	marks chan uint
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	// turns, on SQLite, makes the inserts and the marks take turns here
	// rather than in SQLite's busy wait, which sleeps in steps of up to
	// 100 ms; nil on MySQL, where they write side by side.
	turns *sync.Mutex
}

// markEvery spaces the commits of the handled marks. A mark not yet written
// when the process dies only means the message is handled again once its
// lease runs out.
const markEvery = 50 * time.Millisecond

// journalReq is a callback to store.
type journalReq struct {
	in   *models.Inbound
	done chan insertRes // buffered
}

type insertRes struct {
	fresh bool
	err   error
}

// newJournal starts the journal's writers: for the callbacks one on SQLite,
// which has a single write lock, and on MySQL two, so that one batch fills
// while the other commits; and one for the handled marks.
func newJournal(store *models.Store, now func() time.Time, log *zap.Logger) *journal {
	j := &journal{store: store, now: now, log: log, reqs: make(chan journalReq, maxBatch), marks: make(chan uint, queueSize),
		stop: make(chan struct{}), done: make(chan struct{})}
	writers := 2
	if store.Driver() == models.DriverSQLite {
		writers, j.turns = 1, &sync.Mutex{}
	}
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.loop()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		j.markLoop()
	}()
	go func() {
		wg.Wait()
		close(j.done)
	}()
	return j
}

// insert stores in and reports whether it was new (a repeat of a stored
// MsgID is not). It returns once the row is committed, or with ctx's error
// when ctx ends first; the row may then be committed later all the same.
func (j *journal) insert(ctx context.Context, in *models.Inbound) (bool, error) {
	req := journalReq{in: in, done: make(chan insertRes, 1)}
	select {
	case j.reqs <- req:
	case <-j.stop:
		return false, errClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case res := <-req.done:
		return res.fresh, res.err
	case <-ctx.Done(): // the row may still be written: a repeat of the callback finds it
		return false, ctx.Err()
	case <-j.done:
		select { // the journal may have answered just before it stopped
		case res := <-req.done:
			return res.fresh, res.err
		default:
			return false, errClosed
		}
	}
}

// finish marks message id handled with the next batch of marks, without
// waiting for it.
func (j *journal) finish(ctx context.Context, id uint) {
	select {
	case j.marks <- id:
	case <-j.stop:
	case <-ctx.Done():
	}
}

// close stops the journal after the batches under way, writing the marks
// still queued; closing twice is harmless.
func (j *journal) close() {
	j.once.Do(func() { close(j.stop) })
	<-j.done
}

func (j *journal) loop() {
	batch := make([]journalReq, 0, maxBatch)
	for {
		select {
		case <-j.stop:
			return
		case r := <-j.reqs:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-j.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		j.write(batch)
	}
}

// write commits a batch; if that fails, each row is written alone, so one
// bad row fails only its own callback.
func (j *journal) write(batch []journalReq) {
	defer j.turn()()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows := make([]*models.Inbound, len(batch))
	for i, r := range batch {
		rows[i] = r.in
	}
	fresh, err := j.store.StoreInbound(ctx, rows)
	if err == nil {
		for i, r := range batch {
			r.done <- insertRes{fresh: fresh[i]}
		}
		return
	}
	if len(batch) > 1 {
		j.log.Warn("writing a batch of callbacks failed; writing them one by one", zap.Int("batch", len(batch)), zap.Error(err))
	}
	for _, r := range batch {
		f, err := j.store.StoreInbound(ctx, []*models.Inbound{r.in})
		if err != nil {
			r.done <- insertRes{err: err}
			continue
		}
		r.done <- insertRes{fresh: f[0]}
	}
}

// turn waits for the journal's turn to write, on SQLite, and returns its end.
func (j *journal) turn() (end func()) {
	if j.turns == nil {
		return func() {}
	}
	j.turns.Lock()
	return j.turns.Unlock
}

// markLoop writes the handled marks: whatever is queued, in one statement,
// at most every markEvery; at stop, what is left.
func (j *journal) markLoop() {
	var ids []uint
	take := func() {
		for {
			select {
			case id := <-j.marks:
				ids = append(ids, id)
			default:
				return
			}
		}
	}
	for {
		stopped := false
		select {
		case <-j.stop:
			stopped = true
		case id := <-j.marks:
			ids = append(ids, id)
			select { // let the batch fill
			case <-time.After(markEvery):
			case <-j.stop:
				stopped = true
			}
		}
		take()
		j.mark(ids)
		ids = ids[:0]
		if stopped {
			return
		}
	}
}

// mark writes one batch of handled marks, in chunks the databases' limits
// on parameters allow.
func (j *journal) mark(ids []uint) {
	if len(ids) == 0 {
		return
	}
	defer j.turn()()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for chunk := range slices.Chunk(ids, 1000) {
		if err := j.store.MarkInboundHandled(ctx, chunk, j.now()); err != nil {
			j.log.Error("marking callbacks handled failed; they will be handled again", zap.Int("messages", len(chunk)), zap.Error(err))
		}
	}
}

// dispatcher hands stored messages to the Handler, after WeCom has been
// answered: a bounded queue fed by the callbacks, and a sweep that takes
// what the queue missed: messages stored before a crash or a restart,
// retries whose wait is over, and those another replica dropped.
type dispatcher struct {
	store   *models.Store
	journal *journal
	now     func() time.Time
	log     *zap.Logger
	metrics *metrics
	poll    time.Duration
	sleep   func(ctx context.Context, d time.Duration) error // Options.Sleep: waits between sweeps
	queue   chan *models.Inbound
}

// offer queues a stored message for handling, unless the queue is full: the
// sweep takes it then.
func (d *dispatcher) offer(in *models.Inbound) {
	select {
	case d.queue <- in:
	default:
		d.log.Warn("handling queue full; the message waits for the sweep", zap.Uint("inbound_id", in.ID))
	}
}

// run handles messages with h until stop ends, then returns once the
// attempts under way have finished; work is the context those attempts run
// in, cancelled when the shutdown budget is spent. A nil h marks every
// message handled.
func (d *dispatcher) run(stop, work context.Context, h Handler) {
	var wg sync.WaitGroup
	for range handlerWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop.Done():
					return
				case in := <-d.queue:
					d.handle(work, h, in)
				}
			}
		}()
	}
	for {
		d.sweep(stop)
		if d.sleep(stop, d.poll) != nil || stop.Err() != nil {
			break
		}
	}
	wg.Wait()
}

// sweep queues the messages that are due: stored while no replica handled
// them, dropped by the replica that received them, or waiting for a retry
// whose time has come.
func (d *dispatcher) sweep(ctx context.Context) {
	due, err := d.store.DueInbound(ctx, d.now(), maxAttempts, sweepBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("sweep of unhandled callbacks failed", zap.Error(err))
		}
		return
	}
	for i := range due {
		select {
		case d.queue <- &due[i]:
		default:
			return
		}
	}
}

// handle makes one attempt at a message and records the outcome. A message
// just received comes with its first attempt claimed and is skipped when
// too little of that claim is left; a swept one is claimed here, and skipped
// when another replica claimed it first or it was handled meanwhile.
func (d *dispatcher) handle(ctx context.Context, h Handler, in *models.Inbound) {
	now := d.now()
	if in.ClaimedUntil != nil && in.ClaimedUntil.After(now) {
		if in.ClaimedUntil.Sub(now) < handlerTimeout {
			return // waited too long in the queue: the sweep takes it when the claim runs out
		}
	} else {
		ok, err := d.store.ClaimInbound(ctx, in.ID, in.Attempts, now, now.Add(handlerLease))
		if err != nil {
			d.log.Error("claiming a callback failed", zap.Uint("inbound_id", in.ID), zap.Error(err))
			return
		}
		if !ok {
			return
		}
		in.Attempts++
	}
	if h == nil {
		d.journal.finish(ctx, in.ID)
		d.metrics.handled.WithLabelValues("stored").Inc()
		return
	}
	hctx, cancel := context.WithTimeout(ctx, handlerTimeout)
	err := callHandler(hctx, h, in)
	cancel()
	if err == nil {
		d.journal.finish(context.WithoutCancel(ctx), in.ID)
		d.metrics.handled.WithLabelValues("ok").Inc()
		return
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	now = d.now()
	fields := []zap.Field{zap.Uint("inbound_id", in.ID), zap.String("route", string(in.Route)), zap.String("msgid", in.MsgID),
		zap.Int("attempt", in.Attempts), zap.Error(err)}
	next := now.Add(retryInbound << (2 * (in.Attempts - 1)))
	if in.Attempts >= maxAttempts {
		d.metrics.handled.WithLabelValues("abandoned").Inc()
		d.log.Error("handling a callback failed for the last time; it stays unhandled", fields...)
	} else {
		d.metrics.handled.WithLabelValues("error").Inc()
		d.log.Warn("handling a callback failed; it will be tried again", append(fields, zap.Time("next_attempt", next))...)
	}
	if err := d.store.FailInbound(rctx, in.ID, err.Error(), next); err != nil {
		d.log.Error("recording a callback's error failed", zap.Uint("inbound_id", in.ID), zap.Error(err))
	}
}

// callHandler calls h, turning a panic into an error.
func callHandler(ctx context.Context, h Handler, in *models.Inbound) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h.Handle(ctx, in)
}
