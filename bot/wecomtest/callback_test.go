package wecomtest

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"yanzhen/bot/wxcrypt"
)

const (
	testToken  = "QDG6eK"
	testAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	testCorpID = "wx5823bf96d3bd56c7"
)

func signer(t *testing.T, receiveID string) (*CallbackSigner, *wxcrypt.Crypter) {
	t.Helper()
	s, err := NewCallbackSigner(testToken, testAESKey, receiveID)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = NewClock(t0).Now
	c, err := wxcrypt.New(testToken, testAESKey, receiveID)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// open plays the bot's handler: it checks the request as a real one would
// and returns the plaintext.
func open(t *testing.T, c *wxcrypt.Crypter, r *http.Request, jsonBody bool) []byte {
	t.Helper()
	q := r.URL.Query()
	if q.Get("timestamp") != "1772413200" {
		t.Errorf("timestamp = %s, want the signer's clock", q.Get("timestamp"))
	}
	if r.Method == http.MethodGet {
		plain, err := c.VerifyURL(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"))
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	parse := wxcrypt.ParseXMLEnvelope
	if jsonBody {
		parse = wxcrypt.ParseJSONEnvelope
	}
	enc, err := parse(body)
	if err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	plain, err := c.Open(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), enc)
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

func TestURLVerification(t *testing.T) {
	s, c := signer(t, "")
	cb, err := s.URLVerification("1616140317555161061")
	if err != nil {
		t.Fatal(err)
	}
	r, err := cb.Request("http://bot.local/wecom/robot")
	if err != nil {
		t.Fatal(err)
	}
	if got := open(t, c, r, false); string(got) != "1616140317555161061" {
		t.Fatalf("echo = %q", got)
	}
}

func TestAppText(t *testing.T) {
	s, c := signer(t, testCorpID)
	cb, err := s.AppText(AppMessage{FromUserName: "zhangsan", Content: "日报 今日办结12件 <ok>]]>", MsgID: "4561255354251345929", AgentID: 1000002})
	if err != nil {
		t.Fatal(err)
	}
	r, err := cb.Request("/wecom/app")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ ToUserName, AgentID string }
	if err := xml.Unmarshal(cb.Body, &env); err != nil || env.ToUserName != testCorpID || env.AgentID != "1000002" {
		t.Fatalf("envelope %s: %+v %v", cb.Body, env, err)
	}
	var msg struct {
		ToUserName, FromUserName, MsgType, Content, MsgId string
		CreateTime                                        int64
		AgentID                                           int
	}
	if err := xml.Unmarshal(open(t, c, r, false), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.ToUserName != testCorpID || msg.FromUserName != "zhangsan" || msg.MsgType != "text" ||
		msg.Content != "日报 今日办结12件 <ok>]]>" || msg.MsgId != "4561255354251345929" ||
		msg.CreateTime != t0.Unix() || msg.AgentID != 1000002 {
		t.Fatalf("plaintext %+v", msg)
	}
	// The app route's callback does not open on a robot route.
	if _, err := wxcrypt.New(testToken, testAESKey, ""); err != nil {
		t.Fatal(err)
	}
	_, robot := signer(t, "")
	enc, _ := wxcrypt.ParseXMLEnvelope(cb.Body)
	if _, err := robot.Decrypt(enc); !errors.Is(err, wxcrypt.ErrReceiveID) {
		t.Fatalf("robot route: err = %v", err)
	}
}

func TestRobotText(t *testing.T) {
	s, c := signer(t, "")
	m := RobotMessage{WebhookURL: "http://fake/cgi-bin/webhook/send?key=k", ChatID: "wrChat", UserID: "zhangsan", Name: "张三", Alias: "zs", BotName: "雁阵", Content: "日报 办结3件"}

	cb, err := s.RobotText(m)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := cb.Request("/wecom/robot")
	var x struct {
		WebhookUrl, MsgId, ChatId, ChatType, MsgType string
		From                                         struct{ UserId, Name, Alias string }
		Text                                         struct{ Content string }
	}
	if err := xml.Unmarshal(open(t, c, r, false), &x); err != nil {
		t.Fatal(err)
	}
	if x.WebhookUrl != m.WebhookURL || x.MsgId == "" || x.ChatId != "wrChat" || x.ChatType != "group" || x.MsgType != "text" ||
		x.From.UserId != "zhangsan" || x.From.Name != "张三" || x.From.Alias != "zs" || x.Text.Content != "@雁阵 日报 办结3件" {
		t.Fatalf("XML plaintext %+v", x)
	}

	cb, err = s.RobotTextJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	r, _ = cb.Request("/wecom/robot")
	if r.URL.Query().Get("robot_callback_format") != "json" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON callback request %s %v", r.URL, r.Header)
	}
	var j struct {
		WebhookURL string `json:"webhook_url"`
		MsgID      string `json:"msgid"`
		ChatID     string `json:"chatid"`
		ChatType   string `json:"chattype"`
		MsgType    string `json:"msgtype"`
		From       struct{ UserID, Name, Alias string }
		Text       struct{ Content string }
	}
	if err := json.Unmarshal(open(t, c, r, true), &j); err != nil {
		t.Fatal(err)
	}
	if j.WebhookURL != m.WebhookURL || j.MsgID == "" || j.ChatID != "wrChat" || j.ChatType != "group" || j.MsgType != "text" ||
		j.From.UserID != "zhangsan" || j.From.Name != "张三" || j.Text.Content != "@雁阵 日报 办结3件" {
		t.Fatalf("JSON plaintext %+v", j)
	}
}

func TestAIBotTextAndReply(t *testing.T) {
	fake, _ := start(t)
	s, c := signer(t, "")
	cb, err := s.AIBotText(AIBotMessage{AIBotID: "aib1", ChatID: "wrGroup", UserID: "lisi", BotName: "雁阵", Content: "查询 工单 2026030100012",
		ResponseURL: fake.ResponseURL("wrGroup")})
	if err != nil {
		t.Fatal(err)
	}
	// Send it through a real handler the way WeCom would.
	var got struct {
		MsgID       string `json:"msgid"`
		AIBotID     string `json:"aibotid"`
		ChatID      string `json:"chatid"`
		ChatType    string `json:"chattype"`
		From        struct{ UserID string }
		ResponseURL string `json:"response_url"`
		MsgType     string `json:"msgtype"`
		Text        struct{ Content string }
	}
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := json.Unmarshal(open(t, c, r, true), &got); err != nil {
			t.Error(err)
		}
	}))
	defer bot.Close()
	r, err := cb.Request(bot.URL + "/wecom/aibot")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.MsgID == "" || got.AIBotID != "aib1" || got.ChatID != "wrGroup" || got.ChatType != "group" || got.From.UserID != "lisi" ||
		got.MsgType != "text" || got.Text.Content != "@雁阵 查询 工单 2026030100012" {
		t.Fatalf("plaintext %+v", got)
	}
	reply := map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": "工单 2026030100012：办理中"}}
	wantErrcode(t, call(t, "POST", got.ResponseURL, reply), 0)
	if m := fake.Messages(); len(m) != 1 || m[0].ChatID != "wrGroup" {
		t.Fatalf("messages %+v", m)
	}

	single, err := s.AIBotText(AIBotMessage{ChatID: "ignored", ChatType: "single", UserID: "lisi", BotName: "雁阵", Content: "你好"})
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	_ = json.Unmarshal(single.Plaintext, &p)
	if _, ok := p["chatid"]; ok || p["text"].(map[string]any)["content"] != "你好" {
		t.Fatalf("single chat plaintext %s", single.Plaintext)
	}
}
