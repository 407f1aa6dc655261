package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// The sample POST of developer.work.weixin.qq.com/document/path/90968, signed
// with the sample token and key for the sample CorpID.
const (
	sampleSignature = "477715d11cdb4164915debcba66cb864d751f3e6"
	sampleTimestamp = 1409659813
	sampleNonce     = "1372623149"
	sampleBody      = `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`
)

func TestAppRouteOfficialSample(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		clock.Set(time.Unix(sampleTimestamp+60, 0))
		k := newKit(t, "", kitOptions{store: s, clock: clock})
		// URL verification with the sample echostr, whose + and / survive the query.
		req, _ := http.NewRequest(http.MethodGet, k.url+"/wecom/app?msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D", nil)
		if status, body := do(t, req); status != 200 || body != "1616140317555161061" {
			t.Fatalf("URL verification: %d %q", status, body)
		}
		req, _ = http.NewRequest(http.MethodPost, k.url+"/wecom/app?msg_signature="+sampleSignature+"&timestamp=1409659813&nonce="+sampleNonce, strings.NewReader(sampleBody))
		if status, body := do(t, req); status != 200 || body != "" {
			t.Fatalf("sample POST: %d %q", status, body)
		}
		rows := k.inbound()
		if len(rows) != 1 {
			t.Fatalf("%d rows stored", len(rows))
		}
		in := rows[0]
		if in.Route != models.RouteApp || in.MsgID != "4561255354251345929" || in.FromUserID != "mycreate" ||
			in.Text != "hello" || in.MsgType != "text" || in.ChatType != "single" || !in.ReceivedAt.Equal(k.clock.Now()) {
			t.Errorf("stored %+v", in)
		}
		if got := k.counter("yanzhen_wecom_callbacks_total", "route", "app", "result", "ok"); got != 1 {
			t.Errorf("callbacks ok = %v", got)
		}
	})
}

func TestRefusedCallbacksStoreNothing(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{})
	msg := wecomtest.RobotMessage{WebhookURL: k.wecom.WebhookURL(robotKey), ChatID: "wrkSFfCgAA", UserID: "zhangsan", Content: "日报"}

	cb, err := k.robot.RobotText(msg)
	if err != nil {
		t.Fatal(err)
	}
	tampered := cb
	tampered.Query = cloneQuery(cb.Query)
	sig := tampered.Query.Get("msg_signature")
	tampered.Query.Set("msg_signature", strings.Repeat("0", len(sig)))
	if status, _ := k.to("robot")(tampered, nil); status != http.StatusUnauthorized {
		t.Errorf("tampered signature: %d", status)
	}
	tampered.Query = cloneQuery(cb.Query)
	tampered.Query.Set("nonce", "1")
	if status, _ := k.to("robot")(tampered, nil); status != http.StatusUnauthorized {
		t.Errorf("tampered nonce: %d", status)
	}
	// A body signed with the robot's crypto is not an app callback.
	if status, _ := k.to("app")(cb, nil); status != http.StatusUnauthorized {
		t.Errorf("robot callback on the app route: %d", status)
	}

	// Outside the replay window, either way.
	for _, skew := range []time.Duration{-11 * time.Minute, 11 * time.Minute} {
		old := k.signer(robotToken, robotAESKey, "")
		old.Now = func() time.Time { return k.clock.Now().Add(skew) }
		if status, _ := k.to("robot")(old.RobotText(msg)); status != http.StatusUnauthorized {
			t.Errorf("callback %v off: %d", skew, status)
		}
	}

	// Over 1 MiB.
	big := cb
	big.Body = []byte("<xml><Encrypt>" + strings.Repeat("A", 1<<20) + "</Encrypt></xml>")
	if status, _ := k.to("robot")(big, nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB body: %d", status)
	}
	// Malformed: no query, a body that is no envelope, a signed body that is no message.
	bare := cb
	bare.Query = nil
	if status, _ := k.to("robot")(bare, nil); status != http.StatusBadRequest {
		t.Errorf("no signature query: %d", status)
	}
	junk := cb
	junk.Body = []byte("not xml")
	if status, _ := k.to("robot")(junk, nil); status != http.StatusBadRequest {
		t.Errorf("junk body: %d", status)
	}
	notAMessage, err := k.robot.URLVerification("plain text, not a message")
	if err != nil {
		t.Fatal(err)
	}
	notAMessage.Method = http.MethodPost
	notAMessage.Body = []byte("<xml><Encrypt><![CDATA[" + notAMessage.Query.Get("echostr") + "]]></Encrypt></xml>")
	notAMessage.Query.Del("echostr")
	if status, _ := k.to("robot")(notAMessage, nil); status != http.StatusBadRequest {
		t.Errorf("signed non-message: %d", status)
	}

	if rows := k.inbound(); len(rows) != 0 {
		t.Fatalf("refused callbacks stored %d rows", len(rows))
	}
	for _, result := range []string{"signature", "stale", "too_large", "malformed"} {
		if k.counter("yanzhen_wecom_callbacks_total", "route", "robot", "result", result) == 0 {
			t.Errorf("no %s callbacks counted", result)
		}
	}
	// The good one still goes in.
	if status, _ := k.to("robot")(cb, nil); status != 200 {
		t.Errorf("good callback: %d", status)
	}
	assertNoSecrets(t, "logs", k.logs.String())
}

