// Package demo is `yanzhen demo`: the whole product on one machine, with no
// WeCom account and no network. It holds the demo's configuration (local
// credentials that only ever meet the built-in fake WeCom), the seeded demo
// district 高新区, and a web page that plays the district's WeCom group: what
// people say there becomes a signed, encrypted robot callback to the real
// /wecom/robot route, exactly as WeCom sends it, and what the bot sends is
// read back off the fake WeCom as it arrives.
package demo

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
)

// SimPrefix is the path under which the demo serves the fake WeCom on its own
// listener; the bot's wecom.api_base points there.
const SimPrefix = "/wecom-sim"

// AIBotWSEnv runs the demo on the AI bot's long connection alone.
const AIBotWSEnv = "YANZHEN_WECOM_AIBOT_MODE=" + config.AIBotWebSocket

// DefaultDB is the SQLite file of a demo started without --db.
const DefaultDB = "yanzhen-demo.db"

// ChatID is the chat id of the demo group in the robot callbacks.
const ChatID = "wrkSFfCgAAdemo-gaoxin-group"

// The demo's credentials. They are local only: the bot presents them to the
// fake WeCom served by the same process, where they open nothing real, and
// they never appear in a log line. The corp, secret, agent and webhook key are
// the fake's defaults; the callback tokens and keys are made up for the demo.
const (
	robotToken  = "yanzhenDemoRobot"
	robotAESKey = "YanzhenDemoRobotCallbackKeyLocalOnly0000001"
	appToken    = "yanzhenDemoApp"
	appAESKey   = "YanzhenDemoAppCallbackKeyLocalOnly000000001"
	aibotToken  = "yanzhenDemoAIBot"
	aibotAESKey = "YanzhenDemoAIBotCallbackKeyLocalOnly0000001"
)

// Config returns the configuration of a demo whose listener is bound to addr
// (host:port as bound) with its SQLite database at dbPath: the embedded
// defaults with console logs, and every WeCom address and credential pointed
// at the fake WeCom served under SimPrefix on the same listener. The YANZHEN_*
// variables of environ override the rest, as for `serve` (for example
// YANZHEN_SCHEDULE_ENABLED=false, YANZHEN_LOG_LEVEL=debug).
//
// With YANZHEN_WECOM_AIBOT_MODE=websocket (what `yanzhen demo --aibot-ws`
// sets) the demo runs as an installation with the AI bot alone: it dials
// the fake's long connection, and has no robot, no app and no callback.
func Config(addr, dbPath string, environ []string) (*config.Config, error) {
	ws := slices.Contains(environ, AIBotWSEnv)
	c, err := config.Parse(nil, slices.DeleteFunc(slices.Clone(environ), func(v string) bool { return v == AIBotWSEnv }))
	if err != nil {
		return nil, err
	}
	c.Database = config.Database{Driver: "sqlite", DSN: config.Secret(dbPath)}
	c.HTTP.Listen = addr
	if c.Log.Format == "" {
		c.Log.Format = "console"
	}
	// The page shows replies as they are sent: poll the outbox more often
	// than the service's default.
	c.Outbox.PollEvery = config.Duration(250 * time.Millisecond)
	c.WeCom.APIBase = BaseURL(addr) + SimPrefix
	c.WeCom.CorpID = wecomtest.DefaultCorpID
	c.WeCom.AgentID = wecomtest.DefaultAgentID
	c.WeCom.Secret = wecomtest.DefaultSecret
	c.WeCom.Robot = config.Robot{WebhookKey: wecomtest.DefaultWebhookKey, Token: robotToken, AESKey: robotAESKey}
	c.WeCom.AppCallback = config.Callback{Token: appToken, AESKey: appAESKey}
	c.WeCom.AIBot = config.AIBot{Mode: config.AIBotCallback, Token: aibotToken, AESKey: aibotAESKey}
	if ws {
		c.WeCom.CorpID, c.WeCom.AgentID, c.WeCom.Secret = "", 0, ""
		c.WeCom.Robot, c.WeCom.AppCallback = config.Robot{}, config.Callback{}
		c.WeCom.AIBot = config.AIBot{
			Mode: config.AIBotWebSocket, BotID: wecomtest.DefaultBotID, Secret: wecomtest.DefaultBotSecret,
			WSURL: "ws" + strings.TrimPrefix(c.WeCom.APIBase, "http") + "/openws", ChatID: ChatID,
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	return c, nil
}

// BaseURL returns the http URL at which this machine reaches a listener bound
// to addr: an unspecified host (":8080", "0.0.0.0:8080", "[::]:8080") becomes
// the loopback address.
func BaseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Loopback reports whether a listener bound to addr is reachable from this
// machine only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
