package bot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
)

// Outbox tuning that is not configuration.
const (
	// claimLease is how long a claimed row is reserved for its worker; well
	// above the HTTP client's timeout, so a live worker never loses a claim.
	claimLease = 2 * time.Minute
	// headsPerPass caps the destinations considered in one pass, and
	// sendsPerPass the rows taken.
	headsPerPass = 500
	sendsPerPass = 64
	// sendParallel is how many rows of one pass are sent at once (each to
	// another destination).
	sendParallel = 8
	// retryBase and retryCap bound the exponential backoff of retries.
	retryBase = 5 * time.Second
	retryCap  = 10 * time.Minute
	// flushWait is how long Flush waits for a backoff or a rate window when
	// its context has no deadline.
	flushWait = 2 * time.Minute
	// noticeKeyPrefix starts the dedupe key of a failure notice to the
	// administrators; a notice that fails itself is not reported.
	noticeKeyPrefix = "outbox-failed/"
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

// worker sends the outbox: it claims due rows within the rate budgets,
// sends them, and records what happened. Several workers, in one process or
// in replicas on one database, share the outbox safely.
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
}

// run sends until stop ends: a pass, then a wait until the next row may be
// due, at most poll, since other processes enqueue too. Passes run in work,
// which outlives stop so that a pass under way can finish.
func (w *worker) run(stop, work context.Context) {
	for stop.Err() == nil {
		n, wake, err := w.pass(work)
		if err != nil && work.Err() == nil {
			w.log.Error("outbox pass failed", zap.Error(err))
		}
		if n > 0 && err == nil {
			continue
		}
		wait := w.poll
		if !wake.IsZero() {
			wait = min(wait, wake.Sub(w.now()))
		}
		if err := w.sleep(stop, wait); err != nil {
			return
		}
	}
}

// flush sends until no row is pending. It returns a *PendingError when the
// next row could only be sent after ctx's deadline (or, without one, more
// than flushWait from now).
func (w *worker) flush(ctx context.Context) error {
	for {
		n, wake, err := w.pass(ctx)
		switch {
		case err != nil:
			return err
		case n > 0:
			continue
		case wake.IsZero():
			return nil
		}
		// The deadline is wall time and wake is on the bot's clock: compare
		// what is left of each.
		left := flushWait
		if deadline, ok := ctx.Deadline(); ok {
			left = time.Until(deadline)
		}
		if wake.Sub(w.now()) > left {
			backlog, _, err := w.store.OutboxBacklog(ctx)
			if err != nil {
				return err
			}
			var pending int64
			for _, n := range backlog {
				pending += n
			}
			return &PendingError{Pending: pending, Next: wake}
		}
		if err := w.sleep(ctx, wake.Sub(w.now())); err != nil {
			return fmt.Errorf("outbox flush: %w", err)
		}
	}
}

