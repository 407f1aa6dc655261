package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"yanzhen/msg"
)

// maxPanicRetries is how often a slot whose run panicked is tried again: a
// panic is a bug, which a retry rarely cures. After that the slot stays
// failed, and `yanzhen run` can still run the job by hand.
const maxPanicRetries = 2

// panicKeyPrefix starts the dedupe key of the administrators' notice of a
// job that panicked: one notice per job and day.
const panicKeyPrefix = "job-panic/"

// PanicError is a panic in a job's code, caught so that the service lives on.
type PanicError struct {
	Value any    // what was passed to panic
	Stack string // the goroutine's stack where it panicked
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// protect calls fn and returns its error, or a *PanicError when it panics.
func protect(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: string(debug.Stack())}
		}
	}()
	return fn()
}

// panicStack is a log field with the stack of err when it is a panic.
func panicStack(err error) zap.Field {
	var p *PanicError
	if errors.As(err, &p) {
		return zap.String("stack", p.Stack)
	}
	return zap.Skip()
}

// tellAdmins enqueues the administrators' notice that job panicked at run's
// attempt: what happens next (a retry at retry, or none when it is zero) and
// how to run it by hand. A job that panics again the same day is not told
// again.
func (r *Runner) tellAdmins(ctx context.Context, job *Job, run Run, attempt int, retry time.Time) {
	log := r.Log.With(zap.String("job", job.Name), zap.String("slot", run.SlotKey))
	ids, err := r.Store.AdminIDs(ctx)
	if err != nil {
		log.Error("cannot list the administrators to tell of a job panic", zap.Error(err))
		return
	}
	if len(ids) == 0 {
		log.Warn("no administrator to tell of a job panic")
		return
	}
	loc := r.Config.Location()
	slot := run.Slot.In(loc).Format("2006-01-02 15:04")
	byHand := fmt.Sprintf("yanzhen run %s --at \"%s\"", job.Name, slot)
	var next string
	switch {
	case run.ByHand:
		next = "手动运行不自动重试。排查后可再次运行：" + byHand
	case retry.IsZero():
		next = "已停止自动重试。排查后可手动运行：" + byHand
	default:
		next = fmt.Sprintf("将于 %s 自动重试，最多重试 %d 次；仍失败时可手动运行：%s", retry.In(loc).Format(time.TimeOnly), maxPanicRetries, byHand)
	}
	body := fmt.Sprintf("【定时任务异常】\n任务：%s（%s）\n时段：%s\n第 %d 次运行发生程序错误，本次未发送任何消息，详情见服务日志。\n%s",
		job.Summary, job.Name, slot, attempt, next)
	notice := msg.Plain(msg.ToMembers(ids...), body)
	notice.DedupeKey = panicKeyPrefix + job.Name + "/" + run.Slot.In(loc).Format(time.DateOnly)
	if _, err := r.Outbox.Enqueue(ctx, r.Store, notice); err != nil {
		log.Error("cannot enqueue the administrators' notice of a job panic", zap.Error(err))
	}
}
