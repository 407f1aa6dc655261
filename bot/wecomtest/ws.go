package wecomtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// The AI bot's long connection (智能机器人长连接, document 101463): the
// service dials the fake, subscribes with its bot id and secret, pings, and
// receives messages and events pushed as frames; it replies with a pushed
// frame's req_id and pushes to a chat on its own. Every frame the service
// sends is recorded as a Request under the route named by its cmd.
const (
	RouteSubscribe Route = "aibot_subscribe"           // the connection's authentication
	RoutePing      Route = "ping"                      // heartbeat
	RouteRespond   Route = "aibot_respond_msg"         // a reply, with a pushed message's req_id
	RouteWelcome   Route = "aibot_respond_welcome_msg" // a welcome, with an enter_chat event's req_id
	RouteUpdate    Route = "aibot_respond_update_msg"  // a card update, with a template_card_event's req_id
	RouteSendMsg   Route = "aibot_send_msg"            // a push to a chat
)

// Credentials of the AI bot a Server built without WithAIBot accepts.
const (
	DefaultBotID     = "aibyanzhendemo"
	DefaultBotSecret = "yanzhen-demo-aibot-secret"
)

// The long connection's limits and answers.
const (
	// ContentMax is the most bytes of a stream reply's or a push's markdown
	// content ("最长不超过 20480 个字节").
	ContentMax = 20480
	// PushPerMinute is how many pushes one chat takes in any sliding
	// minute; more get errcode 45009. WeCom documents no such limit: the
	// fake assumes the group robot's, as the bot does.
	PushPerMinute = 20
	// EventReplyWindow is how long after an enter_chat or template_card_event
	// its welcome or card update is taken ("收到事件回调后需在 5 秒内发送回复").
	EventReplyWindow = 5 * time.Second
	// ErrcodeBadCredentials answers a subscribe with an unknown bot id or a
	// wrong secret, and any frame before a subscribe; the fake then closes
	// the connection. WeCom documents no code: the fake uses gettoken's.
	ErrcodeBadCredentials = 40001
	// ErrcodeInvalidReqID answers a reply whose req_id was not pushed on
	// this connection (another connection's, or an event's where a message's
	// is needed), as WeCom does.
	ErrcodeInvalidReqID = 846605
)

// ErrNoConnection is the error of a push when no connection of the bot is
// subscribed.
var ErrNoConnection = errors.New("wecomtest: the AI bot has no subscribed long connection")

// AIBotEvent is an event pushed to the AI bot: enter_chat, template_card_event
// (with EventKey, TaskID and CardType; Server.Tap pushes it for a card the
// fake recorded), feedback_event or disconnected_event.
type AIBotEvent struct {
	MsgID     string // empty means random
	EventType string
	ChatID    string
	ChatType  string // "single" (the default) or "group"
	UserID    string
	EventKey  string
	TaskID    string
	CardType  string
}

// wsState is the long connections' side of the fake, guarded by Server.mu.
type wsState struct {
	bots    map[string]string // bot id → secret
	conns   map[int]*wsConn
	live    map[string]*wsConn // bot id → its subscribed connection
	nextID  int
	mute    int                    // pings left unanswered
	pushes  map[string][]time.Time // chatid → accepted pushes
	groups  map[string]bool        // chatids of group chats seen in pushed messages
	pipe    *pipeListener
	pipeSrv *http.Server
}

// wsConn is one connection to the fake.
type wsConn struct {
	id    int
	c     *websocket.Conn
	botID string             // set once subscribed
	reqs  map[string]*pushed // the req_ids pushed on this connection
}

// pushed is a frame the fake pushed, as a reply to it must match.
type pushed struct {
	chatID, chatType, userID string
	event                    string // "" for a message
	taskID                   string // template_card_event: the card tapped
	at                       time.Time
}

func newWSState() *wsState {
	return &wsState{
		bots: map[string]string{DefaultBotID: DefaultBotSecret}, conns: map[int]*wsConn{}, live: map[string]*wsConn{},
		pushes: map[string][]time.Time{}, groups: map[string]bool{},
	}
}

// WithAIBot sets the AI bot the long connection accepts, replacing
// DefaultBotID; a subscribe with another id or secret is refused.
func WithAIBot(botID, secret string) Option {
	return func(s *Server) { s.ws.bots = map[string]string{botID: secret} }
}

