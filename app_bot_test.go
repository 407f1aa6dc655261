package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// echo answers every message in the chat it came from, through the outbox.
type echo struct {
	store  *models.Store
	outbox *bot.Outbox
}

func (e echo) Handle(ctx context.Context, in *models.Inbound) error {
	_, err := e.outbox.Enqueue(ctx, e.store, msg.Plain(msg.ReplyTo(in), "收到："+in.Text))
	return err
}

// serveLogs collects what a running Main or command writes (its logs, its
// output) while the test reads it.
type serveLogs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *serveLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *serveLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestServeTakesCallbacksAndSendsReplies(t *testing.T) {
	const (
		robotKey = "wiring-robot-key-5e6f"
		token    = "WiringToken"
		aesKey   = "WiringTestCallbackKeyLocalOnly0000000000001"
		secret   = "wiring-corp-secret-9a8b"
	)
	fake := wecomtest.New(wecomtest.WithCorp("wwwiring", secret, 1000002), wecomtest.WithWebhookKeys(robotKey))
	fake.Start()
	defer fake.Close()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
database: {driver: sqlite, dsn: %q}
wecom:
  api_base: %s
  corp_id: wwwiring
  agent_id: 1000002
  secret: %s
  robot: {webhook_key: %s, token: %s, aes_key: %s}
outbox: {poll_every: 50ms}
schedule: {enabled: false}  # the clock is real: a scheduled report must not race the reply
`, filepath.Join(t.TempDir(), "yz.db"), fake.URL(), secret, robotKey, token, aesKey)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs serveLogs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := Open(ctx, cfg, Options{LogOutput: &logs})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Handlers = echo{m.Store, m.Bot.Outbox()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	signer, err := wecomtest.NewCallbackSigner(token, aesKey, "")
	if err != nil {
		t.Fatal(err)
	}
	cb, err := signer.RobotText(wecomtest.RobotMessage{
		WebhookURL: fake.WebhookURL(robotKey), ChatID: "wrkWiring", UserID: "zhangsan", BotName: cfg.WeCom.BotName, Content: "日报",
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := cb.Request(base + "/wecom/robot")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("callback answered %d", resp.StatusCode)
	}
	var reply []wecomtest.Request
	for deadline := time.Now().Add(10 * time.Second); len(reply) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		reply = fake.Messages()
	}
	if len(reply) != 1 || reply[0].Content != "收到：日报" || reply[0].ChatID != "wrkWiring" || reply[0].Key != robotKey {
		t.Fatalf("reply = %+v", reply)
	}

	// The send is recorded just after WeCom saw it: read the metrics until it is.
	wants := []string{`yanzhen_wecom_callbacks_total{result="ok",route="robot"} 1`, `yanzhen_outbox_sent_total{channel="reply"} 1`, `yanzhen_outbox_backlog{channel="reply"} 0`,
		`yanzhen_inbound_oldest_pending_seconds 0`, `go_sql_max_open_connections{db_name="yanzhen"} 8`}
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err = http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !slices.ContainsFunc(wants, func(w string) bool { return !strings.Contains(string(body), w) }) {
			break
		}
	}
	for _, want := range wants {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	start := time.Now()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	if took := time.Since(start); took > shutdownBudget {
		t.Errorf("shutdown took %v", took)
	}
	for _, s := range []string{secret, robotKey, aesKey} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("a credential appeared in the logs: %s", logs.String())
		}
	}
}

func TestHealthzTellsOfRefusedCredentials(t *testing.T) {
	fake := wecomtest.New(wecomtest.WithCorp("wwhealth", "the-real-secret", 1000002))
	fake.Start()
	defer fake.Close()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
database: {driver: sqlite, dsn: %q}
wecom: {api_base: %s, corp_id: wwhealth, agent_id: 1000002, secret: an-old-secret}
`, filepath.Join(t.TempDir(), "yz.db"), fake.URL())), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(context.Background(), cfg, Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	healthz := func() (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := healthz(); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthz before = %d %q", code, body)
	}
	if _, err := m.Bot.Outbox().Enqueue(context.Background(), m.Store, msg.Plain(msg.ToMembers("zhangsan"), "回复")); err != nil {
		t.Fatal(err)
	}
	if err := m.Bot.Flush(context.Background()); err == nil {
		t.Fatal("flush with a refused secret returned nil")
	}
	code, body := healthz()
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "wecom: app credentials refused") || !strings.Contains(body, "errcode 40001") || strings.Contains(body, "an-old-secret") {
		t.Errorf("healthz after = %d %q", code, body)
	}
}
