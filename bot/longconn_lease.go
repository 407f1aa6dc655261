package bot

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
)

// WeCom allows one long connection per bot: a new one kicks the old. So
// exactly one process holds it, by a lease in the store that every replica
// (and `yanzhen run`) tries to take every leaseEvery. The holder renews it
// and keeps the connection up; the others never dial. A holder that dies
// stops renewing, and another takes the lease over within leaseTTL +
// leaseEvery (25 s). A holder that cannot renew closes its connection
// before its lease may run out (leaseTTL - leaseMargin after the last
// renewal), so that two connections never overlap.
//
// A disconnected_event means a connection outside this rule took over (a
// second installation with the same bot, a developer's laptop): the holder
// stands down and passes the lease to kickedHolder for kickPause, so that
// no replica kicks the other back in a loop; after the pause one connects
// again, at most once per pause.
const (
	leaseKey    = "aibot/long-connection"
	leaseTTL    = 20 * time.Second
	leaseEvery  = 5 * time.Second
	leaseMargin = 5 * time.Second
	kickPause   = 5 * time.Minute
	// borrowWait bounds how long `yanzhen run` waits for its connection.
	borrowWait = 10 * time.Second
)

// kickedHolder names the holder of a lease passed on after a kick.
func kickedHolder(holder string) string { return "kicked:" + holder }

// run takes and renews the lease every leaseEvery until ctx ends, keeping
// the connection up while it holds it; then it closes the connection and
// releases the lease.
func (l *longConn) run(ctx context.Context) {
	defer l.standDown()
	for {
		l.tick(ctx)
		if sleepContext(ctx, leaseEvery) != nil {
			return
		}
	}
}

// tick takes or renews the lease once and starts or stops the connection
// accordingly.
func (l *longConn) tick(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	// The query is not cut short when ctx ends meanwhile: its answer is
	// still the truth about the lease.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), leaseEvery)
	defer cancel()
	now := l.now()
	lease, err := l.store.TakeLease(qctx, leaseKey, l.holder, now, now.Add(leaseTTL))
	l.mu.Lock()
	holding, renewed := l.keeper != nil, l.renewedAt
	l.mu.Unlock()
	switch {
	case err != nil:
		l.log.Warn("aibot: cannot renew the long connection's lease", zap.Error(err))
		if holding && now.Sub(renewed) >= leaseTTL-leaseMargin {
			l.log.Error("aibot: the lease may run out: closing the long connection so that another replica can take over")
			l.stopKeeper()
		}
	case lease.HeldBy(l.holder, now):
		l.mu.Lock()
		l.renewedAt = now
		standingAside := !l.kickedAt.IsZero() && now.Before(l.kickedAt.Add(kickPause))
		l.mu.Unlock()
		if !holding && !standingAside { // (a lease not passed on after a kick is held, not used, for the pause)
			l.log.Info("aibot: took the long connection's lease; connecting", zap.String("holder", l.holder))
			l.startKeeper()
		}
	case holding:
		l.log.Warn("aibot: another replica holds the long connection's lease; closing ours", zap.String("holder", lease.Holder))
		l.stopKeeper()
	}
}

// startKeeper keeps a session up in the background until stopKeeper, or
// until another connection takes over.
func (l *longConn) startKeeper() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.mu.Lock()
	l.keeper, l.keeperDone = cancel, done
	l.mu.Unlock()
	go func() {
		defer close(done)
		if l.keep(ctx) {
			l.standAside(done)
		}
	}()
}

