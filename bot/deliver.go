package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
	"yanzhen/msg"
)

// The delivery schedule. Its numbers are chosen together, and the README
// (部署, 发送与重试) repeats them for operators:
//
//   - httpTimeout: one call to WeCom may take 30 s. WeCom answers in well
//     under a second and was seen taking 17 s when busy; a slow answer is
//     waited for rather than given up on and sent again.
//   - A call that timed out may have been carried out all the same. It is
//     tried once more at once; if that fails too, the destination waits as
//     after any passing failure. App messages carry WeCom's duplicate check
//     (enable_duplicate_check, duplicate_check_interval = appHorizon), so a
//     copy of one that did arrive is dropped by WeCom and the member sees it
//     once. The robot webhook has no such check: a robot message whose
//     calls keep timing out may be posted twice, never more often than the
//     timeouts allow.
//   - attemptTimeout bounds one claimed attempt, token fetches and the one
//     retry included, to 90 s; the claim (claimLease, 2 min) outlasts it.
//   - After a passing failure (errcode -1, HTTP 5xx, a timeout, a broken
//     connection) the destination waits 2 s, 4 s, 8 s … doubling up to
//     retryCap (60 s), with jitter in the upper half of each step. The wait
//     belongs to the destination (models.OutboxBackoff), shared by every
//     replica and kept across restarts; its first success ends it, and the
//     rows behind go at once.
//   - After WeCom's rate limit (45009, 45033, HTTP 429) the destination
//     waits for the end of the current minute (and windowSlack); the wait
//     of passing failures does not grow.
//   - A row is given up when it is older than outbox.give_up_after. An app
//     message is never tried once older than appHorizon, the shorter of
//     give_up_after and maxDuplicateCheck (4 h, WeCom's longest duplicate
//     check), so every attempt at it falls within the duplicate check of
//     every earlier one. An app message that says word for word what an
//     earlier one to the same members said within appHorizon is dropped by
//     WeCom too: the earlier one is still in the member's chat.
const (
	httpTimeout       = 30 * time.Second
	attemptTimeout    = 90 * time.Second
	retryBase         = 2 * time.Second
	retryCap          = time.Minute
	maxDuplicateCheck = 4 * time.Hour
	// noticeKeyPrefix starts the dedupe key of a failure notice to the
	// administrators; a notice that fails itself is not reported.
	noticeKeyPrefix = "outbox-failed/"
)

// errExpired is the failure of a row found too old to be tried again.
var errExpired = errors.New("retry period over")

// deliver sends one claimed row and records the outcome. The outcome is
// written even when ctx ends meanwhile, so a finished send is never lost.
func (w *worker) deliver(ctx context.Context, m *models.OutboxMessage) {
	kind := w.kind(m)
	horizon := w.horizon(kind)
	if m.Attempts > 0 && w.now().Sub(m.CreatedAt) >= horizon {
		// Delayed past its horizon since its last attempt (by rate limits or
		// a lost claim): a further attempt could reach people twice.
		rctx, rcancel := outcomeContext(ctx)
		defer rcancel()
		w.record(rctx, m, fmt.Errorf("%w (last error: %s)", errExpired, m.LastError), true, nil)
		return
	}
	actx, cancel := context.WithTimeout(ctx, attemptTimeout)
	retry, err := w.sender.Send(actx, m)
	if err != nil && timedOut(err) && actx.Err() == nil {
		w.log.Warn("outbox send timed out; trying once more at once", w.fields(m, err)...)
		retry, err = w.sender.Send(actx, m)
	}
	cancel()
	now := w.now()
	rctx, rcancel := outcomeContext(ctx)
	defer rcancel()
	var v Verdict
	if err != nil {
		v = Classify(err)
	}
	switch {
	case err == nil:
		held, dberr := w.store.MarkOutboxSent(rctx, m.ID, w.id, now)
		if held {
			w.metrics.sent.WithLabelValues(m.Channel).Inc()
		}
		w.recorded(m, err, held, dberr)
	case v == Halt:
		w.credentialsRefused(rctx, err)
		held, dberr := w.store.RetryOutbox(rctx, m.ID, w.id, err.Error(), nil)
		w.recorded(m, err, held, dberr)
	case !retry:
		w.record(rctx, m, err, false, nil)
	default:
		backoff, berr := w.backoff(rctx, m, v, now)
		if berr != nil {
			w.recorded(m, err, false, berr)
			return
		}
		if now.Sub(m.CreatedAt) >= horizon {
			w.record(rctx, m, err, true, backoff)
			return
		}
		held, dberr := w.store.RetryOutbox(rctx, m.ID, w.id, err.Error(), backoff)
		if held {
			w.metrics.retried.WithLabelValues(m.Channel).Inc()
			w.log.Warn("outbox send failed, will retry", w.fields(m, err, zap.Time("next_attempt", backoff.Until))...)
		}
		w.recorded(m, err, held, dberr)
	}
}