// WSURL returns the address of the long connection under the base URL, the
// wecom.aibot.ws_url a service under test dials; on a Server neither
// started nor given a URL, an address for PipeClient.
func (s *Server) WSURL() string {
	base := s.URL()
	if base == "" {
		base = "http://wecomtest.pipe"
	}
	return "ws" + strings.TrimPrefix(base, "http") + "/openws"
}

// serveWS serves one long connection: it reads the service's frames and
// answers each, until the connection ends.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the failed handshake
	}
	c.SetReadLimit(1 << 20)
	s.mu.Lock()
	s.ws.nextID++
	conn := &wsConn{id: s.ws.nextID, c: c, reqs: map[string]*pushed{}}
	s.ws.conns[conn.id] = conn
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.ws.conns, conn.id)
		if s.ws.live[conn.botID] == conn {
			delete(s.ws.live, conn.botID)
		}
		s.mu.Unlock()
		_ = c.CloseNow()
	}()
	ctx := r.Context()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if !s.wsFrame(ctx, conn, data) {
			return
		}
	}
}

// frame is a frame of the long connection, either way.
type frame struct {
	Cmd     string          `json:"cmd,omitempty"`
	Headers frameHeaders    `json:"headers"`
	Body    json.RawMessage `json:"body,omitempty"`
	Errcode *int            `json:"errcode,omitempty"`
	Errmsg  string          `json:"errmsg,omitempty"`
}

type frameHeaders struct {
	ReqID string `json:"req_id"`
}

// wsBody holds the fields of every body the fake reads.
type wsBody struct {
	BotID   string `json:"bot_id"`
	Secret  string `json:"secret"`
	ChatID  string `json:"chatid"`
	MsgType string `json:"msgtype"`
	Stream  *struct {
		ID      string `json:"id"`
		Finish  bool   `json:"finish"`
		Content string `json:"content"`
	} `json:"stream"`
	Markdown     *content      `json:"markdown"`
	Text         *content      `json:"text"`
	ResponseType string        `json:"response_type"`
	TemplateCard *templateCard `json:"template_card"`
	UserIDs      []string      `json:"userids"` // aibot_respond_update_msg: whose card; empty means everyone's

	card json.RawMessage // the template_card object as sent
}

// wsFrame answers one frame of conn and reports whether the connection stays
// open.
func (s *Server) wsFrame(ctx context.Context, conn *wsConn, data []byte) bool {
	var f frame
	if err := json.Unmarshal(data, &f); err != nil || f.Cmd == "" {
		return true // not a frame the fake understands: ignored, as WeCom gives no answer to it
	}
	var b wsBody
	bodyErr := json.Unmarshal(f.Body, &b)
	b.card = cardJSON(f.Body)
	s.mu.Lock()
	s.seq++
	req := Request{Seq: s.seq, Time: s.now(), Route: Route(f.Cmd), Body: data, MsgType: b.MsgType}
	a, keep, answered := s.wsAnswerLocked(conn, &req, &f, &b, bodyErr)
	if answered {
		req.Status, req.Errcode = http.StatusOK, a.errcode
	}
	s.recordLocked(req)
	s.mu.Unlock()
	if answered {
		s.wsSend(ctx, conn, frame{Headers: f.Headers, Errcode: &a.errcode, Errmsg: errmsg(a)})
	}
	if !keep {
		// Like WeCom, close with a close frame after the answer, so that the
		// client reads the refusal before the end of the connection.
		_ = conn.c.Close(websocket.StatusPolicyViolation, errmsg(a))
	}
	return keep
}

func errmsg(a answer) string {
	if a.errcode == 0 {
		return "ok"
	}
	return a.errmsg
}

