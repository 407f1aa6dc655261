package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"yanzhen/api"
	"yanzhen/bot"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/handlers"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/report"
	"yanzhen/tickets"
)

// shutdownBudget is how long a stopping service waits for requests and workers.
const shutdownBudget = 8 * time.Second

// Options are how the process wants Main built.
type Options struct {
	// LogFormat is the default log format when the config leaves it empty: json or console.
	LogFormat string
	// LogOutput receives the logs; stderr when nil.
	LogOutput io.Writer
	// Now is the clock; time.Now when nil. Tests pin it.
	Now func() time.Time
}

// Main is the application: config, logger, store and calendar, plus the
// HTTP service and background workers that Run starts. End-to-end tests start it whole.
type Main struct {
	Config   *config.Config
	Log      *zap.Logger
	Store    *models.Store
	Calendar *calendar.Calendar
	Registry *prometheus.Registry
	Now      func() time.Time
	// Bot serves the WeCom callbacks and sends the outbox; `yanzhen run`
	// calls Bot.Flush before it exits.
	Bot *bot.Bot
	// Handlers handles the callbacks once Serve starts: Open sets the chat
	// commands (package handlers); a test may replace it before Serve. Nil
	// stores callbacks and marks them handled, nothing more.
	Handlers bot.Handler
	// Tickets imports tickets for the CLI and the API, on Calendar.
	Tickets *tickets.Service
	// Reports builds the reports, charts and workbooks of the chat, the CLI and the API.
	Reports *report.Builder
	// Extra serves every path the service's own routes do not, when set
	// before Serve: `yanzhen demo` mounts its page and fake WeCom there.
	Extra http.Handler
	// JobMetrics counts what the scheduled jobs decide, on Registry.
	JobMetrics *jobs.Metrics

	closers []func() error
}

// Open builds Main: logger, store (migrated), calendar, bot and chat
// handlers. Close releases them.
func Open(ctx context.Context, cfg *config.Config, o Options) (*Main, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	log, err := newLogger(cfg.Log, o)
	if err != nil {
		return nil, err
	}
	m := &Main{Config: cfg, Log: log, Now: o.Now, Registry: prometheus.NewRegistry()}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Store, err = models.Open(ctx, models.Options{
		Driver:   cfg.Database.Driver,
		DSN:      cfg.Database.DSN.Reveal(),
		Location: cfg.Location(),
		Now:      o.Now,
		Log:      log.Named("sql").Sugar(),
	})
	if err != nil {
		return nil, err
	}
	m.closers = append(m.closers, m.Store.Close)
	if pool, err := m.Store.DB(ctx).DB(); err == nil {
		// go_sql_*{db_name="yanzhen"}: the pool's connections in use and the waits for one.
		m.Registry.MustRegister(collectors.NewDBStatsCollector(pool, "yanzhen"))
	}
	if err := m.Store.Migrate(ctx); err != nil {
		m.Close()
		return nil, err
	}
	if m.Calendar, err = tickets.LoadCalendar(ctx, m.Store); err != nil {
		m.Close()
		return nil, err
	}
	m.Tickets = &tickets.Service{Store: m.Store, Calendar: m.Calendar, Rules: cfg.Rules, District: cfg.District.Name,
		Limits: importLimits(cfg)}
	m.Bot, err = bot.New(m.Store, bot.Options{
		WeCom: cfg.WeCom, Outbox: cfg.Outbox, Log: log, Registerer: m.Registry, Now: o.Now,
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	m.closers = append(m.closers, m.Bot.Close)
	m.Tickets.Outbox = m.Bot.Outbox()
	m.Reports = report.New(m.Store, cfg.Domain(), m.Calendar)
	if m.JobMetrics, err = jobs.NewMetrics(m.Registry); err != nil {
		m.Close()
		return nil, err
	}
	h, err := handlers.New(handlers.Options{
		Store: m.Store, Outbox: m.Bot.Outbox(), Config: cfg.Domain(), Calendar: m.Calendar, Reports: m.Reports, Charts: m.Reports, Now: o.Now,
		Tickets: m.Tickets, Files: m.Bot,
		Reached: jobs.ReachedOn(m.Calendar, cfg.Rules.Escalation),
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	m.Handlers = h
	return m, nil
}

// Close stops what Open started, in reverse order.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	_ = m.Log.Sync()
	return errors.Join(errs...)
}

// Handler returns every HTTP route of the service.
func (m *Main) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", m.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	m.Bot.Register(mux)
	mux.Handle("/api/", api.New(api.Options{Tickets: m.Tickets, Token: m.Config.HTTP.AdminToken, Log: m.Log.Named("api"), Exports: m.Reports}))
	if m.Extra != nil {
		mux.Handle("/", m.Extra)
	}
	return mux
}

// healthz answers 200 when the database answers and the bot works as
// configured, 503 with the reason otherwise.
func (m *Main) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := m.Store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "database unavailable: %v\n", err)
		return
	}
	if err := m.Bot.Health(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "wecom: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Run serves HTTP on http.listen until ctx ends, then shuts down within the budget.
func (m *Main) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", m.Config.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", m.Config.HTTP.Listen, err)
	}
	return m.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened (tests pass port 0).
