package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// The AI bot's long connection (智能机器人长连接, document 101463; the
// official client is WecomTeam/aibot-node-sdk). The service dials WeCom,
// subscribes with the bot's id and secret, pings every 30 s, and receives
// messages and events as frames {cmd, headers: {req_id}, body}; WeCom
// answers each frame of ours with {headers: {req_id}, errcode, errmsg}.
// Replies carry the req_id of the frame they answer; pushes to a chat carry
// a req_id of their own.
const (
	cmdSubscribe     = "aibot_subscribe"
	cmdPing          = "ping"
	cmdRespond       = "aibot_respond_msg"
	cmdSendMsg       = "aibot_send_msg"
	cmdUpdateCard    = "aibot_respond_update_msg"
	cmdMsgCallback   = "aibot_msg_callback"
	cmdEventCallback = "aibot_event_callback"
	// eventDisconnected is the event WeCom sends to a connection before it
	// closes it because another connection of the same bot subscribed.
	eventDisconnected = "disconnected_event"
)

// Long connection tuning, after the official client.
const (
	heartbeatEvery = 30 * time.Second
	// maxMissedAcks unanswered pings in a row mean the connection is dead.
	maxMissedAcks = 2
	// ackTimeout bounds the wait for WeCom's answer to a frame of ours.
	ackTimeout  = 5 * time.Second
	dialTimeout = 10 * time.Second
	// frameLimit bounds a frame read; a message's text is far smaller.
	frameLimit = 1 << 20
)

// errKicked ends a session whose bot another connection took over.
var errKicked = errors.New("another connection of the AI bot took over (disconnected_event)")

// errHeartbeat ends a session whose pings went unanswered.
var errHeartbeat = fmt.Errorf("%d heartbeats in a row unanswered", maxMissedAcks)

// errAckTimeout is the failure of a frame WeCom did not answer in time; it
// may have arrived.
var errAckTimeout = errors.New("no answer within " + ackTimeout.String())

// SubscribeError is WeCom's refusal of the subscription: a wrong bot_id or
// secret, or a bot not set to the long connection. Trying again as such
// cannot help; an operator must fix the configuration.
type SubscribeError struct {
	Code    int
	Message string
}

func (e *SubscribeError) Error() string {
	return fmt.Sprintf("WeCom refused the AI bot's subscription (errcode %d: %s): check wecom.aibot.bot_id and wecom.aibot.secret, "+
		"and that the bot is set to the long connection (API 模式，使用长连接)", e.Code, e.Message)
}

// outFrame is a frame we send.
type outFrame struct {
	Cmd     string    `json:"cmd"`
	Headers wsHeaders `json:"headers"`
	Body    any       `json:"body,omitempty"`
}

// inFrame is a frame WeCom sends: a message or event (Cmd set), or the
// answer to a frame of ours (Cmd empty, Errcode set).
type inFrame struct {
	Cmd     string          `json:"cmd"`
	Headers wsHeaders       `json:"headers"`
	Body    json.RawMessage `json:"body"`
	Errcode int             `json:"errcode"`
	Errmsg  string          `json:"errmsg"`
}

type wsHeaders struct {
	ReqID string `json:"req_id"`
}

// newReqID returns a req_id for a frame of ours: the command, the time in
// milliseconds and a random suffix, as the official client makes them (it
// tells the answers to subscriptions and pings apart by the prefix).
func newReqID(cmd string) string {
	return cmd + "_" + strconv.FormatInt(time.Now().UnixMilli(), 10) + "_" + randomID(4)
}

// randomID returns n random bytes in hex.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// session is one subscribed long connection. Its frames are read by one
// goroutine; frames of ours may be sent from any, those with the same
// req_id one at a time, each waiting for its answer.
type session struct {
	id  string // names the connection in reply references
	c   *websocket.Conn
	log *zap.Logger

	mu      sync.Mutex
	waiting map[string]chan inFrame // req_id → the waiter of its answer
	lanes   map[string]*lane        // req_id → its queue
	missed  atomic.Int32            // pings unanswered in a row
	done    chan struct{}           // closed when the session ends
	once    sync.Once
	err     error // why it ended; read after done
}

// lane queues the frames of one req_id.
type lane struct {
	mu    sync.Mutex
	users int
}

func newSession(c *websocket.Conn, log *zap.Logger) *session {
	id := randomID(4)
	return &session{
		id: id, c: c, log: log.With(zap.String("connection", id)),
		waiting: map[string]chan inFrame{}, lanes: map[string]*lane{}, done: make(chan struct{}),
	}
}

