package wecomtest

import (
	"net/http"
	"time"
)

// Fault is a failure the fake answers instead of serving a call: a WeCom
// errcode with HTTP 200, a bare HTTP status, a connection hung up without
// an answer, or a call held without an answer. A faulted call is recorded
// but delivers nothing, consumes no rate limit and no response URL; except
// a Late one, which is served in full and only its answer held.
type Fault struct {
	Errcode int  // answered with HTTP 200, as WeCom reports its errors
	Status  int  // if non-zero, this HTTP status with an empty body instead
	Hangup  bool // if set, the connection is closed without an answer
	// Hang holds the call without serving it, and Late serves it (the
	// message is delivered) but holds the answer: both until the client
	// gives up or ReleaseHeld, and then the connection is closed without an
	// answer. Late is WeCom answering after the client's timeout.
	Hang bool
	Late bool
}

// Hang returns the fault of an endpoint that hangs: the call is not served
// and gets no answer until the client gives up (or ReleaseHeld).
func Hang() Fault { return Fault{Hang: true} }

// Late returns the fault of WeCom answering after the client gave up: the
// call is served, its message delivered, and the answer held until the
// client gives up (or ReleaseHeld), so the client sees a timeout.
func Late() Fault { return Fault{Late: true} }

// Errcode returns the fault that answers {"errcode":code} with HTTP 200, e.g.
// 45009 (rate limit), -1 (busy) or 93000 (robot removed).
func Errcode(code int) Fault { return Fault{Errcode: code} }

// HTTPStatus returns the fault that answers the HTTP status code, e.g. 502.
func HTTPStatus(code int) Fault { return Fault{Status: code} }

// Hangup returns the fault that closes the connection without an answer, as
// a network failure does.
func Hangup() Fault { return Fault{Hangup: true} }

// faultStep is one entry of a route's fault queue: n calls, or the calls
// during d from the first one it meets.
type faultStep struct {
	fault Fault
	n     int
	d     time.Duration
	until time.Time
}

// FailNext makes the next n calls to route fail with f, after the faults
// already queued for route.
func (s *Server) FailNext(route Route, f Fault, n int) {
	s.enqueue(route, &faultStep{fault: f, n: n})
}

// FailFor makes the calls to route fail with f for d of fake time, after the
// faults already queued for route. The period starts with the first call it
// meets, so "45009 for a minute, then -1 twice, then success" is
//
//	s.FailFor(RouteWebhook, Errcode(45009), time.Minute)
//	s.FailNext(RouteWebhook, Errcode(-1), 2)
func (s *Server) FailFor(route Route, f Fault, d time.Duration) {
	s.enqueue(route, &faultStep{fault: f, d: d})
}

func (s *Server) enqueue(route Route, st *faultStep) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], st)
}

// Script sets a function consulted before the fault queues for every call,
// with the decoded call; when it returns true the call fails with the fault.
// It runs with the Server locked, so it must not call the Server. nil
// removes the script.
func (s *Server) Script(fn func(Request) (Fault, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = fn
}

// faultLocked returns the fault for r, if any, consuming the queue.
func (s *Server) faultLocked(r Request) (Fault, bool) {
	if s.script != nil {
		if f, ok := s.script(r); ok {
			return f, true
		}
	}
	q := s.faults[r.Route]
	defer func() { s.faults[r.Route] = q }()
	for len(q) > 0 {
		st := q[0]
		if st.d > 0 {
			if st.until.IsZero() {
				st.until = r.Time.Add(st.d)
			}
			if r.Time.Before(st.until) {
				return st.fault, true
			}
			q = q[1:]
			continue
		}
		if st.n <= 0 {
			q = q[1:]
			continue
		}
		st.n--
		if st.n == 0 {
			q = q[1:]
		}
		return st.fault, true
	}
	return Fault{}, false
}

// holdLocked counts a held call and returns the channel that ReleaseHeld
// closes; nil for a fault that holds nothing.
func (s *Server) holdLocked(f Fault) <-chan struct{} {
	if !f.Hang && !f.Late {
		return nil
	}
	s.held++
	return s.release
}

// wait holds a call until its client gives up or release is closed; it
// returns at once when release is nil.
func (s *Server) wait(hr *http.Request, release <-chan struct{}) {
	if release == nil {
		return
	}
	select {
	case <-hr.Context().Done():
	case <-release:
	}
	s.mu.Lock()
	s.held--
	s.mu.Unlock()
}
