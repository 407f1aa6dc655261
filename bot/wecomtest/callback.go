package wecomtest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"yanzhen/bot/wxcrypt"
)

// CallbackSigner plays WeCom sending callbacks to the bot: it builds the
// signed, encrypted requests of one callback route, configured with the same
// token, EncodingAESKey and receiveid as the bot's handler.
type CallbackSigner struct {
	// Now stamps the callbacks (timestamp, CreateTime); nil means time.Now.
	Now func() time.Time

	crypter   *wxcrypt.Crypter
	receiveID string
}

// NewCallbackSigner returns a signer for a route; receiveID is the CorpID
// for the self-built app and "" for the group robot and the AI bot.
func NewCallbackSigner(token, encodingAESKey, receiveID string) (*CallbackSigner, error) {
	c, err := wxcrypt.New(token, encodingAESKey, receiveID)
	if err != nil {
		return nil, fmt.Errorf("callback signer: %w", err)
	}
	return &CallbackSigner{crypter: c, receiveID: receiveID}, nil
}

// Callback is one request as WeCom sends it to a callback URL: the query
// (msg_signature, timestamp, nonce, and echostr for a GET) and the body.
type Callback struct {
	Method      string
	Query       url.Values
	Body        []byte // nil for a GET
	ContentType string
	Plaintext   []byte // the message inside, for assertions
}

// Request returns the callback as an HTTP request to target, an absolute URL
// or a path such as "/wecom/robot?robot_callback_format=json"; the callback's
// query is added to target's.
func (c Callback) Request(target string) (*http.Request, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("callback target: %w", err)
	}
	q := u.Query()
	for k, vs := range c.Query {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	var body io.Reader = http.NoBody
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	r, err := http.NewRequest(c.Method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("callback request: %w", err)
	}
	if c.ContentType != "" {
		r.Header.Set("Content-Type", c.ContentType)
	}
	return r, nil
}

// AppMessage is a text message a member sends to the self-built app.
type AppMessage struct {
	ToUserName   string // the CorpID; empty means the signer's receiveid
	FromUserName string // the member's userid
	Content      string
	MsgID        string // empty means a random 64-bit number
	AgentID      int
}

// RobotMessage is a text message that @-mentions the group robot.
type RobotMessage struct {
	WebhookURL string // where the robot replies, e.g. Server.WebhookURL(key)
	MsgID      string // empty means random
	ChatID     string
	ChatType   string // "group" (the default) or "single"
	UserID     string
	Name       string
	Alias      string
	BotName    string // if set, Content is prefixed with "@BotName ", as WeCom does
	Content    string
}

// AIBotMessage is a text message to the AI bot (智能机器人).
type AIBotMessage struct {
	MsgID       string // empty means random
	AIBotID     string
	ChatID      string // sent only in a group chat
	ChatType    string // "group" (the default) or "single"
	UserID      string
	ResponseURL string // e.g. Server.ResponseURL(chatID)
	BotName     string // if set and in a group, Content is prefixed with "@BotName "
	Content     string
}

// URLVerification returns the GET with which WeCom checks a callback URL;
// the handler must answer with echo as the body.
func (s *CallbackSigner) URLVerification(echo string) (Callback, error) {
	env, err := s.seal([]byte(echo))
	if err != nil {
		return Callback{}, err
	}
	q := query(env)
	q.Set("echostr", env.Encrypt)
	return Callback{Method: http.MethodGet, Query: q, Plaintext: []byte(echo)}, nil
}

// AppText returns the POST of a text message to the self-built app: XML
// plaintext, wrapped as <xml><ToUserName/><Encrypt/><AgentID/></xml>.
func (s *CallbackSigner) AppText(m AppMessage) (Callback, error) {
	if m.MsgID == "" {
		m.MsgID = randomDigits()
	}
	return s.appCallback(m.ToUserName, m.FromUserName, "text", m.AgentID, func(b *strings.Builder) {
		element(b, "Content", m.Content)
		fmt.Fprintf(b, "<MsgId>%s</MsgId>", m.MsgID)
	})
}