// stopKeeper closes the connection and waits until it is closed.
func (l *longConn) stopKeeper() {
	l.mu.Lock()
	cancel, done := l.keeper, l.keeperDone
	l.keeper, l.keeperDone = nil, nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// standAside is the keeper's end after a disconnected_event: it passes the
// lease on for kickPause and reports the takeover, without reconnecting.
func (l *longConn) standAside(done chan struct{}) {
	now := l.now()
	l.mu.Lock()
	if l.keeperDone == done {
		l.keeper, l.keeperDone = nil, nil
	}
	l.kickedAt = now
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	passed, err := l.store.PassLease(ctx, leaseKey, l.holder, kickedHolder(l.holder), now.Add(kickPause))
	if err != nil {
		l.log.Error("aibot: cannot pass the lease on after the takeover", zap.Error(err))
	}
	l.log.Error("aibot: another connection of the AI bot took over (disconnected_event): this service stands down; "+
		"make sure no other installation or client uses the same bot_id", zap.Bool("paused", passed), zap.Time("until", now.Add(kickPause)))
}

// standDown closes the connection when the process stops, waits for the
// frames being stored and releases the lease, so that a successor takes
// over at once.
func (l *longConn) standDown() {
	l.stopKeeper()
	l.storing.Wait()
	l.mu.Lock()
	crashed := l.crashed
	l.mu.Unlock()
	if crashed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if released, err := l.store.ReleaseLease(ctx, leaseKey, l.holder); err != nil {
		l.log.Warn("aibot: cannot release the long connection's lease; it runs out by itself", zap.Error(err))
	} else if released {
		l.log.Info("aibot: released the long connection's lease")
	}
}

// borrow is the connection of `yanzhen run`: when no service holds the
// lease it takes it, connects (waiting up to borrowWait) and keeps it until
// the returned release, which closes the connection and releases the
// lease. When a service holds it, borrow does nothing: the holder sends.
func (l *longConn) borrow(ctx context.Context) (release func()) {
	l.tick(ctx)
	l.mu.Lock()
	holding, up := l.keeper != nil, l.up
	l.mu.Unlock()
	if holding {
		t := time.NewTimer(borrowWait)
		select {
		case <-up:
		case <-t.C:
			l.log.Warn("aibot: the long connection is not up yet; its messages wait")
		case <-ctx.Done():
		}
		t.Stop()
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(rctx)
	}()
	return func() { cancel(); <-done }
}

// holds reports whether this process holds the lease.
func (l *longConn) holds() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keeper != nil
}

// leftToHolder returns a *PendingError counting the rows of the long
// connection's channels when another process holds the connection, so that
// `yanzhen run` says they are left to the service; nil otherwise.
func (l *longConn) leftToHolder(ctx context.Context) error {
	if l.holds() {
		return nil
	}
	backlog, _, err := l.store.OutboxBacklog(ctx)
	if err != nil {
		return fmt.Errorf("aibot: %w", err)
	}
	n := backlog[channelAIBotReply] + backlog[channelAIBotPush]
	if n == 0 {
		return nil
	}
	return &PendingError{Pending: n, Next: l.now()}
}

// setHandling says whether stored frames are handed to this process's
// handlers (the bot started) or left to the sweep of a service.
func (l *longConn) setHandling(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handling = on
}

// learn keeps the first group chat the bot hears from, for pushes to the
// group while wecom.aibot.chat_id is not set, and tells the operator.
func (l *longConn) learn(chatID string) {
	l.mu.Lock()
	if l.learnt {
		l.mu.Unlock()
		return
	}
	l.learnt = true
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.store.GetKV(ctx, learntChatKey); err == nil {
		return
	} else if models.ErrorCode(err) != models.ENOTFOUND {
		l.log.Warn("aibot: cannot read the learnt group chat", zap.Error(err))
		return
	}
	if err := l.store.PutKV(ctx, learntChatKey, chatID, nil); err != nil {
		l.log.Warn("aibot: cannot keep the learnt group chat", zap.Error(err))
		return
	}
	l.log.Info("aibot: group messages go to the chat the bot first heard from; set wecom.aibot.chat_id to choose it",
		zap.String("chat_id", chatID))
}

// learntChatKey is the KV key of the group chat learnt from the first group message.
const learntChatKey = "aibot/chat-id"

// groupChat returns the chat of group pushes: wecom.aibot.chat_id, or the
// chat learnt from the first group message; "" when neither is known yet.
func (l *longConn) groupChat(ctx context.Context) (string, error) {
	if l.chatID != "" {
		return l.chatID, nil
	}
	kv, err := l.store.GetKV(ctx, learntChatKey)
	switch {
	case err == nil:
		return kv.Value, nil
	case models.ErrorCode(err) == models.ENOTFOUND:
		return "", nil
	}
	return "", fmt.Errorf("aibot: learnt group chat: %w", err)
}
