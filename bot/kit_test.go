package bot_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// Credentials of the test corp. The app callback uses Tencent's published
// sample, so that its sample POST verifies.
const (
	sampleToken  = "QDG6eK"
	sampleAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	sampleCorpID = "wx5823bf96d3bd56c7"
	corpSecret   = "corp-secret-7c1f9e2a4b6d8f00"
	agentID      = 1000002
	robotKey     = "robot-key-3b9d1c7e5a2f"
	robotToken   = "RobotToken9f8e"
	robotAESKey  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	aibotToken   = "AIBotToken1a2b"
	aibotAESKey  = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
	botName      = "雁阵"
)

// secrets are the credentials no error or log line may ever contain.
var secrets = []string{sampleAESKey, corpSecret, robotKey, robotToken, robotAESKey, aibotToken, aibotAESKey}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, storetest.Shanghai)

func TestMain(m *testing.M) {
	// The bot must keep Asia/Shanghai whatever the machine's zone is.
	os.Setenv("TZ", "America/Los_Angeles")
	os.Exit(m.Run())
}

// kit is a bot wired to a real store and the fake WeCom, on a fake clock,
// with its logs captured and its calls to WeCom recorded.
type kit struct {
	t     testing.TB
	clock *wecomtest.Clock
	wecom *wecomtest.Server
	store *models.Store
	bot   *bot.Bot
	url   string // the bot's HTTP server
	logs  *syncBuffer
	reg   *prometheus.Registry
	wire  *recorder

	robot, app, aibot *wecomtest.CallbackSigner
}

// kitOptions vary a kit.
type kitOptions struct {
	store    *models.Store     // share another kit's store (a second replica)
	wecom    *wecomtest.Server // share another kit's fake WeCom
	clock    *wecomtest.Clock
	worker   string
	fakeTime bool // Flush and the worker sleep by moving the clock
	window   time.Duration
	poll     time.Duration
	giveUp   time.Duration       // outbox.give_up_after; 24 h when zero
	timeout  time.Duration       // the HTTP client's timeout; 5 s when zero
	secret   string              // wecom.secret; corpSecret when empty
	broken   func(n int) bool    // the transport refuses the nth call (1-based) when true
	wecomCfg func(*config.WeCom) // adjusts the WeCom configuration, e.g. to the AI bot alone
}

func newKit(t testing.TB, driver string, o kitOptions) *kit {
	t.Helper()
	k := &kit{t: t, clock: o.clock, logs: &syncBuffer{}, reg: prometheus.NewRegistry()}
	if k.clock == nil {
		k.clock = wecomtest.NewClock(t0)
	}
	k.wecom = o.wecom
	if k.wecom == nil {
		k.wecom = wecomtest.New(wecomtest.WithCorp(sampleCorpID, corpSecret, agentID), wecomtest.WithWebhookKeys(robotKey))
		k.wecom.Now = k.clock.Now
		k.wecom.Start()
		t.Cleanup(k.wecom.Close)
	}
	k.store = o.store
	if k.store == nil {
		k.store = storetest.Open(t, driver, storetest.Options{Now: k.clock.Now})
	}
	if o.window == 0 {
		o.window = 10 * time.Minute
	}
	if o.poll == 0 {
		o.poll = 20 * time.Millisecond
	}
	if o.giveUp == 0 {
		o.giveUp = 24 * time.Hour
	}
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	k.wire = &recorder{next: http.DefaultTransport, broken: o.broken}
	cfg := k.config(o.window, cmp.Or(o.secret, corpSecret))
	if o.wecomCfg != nil {
		o.wecomCfg(&cfg)
	}
	opts := bot.Options{
		WeCom:      cfg,
		Outbox:     config.Outbox{RobotPerMinute: 20, UserPerMinute: 30, GiveUpAfter: config.Duration(o.giveUp), PollEvery: config.Duration(o.poll)},
		Log:        zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(k.logs), zap.DebugLevel)),
		Registerer: k.reg, Now: k.clock.Now, WorkerID: o.worker,
		HTTPClient: &http.Client{Transport: k.wire, Timeout: o.timeout},
	}
	if o.fakeTime {
		opts.Sleep = func(ctx context.Context, d time.Duration) error {
			k.clock.Advance(max(d, time.Millisecond))
			return ctx.Err()
		}
	}
	b, err := bot.New(k.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	k.bot = b
	mux := http.NewServeMux()
	b.Register(mux)
	srv := httptest.NewServer(mux)
	k.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		_ = b.Close()
	})
	k.robot = k.signer(robotToken, robotAESKey, "")
	k.app = k.signer(sampleToken, sampleAESKey, sampleCorpID)
	k.aibot = k.signer(aibotToken, aibotAESKey, "")
	return k
}