// AppCardEvent returns the POST of a tap on a template card to the
// self-built app (Event template_card_event), from the event Server.Tap
// returned.
func (s *CallbackSigner) AppCardEvent(e CardEvent) (Callback, error) {
	return s.appCallback("", e.UserID, "event", e.AgentID, func(b *strings.Builder) {
		element(b, "Event", "template_card_event")
		element(b, "EventKey", e.EventKey)
		element(b, "TaskId", e.TaskID)
		element(b, "CardType", e.CardType)
		element(b, "ResponseCode", e.ResponseCode)
	})
}

// appCallback seals the XML plaintext of a message or event from the member
// from to the app: the header (ToUserName, empty meaning the signer's
// receiveid; FromUserName; CreateTime; MsgType), what fields writes, and
// AgentID; and wraps it as <xml><ToUserName/><Encrypt/><AgentID/></xml>.
func (s *CallbackSigner) appCallback(to, from, msgType string, agentID int, fields func(*strings.Builder)) (Callback, error) {
	if to == "" {
		to = s.receiveID
	}
	var b strings.Builder
	b.WriteString("<xml>")
	element(&b, "ToUserName", to)
	element(&b, "FromUserName", from)
	fmt.Fprintf(&b, "<CreateTime>%d</CreateTime>", s.now().Unix())
	element(&b, "MsgType", msgType)
	fields(&b)
	fmt.Fprintf(&b, "<AgentID>%d</AgentID></xml>", agentID)

	plain := []byte(b.String())
	env, err := s.seal(plain)
	if err != nil {
		return Callback{}, err
	}
	b.Reset()
	b.WriteString("<xml>")
	element(&b, "ToUserName", to)
	element(&b, "Encrypt", env.Encrypt)
	element(&b, "AgentID", strconv.Itoa(agentID))
	b.WriteString("</xml>")
	return xmlCallback(env, b.String(), plain), nil
}

// RobotText returns the POST of an @-mention of the group robot in WeCom's
// default XML form.
func (s *CallbackSigner) RobotText(m RobotMessage) (Callback, error) {
	m = m.withDefaults()
	var b strings.Builder
	b.WriteString("<xml>")
	element(&b, "WebhookUrl", m.WebhookURL)
	element(&b, "MsgId", m.MsgID)
	element(&b, "ChatId", m.ChatID)
	fmt.Fprintf(&b, "<ChatType>%s</ChatType><From>", m.ChatType)
	element(&b, "UserId", m.UserID)
	element(&b, "Name", m.Name)
	element(&b, "Alias", m.Alias)
	b.WriteString("</From><MsgType>text</MsgType><Text>")
	element(&b, "Content", m.Content)
	b.WriteString("</Text></xml>")

	plain := []byte(b.String())
	env, err := s.seal(plain)
	if err != nil {
		return Callback{}, err
	}
	b.Reset()
	b.WriteString("<xml>")
	element(&b, "Encrypt", env.Encrypt)
	b.WriteString("</xml>")
	return xmlCallback(env, b.String(), plain), nil
}

// RobotTextJSON returns the POST of an @-mention of the group robot in the
// JSON form, sent to a URL configured with ?robot_callback_format=json
// (which the returned query carries).
func (s *CallbackSigner) RobotTextJSON(m RobotMessage) (Callback, error) {
	m = m.withDefaults()
	type from struct {
		UserID string `json:"userid"`
		Name   string `json:"name"`
		Alias  string `json:"alias"`
	}
	plain, err := json.Marshal(struct {
		WebhookURL string  `json:"webhook_url"`
		MsgID      string  `json:"msgid"`
		ChatID     string  `json:"chatid"`
		ChatType   string  `json:"chattype"`
		From       from    `json:"from"`
		MsgType    string  `json:"msgtype"`
		Text       content `json:"text"`
	}{m.WebhookURL, m.MsgID, m.ChatID, m.ChatType, from{m.UserID, m.Name, m.Alias}, "text", content{m.Content}})
	if err != nil {
		return Callback{}, fmt.Errorf("robot callback: %w", err)
	}
	c, err := s.jsonCallback(plain)
	if err != nil {
		return Callback{}, err
	}
	c.Query.Set("robot_callback_format", "json")
	return c, nil
}

