package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestTheAIBotAloneRunsOnItsLongConnection(t *testing.T) {
	c, err := Parse([]byte("wecom: {aibot: {mode: websocket, bot_id: aibQ9, chat_id: wrkGroup}}"),
		[]string{"YANZHEN_WECOM_AIBOT_SECRET=ws-secret-77"})
	if err != nil {
		t.Fatal(err)
	}
	a := c.WeCom.AIBot
	if !a.WebSocket() || a.BotID != "aibQ9" || a.Secret.Reveal() != "ws-secret-77" || a.WSURL != DefaultAIBotWSURL || a.ChatID != "wrkGroup" {
		t.Fatalf("aibot = %+v", a)
	}
	if s := fmt.Sprintf("%v %+v", c.WeCom, a); strings.Contains(s, "ws-secret-77") {
		t.Errorf("the secret prints: %s", s)
	}
	on := map[string]Feature{}
	for _, f := range c.WeCom.Features() {
		if f.On {
			on[f.Name] = f
		}
	}
	ws, ok := on["智能机器人长连接"]
	if len(on) != 1 || !ok {
		t.Fatalf("features on: %v", on)
	}
	for _, want := range []string{"无需公网地址", "群消息", "成员单聊消息"} {
		if !strings.Contains(ws.Gives, want) {
			t.Errorf("the long connection gives %q, want it to say %q", ws.Gives, want)
		}
	}

	// With a robot and an app beside it, the connection carries what they do not.
	c.WeCom.Robot.WebhookKey, c.WeCom.CorpID, c.WeCom.AgentID, c.WeCom.Secret = "k", "ww1", 1000002, "s"
	for _, f := range c.WeCom.Features() {
		if f.Name == "智能机器人长连接" && f.Gives != "无需公网地址：收消息、回复" {
			t.Errorf("beside a robot and an app the connection gives %q", f.Gives)
		}
	}
	if d := Default(); d.WeCom.AIBot.WebSocket() || d.WeCom.AIBot.Mode != AIBotCallback {
		t.Errorf("the default mode is %q", d.WeCom.AIBot.Mode)
	}
}

func TestAIBotKeysAreCheckedForTheirMode(t *testing.T) {
	for _, c := range []struct{ yaml, key, rule string }{
		{"{mode: socket}", "wecom.aibot.mode", "must be callback or websocket"},
		{"{mode: websocket, bot_id: b}", "wecom.aibot", "needs bot_id and secret"},
		{"{mode: websocket, secret: s}", "wecom.aibot", "needs bot_id and secret"},
		{"{mode: websocket, bot_id: b, secret: s, ws_url: 'https://openws.work.weixin.qq.com'}", "wecom.aibot.ws_url", "ws:// or wss://"},
		{"{mode: websocket, bot_id: b, secret: s, token: t, aes_key: ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut}", "wecom.aibot", "mode callback only"},
		{"{bot_id: b, secret: s}", "wecom.aibot.mode", "must be websocket"},
	} {
		_, err := Parse([]byte("wecom: {aibot: "+c.yaml+"}"), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Rule, c.rule) {
			t.Errorf("%s: %v, want %s %s", c.yaml, err, c.key, c.rule)
		}
		if err != nil && strings.Contains(err.Error(), ": s ") {
			t.Errorf("%s: the error shows the secret: %v", c.yaml, err)
		}
	}
	if _, err := Parse([]byte("wecom: {aibot: {mode: websocket, bot_id: b, secret: s, ws_url: 'ws://127.0.0.1:8080/wecom-sim/openws'}}"), nil); err != nil {
		t.Errorf("a local ws URL: %v", err)
	}
}
