package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
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
	handlerWorkers = 4
	// handlerTimeout bounds one attempt at handling a message; the claim
	// lasts longer, so no other replica starts the next attempt meanwhile.
	handlerTimeout = 30 * time.Second
	handlerLease   = handlerTimeout + 30*time.Second
	// maxAttempts bounds the attempts at handling one message; the retries
	// wait 10 s, 40 s, 160 s, 640 s.
	maxAttempts  = 5
	retryInbound = 10 * time.Second
	// receiverGrace is how long a message never attempted stays with the
	// replica that received it before a sweep, anywhere, takes it.
	receiverGrace = 30 * time.Second
	// sweepBatch caps the messages one sweep takes.
	sweepBatch = 256
)

// errClosed answers a callback that arrives while the bot closes.
var errClosed = errors.New("bot: closed")

// writer stores callbacks with group commit: the callbacks that arrive while
// one transaction commits are stored together in the next, so under load
// each costs a fraction of a commit, while each is still answered only once
// its own row is durable.
type writer struct {
	store *models.Store
	log   *zap.Logger
	reqs  chan insertReq
	stop  chan struct{}
	done  chan struct{}
}

type insertReq struct {
	in   *models.Inbound
	done chan insertRes // buffered: the writer never blocks on it
}

type insertRes struct {
	fresh bool
	err   error
}

func newWriter(store *models.Store, log *zap.Logger) *writer {
	w := &writer{store: store, log: log, reqs: make(chan insertReq, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// insert stores in and reports whether it was new (a repeat of a stored
// MsgID is not). It returns once the row is committed.
func (w *writer) insert(ctx context.Context, in *models.Inbound) (bool, error) {
	req := insertReq{in: in, done: make(chan insertRes, 1)}
	select {
	case w.reqs <- req:
	case <-w.stop:
		return false, errClosed
	case <-ctx.Done():
		return false, ctx.Err()
	}
	select {
	case res := <-req.done:
		return res.fresh, res.err
	case <-w.done:
		select { // the writer may have answered just before it stopped
		case res := <-req.done:
			return res.fresh, res.err
		default:
			return false, errClosed
		}
	}
}

// close stops the writer after the batch under way.
func (w *writer) close() {
	close(w.stop)
	<-w.done
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]insertReq, 0, maxBatch)
	for {
		select {
		case <-w.stop:
			return
		case r := <-w.reqs:
			batch = append(batch[:0], r)
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.write(batch)
	}
}

// write stores a batch in one transaction; if it fails, each callback is
// stored alone, so one bad row fails only its own callback.
func (w *writer) write(batch []insertReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows := make([]*models.Inbound, len(batch))
	for i, r := range batch {
		rows[i] = r.in
	}
	fresh, err := w.store.InsertInbound(ctx, rows)
	if err == nil {
		for i, r := range batch {
			r.done <- insertRes{fresh: fresh[i]}
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- insertRes{err: err}
		return
	}
	w.log.Warn("storing a batch of callbacks failed; storing them one by one", zap.Int("batch", len(batch)), zap.Error(err))
	for _, r := range batch {
		f, err := w.store.InsertInbound(ctx, []*models.Inbound{r.in})
		if err != nil {
			r.done <- insertRes{err: err}
			continue
		}
		r.done <- insertRes{fresh: f[0]}
	}
}

// dispatcher hands stored messages to the Handler, after WeCom has been
// answered: a bounded queue fed by the callbacks, and a sweep that takes
// what the queue missed: messages stored before a crash or a restart,
// retries whose wait is over, and those another replica dropped.
type dispatcher struct {
	store   *models.Store
	now     func() time.Time
	log     *zap.Logger
	metrics *metrics
	poll    time.Duration
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
		if sleepContext(stop, d.poll) != nil {
			break
		}
	}
	wg.Wait()
}

// sweep queues the messages that are due: never attempted and older than
// the receiver's grace, or waiting for a retry whose time has come.
func (d *dispatcher) sweep(ctx context.Context) {
	now := d.now()
	due, err := d.store.DueInbound(ctx, now, maxAttempts, now.Add(-receiverGrace), sweepBatch)
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

// handle makes one attempt at a message: claim it, call h, record the
// outcome. A message claimed elsewhere, or already handled, is skipped.
func (d *dispatcher) handle(ctx context.Context, h Handler, in *models.Inbound) {
	now := d.now()
	if h == nil {
		if err := d.store.FinishInbound(ctx, in.ID, now); err != nil {
			d.log.Error("marking a callback stored failed", zap.Uint("inbound_id", in.ID), zap.Error(err))
			return
		}
		d.metrics.handled.WithLabelValues("stored").Inc()
		return
	}
	ok, err := d.store.ClaimInbound(ctx, in.ID, in.Attempts, now, now.Add(handlerLease))
	if err != nil {
		d.log.Error("claiming a callback failed", zap.Uint("inbound_id", in.ID), zap.Error(err))
		return
	}
	if !ok {
		return
	}
	in.Attempts++
	hctx, cancel := context.WithTimeout(ctx, handlerTimeout)
	err = callHandler(hctx, h, in)
	cancel()
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	now = d.now()
	if err == nil {
		if err := d.store.FinishInbound(rctx, in.ID, now); err != nil {
			d.log.Error("marking a callback handled failed; it will be handled again", zap.Uint("inbound_id", in.ID), zap.Error(err))
			return
		}
		d.metrics.handled.WithLabelValues("ok").Inc()
		return
	}
	fields := []zap.Field{zap.Uint("inbound_id", in.ID), zap.String("route", in.Route), zap.String("msgid", in.MsgID),
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
