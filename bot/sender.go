package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"yanzhen/models"
)

// sender sends one outbox row, in the manner of alertmanager's notifiers:
// retry reports whether trying again later may succeed.
type sender interface {
	Send(ctx context.Context, m *models.OutboxMessage) (retry bool, err error)
}

// Target kinds: the WeCom endpoint a row goes to.
const (
	targetWebhook = "webhook"        // the group robot webhook
	targetAIBot   = "aibot/response" // an AI bot's one-time response_url
	targetApp     = "message/send"   // app message to members
)

// target is where a row goes in WeCom's terms. Key is the webhook key or the
// response code: a credential, never logged (Name is for logs).
type target struct {
	Kind   string
	Key    string
	ChatID string
	Users  []string // app messages: the member userids
	// Fallback is set when a reply URL was not under api_base and the row
	// goes through the configured robot instead.
	Fallback bool
}

// Name describes the target for logs and for administrators, without the
// credential: a robot by a short hash of its key, members by userid.
func (t target) Name() string {
	switch t.Kind {
	case targetWebhook:
		name := "机器人 " + keyID(t.Key)
		if t.ChatID != "" {
			name += " 群 " + t.ChatID
		}
		return name
	case targetAIBot:
		if t.ChatID != "" {
			return "智能机器人回复 群 " + t.ChatID
		}
		return "智能机器人回复"
	case targetApp:
		return "成员 " + strings.Join(t.Users, "、")
	case targetAIBotWSReply, targetAIBotPush:
		return aibotTargetName(t)
	}
	return t.Kind
}

// keyID names a webhook key in logs: the first 8 hex digits of its SHA-256.
func keyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// unsendable returns an error saying why a row can never be sent; Classify
// calls it permanent.
func unsendable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUnsupported, fmt.Sprintf(format, args...))
}

// resolver turns rows into targets. A reply URL from a callback is trusted
// only when its scheme and host are api_base's: the robot's WebhookUrl is
// otherwise replaced by the configured robot and the chat id, and an AI
// bot's response_url refused, so that a callback can never make the bot post
// elsewhere (SSRF).
type resolver struct {
	base     *url.URL
	robotKey string
	replies  *replyRefs
	// robots are the keys of wecom.robots by name.
	robots map[string]string
}

// target returns where m goes.
func (r *resolver) target(m *models.OutboxMessage) (target, error) {
	switch m.Channel {
	case channelRobot:
		key := r.robotKey
		if m.To != "" {
			if key = r.robots[m.To]; key == "" {
				return target{}, unsendable("robot %q is not configured (wecom.robots.%s.webhook_key)", m.To, m.To)
			}
		}
		if key == "" {
			return target{}, unsendable("no robot webhook key is configured (wecom.robot.webhook_key)")
		}
		return target{Kind: targetWebhook, Key: key, ChatID: m.ChatID}, nil
	case channelReply:
		return r.reply(m)
	case channelAIBotReply, channelAIBotPush:
		return aibotTarget(m)
	case channelApp:
		users := strings.Split(m.To, "|")
		if m.To == "" {
			return target{}, unsendable("app message without recipients")
		}
		return target{Kind: targetApp, Users: users}, nil
	}
	return target{}, unsendable("unknown channel %q", m.Channel)
}

// reply resolves a reply URL: a robot's WebhookUrl or an AI bot's response_url.
func (r *resolver) reply(m *models.OutboxMessage) (target, error) {
	to, robot, ok := r.replies.url(m.To)
	switch {
	case !ok:
		return target{}, unsendable("reply URL sealed under other callback secrets (the configuration changed)")
	case robot && r.robotKey == "":
		return target{}, unsendable("no robot webhook key is configured (wecom.robot.webhook_key)")
	case robot:
		return target{Kind: targetWebhook, Key: r.robotKey, ChatID: m.ChatID}, nil
	}
	u, err := url.Parse(to)
	trusted := err == nil && to != "" && u.Scheme == r.base.Scheme && u.Host == r.base.Host && u.User == nil
	base := strings.TrimSuffix(r.base.Path, "/")
	if trusted {
		q := u.Query()
		switch {
		case u.Path == base+"/cgi-bin/webhook/send" && q.Get("key") != "":
			return target{Kind: targetWebhook, Key: q.Get("key"), ChatID: m.ChatID}, nil
		case u.Path == base+aibotResponsePath && q.Get("response_code") != "":
			return target{Kind: targetAIBot, Key: q.Get("response_code"), ChatID: m.ChatID}, nil
		}
	}
	if err == nil && strings.HasSuffix(u.Path, aibotResponsePath) {
		return target{}, unsendable("AI bot response_url is not under wecom.api_base")
	}
	if r.robotKey == "" || m.ChatID == "" {
		return target{}, unsendable("reply URL is not under wecom.api_base and no robot can stand in")
	}
	return target{Kind: targetWebhook, Key: r.robotKey, ChatID: m.ChatID, Fallback: true}, nil
}

