package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Logger receives the store's own log lines, a message with key-value pairs;
// *zap.SugaredLogger is one.
type Logger interface {
	Infow(msg string, keysAndValues ...any)
	Warnw(msg string, keysAndValues ...any)
	Errorw(msg string, keysAndValues ...any)
}

// slowStatement is how long a statement runs before it is logged as slow.
const slowStatement = time.Second

// gormLog is gorm's logger on a Logger. It logs slow statements, without
// their parameters (no token or message text reaches the log), and gorm's own
// warnings and errors. A failed statement is not logged: its caller gets the
// error and reports it, and while the database is down the health watch
// (WatchHealth) speaks for all of them.
type gormLog struct {
	log  Logger
	slow time.Duration
}

var (
	_ logger.Interface  = gormLog{}
	_ gorm.ParamsFilter = gormLog{}
)

// LogMode returns g: the level is fixed.
func (g gormLog) LogMode(logger.LogLevel) logger.Interface { return g }

// Info drops gorm's informational lines.
func (g gormLog) Info(context.Context, string, ...any) {}

// Warn logs a warning of gorm's own.
func (g gormLog) Warn(_ context.Context, msg string, data ...any) {
	g.log.Warnw(fmt.Sprintf(msg, data...))
}

// Error logs an error of gorm's own (not of a statement).
func (g gormLog) Error(_ context.Context, msg string, data ...any) {
	g.log.Errorw(fmt.Sprintf(msg, data...))
}

// Trace logs a statement that ran longer than g.slow.
func (g gormLog) Trace(_ context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	if elapsed < g.slow {
		return
	}
	sql, rows := fc()
	g.log.Warnw("slow sql statement", "elapsed", elapsed, "rows", rows, "failed", err != nil, "sql", sql)
}

// ParamsFilter leaves the parameters out of the statements gorm hands Trace.
func (g gormLog) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// healthCheck bounds one ping of the health watch: a frozen database counts
// as unavailable.
const healthCheck = 3 * time.Second

// healthRepeat is how often an outage is logged again while it lasts.
const healthRepeat = time.Minute

// WatchHealth pings the database every interval until ctx ends and logs its
// availability to log: one line when it stops answering, one a minute while
// it does not, one when it answers again.
func (s *Store) WatchHealth(ctx context.Context, every time.Duration, log Logger) {
	var h health
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, min(every, healthCheck))
		err := s.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		h.observe(s.Now(), err, log)
	}
}

// health follows the database's availability from the outcome of each check.
type health struct {
	down   bool
	since  time.Time // when the outage began
	logged time.Time // when it was last logged
	failed int       // checks failed since then
}

// observe records the outcome of a check at now, logging the outage's
// beginning, every healthRepeat of it, and its end.
func (h *health) observe(now time.Time, err error, log Logger) {
	switch {
	case err != nil && !h.down:
		*h = health{down: true, since: now, logged: now}
		log.Errorw("database unavailable", "error", err.Error())
	case err != nil:
		h.failed++
		if now.Sub(h.logged) >= healthRepeat {
			log.Errorw("database still unavailable", "for", now.Sub(h.since).Round(time.Second), "failed_checks", h.failed, "error", err.Error())
			h.logged, h.failed = now, 0
		}
	case h.down:
		log.Infow("database available again", "after", now.Sub(h.since).Round(time.Second))
		*h = health{}
	}
}
