// Package bot is the only package that knows WeCom (企业微信). It serves the
// three callback routes (self-built app, group robot, AI bot), stores each
// message once and hands it to a Handler after WeCom has been answered; and
// it sends the outbox through the WeCom API with rate limits, retries and
// persistence, on one replica or several sharing a database.
//
// Subpackages: wxcrypt is the callback crypto, wecomtest a fake WeCom for
// tests and the demo.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"yanzhen/bot/wxcrypt"
	"yanzhen/config"
	"yanzhen/models"
)

// Handler handles one message received from WeCom. It is called after WeCom
// has been answered, from the stored row, by one replica at a time, with a
// context that ends after 30 s or when the service stops. A repeat of a
// MsgId is never handed over again. A message whose Handle returned nil is
// done; only a crash of the process in the moment after (before the mark is
// written) hands it over once more. An error means "try again later": it is
// recorded on the row (Attempts, LastError) and the message is handled
// again after 10 s, 40 s, 160 s and 640 s, five attempts in all. So Handle
// returns an error only for a failure that may pass (the database down),
// and answers the sender itself for everything else (an unknown command, a
// refused permission). Replies go through the outbox (in.Reply and
// models.Store.Enqueue, in the transaction of the change they report).
type Handler interface {
	Handle(ctx context.Context, in *models.Inbound) error
}

// Options configure a Bot.
type Options struct {
	WeCom  config.WeCom
	Outbox config.Outbox
	// Log receives the bot's log lines; none ever carries a credential.
	Log *zap.Logger
	// Registerer receives the metrics (see metrics.go for their names); nil
	// leaves them unregistered.
	Registerer prometheus.Registerer
	// Now is the clock of replay checks, claims, rate budgets and backoff;
	// time.Now when nil.
	Now func() time.Time
	// Sleep waits for the next due message in Flush and in the outbox
	// worker, and between the sweeps of stored callbacks; nil means a real
	// timer. Tests pass one that moves their clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTPClient calls WeCom; nil means one with a 30 s timeout (see the
	// delivery schedule in deliver.go). Redirects are never followed,
	// whatever the client says.
	HTTPClient *http.Client
	// WorkerID names this process in outbox claims and in the lease of the
	// AI bot's long connection; empty means host-pid-random.
	WorkerID string
	// WSClient dials the AI bot's long connection (wecom.aibot.mode:
	// websocket); nil means a default client. Its Timeout must be 0.
	WSClient *http.Client
}

// Bot is the WeCom side of yanzhen. Create it with New, mount its routes
// with Register, start the handling of callbacks and the outbox with Start,
// stop them with Shutdown and release it with Close. Once started it polls
// the outbox, and sweeps the callbacks left unhandled, every
// outbox.poll_every.
type Bot struct {
	log          *zap.Logger
	now          func() time.Time
	sleep        func(ctx context.Context, d time.Duration) error
	poll         time.Duration
	replayWindow time.Duration
	storeWait    time.Duration
	botName      string
	replies      *replyRefs
	metrics      *metrics
	refusals     *refusalLog
	routes       []*route
	journal      *journal
	dispatcher   *dispatcher
	outbox       *Outbox
	worker       *worker
	aibot        *longConn // nil unless the AI bot runs on its long connection
	files        *inFiles  // fetches the files messages carry (media_in.go)

	mu         sync.Mutex
	started    bool
	stop, kill context.CancelFunc
	running    sync.WaitGroup
}