// wsAnswerLocked decides the answer to a frame, filling req; answered is
// false when the fake stays silent (a muted ping).
func (s *Server) wsAnswerLocked(conn *wsConn, req *Request, f *frame, b *wsBody, bodyErr error) (a answer, keep, answered bool) {
	if f.Cmd == string(RouteSubscribe) {
		if secret, ok := s.ws.bots[b.BotID]; !ok || secret != b.Secret || b.Secret == "" {
			return failure(ErrcodeBadCredentials, "invalid bot_id or secret"), false, true
		}
		if old := s.ws.live[b.BotID]; old != nil && old != conn {
			s.kickLocked(old)
		}
		conn.botID = b.BotID
		s.ws.live[b.BotID] = conn
		return success(nil), true, true
	}
	if conn.botID == "" {
		return failure(ErrcodeBadCredentials, "not subscribed"), false, true
	}
	if f.Cmd == string(RoutePing) {
		if s.ws.mute > 0 {
			s.ws.mute--
			return answer{}, true, false
		}
		return success(nil), true, true
	}
	if bodyErr != nil {
		return failure(40058, "Warning: wrong json format. invalid Request Parameter"), true, true
	}
	switch Route(f.Cmd) {
	case RouteRespond:
		return s.respondLocked(conn, req, f.Headers.ReqID, b), true, true
	case RouteWelcome, RouteUpdate:
		return s.eventReplyLocked(conn, req, f.Headers.ReqID, b), true, true
	case RouteSendMsg:
		return s.sendMsgLocked(req, b), true, true
	}
	return failure(40008, "unknown cmd "+f.Cmd), true, true
}

// respondLocked checks a reply: the req_id of a message pushed on this
// connection, a stream of at most ContentMax bytes or a template card.
func (s *Server) respondLocked(conn *wsConn, req *Request, reqID string, b *wsBody) answer {
	p := conn.reqs[reqID]
	if p == nil {
		return failure(ErrcodeInvalidReqID, "invalid req_id")
	}
	s.addressLocked(req, p.chatID, p.chatType, p.userID)
	switch b.MsgType {
	case "stream", "stream_with_template_card":
		if p.event != "" {
			return failure(ErrcodeInvalidReqID, "invalid req_id")
		}
		if b.Stream == nil || b.Stream.ID == "" {
			return failure(40058, "stream.id missing. invalid Request Parameter")
		}
		req.Content, req.StreamID, req.Finish = b.Stream.Content, b.Stream.ID, b.Stream.Finish
		if len(b.Stream.Content) > ContentMax {
			return failure(40058, fmt.Sprintf("stream.content exceed max length %d. invalid Request Parameter", ContentMax))
		}
	case "template_card":
		if p.event != "" && p.event != "enter_chat" {
			return failure(ErrcodeInvalidReqID, "invalid req_id")
		}
		return s.newCardLocked(req, b)
	default:
		return failure(40008, "invalid message type")
	}
	return success(nil)
}

// eventReplyLocked checks a welcome (to enter_chat) or a card update (to
// template_card_event), each within EventReplyWindow of its event.
func (s *Server) eventReplyLocked(conn *wsConn, req *Request, reqID string, b *wsBody) answer {
	want := "enter_chat"
	if req.Route == RouteUpdate {
		want = "template_card_event"
	}
	p := conn.reqs[reqID]
	if p == nil || p.event != want || req.Time.Sub(p.at) > EventReplyWindow {
		return failure(ErrcodeInvalidReqID, "invalid req_id")
	}
	s.addressLocked(req, p.chatID, p.chatType, p.userID)
	if req.Route == RouteUpdate {
		if b.ResponseType != "update_template_card" {
			return failure(40058, "response_type must be update_template_card. invalid Request Parameter")
		}
		if a := s.cardLocked(req, b); a.errcode != 0 {
			return a
		}
		s.updateAIBotCardLocked(req, p, b)
		return success(nil)
	}
	switch {
	case b.MsgType == "text" && b.Text != nil && b.Text.Content != "":
		req.Content = b.Text.Content
		return success(nil)
	case b.MsgType == "template_card":
		return s.newCardLocked(req, b)
	}
	return failure(40008, "invalid message type")
}

// cardLocked checks the template card of a frame.
func (s *Server) cardLocked(req *Request, b *wsBody) answer {
	if a := checkCard(b.TemplateCard, allCards); a.errcode != 0 {
		return a
	}
	req.MsgType, req.Content = "template_card", b.TemplateCard.text()
	return success(nil)
}