// outcomeContext is the context in which an outcome is recorded: it
// outlives ctx, so that a finished send is recorded during a shutdown too.
func outcomeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// record gives up on m after err: permanent, or gaveUp once retried for
// too long, with backoff (nil for none) left on its destination.
func (w *worker) record(ctx context.Context, m *models.OutboxMessage, err error, gaveUp bool, backoff *models.OutboxBackoff) {
	held, dberr := w.store.FailOutbox(ctx, m.ID, w.id, err.Error(), backoff)
	if held {
		reason := "permanent"
		if gaveUp {
			reason = "give_up"
		}
		w.metrics.failed.WithLabelValues(m.Channel, reason).Inc()
		w.log.Error("outbox message failed", w.fields(m, err, zap.String("reason", reason))...)
		w.notifyAdmins(ctx, m, err, gaveUp)
	}
	w.recorded(m, err, held, dberr)
}

// recorded logs what went wrong with recording an outcome.
func (w *worker) recorded(m *models.OutboxMessage, err error, held bool, dberr error) {
	switch {
	case dberr != nil:
		w.log.Error("outbox: recording a send failed; the row will be tried again when its claim runs out",
			zap.Uint("outbox_id", m.ID), zap.Bool("sent", err == nil), zap.Error(dberr))
	case !held:
		w.log.Warn("outbox: claim ran out before the send was recorded; another worker may send the row again",
			zap.Uint("outbox_id", m.ID), zap.Bool("sent", err == nil))
	}
}

// backoff returns the wait of m's destination after a failure with verdict
// v at now: to the end of the minute after a rate limit, and otherwise one
// step longer than after its last passing failure.
func (w *worker) backoff(ctx context.Context, m *models.OutboxMessage, v Verdict, now time.Time) (*models.OutboxBackoff, error) {
	failures, err := w.store.OutboxFailures(ctx, m.Destination)
	if err != nil {
		return nil, err
	}
	b := &models.OutboxBackoff{Destination: m.Destination, Failures: failures}
	if v == BackOff {
		b.Until = rateWindowEnd(now)
	} else {
		b.Failures++
		b.Until = now.Add(retryWait(b.Failures, rand.Float64()))
	}
	return b, nil
}

// retryWait returns the wait after the nth passing failure in a row:
// retryBase doubled n-1 times up to retryCap, with equal jitter (j in
// [0,1)) in its upper half.
func retryWait(n int, j float64) time.Duration {
	d := retryCap
	if n < 16 {
		d = min(retryCap, retryBase<<(n-1))
	}
	return d/2 + time.Duration(j*float64(d/2))
}

// rateWindowEnd is when WeCom's minute window that holds now has surely
// ended: the next full minute, and windowSlack for the clocks' difference.
func rateWindowEnd(now time.Time) time.Time {
	return now.Truncate(time.Minute).Add(time.Minute + windowSlack)
}

// horizon is the age past which a row to kind is not tried again.
func (w *worker) horizon(kind string) time.Duration {
	if kind == targetApp {
		return w.appHorizon
	}
	return w.giveUp
}

// timedOut reports whether err is a call that ran out of time: WeCom may
// have carried it out.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
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

// notifyAdmins tells the administrators, by app message, that m failed:
// which message, where to, why, without any credential. One notice per
// destination and hour is enough when a whole robot fails.
func (w *worker) notifyAdmins(ctx context.Context, m *models.OutboxMessage, err error, gaveUp bool) {
	if m.DedupeKey != nil && strings.HasPrefix(*m.DedupeKey, noticeKeyPrefix) {
		return
	}
	admins, ok := w.admins(ctx, m.ID)
	if !ok {
		return
	}
	why := reasonText(err)
	if gaveUp {
		why = fmt.Sprintf("%s；已重试 %d 次，超过 %s 仍未成功", why, m.Attempts+1, w.horizon(w.kind(m)))
	}
	notice := msg.Plain(msg.ToMembers(admins...), fmt.Sprintf("【消息发送失败】\n编号：%d\n发往：%s\n原因：%s\n内容：%s\n该消息已停止发送，请检查机器人或成员配置。",
		m.ID, w.targetName(m), why, models.ClipRunes(models.OneLine(m.Body), 61)))
	notice.DedupeKey = noticeKeyPrefix + m.Destination + "/" + w.now().Format("2006010215")
	if _, err := w.outbox.Enqueue(ctx, w.store, notice); err != nil {
		w.log.Error("outbox: cannot enqueue the failure notice", zap.Uint("outbox_id", m.ID), zap.Error(err))
	}
}

// admins returns the userids of the administrators; ok is false, and the
// reason logged, when there is none to tell.
func (w *worker) admins(ctx context.Context, id uint) ([]string, bool) {
	admins, err := w.store.AdminIDs(ctx)
	if err != nil {
		w.log.Error("outbox: cannot list administrators to report a failure", zap.Uint("outbox_id", id), zap.Error(err))
		return nil, false
	}
	if len(admins) == 0 {
		w.log.Warn("outbox: no administrator to report a failure to", zap.Uint("outbox_id", id))
	}
	return admins, len(admins) > 0
}
