package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"yanzhen/config"
	"yanzhen/models"
)

// Reconnection, after a connection ends or fails: exponential backoff from
// 1 s to 30 s with jitter, forever. A session that lasted stableAfter
// starts the backoff anew. A refused subscription (a configuration error)
// is tried again after the same waits for the first refusedQuick times,
// then at most once per refusedEvery.
const (
	reconnectBase  = time.Second
	reconnectCap   = 30 * time.Second
	stableAfter    = time.Minute
	refusedQuick   = 3
	refusedEvery   = 30 * time.Second
	storeInFlight  = 256 // frames being stored at once (a journal batch); the next waits
	frameStoreWait = 10 * time.Second
	// frameStoreTries bounds the attempts at storing a frame while the
	// database fails: about a minute in all, then the frame is lost (and
	// logged), since WeCom does not send it again.
	frameStoreTries = 7
)

// reconnectDelay is the wait before connection attempt n+1 after n failures
// in a row: 1 s, 2 s, 4 s … up to 30 s, each less up to a quarter at random
// (j in [0,1)), so that replicas and restarts do not dial in step.
func reconnectDelay(n int, j float64) time.Duration {
	d := reconnectCap
	if n < 6 {
		d = min(reconnectCap, reconnectBase<<(n-1))
	}
	return d - time.Duration(j*float64(d/4))
}

// refusedDelay is the wait after n refused subscriptions in a row: as
// reconnectDelay at first, then refusedEvery and up to a fifth more.
func refusedDelay(n int, j float64) time.Duration {
	if n <= refusedQuick {
		return reconnectDelay(n, j)
	}
	return refusedEvery + time.Duration(j*float64(refusedEvery/5))
}

// longConn is the AI bot's long connection of one process: while the
// process holds the lease (longconn_lease.go) it keeps a session up,
// stores the frames it receives as callbacks are stored, and sends the
// outbox rows of the AI bot's channels on it (longconn_send.go).
type longConn struct {
	botID, secret, url string
	chatID             string // wecom.aibot.chat_id, "" to use the chat learnt from the first group message
	botName            string
	holder             string // this process in the lease
	http               *http.Client
	store              *models.Store
	journal            *journal
	dispatcher         *dispatcher
	now                func() time.Time
	log                *zap.Logger
	files              *inFiles // seals the attachment a frame carries
	// parse reads a frame's message (aibotParser, which knows the cards' keys).
	parse func(plain []byte, botName string) (*models.Inbound, error)
	// outbox answers a repeated tap on a card (answerRepeat); nil answers none.
	outbox *Outbox

	mu         sync.Mutex
	cur        *session      // the subscribed session; nil while down
	up         chan struct{} // closed when a session is up, replaced when it ends
	keeper     context.CancelFunc
	keeperDone chan struct{}
	renewedAt  time.Time
	refused    error     // the last refused subscription, until one succeeds
	kickedAt   time.Time // when another connection took over, for health
	handling   bool      // the bot is started: stored frames are handled here
	learnt     bool      // the group chat was learnt (or configured)
	crashed    bool      // tests: stop as a killed process does, releasing nothing
	frames     chan struct{}
	storing    sync.WaitGroup
}

func newLongConn(c config.AIBot, botName, holder string, hc *http.Client, store *models.Store, j *journal, d *dispatcher, now func() time.Time, log *zap.Logger) *longConn {
	if hc == nil {
		hc = &http.Client{}
	}
	return &longConn{
		botID: c.BotID, secret: c.Secret.Reveal(), url: c.WSURL, chatID: c.ChatID, learnt: c.ChatID != "", botName: botName,
		holder: holder, http: hc, store: store, journal: j, dispatcher: d, now: now, log: log.Named("aibot"),
		up: make(chan struct{}), frames: make(chan struct{}, storeInFlight), parse: parseJSONMessage,
	}
}

// connect dials WeCom, subscribes and starts the session's reader and
// heartbeat. A refused subscription is a *SubscribeError.
func (l *longConn) connect(ctx context.Context) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(dctx, l.url, &websocket.DialOptions{HTTPClient: l.http})
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("aibot: dial %s: %w", l.url, err)
	}
	c.SetReadLimit(frameLimit)
	s := newSession(c, l.log)
	go s.read(context.WithoutCancel(ctx), l.onFrame)
	err = s.call(ctx, outFrame{Cmd: cmdSubscribe, Headers: wsHeaders{ReqID: newReqID(cmdSubscribe)},
		Body: map[string]string{"bot_id": l.botID, "secret": l.secret}})
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		s.end(err)
		return nil, &SubscribeError{Code: ae.Code, Message: ae.Message}
	case err != nil:
		s.end(err)
		return nil, fmt.Errorf("aibot: subscribe: %w", err)
	}
	go s.heartbeat(context.WithoutCancel(ctx))
	return s, nil
}

