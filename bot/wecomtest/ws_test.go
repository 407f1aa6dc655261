package wecomtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a bare client of the long connection, speaking raw frames.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
	n int
}

func dialWS(t *testing.T, s *Server) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &wsClient{t: t, c: c}
}

// send writes a frame with a fresh req_id (or reqID when given) and returns the req_id.
func (w *wsClient) send(cmd, reqID string, body any) string {
	w.t.Helper()
	if reqID == "" {
		w.n++
		reqID = cmd + "_" + string(rune('a'+w.n))
	}
	f := map[string]any{"cmd": cmd, "headers": map[string]string{"req_id": reqID}}
	if body != nil {
		f["body"] = body
	}
	data, err := json.Marshal(f)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.c.Write(context.Background(), websocket.MessageText, data); err != nil {
		w.t.Fatal(err)
	}
	return reqID
}

// read returns the next frame, or fails after a second.
func (w *wsClient) read() map[string]any {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, data, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		w.t.Fatal(err)
	}
	return f
}

// call sends a frame and returns the errcode of its ack.
func (w *wsClient) call(cmd string, body any) int {
	w.t.Helper()
	id := w.send(cmd, "", body)
	f := w.read()
	if h, _ := f["headers"].(map[string]any); h["req_id"] != id {
		w.t.Fatalf("answer %v to %s", f, id)
	}
	return errcode(f)
}

func subscribe(w *wsClient, id, secret string) int {
	return w.call("aibot_subscribe", map[string]string{"bot_id": id, "secret": secret})
}

