package bot

import (
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logging of refused callbacks. A wrong token, EncodingAESKey or CorpID is
// the commonest setup mistake and refuses every callback; a scan or a flood
// refuses thousands. Either way one line per route and reason per minute is
// enough: the first refusal is written at once, the next ones are counted,
// and their count is written once a minute has passed since the last line
// (at the next refusal, or at the sweep that follows). A line names the
// route, the reason and up to refusalAddrs remote addresses; never the body.
const (
	refusalWindow = time.Minute
	refusalAddrs  = 5
)

// Refusal reasons, as logged.
const (
	reasonQuery     = "no signature query"
	reasonTooLarge  = "body too large"
	reasonEnvelope  = "unreadable envelope"
	reasonSignature = "bad signature (token)"
	reasonTimestamp = "bad timestamp"
	reasonStale     = "timestamp outside the replay window"
	reasonReceiveID = "wrong receiveid (CorpID)"
	reasonDecrypt   = "cannot decrypt (EncodingAESKey)"
	reasonMessage   = "not a message"
	reasonStore     = "database unavailable"
)

// refusalLog counts refused callbacks by route and reason and writes them
// to the log at most once a minute each. It is safe for concurrent use.
type refusalLog struct {
	log *zap.Logger
	now func() time.Time

	mu   sync.Mutex
	open map[refusalKey]*refusalCount
}

type refusalKey struct{ route, reason string }

// refusalCount is what a key has seen since its last line.
type refusalCount struct {
	since time.Time // when the last line was written
	n     int       // refusals since then
	addrs []string  // their distinct remote addresses, at most refusalAddrs
}

func newRefusalLog(log *zap.Logger, now func() time.Time) *refusalLog {
	return &refusalLog{log: log, now: now, open: make(map[refusalKey]*refusalCount)}
}

// note records one refusal from r on route for reason.
func (l *refusalLog) note(route, reason string, r *http.Request) {
	addr := remoteHost(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := refusalKey{route, reason}
	c := l.open[k]
	if c == nil {
		l.open[k] = &refusalCount{since: now}
		l.write(k, 1, []string{addr}, 0)
		return
	}
	c.n++
	if len(c.addrs) < refusalAddrs && !slices.Contains(c.addrs, addr) {
		c.addrs = append(c.addrs, addr)
	}
	if now.Sub(c.since) >= refusalWindow {
		l.flushKey(k, c, now)
	}
}

// flush writes the counts whose minute is over and forgets the keys that
// have been quiet for a minute, whose next refusal is then written at once.
func (l *refusalLog) flush() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, c := range l.open {
		switch {
		case now.Sub(c.since) < refusalWindow:
		case c.n > 0:
			l.flushKey(k, c, now)
		default:
			delete(l.open, k)
		}
	}
}

func (l *refusalLog) flushKey(k refusalKey, c *refusalCount, now time.Time) {
	l.write(k, c.n, c.addrs, now.Sub(c.since))
	c.since, c.n, c.addrs = now, 0, nil
}

func (l *refusalLog) write(k refusalKey, n int, addrs []string, over time.Duration) {
	level := zapcore.WarnLevel
	if k.reason == reasonStore {
		level = zapcore.ErrorLevel
	}
	fields := []zap.Field{zap.String("route", k.route), zap.String("reason", k.reason), zap.Int("count", n), zap.Strings("remote", addrs)}
	if over > 0 {
		fields = append(fields, zap.Duration("over", over.Round(time.Second)))
	}
	l.log.Log(level, "callback refused", fields...)
}

// remoteHost is the address a request came from, without its port. It is
// the peer's address: a proxy's header is not trusted for a log line.
func remoteHost(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