// keep keeps a session up until ctx ends, reconnecting after every end and
// failure. It returns true when another connection took over: the caller
// stands down instead of kicking it back.
func (l *longConn) keep(ctx context.Context) (kicked bool) {
	failures, refusals := 0, 0
	for {
		started := time.Now()
		s, err := l.connect(ctx)
		var refused *SubscribeError
		switch {
		case ctx.Err() != nil:
			if s != nil {
				s.end(ctx.Err())
			}
			return false
		case err == nil:
			refusals = 0
			l.setUp(s)
			select {
			case <-s.done:
			case <-ctx.Done():
				s.end(ctx.Err())
			}
			l.setDown(s)
			if ctx.Err() != nil {
				return false
			}
			if errors.Is(s.reason(), errKicked) {
				return true
			}
			if time.Since(started) >= stableAfter {
				failures = 0
			}
			failures++
			l.log.Warn("aibot: the long connection ended; reconnecting", zap.String("connection", s.id), zap.Error(s.reason()))
		case errors.As(err, &refused):
			refusals++
			l.setRefused(refused)
			l.log.Error("aibot: subscription refused; fix the configuration", zap.Int("refusals", refusals), zap.Error(err))
		default:
			failures++
			l.log.Warn("aibot: cannot connect; trying again", zap.Int("failures", failures), zap.Error(err))
		}
		wait := reconnectDelay(max(failures, 1), rand.Float64())
		if refusals > 0 {
			wait = refusedDelay(refusals, rand.Float64())
		}
		if sleepContext(ctx, wait) != nil {
			return false
		}
	}
}

// setUp makes s the current session.
func (l *longConn) setUp(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cur, l.refused, l.kickedAt = s, nil, time.Time{}
	close(l.up)
	l.log.Info("aibot: long connection up", zap.String("connection", s.id), zap.String("bot_id", l.botID))
}

// setDown forgets s as the current session.
func (l *longConn) setDown(s *session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == s {
		l.cur, l.up = nil, make(chan struct{})
	}
}

func (l *longConn) setRefused(err *SubscribeError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused = err
}

// session returns the current session, or nil while the connection is down.
func (l *longConn) session() *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

// health returns why the AI bot does not work as configured: its
// subscription refused, or its connection taken over by another within the
// stand-down pause. nil otherwise.
func (l *longConn) health() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.refused != nil:
		return l.refused
	case !l.kickedAt.IsZero() && l.now().Before(l.kickedAt.Add(kickPause)):
		return fmt.Errorf("%w at %s; no replica connects again before %s", errKicked,
			l.kickedAt.Format(time.DateTime), l.kickedAt.Add(kickPause).Format(time.DateTime))
	}
	return nil
}

// onFrame stores a message or event frame, as a callback is stored, in the
// background: the reader goes on with the next frame, and waits only when
// storeInFlight frames are being stored.
func (l *longConn) onFrame(s *session, f inFrame) {
	in, err := l.parse(f.Body, l.botName)
	if err != nil {
		l.log.Warn("aibot: a frame that cannot be read was ignored", zap.String("cmd", f.Cmd), zap.Error(err))
		return
	}
	in.Route, in.ReplyURL = models.RouteAIBot, replyRef(s.id, f.Headers.ReqID)
	in.Attachment = l.files.keep(in.Attachment) // never the download link and its key as they came
	l.frames <- struct{}{}
	l.storing.Add(1)
	go func() {
		defer func() { <-l.frames; l.storing.Done() }()
		l.store1(in)
	}()
}

// store1 stores one frame's message in the journal, trying again while the
// store fails, and hands it to the handlers. A repeat of a stored msgid (a
// frame sent again after a reconnect) is dropped there.
func (l *longConn) store1(in *models.Inbound) {
	l.mu.Lock()
	handling := l.handling
	l.mu.Unlock()
	for attempt := 1; attempt <= frameStoreTries; attempt++ {
		now := l.now()
		in.ReceivedAt = now
		if handling {
			// As for a callback, the receiver takes the first attempt.
			lease := now.Add(handlerLease)
			in.Attempts, in.ClaimedUntil = 1, &lease
		}
		ctx, cancel := context.WithTimeout(context.Background(), frameStoreWait)
		fresh, err := l.journal.insert(ctx, in)
		cancel()
		switch {
		case err == nil:
			if fresh && handling {
				l.dispatcher.offer(in)
			}
			if !fresh && in.MsgType == models.MsgTypeTap && l.outbox != nil {
				actx, acancel := context.WithTimeout(context.Background(), frameStoreWait)
				answerRepeat(actx, l.store, l.outbox, l.log, in)
				acancel()
			}
			if in.InGroup() && in.ChatID != "" {
				l.learn(in.ChatID)
			}
			return
		case errors.Is(err, errClosed):
			l.log.Error("aibot: a frame arrived as the bot closed and is lost", zap.String("msgid", in.MsgID))
			return
		}
		if attempt == frameStoreTries {
			l.log.Error("aibot: storing a frame failed for the last time; the message is lost", zap.String("msgid", in.MsgID),
				zap.String("from", in.FromUserID), zap.Error(err))
			return
		}
		l.log.Error("aibot: storing a frame failed; trying again", zap.String("msgid", in.MsgID), zap.Int("attempt", attempt), zap.Error(err))
		time.Sleep(reconnectDelay(attempt, rand.Float64()))
	}
}
