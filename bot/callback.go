package bot

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

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
	resultError     = "error"     // the store failed or was too slow: 500, WeCom retries
)

// storeWait bounds how long a callback waits for its row to be stored: a
// stalled database is answered 500 well within WeCom's 5 s, so that WeCom's
// next attempt is not wasted on a request it has already given up on. A row
// stored after the answer is not lost: WeCom's retry finds it (a duplicate,
// answered 200) and the sweep hands it over once its first claim runs out.
const storeWait = 3 * time.Second

// route is one callback route: its crypto and how its messages read. The
// robot route serves every robot (wecom.robot and wecom.robots): a
// callback is opened by the crypter whose token signed it.
type route struct {
	name     string // a models.Route
	crypters []*wxcrypt.Crypter
	parse    func(plain []byte, botName string) (*models.Inbound, error)
}

// signer returns the crypter whose token signed encrypt, or nil.
func (rt *route) signer(s signed, encrypt string) *wxcrypt.Crypter {
	for _, c := range rt.crypters {
		if c.VerifySignature(s.sig, s.timestamp, s.nonce, encrypt) {
			return c
		}
	}
	return nil
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
		return b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonQuery)
	}
	plain, result := b.open(w, r, rt, s, echo)
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
		return b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonQuery)
	}
	if r.ContentLength > maxCallbackBody {
		return b.refuse(w, r, rt, http.StatusRequestEntityTooLarge, resultTooLarge, reasonTooLarge)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return b.refuse(w, r, rt, http.StatusRequestEntityTooLarge, resultTooLarge, reasonTooLarge)
	case err != nil:
		return b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonEnvelope)
	}
	parseEnvelope := wxcrypt.ParseXMLEnvelope
	if isJSON(body) {
		parseEnvelope = wxcrypt.ParseJSONEnvelope
	}
	encrypt, err := parseEnvelope(body)
	if err != nil {
		return b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonEnvelope)
	}
	plain, result := b.open(w, r, rt, s, encrypt)
	if result != "" {
		return result
	}
	in, err := rt.parse(plain, b.botName)
	if err != nil {
		return b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonMessage)
	}
	// The receiver takes the first attempt at handling as it stores the
	// message; should it die, the claim runs out and a sweep takes over.
	now := b.now()
	lease := now.Add(handlerLease)
	in.Route, in.ReceivedAt, in.Attempts, in.ClaimedUntil = models.Route(rt.name), now, 1, &lease
	in.ReplyURL = b.replies.keep(in.ReplyURL) // never the webhook key or response code as it came
	in.Attachment = b.files.keep(in.Attachment)
	ctx, cancel := context.WithTimeout(r.Context(), b.storeWait)
	defer cancel()
	fresh, err := b.journal.insert(ctx, in)
	if err != nil {
		b.refusals.note(rt.name, reasonStore, r) // one line a minute while the database is away
		return refuse(w, http.StatusInternalServerError, resultError)
	}
	w.WriteHeader(http.StatusOK)
	if !fresh {
		if in.MsgType == models.MsgTypeTap {
			answerRepeat(ctx, b.journal.store, b.outbox, b.log, in)
		}
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
func (b *Bot) open(w http.ResponseWriter, r *http.Request, rt *route, s signed, encrypt string) (plain []byte, result string) {
	crypter := rt.signer(s, encrypt)
	if crypter == nil {
		return nil, b.refuse(w, r, rt, http.StatusUnauthorized, resultSignature, reasonSignature)
	}
	switch ok, valid := b.fresh(s.timestamp); {
	case !valid:
		return nil, b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonTimestamp)
	case !ok:
		return nil, b.refuse(w, r, rt, http.StatusUnauthorized, resultStale, reasonStale)
	}
	plain, err := crypter.Decrypt(encrypt)
	switch {
	case errors.Is(err, wxcrypt.ErrReceiveID):
		return nil, b.refuse(w, r, rt, http.StatusUnauthorized, resultSignature, reasonReceiveID)
	case err != nil:
		return nil, b.refuse(w, r, rt, http.StatusBadRequest, resultMalformed, reasonDecrypt)
	}
	return plain, ""
}

// refuse answers a callback that failed a check with status, notes the
// refusal for the log and returns result.
func (b *Bot) refuse(w http.ResponseWriter, r *http.Request, rt *route, status int, result, reason string) string {
	b.refusals.note(rt.name, reason, r)
	return refuse(w, status, result)
}

// refuse answers status with its standard text and returns result.
func refuse(w http.ResponseWriter, status int, result string) string {
	http.Error(w, http.StatusText(status), status)
	return result
}