// wecomSender sends rows through the WeCom API.
type wecomSender struct {
	resolver *resolver
	client   *client
	log      *zap.Logger
	aibot    *longConn // nil unless the AI bot runs on its long connection
	// media reads the payloads of image and file rows and keeps the
	// media_ids they were uploaded as.
	media mediaStore
	now   func() time.Time
}

// Send implements sender: it sends m to its target and classifies the error.
func (s *wecomSender) Send(ctx context.Context, m *models.OutboxMessage) (bool, error) {
	t, err := s.resolver.target(m)
	if err == nil && m.Channel == channelRobot && m.ChatID == "" {
		err = errNoChat
	}
	if err == nil {
		if t.Fallback {
			s.log.Warn("reply URL not under wecom.api_base: replying through the configured robot",
				zap.Uint("outbox_id", m.ID), zap.String("target", t.Name()))
		}
		err = s.send(ctx, t, m)
	}
	if err == nil {
		return false, nil
	}
	return Classify(err) != Permanent, err
}

func (s *wecomSender) send(ctx context.Context, t target, m *models.OutboxMessage) error {
	if m.Media != "" {
		return s.sendMedia(ctx, t, m)
	}
	switch t.Kind {
	case targetWebhook:
		rm, err := robotPayload(m)
		if err != nil {
			return err
		}
		rm.ChatID = t.ChatID
		return s.client.webhook(ctx, t.Key, rm)
	case targetAIBot:
		return s.client.aibotResponse(ctx, t.Key, aibotPayload(m))
	case targetAIBotWSReply, targetAIBotPush:
		if s.aibot == nil {
			return unsendable("the AI bot's long connection is not configured (wecom.aibot.mode: websocket)")
		}
		return s.aibot.deliver(ctx, t, m)
	case targetApp:
		if m.Kind == kindCardUpdate {
			return s.sendCardUpdate(ctx, t, m)
		}
		am, err := appPayload(m)
		if err != nil {
			return err
		}
		return s.appMessage(ctx, t, m, am)
	}
	return unsendable("unknown target %q", t.Kind)
}

// appMessage sends am to t's members as row m, and logs the members WeCom
// did not know.
func (s *wecomSender) appMessage(ctx context.Context, t target, m *models.OutboxMessage, am *appMessage) error {
	am.ToUser = strings.Join(t.Users, "|")
	res, err := s.client.appMessage(ctx, am)
	if err == nil && res.InvalidUser != "" {
		s.log.Warn("app message not delivered to some members: userids unknown to WeCom",
			zap.Uint("outbox_id", m.ID), zap.String("invalid_users", res.InvalidUser))
	}
	return err
}

// robotPayload wraps a rendered row for the robot webhook: text with its
// mention list, or markdown.
func robotPayload(m *models.OutboxMessage) (*robotMessage, error) {
	switch m.Kind {
	case kindText:
		return &robotMessage{MsgType: "text", Text: &robotText{
			Content: m.Body, MentionedList: m.Mentions, MentionedMobileList: m.MentionMobiles,
		}}, nil
	case kindMarkdown:
		return &robotMessage{MsgType: "markdown", Markdown: &contentField{Content: m.Body}}, nil
	}
	return nil, unsendable("kind %q on the robot webhook", m.Kind)
}

// aibotPayload wraps a rendered row as the markdown an AI bot's response_url takes.
func aibotPayload(m *models.OutboxMessage) *robotMessage {
	return &robotMessage{MsgType: "markdown", Markdown: &contentField{Content: m.Body}}
}

// appPayload wraps a rendered row as an app message: text or markdown.
func appPayload(m *models.OutboxMessage) (*appMessage, error) {
	switch m.Kind {
	case kindText:
		return &appMessage{MsgType: "text", Text: &contentField{Content: m.Body}}, nil
	case kindMarkdown:
		return &appMessage{MsgType: "markdown", Markdown: &contentField{Content: m.Body}}, nil
	case kindTemplateCard:
		return &appMessage{MsgType: "template_card", TemplateCard: json.RawMessage(m.Body)}, nil
	}
	return nil, unsendable("kind %q in an app message", m.Kind)
}

// reasonText says in Chinese why a send failed, for an administrator.
func reasonText(err error) string {
	var ae *APIError
	var se *StatusError
	switch {
	case errors.As(err, &ae):
		if why, ok := permanentCodes[ae.Code]; ok {
			return fmt.Sprintf("%s（错误码 %d）", why, ae.Code)
		}
		if why, ok := credentialCodes[ae.Code]; ok {
			return fmt.Sprintf("%s（错误码 %d）", why, ae.Code)
		}
		return fmt.Sprintf("企业微信返回错误码 %d", ae.Code)
	case errors.As(err, &se):
		return fmt.Sprintf("企业微信接口返回 HTTP %d", se.Status)
	case isNoChat(err):
		return "工作群未配置群聊 chat_id，为免发到机器人所在的每个群，未发送（请在组织架构的工作群中填写 chat_id，或配置 wecom.robot.chat_id）"
	case errors.Is(err, errUnsupported):
		return "消息无法通过该渠道发送"
	case errors.Is(err, errExpired):
		return "超过重试期限"
	}
	return "网络或服务异常"
}