// newCardLocked checks a card the bot sends as a reply or welcome, and
// records it, addressed as req is.
func (s *Server) newCardLocked(req *Request, b *wsBody) answer {
	if a := s.cardLocked(req, b); a.errcode != 0 {
		return a
	}
	if a := s.taskIDFreeLocked(b.TemplateCard); a.errcode != 0 {
		return a
	}
	s.keepCardLocked(req, b.TemplateCard, b.card, req.ChatID, req.ToUser)
	return success(nil)
}

// updateAIBotCardLocked applies a card update to the tapped card, for the
// members in userids or, without them, for everyone; an update naming another
// task_id is discarded, as WeCom does.
func (s *Server) updateAIBotCardLocked(req *Request, p *pushed, b *wsBody) {
	sc := s.cards[p.taskID]
	if sc == nil || b.TemplateCard.TaskID != p.taskID {
		return
	}
	req.TaskID = sc.TaskID
	view := CardView{Card: b.card, Updated: req.Time}
	if len(b.UserIDs) == 0 || sc.ChatID != "" {
		for u := range sc.Views {
			sc.Views[u] = view
		}
		return
	}
	for _, u := range lowerAll(b.UserIDs) {
		if _, ok := sc.Views[u]; ok {
			sc.Views[u] = view
		}
	}
}

// sendMsgLocked checks a push: a chat, markdown of at most ContentMax bytes
// or a template card, within PushPerMinute of the chat.
func (s *Server) sendMsgLocked(req *Request, b *wsBody) answer {
	if b.ChatID == "" {
		return failure(40058, "chatid missing. invalid Request Parameter")
	}
	chatType := "single"
	if s.ws.groups[b.ChatID] {
		chatType = "group"
	}
	s.addressLocked(req, b.ChatID, chatType, b.ChatID)
	switch b.MsgType {
	case "markdown":
		if b.Markdown == nil || b.Markdown.Content == "" {
			return failure(44004, "empty content")
		}
		req.Content = b.Markdown.Content
		if len(req.Content) > ContentMax {
			return failure(40058, fmt.Sprintf("markdown.content exceed max length %d. invalid Request Parameter", ContentMax))
		}
	case "template_card":
		if a := s.cardLocked(req, b); a.errcode != 0 {
			return a
		}
		if a := s.taskIDFreeLocked(b.TemplateCard); a.errcode != 0 {
			return a
		}
	default:
		return failure(40008, "invalid message type")
	}
	sent := within(s.ws.pushes[b.ChatID], req.Time, time.Minute)
	if len(sent) >= PushPerMinute {
		return failure(45009, "api freq out of limit")
	}
	s.ws.pushes[b.ChatID] = append(sent, req.Time)
	if b.MsgType == "template_card" {
		s.keepCardLocked(req, b.TemplateCard, b.card, req.ChatID, req.ToUser)
	}
	return success(nil)
}

// addressLocked names where a reply or push went: a group chat by ChatID, a
// single chat by its member in ToUser.
func (s *Server) addressLocked(req *Request, chatID, chatType, userID string) {
	req.ChatType = chatType
	if chatType == "group" {
		req.ChatID = chatID
		return
	}
	req.ToUser = []string{userID}
}

// kickLocked tells a connection another took over, with a
// disconnected_event, and closes it, as WeCom does. The fake, like any
// server, closes a connection it is done with at once, without waiting for
// the client's close frame.
func (s *Server) kickLocked(conn *wsConn) {
	delete(s.ws.live, conn.botID)
	body, _ := json.Marshal(map[string]any{
		"msgid": randomHex(12), "create_time": s.now().Unix(), "aibotid": conn.botID, "msgtype": "event",
		"event": map[string]string{"eventtype": "disconnected_event"},
	})
	c := conn.c
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		data, _ := json.Marshal(frame{Cmd: "aibot_event_callback", Headers: frameHeaders{ReqID: randomHex(16)}, Body: body})
		_ = c.Write(ctx, websocket.MessageText, data)
		_ = c.CloseNow()
	}()
}

// wsSend writes a frame to conn; a connection that fails to take it is
// closed.
func (s *Server) wsSend(ctx context.Context, conn *wsConn, f frame) {
	data, err := json.Marshal(f)
	if err != nil {
		panic(err)
	}
	if err := conn.c.Write(ctx, websocket.MessageText, data); err != nil {
		_ = conn.c.CloseNow()
	}
}
