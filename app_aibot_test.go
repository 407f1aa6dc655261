package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
)

// serving is a Main serving on a loopback port until stop.
type serving struct {
	m      *Main
	base   string
	cancel context.CancelFunc
	done   chan error
}

// serveMain opens and serves the config file cfg with environ.
func serveMain(t *testing.T, cfgPath string, environ []string, logs io.Writer) *serving {
	t.Helper()
	cfg, err := config.Load(cfgPath, environ)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := Open(ctx, cfg, Options{LogOutput: logs})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &serving{m: m, base: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- m.Serve(ctx, ln) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop ends the service, once.
func (s *serving) stop(t *testing.T) {
	if s.m == nil {
		return
	}
	s.cancel()
	if err := <-s.done; err != nil {
		t.Errorf("serve: %v", err)
	}
	s.m.Close()
	s.m = nil
}

// healthz returns the status and body of /healthz.
func (s *serving) healthz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Get(s.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond in real time for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// onRoute returns the contents the fake delivered on a route.
func onRoute(f *wecomtest.Server, route wecomtest.Route) []string {
	var out []string
	for _, r := range f.Messages() {
		if r.Route == route {
			out = append(out, r.Content)
		}
	}
	return out
}

func countRoute(f *wecomtest.Server, route wecomtest.Route) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

func TestTheServiceRunsOnTheAIBotAlone(t *testing.T) {
	const secret = "app-aibot-secret-31f0"
	fake := wecomtest.New(wecomtest.WithAIBot("aibApp", secret))
	fake.Start()
	defer fake.Close()
	cfgPath := writeConfig(t, fmt.Sprintf(`wecom: {aibot: {mode: websocket, bot_id: aibApp, ws_url: %q, chat_id: wrkAIBot}}
outbox: {poll_every: 50ms}
schedule: {enabled: false}
`, fake.WSURL()))
	environ := []string{"YANZHEN_WECOM_AIBOT_SECRET=" + secret}
	// The test org has bad rows on purpose (exit status 1); the good ones are in.
	if code, _, stderr := runCLI(t, environ, "import", "org", "orgimport/testdata/org.yaml", "-c", cfgPath); code != exitFail || !strings.Contains(stderr, "boss") {
		t.Fatalf("import org: %d %s", code, stderr)
	}
	var logs serveLogs
	svc := serveMain(t, cfgPath, environ, &logs)
	waitFor(t, "the service's subscription", fake.AIBotConnected)
	for _, want := range []string{`"feature":"智能机器人长连接","on":true`, `"feature":"群机器人","on":false`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the start logs lack %s", want)
		}
	}
	if code, body := svc.healthz(t); code != http.StatusOK {
		t.Errorf("healthz %d %s", code, body)
	}

	// A leader asks in the group; the answer comes on the connection.
	if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: "app-1", ChatID: "wrkAIBot", UserID: "wangwu", BotName: "雁阵", Content: "未报"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the answer", func() bool { return len(onRoute(fake, wecomtest.RouteRespond)) == 1 })
	if got := onRoute(fake, wecomtest.RouteRespond)[0]; !strings.Contains(got, "尚未报送日报的单位") {
		t.Errorf("answer %q", got)
	}

	// `run` while the service holds the connection does not dial: the
	// service's worker sends what it enqueued.
	code, stdout, stderr := runCLI(t, environ, "run", "daily-report", "--at", "2026-11-20 18:00", "-c", cfgPath)
	if code != exitOK || !strings.Contains(stdout, "将由服务") {
		t.Fatalf("run daily-report beside the service: %d %s %s", code, stdout, stderr)
	}
	waitFor(t, "the report from the service", func() bool { return len(onRoute(fake, wecomtest.RouteSendMsg)) > 0 })
	if n := countRoute(fake, wecomtest.RouteSubscribe); n != 1 {
		t.Errorf("%d subscriptions: run dialled beside the service", n)
	}
	if got := onRoute(fake, wecomtest.RouteSendMsg)[0]; !strings.Contains(got, "接诉即办工作日报") {
		t.Errorf("the report in the group: %q", got)
	}

	// With no service, `run` dials, sends and leaves, releasing the lease.
	svc.stop(t)
	waitFor(t, "the service's connection closed", func() bool { return !fake.AIBotConnected() })
	sent := len(onRoute(fake, wecomtest.RouteSendMsg))
	code, stdout, stderr = runCLI(t, environ, "run", "remind", "--at", "2026-11-20 17:30", "-c", cfgPath)
	if code != exitOK || countRoute(fake, wecomtest.RouteSubscribe) != 2 || len(onRoute(fake, wecomtest.RouteSendMsg)) <= sent {
		t.Fatalf("run remind alone: %d %s %s; %d subscriptions, %d pushes", code, stdout, stderr,
			countRoute(fake, wecomtest.RouteSubscribe), len(onRoute(fake, wecomtest.RouteSendMsg))-sent)
	}
	// The fake notices the end of run's connection a moment after run exits.
	waitFor(t, "run's connection closed", func() bool { return !fake.AIBotConnected() })
	cfg, err := config.Load(cfgPath, environ)
	if err != nil {
		t.Fatal(err)
	}
	st, err := models.Open(context.Background(), models.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN.Reveal(), Location: cfg.Location()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetKV(context.Background(), "aibot/long-connection"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("run left the lease: %v", err)
	}

	// Another client of the same bot takes over: the service reports it.
	svc = serveMain(t, cfgPath, environ, &logs)
	waitFor(t, "the service's second subscription", func() bool { return countRoute(fake, wecomtest.RouteSubscribe) == 3 && fake.AIBotConnected() })
	fake.Kick()
	waitFor(t, "healthz to report the takeover", func() bool { code, _ := svc.healthz(t); return code == http.StatusServiceUnavailable })
	if _, body := svc.healthz(t); !strings.Contains(body, "disconnected_event") {
		t.Errorf("healthz after a takeover: %s", body)
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the secret appeared in the logs")
	}
}
