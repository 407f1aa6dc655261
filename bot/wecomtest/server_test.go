package wecomtest

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// start returns a started fake on a fake clock.
func start(t *testing.T, opts ...Option) (*Server, *Clock) {
	t.Helper()
	clock := NewClock(t0)
	s := New(opts...)
	s.Now = clock.Now
	s.Start()
	t.Cleanup(s.Close)
	return s, clock
}

// call sends method to url with body (nil for none) and decodes the answer.
func call(t *testing.T, method, url string, body any) map[string]any {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: status %d, %v", method, url, resp.StatusCode, err)
	}
	return out
}

func errcode(m map[string]any) int {
	f, _ := m["errcode"].(float64)
	return int(f)
}

func wantErrcode(t *testing.T, m map[string]any, want int) {
	t.Helper()
	if got := errcode(m); got != want {
		t.Fatalf("errcode = %d, want %d (%v)", got, want, m)
	}
}

func text(content string) map[string]any {
	return map[string]any{"msgtype": "text", "text": map[string]any{"content": content}}
}

func getToken(t *testing.T, s *Server) string {
	t.Helper()
	m := call(t, "GET", s.URL()+"/cgi-bin/gettoken?corpid="+DefaultCorpID+"&corpsecret="+DefaultSecret, nil)
	wantErrcode(t, m, 0)
	tok, _ := m["access_token"].(string)
	return tok
}

func TestToken(t *testing.T) {
	s, clock := start(t)
	base := s.URL() + "/cgi-bin/gettoken?corpid=" + DefaultCorpID
	wantErrcode(t, call(t, "GET", base+"&corpsecret=wrong", nil), 40001)
	wantErrcode(t, call(t, "GET", s.URL()+"/cgi-bin/gettoken?corpid=other&corpsecret="+DefaultSecret, nil), 40013)

	m := call(t, "GET", base+"&corpsecret="+DefaultSecret, nil)
	wantErrcode(t, m, 0)
	if m["errmsg"] != "ok" || m["expires_in"] != float64(7200) || m["access_token"] == "" {
		t.Fatalf("gettoken = %v", m)
	}
	tok := m["access_token"].(string)
	send := func(tok string) map[string]any {
		return call(t, "POST", s.URL()+"/cgi-bin/message/send?access_token="+tok,
			map[string]any{"touser": "zhangsan", "agentid": DefaultAgentID, "msgtype": "text", "text": map[string]any{"content": "hi"}})
	}
	wantErrcode(t, send(tok), 0)
	wantErrcode(t, send("nonsense"), 40014)
	wantErrcode(t, call(t, "POST", s.URL()+"/cgi-bin/message/send", text("hi")), 41001)

	clock.Advance(time.Hour)
	if again := getToken(t, s); again != tok {
		t.Fatal("a valid token was not handed out again")
	}
	clock.Advance(time.Hour)
	wantErrcode(t, send(tok), 42001)
	fresh := getToken(t, s)
	if fresh == tok {
		t.Fatal("gettoken returned the expired token")
	}
	wantErrcode(t, send(fresh), 0)

	s.ExpireTokens()
	wantErrcode(t, send(fresh), 42001)
	s.RevokeTokens()
	wantErrcode(t, send(fresh), 40014)
	wantErrcode(t, send(getToken(t, s)), 0)
}