// New builds a bot on store. It starts the journal that stores callbacks
// (Close stops it) but sends and handles nothing until Start.
func New(store *models.Store, o Options) (*Bot, error) {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepContext
	}
	if o.WorkerID == "" {
		o.WorkerID = workerID()
	}
	base, err := url.Parse(strings.TrimSuffix(o.WeCom.APIBase, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("bot: wecom.api_base must be an http(s) URL")
	}
	log := o.Log.Named("bot")
	b := &Bot{
		log: log, now: o.Now, sleep: o.Sleep, poll: o.Outbox.PollEvery.D(),
		replayWindow: o.WeCom.ReplayWindow.D(), storeWait: storeWait, botName: o.WeCom.BotName,
		metrics: newMetrics(), refusals: newRefusalLog(log.Named("callback"), o.Now),
	}
	if b.routes, err = routes(o.WeCom); err != nil {
		return nil, err
	}
	if o.Registerer != nil {
		if err := b.metrics.register(o.Registerer, newBacklogCollector(store, o.Now, log)); err != nil {
			return nil, fmt.Errorf("bot: register metrics: %w", err)
		}
	}
	giveUp := o.Outbox.GiveUpAfter.D()
	appHorizon := min(giveUp, maxDuplicateCheck)
	c := &client{
		base: base, corpID: o.WeCom.CorpID, secret: o.WeCom.Secret.Reveal(), agentID: o.WeCom.AgentID,
		http: newHTTPClient(o.HTTPClient), calls: b.metrics.apiCalls, duplicateCheck: appHorizon,
	}
	c.tokens = newTokenSource(store, c.fetchToken, o.Now, o.WeCom.CorpID, o.WeCom.AgentID, o.WeCom.Secret.Reveal())
	b.files = newInFiles(c, o.WeCom)
	b.replies = newReplyRefs(base, o.WeCom)
	res := &resolver{base: base, robotKey: o.WeCom.Robot.WebhookKey.Reveal(), replies: b.replies, robots: map[string]string{}}
	for name, r := range o.WeCom.Robots {
		res.robots[name] = r.WebhookKey.Reveal()
	}
	b.outbox = NewOutbox(o.WeCom)
	send := &wecomSender{resolver: res, client: c, log: log, media: store, now: o.Now}
	b.worker = &worker{
		store: store, outbox: b.outbox, sender: send, resolver: res,
		now: o.Now, sleep: o.Sleep, log: log.Named("outbox"), metrics: b.metrics, id: o.WorkerID,
		limits: limits{robotPerMinute: o.Outbox.RobotPerMinute, userPerMinute: o.Outbox.UserPerMinute},
		giveUp: giveUp, poll: o.Outbox.PollEvery.D(), appHorizon: appHorizon,
		credentials: credentialsID(o.WeCom.CorpID, o.WeCom.Secret.Reveal()),
	}
	b.journal = newJournal(store, o.Now, log.Named("inbound"))
	b.dispatcher = &dispatcher{
		store: store, journal: b.journal, now: o.Now, log: log.Named("inbound"), metrics: b.metrics,
		poll: o.Outbox.PollEvery.D(), sleep: o.Sleep, queue: make(chan *models.Inbound, queueSize),
	}
	if o.WeCom.AIBot.WebSocket() {
		b.aibot = newLongConn(o.WeCom.AIBot, o.WeCom.BotName, o.WorkerID, o.WSClient, store, b.journal, b.dispatcher, o.Now, log)
		b.aibot.files, b.aibot.parse, b.aibot.outbox = b.files, aibotParser(b.outbox.cards), b.outbox
		send.aibot, b.worker.away = b.aibot, b.aibot.away
		if o.Registerer != nil {
			up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "yanzhen_aibot_connected", Help: "1 while this process holds the AI bot's long connection up, else 0.",
			}, func() float64 {
				if b.aibot.session() != nil {
					return 1
				}
				return 0
			})
			if err := o.Registerer.Register(up); err != nil {
				return nil, fmt.Errorf("bot: register metrics: %w", err)
			}
		}
	}
	return b, nil
}

// routes builds the configured callback routes; a route without token and
// key is not served. The robot route takes the crypto of wecom.robot and of
// every robot of wecom.robots that has one.
func routes(c config.WeCom) ([]*route, error) {
	type crypto struct {
		token, aesKey config.Secret
		configKey     string
	}
	robots := []crypto{{c.Robot.Token, c.Robot.AESKey, "wecom.robot"}}
	for _, name := range c.RobotNames() {
		r := c.Robots[name]
		robots = append(robots, crypto{r.Token, r.AESKey, "wecom.robots." + name})
	}
	var out []*route
	for _, r := range []struct {
		name      string
		cryptos   []crypto
		receiveID string
		parse     func([]byte, string) (*models.Inbound, error)
	}{
		{string(models.RouteApp), []crypto{{c.AppCallback.Token, c.AppCallback.AESKey, "wecom.app_callback"}}, c.CorpID, appParser(newCardSigner(cardSecret(c)))},
		{string(models.RouteRobot), robots, "", parseRobot},
		{string(models.RouteAIBot), []crypto{{c.AIBot.Token, c.AIBot.AESKey, "wecom.aibot"}}, "", aibotParser(newCardSigner(cardSecret(c)))}, // mode callback only
	} {
		rt := &route{name: r.name, parse: r.parse}
		for _, k := range r.cryptos {
			if !k.token.IsSet() {
				continue
			}
			cr, err := wxcrypt.New(k.token.Reveal(), k.aesKey.Reveal(), r.receiveID)
			if err != nil {
				return nil, fmt.Errorf("bot: %s: %w", k.configKey, err)
			}
			rt.crypters = append(rt.crypters, cr)
		}
		if len(rt.crypters) > 0 {
			out = append(out, rt)
		}
	}
	return out, nil
}