func TestReplayWindowOff(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{window: -1})
	old := k.signer(robotToken, robotAESKey, "")
	old.Now = func() time.Time { return k.clock.Now().Add(-48 * time.Hour) }
	if status, _ := k.to("robot")(old.RobotText(wecomtest.RobotMessage{Content: "x"})); status != 200 {
		t.Errorf("old callback with the window off: %d", status)
	}
}

func TestRobotAndAIBotRoutes(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock})
		msg := wecomtest.RobotMessage{
			WebhookURL: k.wecom.WebhookURL(robotKey), MsgID: "CIGABBCOgP", ChatID: "wrkSFfCgAAtMQKg", UserID: "zhangsan", Name: "张三",
			BotName: botName, Content: "日报\n今日办结 12 件",
		}
		if status, _ := k.to("robot")(k.robot.RobotText(msg)); status != 200 {
			t.Fatalf("robot XML: %d", status)
		}
		msg.MsgID, msg.Content = "CIGABBCOgQ", "@李四 催办 2024112700123"
		if status, _ := k.to("robot")(k.robot.RobotTextJSON(msg)); status != 200 {
			t.Fatalf("robot JSON: %d", status)
		}
		respURL := k.wecom.ResponseURL("wrkAIchat")
		ai := wecomtest.AIBotMessage{MsgID: "ai-1", AIBotID: "aib1", ChatID: "wrkAIchat", UserID: "lisi", ResponseURL: respURL, BotName: botName, Content: "查询 2024112700123"}
		if status, _ := k.to("aibot")(k.aibot.AIBotText(ai)); status != 200 {
			t.Fatalf("AI bot: %d", status)
		}
		ai.MsgID, ai.ChatType, ai.BotName, ai.Content = "ai-2", "single", "", "排名"
		if status, _ := k.to("aibot")(k.aibot.AIBotText(ai)); status != 200 {
			t.Fatalf("AI bot single: %d", status)
		}
		rows := k.inbound()
		if len(rows) != 4 {
			t.Fatalf("%d rows", len(rows))
		}
		// The configured robot's WebhookUrl is stored as a reference to it,
		// the AI bot's response_url sealed: neither credential is in a row.
		want := []models.Inbound{
			{Route: "robot", MsgID: "CIGABBCOgP", ChatID: "wrkSFfCgAAtMQKg", ChatType: "group", FromUserID: "zhangsan", FromName: "张三", MsgType: "text", Text: "日报\n今日办结 12 件", ReplyURL: "robot:"},
			{Route: "robot", MsgID: "CIGABBCOgQ", ChatID: "wrkSFfCgAAtMQKg", ChatType: "group", FromUserID: "zhangsan", FromName: "张三", MsgType: "text", Text: "@李四 催办 2024112700123", ReplyURL: "robot:"},
			{Route: "aibot", MsgID: "ai-1", ChatID: "wrkAIchat", ChatType: "group", FromUserID: "lisi", MsgType: "text", Text: "查询 2024112700123", ReplyURL: "sealed:"},
			{Route: "aibot", MsgID: "ai-2", ChatType: "single", FromUserID: "lisi", MsgType: "text", Text: "排名", ReplyURL: "sealed:"},
		}
		code := mustParse(t, respURL).Query().Get("response_code")
		for i, w := range want {
			g := rows[i]
			if g.Route != w.Route || g.MsgID != w.MsgID || g.ChatID != w.ChatID || g.ChatType != w.ChatType || g.FromUserID != w.FromUserID ||
				g.FromName != w.FromName || g.MsgType != w.MsgType || g.Text != w.Text || !strings.HasPrefix(g.ReplyURL, w.ReplyURL) {
				t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
			}
			if strings.Contains(g.ReplyURL, robotKey) || strings.Contains(g.ReplyURL, code) || strings.Contains(g.ReplyURL, "http") {
				t.Errorf("row %d stores a credential of its reply URL: %q", i, g.ReplyURL)
			}
		}
		// URL verification on the robot route.
		cb, err := k.robot.URLVerification("echo+/=")
		if status, body := k.to("robot")(cb, err); status != 200 || body != "echo+/=" {
			t.Errorf("robot URL verification: %d %q", status, body)
		}
	})
}