func TestLongConnectionSubscribesPingsAndReplies(t *testing.T) {
	s, clock := start(t, WithAIBot("aibTest", "s3cret"))
	w := dialWS(t, s)
	if code := w.call("ping", nil); code != ErrcodeBadCredentials {
		t.Errorf("a ping before subscribing: errcode %d", code)
	}
	w = dialWS(t, s)
	if code := subscribe(w, "aibTest", "s3cret"); code != 0 {
		t.Fatalf("subscribe: errcode %d", code)
	}
	if code := w.call("ping", nil); code != 0 {
		t.Errorf("ping: errcode %d", code)
	}
	reqID, err := s.PushText(AIBotMessage{MsgID: "m1", ChatID: "wrkG", UserID: "zhangsan", BotName: "雁阵", Content: "日报 正常"})
	if err != nil {
		t.Fatal(err)
	}
	f := w.read()
	body, _ := f["body"].(map[string]any)
	if f["cmd"] != "aibot_msg_callback" || body["msgid"] != "m1" || body["chatid"] != "wrkG" || body["aibotid"] != "aibTest" ||
		body["text"].(map[string]any)["content"] != "@雁阵 日报 正常" || f["headers"].(map[string]any)["req_id"] != reqID {
		t.Fatalf("pushed frame %v", f)
	}
	stream := func(content string) map[string]any {
		return map[string]any{"msgtype": "stream", "stream": map[string]any{"id": "s1", "finish": true, "content": content}}
	}
	w.send("aibot_respond_msg", reqID, stream("已收到"))
	if code := errcode(w.read()); code != 0 {
		t.Errorf("reply: errcode %d", code)
	}
	w.send("aibot_respond_msg", "someone-elses", stream("已收到"))
	if code := errcode(w.read()); code != ErrcodeInvalidReqID {
		t.Errorf("a reply with an unknown req_id: errcode %d", code)
	}
	w.send("aibot_respond_msg", reqID, stream(strings.Repeat("长", ContentMax/3+1)))
	if code := errcode(w.read()); code != 40058 {
		t.Errorf("an over-long reply: errcode %d", code)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Route != RouteRespond || msgs[0].Content != "已收到" || msgs[0].ChatID != "wrkG" || msgs[0].ChatType != "group" || !msgs[0].Finish {
		t.Fatalf("delivered %+v", msgs)
	}

	// Pushes: to the group (seen in a message) and to a member's single chat, 20 a minute per chat.
	push := func(chat string) int {
		return w.call("aibot_send_msg", map[string]any{"chatid": chat, "msgtype": "markdown", "markdown": map[string]string{"content": "**日报**"}})
	}
	for i := range PushPerMinute {
		if code := push("wrkG"); code != 0 {
			t.Fatalf("push %d: errcode %d", i+1, code)
		}
	}
	if code := push("wrkG"); code != 45009 {
		t.Errorf("push over the limit: errcode %d", code)
	}
	if code := push("lisi"); code != 0 {
		t.Errorf("push to a single chat: errcode %d", code)
	}
	clock.Advance(time.Minute)
	if code := push("wrkG"); code != 0 {
		t.Errorf("push a minute later: errcode %d", code)
	}
	last := s.Messages()
	if r := last[len(last)-2]; r.Route != RouteSendMsg || r.ChatType != "single" || len(r.ToUser) != 1 || r.ToUser[0] != "lisi" {
		t.Errorf("the single-chat push %+v", r)
	}

	// Events: a welcome within 5 s of enter_chat, not after, and not to a message.
	enter, err := s.PushEvent(AIBotEvent{EventType: "enter_chat", UserID: "lisi"})
	if err != nil {
		t.Fatal(err)
	}
	w.read()
	welcome := map[string]any{"msgtype": "text", "text": map[string]string{"content": "您好"}}
	w.send("aibot_respond_welcome_msg", reqID, welcome)
	if code := errcode(w.read()); code != ErrcodeInvalidReqID {
		t.Errorf("a welcome to a message: errcode %d", code)
	}
	clock.Advance(EventReplyWindow + time.Second)
	w.send("aibot_respond_welcome_msg", enter, welcome)
	if code := errcode(w.read()); code != ErrcodeInvalidReqID {
		t.Errorf("a late welcome: errcode %d", code)
	}
}

func TestLongConnectionFaults(t *testing.T) {
	s, _ := start(t)
	bad := dialWS(t, s)
	if code := subscribe(bad, DefaultBotID, "wrong"); code != ErrcodeBadCredentials {
		t.Errorf("a wrong secret: errcode %d", code)
	}
	if _, _, err := bad.c.Read(context.Background()); err == nil {
		t.Error("a refused connection stays open")
	}

	first := dialWS(t, s)
	if code := subscribe(first, DefaultBotID, DefaultBotSecret); code != 0 {
		t.Fatalf("subscribe: %d", code)
	}
	s.MuteHeartbeats(1)
	first.send("ping", "ping_1", nil)
	if code := first.call("ping", nil); code != 0 {
		t.Errorf("the ping after the muted one: errcode %d", code)
	}
	var pings []Request
	for _, r := range s.Requests() {
		if r.Route == RoutePing {
			pings = append(pings, r)
		}
	}
	if len(pings) != 2 || pings[0].Status != 0 || pings[1].Status != 200 {
		t.Errorf("pings %+v", pings)
	}

	// A second subscriber takes over: the first hears disconnected_event and is closed.
	second := dialWS(t, s)
	if code := subscribe(second, DefaultBotID, DefaultBotSecret); code != 0 {
		t.Fatalf("second subscribe: %d", code)
	}
	f := first.read()
	if ev, _ := f["body"].(map[string]any)["event"].(map[string]any); f["cmd"] != "aibot_event_callback" || ev["eventtype"] != "disconnected_event" {
		t.Errorf("the first connection heard %v", f)
	}
	if _, err := s.PushText(AIBotMessage{UserID: "zhangsan", Content: "x"}); err != nil {
		t.Fatal(err)
	}
	if f := second.read(); f["cmd"] != "aibot_msg_callback" {
		t.Errorf("the push went to %v", f)
	}
	s.DropConnections()
	if _, _, err := second.c.Read(context.Background()); err == nil {
		t.Error("a dropped connection still reads")
	}
	if _, err := s.PushText(AIBotMessage{UserID: "zhangsan", Content: "x"}); err != ErrNoConnection {
		t.Errorf("a push without a connection: %v", err)
	}
}