func TestWebhookMessages(t *testing.T) {
	s, _ := start(t, WithWebhookKeys("k1"))
	hook := s.WebhookURL("k1")
	wantErrcode(t, call(t, "POST", s.WebhookURL("gone"), text("hi")), 93000)

	msg := text("<@lisi> 请于今日18:00前报送日报")
	msg["text"].(map[string]any)["mentioned_list"] = []string{"zhangsan"}
	msg["text"].(map[string]any)["mentioned_mobile_list"] = []string{"13800000001"}
	wantErrcode(t, call(t, "POST", hook+"&chatid=wrChat1", msg), 0)
	md := map[string]any{"chatid": "wrChat2", "msgtype": "markdown", "markdown": map[string]any{"content": `<font color="warning">逾期</font> <@wangwu>`}}
	wantErrcode(t, call(t, "POST", hook, md), 0)

	got := s.Messages()
	if len(got) != 2 {
		t.Fatalf("messages = %+v", got)
	}
	if r := got[0]; r.Key != "k1" || r.ChatID != "wrChat1" || r.MsgType != "text" || r.Content != "<@lisi> 请于今日18:00前报送日报" ||
		!slices.Equal(r.Mentions, []string{"zhangsan", "lisi"}) || !slices.Equal(r.MentionedMobiles, []string{"13800000001"}) ||
		r.Route != RouteWebhook || !r.Time.Equal(t0) || r.Seq != 2 {
		t.Errorf("text record = %+v", r)
	}
	if r := got[1]; r.ChatID != "wrChat2" || r.MsgType != "markdown" || !slices.Equal(r.Mentions, []string{"wangwu"}) {
		t.Errorf("markdown record = %+v", r)
	}

	img := []byte("\x89PNG\r\n\x1a\n fake image")
	fileID := uploadID(t, s.URL()+"/cgi-bin/webhook/upload_media?key=k1&type=file", "周报.xlsx", []byte("PK fake workbook"))
	sum := md5.Sum(img)
	for _, tc := range []struct {
		name string
		body any
		want int
	}{
		{"text at limit", text(strings.Repeat("a", 2048)), 0},
		{"text over limit", text(strings.Repeat("长", 683)), 40058},
		{"markdown over limit", map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": strings.Repeat("a", 4097)}}, 40058},
		{"empty text", text(""), 44004},
		{"unknown type", map[string]any{"msgtype": "video"}, 40008},
		{"no type", map[string]any{}, 40008},
		{"image", map[string]any{"msgtype": "image", "image": map[string]any{"base64": base64.StdEncoding.EncodeToString(img), "md5": hex.EncodeToString(sum[:])}}, 0},
		{"image bad md5", map[string]any{"msgtype": "image", "image": map[string]any{"base64": base64.StdEncoding.EncodeToString(img), "md5": "00"}}, 40058},
		{"news", map[string]any{"msgtype": "news", "news": map[string]any{"articles": []any{map[string]any{"title": "周报", "url": "https://example.com"}}}}, 0},
		{"news empty", map[string]any{"msgtype": "news", "news": map[string]any{"articles": []any{}}}, 40058},
		{"file", map[string]any{"msgtype": "file", "file": map[string]any{"media_id": fileID}}, 0},
		{"file of an unknown media_id", map[string]any{"msgtype": "file", "file": map[string]any{"media_id": "m1"}}, 40007},
		{"file without media", map[string]any{"msgtype": "file", "file": map[string]any{}}, 40007},
		{"template card", map[string]any{"msgtype": "template_card", "template_card": map[string]any{"card_type": "text_notice", "main_title": map[string]any{"title": "督办"},
			"card_action": map[string]any{"type": 1, "url": "https://example.com"}}}, 0},
		{"button card", map[string]any{"msgtype": "template_card", "template_card": map[string]any{"card_type": "button_interaction", "task_id": "t1", "main_title": map[string]any{"title": "督办"},
			"button_list": []any{map[string]any{"text": "签收", "key": "sign"}}}}, 40058},
	} {
		if got := errcode(call(t, "POST", hook, tc.body)); got != tc.want {
			t.Errorf("%s: errcode = %d, want %d", tc.name, got, tc.want)
		}
	}
	resp, err := http.Post(hook, "application/json", strings.NewReader("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := s.Requests(); r[len(r)-1].Errcode != 40058 {
		t.Errorf("bad JSON: errcode = %d", r[len(r)-1].Errcode)
	}
}

func TestWebhookRateLimit(t *testing.T) {
	s, clock := start(t)
	hook := s.WebhookURL(DefaultWebhookKey)
	for i := range 20 {
		wantErrcode(t, call(t, "POST", hook, text(fmt.Sprint(i))), 0)
		clock.Advance(time.Second)
	}
	m := call(t, "POST", hook, text("21st"))
	wantErrcode(t, m, 45009)
	if !strings.HasPrefix(m["errmsg"].(string), "api freq out of limit") {
		t.Errorf("errmsg = %q", m["errmsg"])
	}
	// The window slides: 40 s later only the first message has left it.
	clock.Advance(40 * time.Second)
	wantErrcode(t, call(t, "POST", hook, text("ok again")), 0)
	wantErrcode(t, call(t, "POST", hook, text("limited again")), 45009)
	if n := len(s.Messages()); n != 21 {
		t.Errorf("delivered %d messages, want 21", n)
	}
}

func TestAppMessages(t *testing.T) {
	s, clock := start(t, WithUsers("zhangsan", "LiSi"))
	tok := getToken(t, s)
	send := s.URL() + "/cgi-bin/message/send?access_token=" + tok
	msg := func(touser string, agentid any) map[string]any {
		return map[string]any{"touser": touser, "agentid": agentid, "msgtype": "text", "text": map[string]any{"content": "请签收督办单"}}
	}
	wantErrcode(t, call(t, "POST", send, msg("zhangsan", fmt.Sprint(DefaultAgentID))), 40056)
	wantErrcode(t, call(t, "POST", send, msg("zhangsan", 1)), 40056)

	m := call(t, "POST", send, msg("zhangsan|lisi|ghost", DefaultAgentID))
	wantErrcode(t, m, 0)
	if m["invaliduser"] != "ghost" || m["msgid"] == "" {
		t.Fatalf("answer = %v", m)
	}
	m = call(t, "POST", send, msg("ghost|nobody", DefaultAgentID))
	wantErrcode(t, m, 81013)
	if m["invaliduser"] != "ghost|nobody" {
		t.Fatalf("answer = %v", m)
	}
	r := s.Messages()[0]
	if !slices.Equal(r.ToUser, []string{"zhangsan", "lisi", "ghost"}) || !slices.Equal(r.Invalid, []string{"ghost"}) ||
		r.AgentID != DefaultAgentID || r.Content != "请签收督办单" {
		t.Fatalf("record = %+v", r)
	}

	long := map[string]any{"touser": "zhangsan", "agentid": DefaultAgentID, "msgtype": "text", "text": map[string]any{"content": strings.Repeat("长", 700)}}
	wantErrcode(t, call(t, "POST", send, long), 0)
	if got := s.Messages()[1].Content; got != strings.Repeat("长", 682) {
		t.Errorf("text over 2048 bytes not truncated to whole characters: %d bytes", len(got))
	}
	md := map[string]any{"touser": "zhangsan", "agentid": DefaultAgentID, "msgtype": "markdown", "markdown": map[string]any{"content": strings.Repeat("a", 2049)}}
	wantErrcode(t, call(t, "POST", send, md), 40058)

	// Per member: 30 a minute, the excess dropped without an error.
	s.Reset()
	for range 30 {
		wantErrcode(t, call(t, "POST", send, msg("lisi", DefaultAgentID)), 0)
	}
	wantErrcode(t, call(t, "POST", send, msg("lisi|zhangsan", DefaultAgentID)), 0)
	last := s.Messages()[30]
	if !slices.Equal(last.Dropped, []string{"lisi"}) {
		t.Fatalf("31st message: dropped = %v", last.Dropped)
	}
	clock.Advance(time.Minute)
	wantErrcode(t, call(t, "POST", send, msg("lisi", DefaultAgentID)), 0)
	if d := s.Messages()[31].Dropped; d != nil {
		t.Fatalf("after a minute: dropped = %v", d)
	}
}

func TestAppChat(t *testing.T) {
	s, _ := start(t, WithChats("wrDistrict"))
	send := s.URL() + "/cgi-bin/appchat/send?access_token=" + getToken(t, s)
	body := text("今日日报汇总")
	body["chatid"] = "wrDistrict"
	wantErrcode(t, call(t, "POST", send, body), 0)
	body["chatid"] = "wrOther"
	wantErrcode(t, call(t, "POST", send, body), 40050)
	if got := s.Messages(); len(got) != 1 || got[0].ChatID != "wrDistrict" || got[0].Route != RouteAppChat {
		t.Fatalf("messages = %+v", got)
	}
}

func TestResponseURL(t *testing.T) {
	s, clock := start(t)
	reply := map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": "已收到"}}
	u := s.ResponseURL("wrGroup")
	if !strings.HasPrefix(u, s.URL()+"/cgi-bin/aibot/response?response_code=") {
		t.Fatalf("response URL %s", u)
	}
	wantErrcode(t, call(t, "POST", u, text("text is not a response type")), 40008)
	wantErrcode(t, call(t, "POST", u, reply), 0)
	wantErrcode(t, call(t, "POST", u, reply), 40058)
	if got := s.Messages(); len(got) != 1 || got[0].ChatID != "wrGroup" || got[0].Content != "已收到" {
		t.Fatalf("messages = %+v", got)
	}

	late := s.ResponseURL("wrGroup")
	clock.Advance(time.Hour)
	wantErrcode(t, call(t, "POST", late, reply), 40058)
}

func TestFaults(t *testing.T) {
	s, clock := start(t)
	hook := s.WebhookURL(DefaultWebhookKey)
	s.FailFor(RouteWebhook, Errcode(45009), time.Minute)
	s.FailNext(RouteWebhook, Errcode(-1), 2)
	s.FailNext(RouteWebhook, HTTPStatus(http.StatusBadGateway), 1)
	s.FailNext(RouteWebhook, Hangup(), 1)

	wantErrcode(t, call(t, "POST", hook, text("1")), 45009)
	clock.Advance(59 * time.Second)
	wantErrcode(t, call(t, "POST", hook, text("2")), 45009)
	clock.Advance(time.Second)
	wantErrcode(t, call(t, "POST", hook, text("3")), -1)
	wantErrcode(t, call(t, "POST", hook, text("4")), -1)
	resp, err := http.Post(hook, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if _, err := http.Post(hook, "application/json", strings.NewReader(`{}`)); err == nil {
		t.Fatal("hang-up: no error")
	}
	wantErrcode(t, call(t, "POST", hook, text("7")), 0)

	got := s.Messages()
	if len(got) != 1 || got[0].Content != "7" {
		t.Fatalf("delivered %+v", got)
	}
	var statuses []int
	for _, r := range s.Requests() {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, []int{200, 200, 200, 200, 502, 0, 200}) {
		t.Fatalf("statuses = %v", statuses)
	}

	// A script picks calls by content; other routes are not affected.
	s.Script(func(r Request) (Fault, bool) { return Errcode(-1), strings.Contains(r.Content, "逾期") })
	wantErrcode(t, call(t, "POST", hook, text("逾期提醒")), -1)
	wantErrcode(t, call(t, "POST", hook, text("日报")), 0)
	s.Reset()
	wantErrcode(t, call(t, "POST", hook, text("逾期提醒")), 0)
	if n := len(s.Requests()); n != 1 {
		t.Fatalf("after Reset: %d requests", n)
	}
}

func TestSubscribe(t *testing.T) {
	s, _ := start(t)
	ch, cancel := s.Subscribe()
	wantErrcode(t, call(t, "POST", s.WebhookURL(DefaultWebhookKey), text("hello")), 0)
	select {
	case r := <-ch:
		if r.Content != "hello" {
			t.Fatalf("got %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no request published")
	}
	cancel()
	cancel()
	if _, ok := <-ch; ok {
		t.Fatal("channel still open after cancel")
	}
	wantErrcode(t, call(t, "POST", s.WebhookURL(DefaultWebhookKey), text("after")), 0)
}

func TestHandlerUnderPrefix(t *testing.T) {
	s := New(WithURL("http://demo.local/fake-wecom/"))
	if got := s.WebhookURL("k"); got != "http://demo.local/fake-wecom/cgi-bin/webhook/send?key=k" {
		t.Fatalf("WebhookURL = %s", got)
	}
	mux := http.NewServeMux()
	mux.Handle("/fake-wecom/", http.StripPrefix("/fake-wecom", s.Handler()))
	req, _ := http.NewRequest("GET", "/fake-wecom/cgi-bin/gettoken?"+url.Values{"corpid": {DefaultCorpID}, "corpsecret": {DefaultSecret}}.Encode(), nil)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	if !strings.Contains(w.Body.String(), `"access_token"`) {
		t.Fatalf("answer %s", w.Body.String())
	}
}

func TestAppMessageLimits(t *testing.T) {
	s, clock := start(t, WithCorp("wwcorp", "s3cret", 7), WithUsers("a", "b"))
	m := call(t, "GET", s.URL()+"/cgi-bin/gettoken?corpid=wwcorp&corpsecret=s3cret", nil)
	wantErrcode(t, m, 0)
	send := s.URL() + "/cgi-bin/message/send?access_token=" + m["access_token"].(string)
	msg := map[string]any{"touser": "@all", "agentid": 7, "msgtype": "text", "text": map[string]any{"content": "通知"}}

	// 30 a minute fit, but only 1000 an hour.
	for range 34 {
		for range 30 {
			wantErrcode(t, call(t, "POST", send, msg), 0)
		}
		clock.Advance(time.Minute)
	}
	reached := 0
	for _, r := range s.Messages() {
		if !slices.Equal(r.ToUser, []string{"@all"}) {
			t.Fatalf("record %+v", r)
		}
		switch {
		case r.Dropped == nil:
			reached++
		case !slices.Equal(r.Dropped, []string{"a", "b"}):
			t.Fatalf("dropped %v", r.Dropped)
		}
	}
	if reached != MemberPerHour {
		t.Fatalf("%d messages reached the members in an hour, want %d", reached, MemberPerHour)
	}
}

func TestDuplicateCheck(t *testing.T) {
	s, clock := start(t)
	send := s.URL() + "/cgi-bin/message/send?access_token=" + getToken(t, s)
	msg := func(content string, check map[string]any) map[string]any {
		m := map[string]any{"touser": "zhangsan", "agentid": DefaultAgentID, "msgtype": "text", "text": map[string]any{"content": content}}
		for k, v := range check {
			m[k] = v
		}
		return m
	}
	minute := map[string]any{"enable_duplicate_check": 1, "duplicate_check_interval": 60}
	wantErrcode(t, call(t, "POST", send, msg("请签收", minute)), 0)
	clock.Advance(59 * time.Second)
	wantErrcode(t, call(t, "POST", send, msg("请签收", minute)), 0) // dropped: same request within the minute
	wantErrcode(t, call(t, "POST", send, msg("请反馈", minute)), 0)
	// The same request with its keys in another order is the same request.
	wantErrcode(t, call(t, "POST", send, json.RawMessage(
		`{"text":{"content":"请签收"},"duplicate_check_interval":60,"msgtype":"text","enable_duplicate_check":1,"agentid":1000002,"touser":"zhangsan"}`)), 0)
	clock.Advance(time.Second)
	wantErrcode(t, call(t, "POST", send, msg("请签收", minute)), 0) // a minute after the first: delivered
	wantErrcode(t, call(t, "POST", send, msg("不查重", nil)), 0)
	wantErrcode(t, call(t, "POST", send, msg("不查重", nil)), 0)
	wantErrcode(t, call(t, "POST", send, msg("太长", map[string]any{"enable_duplicate_check": 1, "duplicate_check_interval": 14401})), 40058)

	var got []string
	for _, r := range s.Messages() {
		got = append(got, r.Content)
	}
	if want := []string{"请签收", "请反馈", "请签收", "不查重", "不查重"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	var dropped int
	for _, r := range s.Requests() {
		if r.Duplicate {
			dropped++
		}
	}
	if dropped != 2 {
		t.Fatalf("%d requests dropped as duplicates", dropped)
	}
}

func TestHeldCalls(t *testing.T) {
	s, _ := start(t)
	hook := s.WebhookURL(DefaultWebhookKey)
	impatient := &http.Client{Timeout: 100 * time.Millisecond}
	// Late: the message is delivered, the client sees no answer.
	s.FailNext(RouteWebhook, Late(), 1)
	if _, err := impatient.Post(hook, "application/json", strings.NewReader(`{"msgtype":"text","text":{"content":"late"}}`)); err == nil {
		t.Fatal("a late answer arrived in time")
	}
	heldIs := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for s.Held() != n {
			if time.Now().After(deadline) {
				t.Fatalf("%d calls held, want %d", s.Held(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	heldIs(0) // the late call ends when its client gives up
	// Hang: nothing is served until the call is released.
	s.FailNext(RouteWebhook, Hang(), 1)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(hook, "application/json", strings.NewReader(`{"msgtype":"text","text":{"content":"hung"}}`))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	heldIs(1)
	s.ReleaseHeld()
	if err := <-done; err == nil {
		t.Fatal("a released hang answered")
	}
	var got []string
	for _, r := range s.Messages() {
		got = append(got, r.Content)
	}
	if !slices.Equal(got, []string{"late"}) {
		t.Fatalf("delivered %v", got)
	}
}