// recordingHandler counts the messages it handles; fail decides whether an
// attempt fails, and gate, when set, holds every attempt until closed.
type recordingHandler struct {
	mu    sync.Mutex
	seen  map[string]int
	calls atomic.Int32
	gate  chan struct{}
	fail  func(in *models.Inbound) error
}

func (h *recordingHandler) Handle(ctx context.Context, in *models.Inbound) error {
	h.calls.Add(1)
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if h.fail != nil {
		if err := h.fail(in); err != nil {
			return err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]int{}
	}
	h.seen[in.MsgID]++
	return nil
}

func (h *recordingHandler) count(msgID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[msgID]
}

func TestSameMsgIDHandledOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock})
		h := &recordingHandler{}
		k.bot.Start(h)
		cb, err := k.robot.RobotText(wecomtest.RobotMessage{MsgID: "dup-1", ChatID: "c", UserID: "u", Content: "日报"})
		if err != nil {
			t.Fatal(err)
		}
		// Three deliveries, two of them at once, as WeCom's retries may overlap.
		if status, _ := k.to("robot")(cb, nil); status != 200 {
			t.Fatal(status)
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, _ := k.to("robot")(cb, nil); status != 200 {
					t.Error(status)
				}
			}()
		}
		wg.Wait()
		eventually(t, "the message handled", func() bool { return h.count("dup-1") == 1 })
		time.Sleep(100 * time.Millisecond) // let a wrong second handling show
		if n := h.calls.Load(); n != 1 {
			t.Errorf("handler called %d times", n)
		}
		rows := k.inbound()
		if len(rows) != 1 || rows[0].HandledAt == nil || rows[0].Attempts != 1 {
			t.Fatalf("rows = %+v", rows)
		}
		if got := k.counter("yanzhen_wecom_callbacks_total", "route", "robot", "result", "duplicate"); got != 2 {
			t.Errorf("duplicates counted %v", got)
		}
	})
}

func TestAnsweredWhileHandlerIsSlow(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{})
	h := &recordingHandler{gate: make(chan struct{})}
	k.bot.Start(h)
	for i := range 10 {
		cb, err := k.robot.RobotText(wecomtest.RobotMessage{MsgID: "slow-" + string(rune('a'+i)), ChatID: "c", UserID: "u", Content: "查询"})
		start := time.Now()
		status, _ := k.to("robot")(cb, err)
		if took := time.Since(start); status != 200 || took > 500*time.Millisecond {
			t.Fatalf("callback %d answered %d after %v while the handler is busy", i, status, took)
		}
	}
	close(h.gate)
	eventually(t, "all handled", func() bool {
		for _, in := range k.inbound() {
			if in.HandledAt == nil {
				return false
			}
		}
		return true
	})
}