// pass claims the rows that may be sent now, sends them and records the
// outcomes. It returns how many rows it took and when the next pending row
// may be sent (zero when none is pending).
func (w *worker) pass(ctx context.Context) (int, time.Time, error) {
	now := w.now()
	var wake time.Time
	rows, err := w.store.ClaimOutbox(ctx, models.ClaimOptions{
		Worker: w.id, Now: now, Lease: claimLease, Since: now.Add(-time.Hour - windowSlack), Heads: headsPerPass,
		Pick: func(heads []models.OutboxMessage, recent []models.RecentSend) []uint {
			var ids []uint
			ids, wake = w.pick(now, heads, recent)
			return ids
		},
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox: %w", err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, sendParallel)
	for i := range rows {
		sem <- struct{}{}
		wg.Add(1)
		go func(m *models.OutboxMessage) {
			defer func() { <-sem; wg.Done() }()
			w.deliver(ctx, m)
		}(&rows[i])
	}
	wg.Wait()
	if len(rows) > 0 {
		wake = time.Time{} // the rows after them are due at once
	}
	return len(rows), wake, nil
}

// pick chooses the heads to send now, oldest first, within the rate budgets,
// and returns the earliest time one of the others may go.
func (w *worker) pick(now time.Time, heads []models.OutboxMessage, recent []models.RecentSend) ([]uint, time.Time) {
	b := newBudget(now, w.limits, recent, w.resolver)
	var ids []uint
	var wake time.Time
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
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
		if t, err := w.resolver.target(&h); err == nil { // an unsendable row is taken to be failed
			keys = budgetKeys(t)
		}
		if ok, free := b.admit(keys); !ok {
			later(free)
			continue
		}
		b.take(keys)
		ids = append(ids, h.ID)
	}
	return ids, wake
}

// deliver sends one claimed row and records the outcome. The outcome is
// written even when ctx ends meanwhile, so a finished send is never lost.
func (w *worker) deliver(ctx context.Context, m *models.OutboxMessage) {
	retry, err := w.sender.Send(ctx, m)
	now := w.now()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var held bool
	var dberr error
	switch {
	case err == nil:
		held, dberr = w.store.MarkOutboxSent(rctx, m.ID, w.id, now)
		if held {
			w.metrics.sent.WithLabelValues(m.Channel).Inc()
		}
	case retry && now.Sub(m.CreatedAt) < w.giveUp:
		next := now.Add(backoff(Classify(err), m.Attempts+1, rand.Float64()))
		held, dberr = w.store.RetryOutbox(rctx, m.ID, w.id, next, err.Error())
		if held {
			w.metrics.retried.WithLabelValues(m.Channel).Inc()
			w.log.Warn("outbox send failed, will retry", w.fields(m, err, zap.Time("next_attempt", next))...)
		}
	default:
		reason := "permanent"
		if retry {
			reason = "give_up"
		}
		held, dberr = w.store.FailOutbox(rctx, m.ID, w.id, err.Error())
		if held {
			w.metrics.failed.WithLabelValues(m.Channel, reason).Inc()
			w.log.Error("outbox message failed", w.fields(m, err, zap.String("reason", reason))...)
			w.notifyAdmins(rctx, m, err, retry)
		}
	}
	switch {
	case dberr != nil:
		w.log.Error("outbox: recording a send failed; the row will be tried again when its claim runs out",
			zap.Uint("outbox_id", m.ID), zap.Bool("sent", err == nil), zap.Error(dberr))
	case !held:
		w.log.Warn("outbox: claim ran out before the send was recorded; another worker may send the row again",
			zap.Uint("outbox_id", m.ID), zap.Bool("sent", err == nil))
	}
}

// fields describe a row for a log line: its target by name (a robot by the
// hash of its key), never the key or URL.
func (w *worker) fields(m *models.OutboxMessage, err error, more ...zap.Field) []zap.Field {
	fs := []zap.Field{zap.Uint("outbox_id", m.ID), zap.String("channel", m.Channel), zap.String("target", w.targetName(m)),
		zap.Int("attempt", m.Attempts+1), zap.Error(err)}
	return append(fs, more...)
}

func (w *worker) targetName(m *models.OutboxMessage) string {
	if t, err := w.resolver.target(m); err == nil {
		return t.Name()
	}
	return m.Channel
}

// backoff returns the wait before attempt n+1 after a failure with verdict
// v: exponential from retryBase up to retryCap with equal jitter (j in
// [0,1)), and at least a minute after WeCom's rate limit, whose window is a
// minute.
func backoff(v Verdict, n int, j float64) time.Duration {
	d := retryCap
	if n < 16 {
		d = min(retryCap, retryBase<<(n-1))
	}
	if v == BackOff {
		return max(d, time.Minute) + time.Duration(j*float64(15*time.Second))
	}
	return d/2 + time.Duration(j*float64(d/2))
}

// notifyAdmins tells the administrators, by app message, that m failed:
// which message, where to, why, without any credential. One notice per
// destination and hour is enough when a whole robot fails.
func (w *worker) notifyAdmins(ctx context.Context, m *models.OutboxMessage, err error, gaveUp bool) {
	if m.DedupeKey != nil && strings.HasPrefix(*m.DedupeKey, noticeKeyPrefix) {
		return
	}
	members, lerr := w.store.Members(ctx)
	if lerr != nil {
		w.log.Error("outbox: cannot list administrators to report a failed message", zap.Uint("outbox_id", m.ID), zap.Error(lerr))
		return
	}
	var admins []string
	for _, mb := range members {
		if mb.Role == models.RoleAdmin {
			admins = append(admins, mb.UserID)
		}
	}
	if len(admins) == 0 {
		w.log.Warn("outbox: no administrator to report a failed message to", zap.Uint("outbox_id", m.ID))
		return
	}
	why := reasonText(err)
	if gaveUp {
		why = fmt.Sprintf("%s；已重试 %d 次，超过 %s 仍未成功", why, m.Attempts+1, w.giveUp)
	}
	notice := msg.Plain(msg.ToMembers(admins...), fmt.Sprintf("【消息发送失败】\n编号：%d\n发往：%s\n原因：%s\n内容：%s\n该消息已停止发送，请检查机器人或成员配置。",
		m.ID, w.targetName(m), why, models.ClipRunes(models.OneLine(m.Body), 61)))
	notice.DedupeKey = noticeKeyPrefix + m.Destination + "/" + w.now().Format("2006010215")
	if _, err := w.outbox.Enqueue(ctx, w.store, notice); err != nil {
		w.log.Error("outbox: cannot enqueue the failure notice", zap.Uint("outbox_id", m.ID), zap.Error(err))
	}
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
