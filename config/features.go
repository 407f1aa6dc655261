package config

import (
	"net/url"
	"strings"
)

// validate checks the AI bot's keys for its mode: callback takes token and
// aes_key, websocket takes bot_id, secret and a ws(s) URL. A key of the
// other mode is refused rather than ignored, so that an operator never
// believes a mode is on that is not.
func (a AIBot) validate() error {
	switch a.Mode {
	case AIBotCallback:
		if a.BotID != "" || a.Secret.IsSet() {
			return &Error{Key: "wecom.aibot.mode", Rule: "must be websocket when wecom.aibot.bot_id or secret is set"}
		}
	case AIBotWebSocket:
		switch {
		case a.BotID == "" || !a.Secret.IsSet():
			return &Error{Key: "wecom.aibot", Rule: "needs bot_id and secret in mode websocket"}
		case a.Token.IsSet() || a.AESKey.IsSet():
			return &Error{Key: "wecom.aibot", Rule: "takes token and aes_key in mode callback only; mode websocket needs no callback crypto"}
		case !isWSURL(a.WSURL):
			return &Error{Key: "wecom.aibot.ws_url", Rule: "must be a ws:// or wss:// URL"}
		}
	default:
		return &Error{Key: "wecom.aibot.mode", Rule: "must be callback or websocket"}
	}
	return nil
}

func isWSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "ws" || u.Scheme == "wss") && u.Host != ""
}

// Feature is one thing the configured WeCom credentials make possible.
type Feature struct {
	// Name is what the credentials are (群机器人, 自建应用, 智能机器人…).
	Name string
	// Keys are the configuration keys that turn it on.
	Keys string
	// On reports whether they are set.
	On bool
	// Gives says what it does for the service.
	Gives string
}

// Features says which features the WeCom credentials enable, in the order
// `serve` logs them. Any one set is enough to run: the AI bot on its long
// connection alone receives messages, replies, posts to the group and
// messages members in their single chats.
func (w WeCom) Features() []Feature {
	app := w.AppConfigured()
	return []Feature{
		{"群机器人", "wecom.robot.webhook_key", w.Robot.WebhookKey.IsSet(), "群消息（日报、提醒、通报）"},
		{"群机器人回调", "wecom.robot.token, aes_key", w.Robot.Token.IsSet(), "群里 @机器人 的消息（需公网地址 /wecom/robot）"},
		{"各工作群机器人", "wecom.robots.<名称>.webhook_key, token, aes_key", len(w.Robots) > 0, "组织架构 groups 中各工作群用自己的机器人发消息、收 @机器人 的消息"},
		{"自建应用", "wecom.corp_id, agent_id, secret", app, "成员单聊消息（通知、交办）"},
		{"自建应用回调", "wecom.app_callback.token, aes_key", w.AppCallback.Token.IsSet(), "成员单聊发来的消息（需公网地址 /wecom/app）"},
		{"智能机器人回调", "wecom.aibot.token, aes_key", w.AIBot.Token.IsSet(), "@智能机器人 的消息与回复（需公网地址 /wecom/aibot）"},
		{"智能机器人长连接", "wecom.aibot.mode: websocket, bot_id, secret", w.AIBot.WebSocket(),
			"无需公网地址：收消息、回复" + w.aibotPushes(app)},
	}
}

// AppConfigured reports whether the self-built app can send: corp_id,
// agent_id and secret are all set.
func (w WeCom) AppConfigured() bool { return w.CorpID != "" && w.AgentID > 0 && w.Secret.IsSet() }

// aibotPushes says what the long connection also carries, given which
// other channels are configured.
func (w WeCom) aibotPushes(app bool) string {
	var also []string
	if !w.Robot.WebhookKey.IsSet() {
		also = append(also, "群消息（wecom.aibot.chat_id）")
	}
	if !app {
		also = append(also, "成员单聊消息")
	}
	if len(also) == 0 {
		return ""
	}
	return "，以及" + strings.Join(also, "、")
}
