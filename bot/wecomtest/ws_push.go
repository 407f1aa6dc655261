package wecomtest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// PushText pushes a text message to the AI bot on its subscribed long
// connection, as WeCom does when a member @-mentions it in a group or
// writes to it in a single chat (aibot_msg_callback), and returns the
// frame's req_id. ResponseURL is not sent: the long connection has none.
// Pushing the same MsgID again, on the same connection or after a
// reconnect, is what WeCom does when it is unsure a frame arrived.
func (s *Server) PushText(m AIBotMessage) (string, error) {
	m = m.withDefaults()
	body := map[string]any{
		"msgid": m.MsgID, "aibotid": m.AIBotID, "chattype": m.ChatType, "from": userRef{m.UserID},
		"msgtype": "text", "text": content{m.Content},
	}
	if m.ChatID != "" {
		body["chatid"] = m.ChatID
	}
	return s.push("aibot_msg_callback", body, &pushed{chatID: m.ChatID, chatType: m.ChatType, userID: m.UserID})
}

// PushEvent pushes an event to the AI bot (aibot_event_callback) and returns
// the frame's req_id.
func (s *Server) PushEvent(e AIBotEvent) (string, error) {
	if e.MsgID == "" {
		e.MsgID = randomHex(12)
	}
	if e.ChatType == "" {
		e.ChatType = "single"
	}
	ev := map[string]any{"eventtype": e.EventType}
	if e.EventType == "template_card_event" { // the tap's details nest under the event's type
		ev[e.EventType] = map[string]string{"card_type": e.CardType, "event_key": e.EventKey, "task_id": e.TaskID}
	}
	body := map[string]any{
		"msgid": e.MsgID, "chattype": e.ChatType, "from": userRef{e.UserID}, "msgtype": "event", "event": ev,
	}
	if e.ChatID != "" && e.ChatType == "group" {
		body["chatid"] = e.ChatID
	}
	return s.push("aibot_event_callback", body, &pushed{chatID: e.ChatID, chatType: e.ChatType, userID: e.UserID, event: e.EventType, taskID: e.TaskID})
}

// push sends a frame on the subscribed connection of the AI bot (the only
// one, or the default) and remembers its req_id for the replies.
func (s *Server) push(cmd string, body map[string]any, p *pushed) (string, error) {
	reqID := randomHex(16)
	s.mu.Lock()
	conn := s.aibotConnLocked()
	if conn == nil {
		s.mu.Unlock()
		return "", ErrNoConnection
	}
	body["aibotid"] = conn.botID
	body["create_time"] = s.now().Unix()
	p.at = s.now()
	conn.reqs[reqID] = p
	if p.chatType == "group" && p.chatID != "" {
		s.ws.groups[p.chatID] = true
	}
	s.mu.Unlock()
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	data, err := json.Marshal(frame{Cmd: cmd, Headers: frameHeaders{ReqID: reqID}, Body: raw})
	if err != nil {
		return "", err
	}
	if err := conn.c.Write(ctx, websocket.MessageText, data); err != nil {
		return "", errors.Join(ErrNoConnection, err)
	}
	return reqID, nil
}

// aibotConnLocked returns the subscribed connection: of the only bot the
// fake knows, or of any.
func (s *Server) aibotConnLocked() *wsConn {
	for _, c := range s.ws.live {
		return c
	}
	return nil
}

// AIBotConnected reports whether a connection of the AI bot is subscribed.
func (s *Server) AIBotConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aibotConnLocked() != nil
}

// DropConnections closes every long connection at once, without a close
// frame, as a network failure does.
func (s *Server) DropConnections() {
	s.mu.Lock()
	var conns []*wsConn
	for _, c := range s.ws.conns {
		conns = append(conns, c)
	}
	s.ws.live = map[string]*wsConn{}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.c.CloseNow()
	}
}

// MuteHeartbeats leaves the next n pings, on any connection, unanswered.
func (s *Server) MuteHeartbeats(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ws.mute = n
}

// Kick tells the subscribed connection that another connection of the
// same bot took over (disconnected_event) and closes it, as WeCom does when
// a second client subscribes. It reports whether there was one.
func (s *Server) Kick() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	conn := s.aibotConnLocked()
	if conn != nil {
		s.kickLocked(conn)
	}
	return conn != nil
}

// PipeClient returns an HTTP client that reaches the fake in memory, through
// net.Pipe, whatever the URL's host: dial WSURL with it. Tests under
// testing/synctest use it, since a real socket is not durably blocking.
// Build the Server and call PipeClient inside the bubble; Close stops it.
func (s *Server) PipeClient() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws.pipe == nil {
		s.ws.pipe = &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
		s.ws.pipeSrv = &http.Server{Handler: s.mux, ReadHeaderTimeout: 5 * time.Second}
		srv, ln := s.ws.pipeSrv, s.ws.pipe
		go func() { _ = srv.Serve(ln) }()
	}
	return &http.Client{Transport: &http.Transport{DialContext: s.ws.pipe.dial}}
}

// closeWS stops the in-memory listener and every long connection.
func (s *Server) closeWS() {
	s.mu.Lock()
	srv := s.ws.pipeSrv
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	s.DropConnections()
}

// pipeListener is a net.Listener of in-memory connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "wecomtest" }