func TestHandlerErrorsAreRetried(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		k := newKit(t, "", kitOptions{store: s, clock: clock})
		var failures atomic.Int32
		h := &recordingHandler{fail: func(in *models.Inbound) error {
			if in.MsgID == "always" || failures.Add(1) <= 2 {
				return fmt.Errorf("database is locked (attempt %d)", in.Attempts)
			}
			return nil
		}}
		k.bot.Start(h)
		if status, _ := k.to("robot")(k.robot.RobotText(wecomtest.RobotMessage{MsgID: "flaky", Content: "日报"})); status != 200 {
			t.Fatal(status)
		}
		row := func(msgID string) models.Inbound {
			for _, in := range k.inbound() {
				if in.MsgID == msgID {
					return in
				}
			}
			return models.Inbound{}
		}
		failed := func(msgID string, attempt int) func() bool {
			return func() bool { return row(msgID).LastError == fmt.Sprintf("database is locked (attempt %d)", attempt) }
		}
		eventually(t, "first failure recorded", failed("flaky", 1))
		if in := row("flaky"); in.Attempts != 1 || in.HandledAt != nil {
			t.Fatalf("after one failure: %+v", in)
		}
		k.clock.Advance(11 * time.Second)
		eventually(t, "second failure", failed("flaky", 2))
		k.clock.Advance(41 * time.Second)
		eventually(t, "handled at the third attempt", func() bool { return row("flaky").HandledAt != nil })
		if in := row("flaky"); in.Attempts != 3 || in.LastError != "" {
			t.Errorf("after success: %+v", in)
		}

		// A message that always fails is given up after five attempts.
		if status, _ := k.to("robot")(k.robot.RobotText(wecomtest.RobotMessage{MsgID: "always", Content: "日报"})); status != 200 {
			t.Fatal(status)
		}
		for i := 1; i <= 5; i++ {
			eventually(t, "attempt", failed("always", i))
			k.clock.Advance(11 * time.Minute)
		}
		time.Sleep(100 * time.Millisecond)
		if in := row("always"); in.Attempts != 5 || in.HandledAt != nil {
			t.Errorf("after giving up: %+v", in)
		}
		if got := k.counter("yanzhen_inbound_handled_total", "result", "abandoned"); got != 1 {
			t.Errorf("abandoned = %v", got)
		}
	})
}

func TestStoredCallbacksAreHandledAfterARestart(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store, clock *wecomtest.Clock) {
		// The first process stores callbacks and dies before handling them.
		first := newKit(t, "", kitOptions{store: s, clock: clock})
		for _, id := range []string{"r1", "r2", "r3"} {
			if status, _ := first.to("robot")(first.robot.RobotText(wecomtest.RobotMessage{MsgID: id, Content: "日报"})); status != 200 {
				t.Fatal(status)
			}
		}
		first.clock.Advance(61 * time.Second) // the first process's claims run out
		second := newKit(t, "", kitOptions{store: s, clock: clock, wecom: first.wecom})
		h := &recordingHandler{}
		second.bot.Start(h)
		eventually(t, "stored callbacks handled", func() bool { return h.count("r1")+h.count("r2")+h.count("r3") == 3 })
	})
}

func TestWithoutHandlerCallbacksAreMarked(t *testing.T) {
	k := newKit(t, models.DriverSQLite, kitOptions{})
	k.bot.Start(nil)
	if status, _ := k.to("aibot")(k.aibot.AIBotText(wecomtest.AIBotMessage{MsgID: "x", Content: "你好"})); status != 200 {
		t.Fatal(status)
	}
	eventually(t, "marked", func() bool { rows := k.inbound(); return len(rows) == 1 && rows[0].HandledAt != nil })
}

func cloneQuery(q map[string][]string) map[string][]string {
	out := make(map[string][]string, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// mustParse parses a URL or fails the test.
func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
