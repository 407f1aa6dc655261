package bot

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"yanzhen/bot/wxcrypt"
	"yanzhen/models"
)

// maxCallbackBody is the largest callback body accepted; WeCom's are a few KB.
const maxCallbackBody = 1 << 20

// Callback results, the label of yanzhen_wecom_callbacks_total.
const (
	resultOK        = "ok"        // stored, to be handled
	resultDuplicate = "duplicate" // a repeat of a stored MsgId
	resultVerified  = "verified"  // URL verification answered
	resultSignature = "signature" // bad signature or receiveid: 401
	resultStale     = "stale"     // timestamp outside the replay window: 401
	resultMalformed = "malformed" // 400
	resultTooLarge  = "too_large" // 413
	resultError     = "error"     // the store failed: 500, WeCom retries
)

// route is one callback route: its crypto and how its messages read.
type route struct {
	name    string // models.RouteApp, RouteRobot or RouteAIBot
	crypter *wxcrypt.Crypter
	parse   func(plain []byte, botName string) (*models.Inbound, error)
}

// serve answers the callbacks of rt: a GET verifies the URL, a POST is
// checked, stored once per MsgId and answered 200 with an empty body before
// any handling.
func (b *Bot) serve(rt *route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var result string
		if r.Method == http.MethodGet {
			result = b.verifyURL(w, r, rt)
		} else {
			result = b.receive(w, r, rt)
		}
		b.metrics.callbacks.WithLabelValues(rt.name, result).Inc()
		b.metrics.callbackSeconds.WithLabelValues(rt.name).Observe(time.Since(start).Seconds())
	}
}

// signed is the signature query every callback carries.
type signed struct {
	sig, timestamp, nonce string
}

// query reads the signature query; ok is false when a part is missing.
func query(r *http.Request) (signed, bool) {
	q := r.URL.Query()
	s := signed{q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce")}
	return s, s.sig != "" && s.timestamp != "" && s.nonce != ""
}

// fresh reports whether a callback's timestamp is within the replay window
// of the bot's clock, either way; a zero window accepts any time.
func (b *Bot) fresh(timestamp string) (ok, valid bool) {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false, false
	}
	if b.replayWindow <= 0 {
		return true, true
	}
	d := b.now().Sub(time.Unix(ts, 0))
	return d <= b.replayWindow && d >= -b.replayWindow, true
}

// verifyURL answers WeCom's URL verification: the decrypted echostr, as is.
func (b *Bot) verifyURL(w http.ResponseWriter, r *http.Request, rt *route) string {
	s, ok := query(r)
	echo := r.URL.Query().Get("echostr") // decoded: the echostr carries + and /
	if !ok || echo == "" {
		return refuse(w, http.StatusBadRequest, resultMalformed)
	}
	plain, result := b.open(w, rt, s, echo)
	if result != "" {
		return result
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(plain)
	return resultVerified
}

// receive takes a callback POST.
func (b *Bot) receive(w http.ResponseWriter, r *http.Request, rt *route) string {
	s, ok := query(r)
	if !ok {
		return refuse(w, http.StatusBadRequest, resultMalformed)
	}
	if r.ContentLength > maxCallbackBody {
		return refuse(w, http.StatusRequestEntityTooLarge, resultTooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return refuse(w, http.StatusRequestEntityTooLarge, resultTooLarge)
	case err != nil:
		return refuse(w, http.StatusBadRequest, resultMalformed)
	}
	parseEnvelope := wxcrypt.ParseXMLEnvelope
	if isJSON(body) {
		parseEnvelope = wxcrypt.ParseJSONEnvelope
	}
	encrypt, err := parseEnvelope(body)
	if err != nil {
		return refuse(w, http.StatusBadRequest, resultMalformed)
	}
	plain, result := b.open(w, rt, s, encrypt)
	if result != "" {
		return result
	}
	in, err := rt.parse(plain, b.botName)
	if err != nil {
		return refuse(w, http.StatusBadRequest, resultMalformed)
	}
	// The receiver takes the first attempt at handling as it stores the
	// message; should it die, the claim runs out and a sweep takes over.
	now := b.now()
	lease := now.Add(handlerLease)
	in.Route, in.ReceivedAt, in.Attempts, in.ClaimedUntil = rt.name, now, 1, &lease
	fresh, err := b.journal.insert(r.Context(), in)
	if err != nil {
		b.log.Error("storing a callback failed; WeCom will send it again", zap.String("route", rt.name), zap.Error(err))
		return refuse(w, http.StatusInternalServerError, resultError)
	}
	w.WriteHeader(http.StatusOK)
	if !fresh {
		return resultDuplicate
	}
	b.dispatcher.offer(in)
	return resultOK
}

// open checks a callback's encrypted text (the echostr or the body's
// Encrypt): its signature, then its timestamp against the replay window.
// Then it decrypts it, refusing 401 a message addressed to another receiver
// and 400 a garbled one. When a check fails, open has answered w and
// returns the result to count; otherwise result is empty.
func (b *Bot) open(w http.ResponseWriter, rt *route, s signed, encrypt string) (plain []byte, result string) {
	if !rt.crypter.VerifySignature(s.sig, s.timestamp, s.nonce, encrypt) {
		return nil, refuse(w, http.StatusUnauthorized, resultSignature)
	}
	switch ok, valid := b.fresh(s.timestamp); {
	case !valid:
		return nil, refuse(w, http.StatusBadRequest, resultMalformed)
	case !ok:
		return nil, refuse(w, http.StatusUnauthorized, resultStale)
	}
	plain, err := rt.crypter.Decrypt(encrypt)
	switch {
	case errors.Is(err, wxcrypt.ErrReceiveID):
		return nil, refuse(w, http.StatusUnauthorized, resultSignature)
	case err != nil:
		return nil, refuse(w, http.StatusBadRequest, resultMalformed)
	}
	return plain, ""
}

// refuse answers status with its standard text and returns result.
func refuse(w http.ResponseWriter, status int, result string) string {
	http.Error(w, http.StatusText(status), status)
	return result
}
