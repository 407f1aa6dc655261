package demo

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestTheDemoRunsOnTheAIBotAlone(t *testing.T) {
	cfg, err := Config("127.0.0.1:8080", "x.db", []string{AIBotWSEnv, "YANZHEN_SCHEDULE_ENABLED=false"})
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.WeCom
	if !w.AIBot.WebSocket() || w.AIBot.WSURL != "ws://127.0.0.1:8080"+SimPrefix+"/openws" || w.AIBot.ChatID != ChatID ||
		w.Robot.WebhookKey.IsSet() || w.Robot.Token.IsSet() || w.AppConfigured() || w.AppCallback.Token.IsSet() || cfg.Schedule.Enabled {
		t.Errorf("wecom = %+v", w)
	}
	for _, c := range []struct {
		r    wecomtest.Request
		kind EventKind
		to   string
	}{
		{wecomtest.Request{Route: wecomtest.RouteRespond, Status: 200, ChatType: "group", ChatID: ChatID, MsgType: "stream", Content: "已收到"}, EventGroup, ""},
		{wecomtest.Request{Route: wecomtest.RouteSendMsg, Status: 200, ChatType: "single", ToUser: []string{"wangjianhua"}, MsgType: "markdown", Content: "调度"}, EventApp, "wangjianhua"},
		{wecomtest.Request{Route: wecomtest.RouteSendMsg, Status: 200, Errcode: 45009, ChatType: "group", ChatID: ChatID}, EventNotice, ""},
	} {
		e, ok := fromFake(c.r, "雁阵")
		if !ok || e.Kind != c.kind || strings.Join(e.To, "|") != c.to {
			t.Errorf("%s %d: %+v %v", c.r.Route, c.r.Errcode, e, ok)
		}
		if c.kind == EventNotice && !strings.Contains(e.Content, "智能机器人消息") {
			t.Errorf("refusal %q", e.Content)
		}
	}
	for _, r := range []wecomtest.Route{wecomtest.RouteSubscribe, wecomtest.RoutePing} {
		if _, ok := fromFake(wecomtest.Request{Route: r, Status: 200}, "雁阵"); ok {
			t.Errorf("%s shows on the page", r)
		}
	}
}

// TestTapsOnTheAIBotsCards: on the AI bot's long connection alone, a tap on
// a card the bot sent a member is pushed to the bot as template_card_event,
// and the bot's update of the card within the event's window is a card
// event with the member's view.
func TestTapsOnTheAIBotsCards(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(ln.Addr().String(), "unused.db", []string{AIBotWSEnv})
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.Open(t, models.DriverSQLite, storetest.Options{})
	srv, err := New(t.Context(), Options{Config: cfg, Store: store, Jobs: &stubJobs{}})
	if err != nil {
		t.Fatal(err)
	}
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler()}}
	ts.Start()
	t.Cleanup(ts.Close)
	r := &rig{url: BaseURL(ln.Addr().String()), srv: srv, cfg: cfg}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, cfg.WeCom.AIBot.WSURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send := func(cmd, reqID string, body any) map[string]any {
		t.Helper()
		data, _ := json.Marshal(map[string]any{"cmd": cmd, "headers": map[string]string{"req_id": reqID}, "body": body})
		if err := c.Write(ctx, websocket.MessageText, data); err != nil {
			t.Fatal(err)
		}
		return readFrame(ctx, t, c)
	}
	if f := send("aibot_subscribe", "s1", map[string]string{"bot_id": cfg.WeCom.AIBot.BotID, "secret": cfg.WeCom.AIBot.Secret.Reveal()}); f["errcode"] != 0.0 {
		t.Fatalf("subscribe: %v", f)
	}
	if f := send("aibot_send_msg", "m1", map[string]any{"chatid": "wangjianhua", "msgtype": "template_card", "template_card": dispatchCard("D12_ws", false)}); f["errcode"] != 0.0 {
		t.Fatalf("send the card: %v", f)
	}
	_, evs, ids := r.events(t, "", 1)
	if e := evs[0]; e.Kind != EventApp || e.TaskID != "D12_ws" || strings.Join(e.To, "|") != "wangjianhua" || e.Card == nil {
		t.Fatalf("card event %+v", e)
	}
	if code, out := r.post(t, "/demo/tap", "application/json", `{"userid":"wangjianhua","task_id":"D12_ws","key":"dispatch:12:sign"}`); code != http.StatusOK {
		t.Fatalf("tap: %d %v", code, out)
	}
	f := readFrame(ctx, t, c)
	event, _ := f["body"].(map[string]any)["event"].(map[string]any)
	if tap, _ := event["template_card_event"].(map[string]any); f["cmd"] != "aibot_event_callback" || tap["event_key"] != "dispatch:12:sign" || tap["task_id"] != "D12_ws" {
		t.Fatalf("the bot heard %v", f)
	}
	reqID := f["headers"].(map[string]any)["req_id"].(string)
	if f := send("aibot_respond_update_msg", reqID, map[string]any{"response_type": "update_template_card", "template_card": dispatchCard("D12_ws", true)}); f["errcode"] != 0.0 {
		t.Fatalf("update: %v", f)
	}
	_, evs, _ = r.events(t, ids[0], 1)
	if e := evs[0]; e.Kind != EventCard || e.TaskID != "D12_ws" || !strings.Contains(string(e.Views["wangjianhua"].Card), "已签收 · 王建华 12:03") {
		t.Errorf("update event %+v", e)
	}
}

func readFrame(ctx context.Context, t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}