// AIBotText returns the POST of a text message to the AI bot: JSON
// plaintext wrapped as {"encrypt":…}.
func (s *CallbackSigner) AIBotText(m AIBotMessage) (Callback, error) {
	m = m.withDefaults()
	plain, err := json.Marshal(struct {
		MsgID       string  `json:"msgid"`
		AIBotID     string  `json:"aibotid"`
		ChatID      string  `json:"chatid,omitempty"`
		ChatType    string  `json:"chattype"`
		From        userRef `json:"from"`
		ResponseURL string  `json:"response_url"`
		MsgType     string  `json:"msgtype"`
		Text        content `json:"text"`
	}{m.MsgID, m.AIBotID, m.ChatID, m.ChatType, userRef{m.UserID}, m.ResponseURL, "text", content{m.Content}})
	if err != nil {
		return Callback{}, fmt.Errorf("AI bot callback: %w", err)
	}
	return s.jsonCallback(plain)
}

type userRef struct {
	UserID string `json:"userid"`
}

// withDefaults fills a random MsgID and the group chat type, drops the
// ChatID of a single chat and prefixes a group message with "@BotName ".
func (m AIBotMessage) withDefaults() AIBotMessage {
	if m.MsgID == "" {
		m.MsgID = randomHex(12)
	}
	if m.ChatType == "" {
		m.ChatType = "group"
	}
	if m.ChatType != "group" {
		m.ChatID = ""
	} else if m.BotName != "" {
		m.Content = "@" + m.BotName + " " + m.Content
	}
	return m
}

func (m RobotMessage) withDefaults() RobotMessage {
	if m.MsgID == "" {
		m.MsgID = randomHex(12)
	}
	if m.ChatType == "" {
		m.ChatType = "group"
	}
	if m.BotName != "" {
		m.Content = "@" + m.BotName + " " + m.Content
	}
	return m
}

func (s *CallbackSigner) seal(plain []byte) (wxcrypt.Envelope, error) {
	env, err := s.crypter.Seal(plain, s.now().Unix(), randomDigits())
	if err != nil {
		return wxcrypt.Envelope{}, fmt.Errorf("callback: %w", err)
	}
	return env, nil
}

func (s *CallbackSigner) jsonCallback(plain []byte) (Callback, error) {
	env, err := s.seal(plain)
	if err != nil {
		return Callback{}, err
	}
	body, _ := json.Marshal(map[string]string{"encrypt": env.Encrypt})
	return Callback{Method: http.MethodPost, Query: query(env), Body: body, ContentType: "application/json", Plaintext: plain}, nil
}

func xmlCallback(env wxcrypt.Envelope, body string, plain []byte) Callback {
	return Callback{Method: http.MethodPost, Query: query(env), Body: []byte(body), ContentType: "text/xml", Plaintext: plain}
}

func query(env wxcrypt.Envelope) url.Values {
	return url.Values{
		"msg_signature": {env.Signature},
		"timestamp":     {strconv.FormatInt(env.Timestamp, 10)},
		"nonce":         {env.Nonce},
	}
}

func (s *CallbackSigner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// element writes <name><![CDATA[value]]></name>.
func element(b *strings.Builder, name, value string) {
	fmt.Fprintf(b, "<%s>%s</%s>", name, wxcrypt.CDATA(value), name)
}

// randomDigits returns a random decimal string, like WeCom's nonces and app
// MsgIds.
func randomDigits() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:])>>1, 10)
}
