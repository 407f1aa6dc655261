package bot

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

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
	targetAppChat = "appchat/send"   // app message to an app group chat
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
	case targetAppChat:
		return "应用群聊 " + t.ChatID
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
}

// target returns where m goes.
func (r *resolver) target(m *models.OutboxMessage) (target, error) {
	switch m.Channel {
	case models.ChannelRobot:
		key := m.To
		if key == "" {
			key = r.robotKey
		}
		if key == "" {
			return target{}, unsendable("no robot webhook key is configured (wecom.robot.webhook_key)")
		}
		return target{Kind: targetWebhook, Key: key, ChatID: m.ChatID}, nil
	case models.ChannelReply:
		return r.reply(m)
	case models.ChannelApp:
		users := strings.Split(m.To, "|")
		if m.To == "" {
			return target{}, unsendable("app message without recipients")
		}
		return target{Kind: targetApp, Users: users}, nil
	case models.ChannelAppChat:
		if m.To == "" {
			return target{}, unsendable("app chat message without a chat id")
		}
		return target{Kind: targetAppChat, ChatID: m.To}, nil
	}
	return target{}, unsendable("unknown channel %q", m.Channel)
}

// reply resolves a reply URL: a robot's WebhookUrl or an AI bot's response_url.
func (r *resolver) reply(m *models.OutboxMessage) (target, error) {
	u, err := url.Parse(m.To)
	trusted := err == nil && m.To != "" && u.Scheme == r.base.Scheme && u.Host == r.base.Host && u.User == nil
	base := strings.TrimSuffix(r.base.Path, "/")
	if trusted {
		q := u.Query()
		switch {
		case u.Path == base+"/cgi-bin/webhook/send" && q.Get("key") != "":
			return target{Kind: targetWebhook, Key: q.Get("key"), ChatID: m.ChatID}, nil
		case u.Path == base+models.AIBotResponsePath && q.Get("response_code") != "":
			return target{Kind: targetAIBot, Key: q.Get("response_code"), ChatID: m.ChatID}, nil
		}
	}
	if err == nil && strings.HasSuffix(u.Path, models.AIBotResponsePath) {
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
}

// Send implements sender: it sends m to its target and classifies the error.
func (s *wecomSender) Send(ctx context.Context, m *models.OutboxMessage) (bool, error) {
	t, err := s.resolver.target(m)
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
	case targetApp:
		am, err := appPayload(m)
		if err != nil {
			return err
		}
		am.ToUser = strings.Join(t.Users, "|")
		res, err := s.client.appMessage(ctx, am)
		if err == nil && res.InvalidUser != "" {
			s.log.Warn("app message not delivered to some members: userids unknown to WeCom",
				zap.Uint("outbox_id", m.ID), zap.String("invalid_users", res.InvalidUser))
		}
		return err
	case targetAppChat:
		am, err := appPayload(m)
		if err != nil {
			return err
		}
		am.ChatID = t.ChatID
		return s.client.appChat(ctx, am)
	}
	return unsendable("unknown target %q", t.Kind)
}

// robotPayload renders m for the robot webhook, which takes text, markdown
// and images but no text card: a card becomes markdown.
func robotPayload(m *models.OutboxMessage) (*robotMessage, error) {
	switch m.Kind {
	case models.KindText:
		return &robotMessage{MsgType: "text", Text: &robotText{
			Content: m.Body, MentionedList: m.Mentions, MentionedMobileList: m.MentionMobiles,
		}}, nil
	case models.KindMarkdown, models.KindTextCard:
		return &robotMessage{MsgType: "markdown", Markdown: &contentField{Content: markdown(m, models.BodyLimit(models.ChannelRobot, models.KindMarkdown))}}, nil
	case models.KindImage:
		data, err := base64.StdEncoding.DecodeString(m.Body)
		if err != nil {
			return nil, unsendable("image body is not base64")
		}
		sum := md5.Sum(data)
		return &robotMessage{MsgType: "image", Image: &imageField{Base64: m.Body, MD5: hex.EncodeToString(sum[:])}}, nil
	}
	return nil, unsendable("kind %q on the robot webhook", m.Kind)
}

// aibotPayload renders m as the markdown an AI bot's response_url takes.
func aibotPayload(m *models.OutboxMessage) *robotMessage {
	return &robotMessage{MsgType: "markdown", Markdown: &contentField{Content: markdown(m, models.AIBotResponseLimit)}}
}

// appPayload renders m as an app message: text, markdown, or a text card
// (as text when it has no link, which a card requires).
func appPayload(m *models.OutboxMessage) (*appMessage, error) {
	switch {
	case m.Kind == models.KindText:
		return &appMessage{MsgType: "text", Text: &contentField{Content: m.Body}}, nil
	case m.Kind == models.KindMarkdown:
		return &appMessage{MsgType: "markdown", Markdown: &contentField{Content: m.Body}}, nil
	case m.Kind == models.KindTextCard && m.URL != "":
		return &appMessage{MsgType: "textcard", TextCard: &textCardField{Title: m.Title, Description: m.Body, URL: m.URL, BtnTxt: "详情"}}, nil
	case m.Kind == models.KindTextCard:
		return &appMessage{MsgType: "text", Text: &contentField{Content: joinNonEmpty("\n", m.Title, m.Body)}}, nil
	}
	return nil, unsendable("kind %q in an app message (images go through the robot)", m.Kind)
}

// markdown renders m as markdown of at most limit bytes: a card's title in
// bold and its link, and the mentions as <@userid> where they fit and the
// body does not already carry them.
func markdown(m *models.OutboxMessage, limit int) string {
	body := m.Body
	if m.Kind == models.KindTextCard {
		body = joinNonEmpty("\n", boldTitle(m.Title), m.Body)
		if m.URL != "" {
			body += "\n[查看详情](" + m.URL + ")"
		}
	}
	var tags strings.Builder
	for _, u := range m.Mentions {
		if tag := "<@" + u + ">"; !strings.Contains(body, tag) {
			tags.WriteString(tag)
		}
	}
	if tags.Len() > 0 && len(body)+1+tags.Len() <= limit {
		body += "\n" + tags.String()
	}
	return body
}

func boldTitle(title string) string {
	if title == "" {
		return ""
	}
	return "**" + title + "**"
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
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
		return fmt.Sprintf("企业微信返回错误码 %d", ae.Code)
	case errors.As(err, &se):
		return fmt.Sprintf("企业微信接口返回 HTTP %d", se.Status)
	case errors.Is(err, errUnsupported):
		return "消息无法通过该渠道发送"
	}
	return "网络或服务异常"
}