func (m *Main) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(m.Log.Named("http")),
	}
	stopJobs := func() {}
	if m.Config.Schedule.Enabled {
		stop, err := m.startScheduler(ctx)
		if err != nil {
			return err
		}
		stopJobs = stop
	}
	m.Bot.Start(m.Handlers)
	stopReload := m.followCalendar(ctx)
	defer stopReload()
	stopWatch := m.watchDatabase(ctx)
	defer stopWatch()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	m.Log.Info("yanzhen serving", zap.String("addr", ln.Addr().String()), zap.String("version", Version),
		zap.String("database", m.Config.Database.Driver), zap.String("timezone", m.Config.Timezone))
	m.logWeCom()
	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	m.Log.Info("shutting down")
	stopJobs()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("http shutdown: %w", err))
	}
	// The callbacks have stopped arriving; let the handling and sending
	// under way finish within what is left of the budget.
	return errors.Join(serveErr, m.Bot.Shutdown(sctx))
}

// healthEvery is how often a running service checks that the database answers.
const healthEvery = 10 * time.Second

// watchDatabase logs the database's outages (models.Store.WatchHealth) until
// the returned stop is called.
func (m *Main) watchDatabase(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Store.WatchHealth(ctx, healthEvery, m.Log.Named("database").Sugar())
	}()
	return func() { cancel(); <-done }
}

// calendarReload is how soon a running service follows `yanzhen holiday add`.
const calendarReload = time.Minute

// followCalendar reloads the admins' calendar overrides every calendarReload
// until the returned stop is called, and warns when next year's holidays are
// still missing late in the year (the State Council publishes them each November).
func (m *Main) followCalendar(ctx context.Context) (stop func()) {
	m.warnMissingHolidays(ctx)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(calendarReload)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := tickets.ReloadCalendar(ctx, m.Store, m.Calendar); err != nil && ctx.Err() == nil {
					m.Log.Warn("calendar reload failed", errField(err))
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// warnMissingHolidays logs a warning from December on when next year is past
// the built-in calendar and no override for it has been entered.
func (m *Main) warnMissingHolidays(ctx context.Context) {
	now := m.Now().In(m.Config.Location())
	next := now.Year() + 1
	if now.Month() < time.December || next <= calendar.LastBuiltInYear {
		return
	}
	rows, err := m.Store.HolidayOverrides(ctx, next)
	if err == nil && len(rows) == 0 {
		m.Log.Warn("next year's public holidays are not entered: add them with `yanzhen holiday add`", zap.Int("year", next))
	}
}

// newLogger builds the zap logger: JSON under serve, console under demo.
func newLogger(c config.Log, o Options) (*zap.Logger, error) {
	format := c.Format
	if format == "" {
		format = o.LogFormat
	}
	out := o.LogOutput
	if out == nil {
		out = os.Stderr
	}
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, fmt.Errorf("config: log.level: %w", err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var encoder zapcore.Encoder
	if format == "console" {
		enc.EncodeLevel = zapcore.CapitalColorLevelEncoder
		enc.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
		encoder = zapcore.NewConsoleEncoder(enc)
	} else {
		encoder = zapcore.NewJSONEncoder(enc)
	}
	return zap.New(zapcore.NewCore(encoder, zapcore.AddSync(out), level)), nil
}

func errField(err error) zap.Field { return zap.String("error", err.Error()) }