// end closes the session for err; the first reason stays.
func (s *session) end(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		_ = s.c.CloseNow()
	})
}

// reason returns why the session ended, once it has.
func (s *session) reason() error {
	<-s.done
	return s.err
}

// write sends a frame without waiting for its answer.
func (s *session) write(ctx context.Context, f outFrame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("aibot %s: encode: %w", f.Cmd, err)
	}
	if err := s.c.Write(ctx, websocket.MessageText, data); err != nil {
		s.end(fmt.Errorf("write: %w", err))
		return fmt.Errorf("aibot %s: %w", f.Cmd, err)
	}
	return nil
}

// call sends a frame and waits for WeCom's answer: nil for errcode 0, an
// *APIError for another, errAckTimeout after ackTimeout. Frames with the
// same req_id are sent one at a time, each after the answer to the one
// before, as WeCom requires of the replies to one message.
func (s *session) call(ctx context.Context, f outFrame) error {
	unlock := s.lock(f.Headers.ReqID)
	defer unlock()
	answer := make(chan inFrame, 1)
	s.mu.Lock()
	s.waiting[f.Headers.ReqID] = answer
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, f.Headers.ReqID)
		s.mu.Unlock()
	}()
	if err := s.write(ctx, f); err != nil {
		return err
	}
	t := time.NewTimer(ackTimeout)
	defer t.Stop()
	select {
	case a := <-answer:
		if a.Errcode != 0 {
			return &APIError{API: f.Cmd, Code: a.Errcode, Message: a.Errmsg}
		}
		return nil
	case <-t.C:
		return fmt.Errorf("aibot %s: %w", f.Cmd, errAckTimeout)
	case <-s.done:
		return fmt.Errorf("aibot %s: connection closed: %w", f.Cmd, s.err)
	case <-ctx.Done():
		return fmt.Errorf("aibot %s: %w", f.Cmd, ctx.Err())
	}
}

// lock takes the lane of reqID and returns its release.
func (s *session) lock(reqID string) func() {
	s.mu.Lock()
	l := s.lanes[reqID]
	if l == nil {
		l = &lane{}
		s.lanes[reqID] = l
	}
	l.users++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		if l.users--; l.users == 0 {
			delete(s.lanes, reqID)
		}
		s.mu.Unlock()
	}
}

// read reads frames until the session ends: answers go to their waiters
// (the answer to a ping resets the missed count), messages and events to
// onFrame, and a disconnected_event ends the session with errKicked.
func (s *session) read(ctx context.Context, onFrame func(*session, inFrame)) {
	for {
		_, data, err := s.c.Read(ctx)
		if err != nil {
			s.end(fmt.Errorf("read: %w", err))
			return
		}
		var f inFrame
		if err := json.Unmarshal(data, &f); err != nil {
			s.log.Warn("aibot: a frame that is not JSON was ignored", zap.Int("bytes", len(data)))
			continue
		}
		switch {
		case f.Cmd == "":
			s.answer(f)
		case f.Cmd == cmdEventCallback && eventType(f.Body) == eventDisconnected:
			s.end(errKicked)
			return
		case f.Cmd == cmdMsgCallback || f.Cmd == cmdEventCallback:
			onFrame(s, f)
		default:
			s.log.Warn("aibot: a frame of an unknown command was ignored", zap.String("cmd", f.Cmd))
		}
	}
}

// answer hands an answer to its waiter.
func (s *session) answer(f inFrame) {
	s.mu.Lock()
	w := s.waiting[f.Headers.ReqID]
	s.mu.Unlock()
	switch {
	case w != nil:
		select {
		case w <- f:
		default:
		}
	case strings.HasPrefix(f.Headers.ReqID, cmdPing+"_"):
		if f.Errcode == 0 {
			s.missed.Store(0)
		}
	}
}

// heartbeat pings every heartbeatEvery until the session ends, and ends it
// when maxMissedAcks pings in a row went unanswered.
func (s *session) heartbeat(ctx context.Context) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.missed.Load() >= maxMissedAcks {
			s.log.Warn("aibot: the connection is dead: heartbeats unanswered", zap.Int("missed", maxMissedAcks))
			s.end(errHeartbeat)
			return
		}
		s.missed.Add(1)
		if err := s.write(ctx, outFrame{Cmd: cmdPing, Headers: wsHeaders{ReqID: newReqID(cmdPing)}}); err != nil {
			return
		}
	}
}

// eventType reads body.event.eventtype of an event frame.
func eventType(body json.RawMessage) string {
	var b struct {
		Event struct {
			EventType string `json:"eventtype"`
		} `json:"event"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Event.EventType
}