// kitChat is the chat of the kit's work group (wecom.robot.chat_id).
const kitChat = "wrkKitGroup"

func (k *kit) config(window time.Duration, secret string) config.WeCom {
	return config.WeCom{
		APIBase: k.wecom.URL(), CorpID: sampleCorpID, AgentID: agentID, Secret: config.Secret(secret),
		ReplayWindow: config.Duration(window), BotName: botName,
		AppCallback: config.Callback{Token: sampleToken, AESKey: sampleAESKey},
		Robot:       config.Robot{WebhookKey: robotKey, ChatID: kitChat, Token: robotToken, AESKey: robotAESKey},
		AIBot:       config.AIBot{Token: aibotToken, AESKey: aibotAESKey},
	}
}

func (k *kit) signer(token, key, receiveID string) *wecomtest.CallbackSigner {
	s, err := wecomtest.NewCallbackSigner(token, key, receiveID)
	if err != nil {
		k.t.Fatal(err)
	}
	s.Now = k.clock.Now
	return s
}

// eachStore runs f on every test database, each with a store of its own on
// a fresh fake clock at t0 that the store and the kits built with it share.
func eachStore(t *testing.T, f func(t *testing.T, s *models.Store, clock *wecomtest.Clock)) {
	t.Helper()
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			clock := wecomtest.NewClock(t0)
			f(t, storetest.Open(t, driver, storetest.Options{Now: clock.Now}), clock)
		})
	}
}

// to returns a function that delivers a callback, as a signer builds it, to
// the bot's route and returns the status and body:
// k.to("robot")(k.robot.RobotText(msg)).
func (k *kit) to(route string) func(wecomtest.Callback, error) (int, string) {
	return func(cb wecomtest.Callback, err error) (int, string) {
		k.t.Helper()
		if err != nil {
			k.t.Fatal(err)
		}
		req, err := cb.Request(k.url + "/wecom/" + route)
		if err != nil {
			k.t.Fatal(err)
		}
		return do(k.t, req)
	}
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// inbound returns the stored callbacks, by ID.
func (k *kit) inbound() []models.Inbound {
	k.t.Helper()
	var rows []models.Inbound
	if err := k.store.DB(context.Background()).Order("id").Find(&rows).Error; err != nil {
		k.t.Fatal(err)
	}
	return rows
}

// outbox returns the outbox rows, by ID.
func (k *kit) outbox() []models.OutboxMessage {
	k.t.Helper()
	var rows []models.OutboxMessage
	if err := k.store.DB(context.Background()).Order("id").Find(&rows).Error; err != nil {
		k.t.Fatal(err)
	}
	return rows
}

// enqueue puts rendered rows in the outbox, each a message of its own.
func (k *kit) enqueue(rows ...models.OutboxMessage) {
	k.t.Helper()
	for _, r := range rows {
		if _, err := k.store.Enqueue(context.Background(), "", []models.OutboxMessage{r}); err != nil {
			k.t.Fatal(err)
		}
	}
}

// counter reads a counter of the kit's registry.
func (k *kit) counter(name string, labels ...string) float64 {
	k.t.Helper()
	mfs, err := k.reg.Gather()
	if err != nil {
		k.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// eventually waits, in real time, for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertNoSecrets fails if text carries a credential.
func assertNoSecrets(t testing.TB, where, text string, more ...string) {
	t.Helper()
	for _, s := range append(append([]string{}, secrets...), more...) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s carries the secret %q:\n%s", where, s, text)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the log sink).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorder is the bot's HTTP transport in tests: it records every URL the
// bot calls (to find the credentials that went over the wire) and can play
// a dead network.
type recorder struct {
	next   http.RoundTripper
	broken func(n int) bool

	mu   sync.Mutex
	n    int
	urls []*url.URL
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.n++
	n := r.n
	r.urls = append(r.urls, req.URL)
	r.mu.Unlock()
	if r.broken != nil && r.broken(n) {
		return nil, fmt.Errorf("dial tcp %s: connection refused", req.URL.Host)
	}
	return r.next.RoundTrip(req)
}

// credentials returns every key, token and secret sent in a query.
func (r *recorder) credentials() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.urls {
		for _, p := range []string{"key", "access_token", "corpsecret", "response_code"} {
			if v := u.Query().Get(p); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// hosts returns every host the bot called.
func (r *recorder) hosts() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for _, u := range r.urls {
		out[u.Host] = true
	}
	return out
}