// workerID names this process: host, pid and a random suffix.
func workerID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	if len(id) > 64 {
		id = id[len(id)-64:]
	}
	return id
}

// Register mounts GET and POST /wecom/app, /wecom/robot and /wecom/aibot on
// mux, each if its crypto is configured.
func (b *Bot) Register(mux *http.ServeMux) {
	for _, rt := range b.routes {
		h := b.serve(rt)
		mux.Handle("GET /wecom/"+rt.name, h)
		mux.Handle("POST /wecom/"+rt.name, h)
	}
}

// Start begins handling callbacks with h, stored ones first, and sending the
// outbox; and writes the counts of refused callbacks to the log once their
// minute is over. A nil h marks each stored callback handled without
// handling it (a service whose handlers are not wired). Start may be called
// once.
func (b *Bot) Start(h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		panic("bot: Start called twice")
	}
	b.started = true
	stop, cancelStop := context.WithCancel(context.Background())
	work, cancelWork := context.WithCancel(context.Background())
	b.stop, b.kill = cancelStop, cancelWork
	b.running.Add(3)
	go func() {
		defer b.running.Done()
		b.dispatcher.run(stop, work, h)
	}()
	sent := make(chan struct{})
	go func() {
		defer b.running.Done()
		defer close(sent)
		b.worker.run(stop, work)
	}()
	go func() {
		defer b.running.Done()
		for b.sleep(stop, b.poll) == nil && stop.Err() == nil {
			b.refusals.flush()
		}
	}()
	if b.aibot != nil {
		// The long connection closes once the worker has finished the
		// sends under way, some of which may go on it.
		b.aibot.setHandling(true)
		conn, closeConn := context.WithCancel(context.Background())
		b.running.Add(2)
		go func() {
			defer b.running.Done()
			<-stop.Done()
			<-sent
			closeConn()
		}()
		go func() {
			defer b.running.Done()
			b.aibot.run(conn)
		}()
	}
	b.log.Info("bot started", zap.Int("callback_routes", len(b.routes)), zap.Bool("handler", h != nil), zap.String("worker", b.worker.id))
}

// Shutdown stops taking new work and waits for the handling and sending
// under way to finish, until ctx ends; then it cancels them and returns
// ctx's error once they have stopped. Callbacks keep being stored until
// Close, so stop the HTTP server first.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	stop, kill := b.stop, b.kill
	b.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	done := make(chan struct{})
	go func() { b.running.Wait(); close(done) }()
	select {
	case <-done:
		kill()
		return nil
	case <-ctx.Done():
		kill()
		<-done
		return fmt.Errorf("bot shutdown: %w", ctx.Err())
	}
}

// Outbox returns what handlers and jobs enqueue their messages through.
func (b *Bot) Outbox() *Outbox { return b.outbox }

// Flush sends every pending message that is due and returns nil when the
// outbox is empty. It waits through backoffs and rate windows while the next
// send falls before ctx's deadline (or, without a deadline, within two
// minutes), and otherwise returns a *PendingError saying how many messages
// remain for the service to send (also when the deadline passes in the
// middle of its work); a *CredentialsError when WeCom refused the
// app's credentials and only messages held for that remain. It returns once
// the sends it started have ended. `yanzhen run JOB` calls it before exiting.
//
// With the AI bot on its long connection, a bot not started (`yanzhen run`)
// sends that connection's messages only when no service holds it: it takes
// the connection for the flush and leaves it after. When a service holds
// it, they are left to it, and counted in the *PendingError.
func (b *Bot) Flush(ctx context.Context) error {
	if b.aibot != nil && !b.isStarted() {
		defer b.aibot.borrow(ctx)()
	}
	if err := b.worker.flush(ctx); err != nil || b.aibot == nil {
		return err
	}
	return b.aibot.leftToHolder(ctx)
}

func (b *Bot) isStarted() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.started
}

// Health returns why the bot cannot work as configured, or nil: the app's
// credentials refused by WeCom (a *CredentialsError: app messages are held),
// the AI bot's subscription refused (a wrong bot_id or secret), or its long
// connection taken over by another client. /healthz reports it.
func (b *Bot) Health() error {
	if err := b.worker.credentialsFault(); err != nil {
		return err
	}
	if b.aibot == nil {
		return nil
	}
	return b.aibot.health()
}

// Close stops storing callbacks; a callback arriving afterwards is answered
// 500, and WeCom sends it again. Call Shutdown first.
func (b *Bot) Close() error {
	b.journal.close()
	return nil
}
