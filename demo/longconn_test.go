package demo

import (
	"strings"
	"testing"

	"yanzhen/bot/wecomtest"
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
