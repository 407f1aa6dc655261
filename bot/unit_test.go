package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

func TestRedact(t *testing.T) {
	in := `Post "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123&debug=1": dial tcp: refused; ` +
		`gettoken?corpid=ww1&corpsecret=S3cr3t and message/send?access_token=TOK%2B1 response_code=rc1`
	got := redact(in)
	for _, secret := range []string{"abc-123", "S3cr3t", "TOK%2B1", "rc1"} {
		if strings.Contains(got, secret) {
			t.Errorf("redact left %q in %s", secret, got)
		}
	}
	if !strings.Contains(got, "corpid=ww1") || !strings.Contains(got, "debug=1") {
		t.Errorf("redact took too much: %s", got)
	}

	// A *url.Error keeps its type and cause, without the key.
	cause := context.DeadlineExceeded
	err := redactErr(&url.Error{Op: "Post", URL: "https://h/cgi-bin/webhook/send?key=abc-123", Err: cause})
	var ue *url.Error
	if !errors.As(err, &ue) || !errors.Is(err, cause) || strings.Contains(err.Error(), "abc-123") {
		t.Errorf("redacted url.Error = %v", err)
	}
	// Any other error carrying a credential is cleaned but still unwraps.
	base := errors.New("boom")
	err = redactErr(fmt.Errorf("call ?access_token=zzz: %w", base))
	if strings.Contains(err.Error(), "zzz") || !errors.Is(err, base) {
		t.Errorf("redacted error = %v", err)
	}
	if redactErr(nil) != nil {
		t.Error("redactErr(nil) != nil")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want Verdict
	}{
		{&APIError{Code: -1}, Retry},
		{&APIError{Code: 45009}, BackOff},
		{&APIError{Code: 45033}, BackOff},
		{&APIError{Code: 93000}, Permanent},
		{&APIError{Code: 93004}, Permanent},
		{&APIError{Code: 93008}, Permanent},
		{&APIError{Code: 40058}, Permanent},
		{&APIError{Code: 44004}, Permanent},
		{&APIError{Code: 45002}, Permanent},
		{&APIError{Code: 81013}, Permanent},
		{&APIError{Code: 40056}, Permanent},
		{&APIError{Code: 42001}, Retry}, // reached only after the refresh failed too
		{&APIError{Code: 60011}, Retry}, // unknown: retried until the give-up age
		{&StatusError{Status: 502}, Retry},
		{&StatusError{Status: 503}, Retry},
		{&StatusError{Status: 429}, BackOff},
		{&StatusError{Status: 404}, Permanent},
		{&StatusError{Status: 302}, Permanent},
		{fmt.Errorf("wecom: %w", &url.Error{Op: "Post", URL: "u", Err: errors.New("connection reset")}), Retry},
		{unsendable("no key"), Permanent},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestRetryWait(t *testing.T) {
	for n := 1; n <= 40; n++ {
		lo, hi := retryWait(n, 0), retryWait(n, 0.999)
		full := min(retryCap, retryBase<<min(n-1, 20))
		if lo != full/2 || hi > full || hi < lo {
			t.Errorf("failure %d: wait in [%v, %v], want [%v, %v]", n, lo, hi, full/2, full)
		}
	}
	if first, capped := retryWait(1, 0.999), retryWait(40, 0.999); first > 2*time.Second || capped > time.Minute {
		t.Errorf("waits run from %v to %v, want from a few seconds to at most a minute", first, capped)
	}
	// A rate limit waits for the end of the minute, whenever in it it came.
	for _, at := range []string{"09:00:00", "09:00:31", "09:00:59.9"} {
		now, err := time.Parse("15:04:05", at)
		if err != nil {
			t.Fatal(err)
		}
		if end, want := rateWindowEnd(now), now.Truncate(time.Minute).Add(time.Minute+windowSlack); !end.Equal(want) || end.Sub(now) > time.Minute+windowSlack {
			t.Errorf("rate limit at %s waits until %v", at, end.Format("15:04:05.0"))
		}
	}
}

func TestBudget(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := &resolver{base: mustURL("https://qyapi.weixin.qq.com"), robotKey: "k1", robots: map[string]string{"hh": "k2"}}
	var recent []models.RecentSend
	for i := range 20 { // the configured robot used its minute, in two chats
		chat := ""
		if i%2 == 0 {
			chat = "wrkA"
		}
		recent = append(recent, models.RecentSend{Channel: channelRobot, ChatID: chat, At: now.Add(-50*time.Second + time.Duration(i)*time.Second)})
	}
	for i := range 29 { // zhangsan got 29 this minute, one of them with lisi
		to := "zhangsan"
		if i == 0 {
			to = "lisi|ZhangSan"
		}
		recent = append(recent, models.RecentSend{Channel: channelApp, To: to, At: now.Add(-30 * time.Second)})
	}
	b := newBudget(now, limits{robotPerMinute: 20, userPerMinute: 30}, recent, r)

	robot, _ := r.target(&models.OutboxMessage{Channel: channelReply, To: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1", ChatID: "wrkB"})
	ok, free := b.admit(budgetKeys(robot), msg.Notice)
	if want := now.Add(-50*time.Second + time.Minute + windowSlack); ok || !free.Equal(want) {
		t.Errorf("robot over its minute: ok=%v free=%v, want free at %v", ok, free, want)
	}
	other, err := r.target(&models.OutboxMessage{Channel: channelRobot, To: "hh", ChatID: "wrkHh"})
	if err != nil || other.Key != "k2" {
		t.Fatalf("robot hh: %+v %v", other, err)
	}
	if ok, _ := b.admit(budgetKeys(other), msg.Notice); !ok {
		t.Error("another robot was held by k1's budget")
	}
	user, _ := r.target(&models.OutboxMessage{Channel: channelApp, To: "zhangsan"})
	if ok, _ := b.admit(budgetKeys(user), msg.Notice); !ok {
		t.Fatal("the 30th message of the minute was held")
	}
	b.take(budgetKeys(user))
	pair, _ := r.target(&models.OutboxMessage{Channel: channelApp, To: "wangwu|zhangsan"})
	if ok, free := b.admit(budgetKeys(pair), msg.Notice); ok || !free.Equal(now.Add(30*time.Second+windowSlack)) {
		t.Errorf("a message to zhangsan and another over zhangsan's minute: ok=%v free=%v", ok, free)
	}

	// The hourly cap of a member holds too.
	var hour []models.RecentSend
	for i := range memberPerHour {
		hour = append(hour, models.RecentSend{Channel: channelApp, To: "lisi", At: now.Add(-59*time.Minute + time.Duration(i)*time.Millisecond)})
	}
	b = newBudget(now, limits{robotPerMinute: 20, userPerMinute: 30}, hour, r)
	lisi, _ := r.target(&models.OutboxMessage{Channel: channelApp, To: "lisi"})
	if ok, free := b.admit(budgetKeys(lisi), msg.Notice); ok || !free.Equal(now.Add(time.Minute+windowSlack)) {
		t.Errorf("lisi over the hour: ok=%v free=%v", ok, free)
	}
}

func TestResolveReplies(t *testing.T) {
	r := &resolver{base: mustURL("https://wecom.gov.example/proxy"), robotKey: "configured"}
	cases := []struct {
		to, chat string
		want     target
		bad      bool
	}{
		{"https://wecom.gov.example/proxy/cgi-bin/webhook/send?key=k9", "c1", target{Kind: targetWebhook, Key: "k9", ChatID: "c1"}, false},
		{"https://wecom.gov.example/proxy/cgi-bin/aibot/response?response_code=rc", "c1", target{Kind: targetAIBot, Key: "rc", ChatID: "c1"}, false},
		{"https://wecom.gov.example/cgi-bin/webhook/send?key=k9", "c1", target{Kind: targetWebhook, Key: "configured", ChatID: "c1", Fallback: true}, false},
		{"http://wecom.gov.example/proxy/cgi-bin/webhook/send?key=k9", "c1", target{Kind: targetWebhook, Key: "configured", ChatID: "c1", Fallback: true}, false},
		{"https://evil.example/proxy/cgi-bin/webhook/send?key=k9", "c1", target{Kind: targetWebhook, Key: "configured", ChatID: "c1", Fallback: true}, false},
		{"https://evil.example/cgi-bin/aibot/response?response_code=rc", "c1", target{}, true},
		{"", "c1", target{Kind: targetWebhook, Key: "configured", ChatID: "c1", Fallback: true}, false},
		{"https://evil.example/x", "", target{}, true},
	}
	for _, c := range cases {
		got, err := r.target(&models.OutboxMessage{Channel: channelReply, To: c.to, ChatID: c.chat})
		if (err != nil) != c.bad || (err == nil && (got.Kind != c.want.Kind || got.Key != c.want.Key || got.ChatID != c.want.ChatID || got.Fallback != c.want.Fallback)) {
			t.Errorf("target(%q) = %+v, %v; want %+v", c.to, got, err, c.want)
		}
		if err != nil && Classify(err) != Permanent {
			t.Errorf("target(%q): a refused reply is not permanent", c.to)
		}
	}
}

func TestStripMention(t *testing.T) {
	cases := []struct{ in, want string }{
		{"@雁阵 日报 今日办结3件", "日报 今日办结3件"},
		{"@雁阵\u2005查询 2024112700123", "查询 2024112700123"},
		{"@张三 @雁阵 催办", "@张三 催办"},
		{"请@雁阵 汇总", "请 汇总"},
		{"@雁阵办 不是机器人", "@雁阵办 不是机器人"},
		{"@雁阵", ""},
		{"  日报  ", "日报"},
	}
	for _, c := range cases {
		if got := stripMention(c.in, "雁阵"); got != c.want {
			t.Errorf("stripMention(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseEventsAndMixedMessages(t *testing.T) {
	click := []byte(`<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[sign:D12]]></EventKey><AgentID>1</AgentID></xml>`)
	in, err := parseApp(click)
	if err != nil || in.MsgType != "event/click" || in.Text != "sign:D12" || !strings.HasPrefix(in.MsgID, "sha256:") {
		t.Fatalf("click event = %+v, %v", in, err)
	}
	again, _ := parseApp(click)
	if again.MsgID != in.MsgID {
		t.Error("a repeated event got another id")
	}
	mixed := []byte(`{"msgid":"m1","chatid":"c","chattype":"group","from":{"userid":"u"},"msgtype":"mixed","mixed":{"msg_item":[{"msgtype":"text","text":{"content":"@雁阵 看图"}},{"msgtype":"image"},{"msgtype":"text","text":{"content":"第二段"}}]}}`)
	in, err = parseJSONMessage(mixed, "雁阵")
	if err != nil || in.Text != "看图\n第二段" || in.MsgType != "mixed" {
		t.Fatalf("mixed = %+v, %v", in, err)
	}
	// The robot's own JSON shape (群机器人回调): a head @-mentions the robot
	// with text and a pasted screenshot; and an event.
	robotMixed := []byte(`{"webhook_url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k","msgid":"m2","chatid":"wrkA","chattype":"group",` +
		`"from":{"userid":"zhangsan","name":"张三"},"msgtype":"mixed","mixed_message":{"msg_item":[` +
		`{"msg_type":"text","text":{"content":"@雁阵 日报 今日办结3件"}},{"msg_type":"image","image":{"image_url":"https://x/1.png"}}]}}`)
	in, err = parseRobot(robotMixed, "雁阵")
	if err != nil || in.Text != "日报 今日办结3件" || in.MsgType != "mixed" || in.ChatID != "wrkA" || in.FromUserID != "zhangsan" || strings.Join(in.Media, " ") != "image:https://x/1.png" {
		t.Fatalf("robot JSON mixed = %+v, %v", in, err)
	}
	robotEvent := []byte(`{"msgid":"e1","chatid":"wrkA","chattype":"group","from":{"userid":"zhangsan"},"msg_type":"event","event":{"event_type":"add_to_chat"}}`)
	if in, err = parseRobot(robotEvent, "雁阵"); err != nil || in.MsgType != "event/add_to_chat" {
		t.Fatalf("robot JSON event = %+v, %v", in, err)
	}
	aibotEvent := []byte(`{"msgid":"e2","from":{"userid":"u"},"msgtype":"event","event":{"eventtype":"enter_chat"}}`)
	if in, err = parseJSONMessage(aibotEvent, "雁阵"); err != nil || in.MsgType != "event/enter_chat" {
		t.Fatalf("AI bot event = %+v, %v", in, err)
	}
	// Images and files are referred to where WeCom keeps them, never fetched.
	withImage := []byte(`{"msgid":"m2","msgtype":"mixed","mixed":{"msg_item":[{"msgtype":"text","text":{"content":"反馈 Z3 已清理"}},{"msgtype":"image","image":{"url":"https://wecom.test/i/1"}}]}}`)
	if in, err = parseJSONMessage(withImage, "雁阵"); err != nil || in.Text != "反馈 Z3 已清理" || strings.Join(in.Media, " ") != "image:https://wecom.test/i/1" {
		t.Errorf("mixed with an image = %+v, %v", in, err)
	}
	for _, c := range []struct {
		parse func([]byte, string) (*models.Inbound, error)
		plain string
		want  string
	}{
		{appParser(newCardSigner("")), `<xml><FromUserName>u</FromUserName><MsgType>image</MsgType><PicUrl>https://wecom.test/p.jpg</PicUrl><MediaId>M1</MediaId><MsgId>5</MsgId></xml>`, "image:https://wecom.test/p.jpg image:media:M1"},
		{parseRobot, `<xml><MsgId>6</MsgId><MsgType>image</MsgType><From><UserId>u</UserId></From><Image><ImageUrl>https://wecom.test/r.jpg</ImageUrl></Image></xml>`, "image:https://wecom.test/r.jpg"},
		{parseRobot, `{"msgid":"7","msgtype":"image","from":{"userid":"u"},"image":{"image_url":"https://wecom.test/j.jpg"}}`, "image:https://wecom.test/j.jpg"},
		{aibotParser(newCardSigner("")), `{"msgid":"8","msgtype":"file","from":{"userid":"u"},"file":{"url":"https://wecom.test/f"}}`, "file:https://wecom.test/f"},
	} {
		in, err := c.parse([]byte(c.plain), "雁阵")
		if err != nil || strings.Join(in.Media, " ") != c.want || in.Text != "" {
			t.Errorf("%s: %+v %v, want %s", c.plain, in, err, c.want)
		}
	}
	for _, bad := range [][]byte{[]byte(`<xml><MsgType>text</MsgType></xml>`), []byte(`{"msgid":"x"}`), []byte(`not a message`)} {
		if _, err := parseApp(bad); err == nil {
			t.Errorf("parseApp(%s) accepted it", bad)
		}
		if _, err := parseRobot(bad, ""); err == nil && !strings.Contains(string(bad), "MsgType") {
			t.Errorf("parseRobot(%s) accepted it", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>@雁阵 x</Content></xml>`))
	f.Add([]byte(`{"msgid":"1","msgtype":"text","text":{"content":"@雁阵"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte, string) (*models.Inbound, error){appParser(newCardSigner("")), parseRobot, aibotParser(newCardSigner(""))} {
			in, err := parse(b, "雁阵")
			if err == nil && (in.MsgID == "" || in.MsgType == "") {
				t.Errorf("parsed %q without an id or a type", b)
			}
		}
	})
}

func TestNoRedirectIsFollowed(t *testing.T) {
	c := newHTTPClient(&http.Client{})
	req, _ := http.NewRequest(http.MethodGet, "http://example.invalid/", nil)
	if err := c.CheckRedirect(req, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("CheckRedirect = %v", err)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestBulkKeepsToItsShareOfARobotsMinute(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	r := &resolver{base: mustURL("https://qyapi.weixin.qq.com"), robotKey: "k1"}
	var recent []models.RecentSend
	for i := 0; i < 15; i++ {
		recent = append(recent, models.RecentSend{Channel: channelRobot, ChatID: "wrkA", At: now.Add(-30 * time.Second)})
	}
	b := newBudget(now, limits{robotPerMinute: 20, userPerMinute: 30}, recent, r)
	robot, _ := r.target(&models.OutboxMessage{Channel: channelRobot, ChatID: "wrkA"})
	if ok, free := b.admit(budgetKeys(robot), msg.Bulk); ok || !free.Equal(now.Add(30*time.Second+windowSlack)) {
		t.Errorf("a 16th digest in a minute admitted (%v, free at %v)", ok, free)
	}
	for _, p := range []msg.Priority{msg.Notice, msg.Report, msg.Reply} {
		if ok, _ := b.admit(budgetKeys(robot), p); !ok {
			t.Errorf("priority %d refused with 15 of 20 sends used", p)
		}
	}
}
