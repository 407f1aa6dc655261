// Package wecomtest is a fake WeCom (企业微信) server that speaks the real HTTP
// protocol: access tokens, the group robot webhook, app messages, app group
// chats, the AI bot's one-time response URLs, media uploads and the downloads
// of files members send (files.go), with WeCom's limits and
// error codes; and the AI bot's long connection (WebSocket, see ws.go). It records every request as a decoded Request, can be told to
// fail on purpose, and builds signed, encrypted callbacks as WeCom sends them
// (see CallbackSigner); template cards are validated, recorded as each
// recipient sees them, tapped and updated (cards.go, sentcards.go).
//
// Tests start it with Start; `yanzhen demo` mounts Handler on its own
// listener. Time comes from Server.Now, so tests move the clock instead of
// sleeping.
package wecomtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Route names one WeCom endpoint served by the fake.
type Route string

// The endpoints the fake serves, under its base URL.
const (
	RouteToken    Route = "gettoken"       // GET /cgi-bin/gettoken
	RouteWebhook  Route = "webhook/send"   // POST /cgi-bin/webhook/send?key=
	RouteMessage  Route = "message/send"   // POST /cgi-bin/message/send?access_token=
	RouteAppChat  Route = "appchat/send"   // POST /cgi-bin/appchat/send?access_token=
	RouteResponse Route = "aibot/response" // POST /cgi-bin/aibot/response?response_code=
	// RouteUpload is the robot's upload of a file for its file message.
	RouteUpload Route = "webhook/upload_media" // POST /cgi-bin/webhook/upload_media?key=&type=
	// RouteMediaUpload is the app's upload of media for its messages.
	RouteMediaUpload Route = "media/upload" // POST /cgi-bin/media/upload?access_token=&type=
)

// Configuration of a Server built without options.
const (
	DefaultCorpID     = "wwyanzhendemo0000"
	DefaultSecret     = "yanzhen-demo-secret"
	DefaultAgentID    = 1000002
	DefaultWebhookKey = "yanzhen-demo-robot"
)

// WeCom's limits, as documented; the fake enforces them.
const (
	// TokenTTL is the lifetime of an access_token (expires_in 7200).
	TokenTTL = 7200 * time.Second
	// WebhookPerMinute is the number of messages one robot may send in any
	// sliding minute; the next one gets errcode 45009.
	WebhookPerMinute = 20
	// MemberPerMinute and MemberPerHour bound the app messages one member
	// receives; WeCom silently drops the excess ("超过部分会被丢弃不下发").
	MemberPerMinute = 30
	MemberPerHour   = 1000
	// ResponseURLTTL is how long an AI bot response_url stays usable.
	ResponseURLTTL = time.Hour
	// DefaultDuplicateCheck and MaxDuplicateCheck bound the duplicate check
	// of message/send (document 90236): with "enable_duplicate_check": 1 a
	// request whose JSON equals one sent within duplicate_check_interval
	// (default 1800 s, at most 4 hours) reaches nobody again.
	DefaultDuplicateCheck = 1800 * time.Second
	MaxDuplicateCheck     = 4 * time.Hour
)

// Request is the decoded record of one call to the fake: what a client sent
// and what the fake answered. Fields that do not apply to the route are zero.
type Request struct {
	Seq   int       // 1-based order of arrival
	Time  time.Time // arrival, on the fake clock
	Route Route

	Key     string   // webhook: the robot key
	ChatID  string   // webhook: chatid (body, else query); appchat: chatid; AI bot: the chat the response URL was minted for
	ToUser  []string // app message: touser split on "|"
	ToParty string   // app message: toparty as sent
	AgentID int      // app message: agentid, when it is an integer

	ChatType string // long connection: "group" (ChatID says which) or "single" (ToUser says whose)
	StreamID string // aibot_respond_msg: the stream's id
	Finish   bool   // aibot_respond_msg: the stream is finished

	MsgType          string
	Content          string   // what a reader sees: text or markdown content, textcard title and description, news titles, template card text (see templateCard.text; in an update that greys the buttons, their replace_name)
	TaskID           string   // template card: the task_id of the card sent or updated
	Mentions         []string // mentioned_list plus <@userid> mentions in the content
	MentionedMobiles []string // mentioned_mobile_list

	Invalid []string // app message: recipients answered in invaliduser
	Dropped []string // app message: recipients over the per-member limit, whose copy WeCom dropped without an error
	// Duplicate is set on an app message that WeCom's duplicate check
	// dropped: answered as a success, delivered to nobody.
	Duplicate bool

	Body    []byte // the raw request body; nil for an upload, whose file is in Media
	Status  int    // HTTP status answered; 0 when the connection was hung up
	Errcode int    // errcode answered with status 200

	// Media is what an upload stored, or the image or file a message shows.
	Media *Media

	upload *upload // the body of an upload, while it is served
	// Injected is set on a call answered by an injected fault (FailNext,
	// FailFor, Script) rather than by the fake's own rules and limits.
	Injected bool
}

// Delivered reports whether a user would see the message: a message route
// served with errcode 0 (or, on the long connection, acked) and not
// dropped as a duplicate. A Late call is delivered although its client saw
// no answer.
func (r Request) Delivered() bool {
	return r.Route != RouteToken && r.Route != RouteSubscribe && r.Route != RoutePing && !r.Route.upload() && !r.Route.download() &&
		r.Route != RouteUpdateCard && r.Route != RouteUpdate &&
		r.Status == http.StatusOK && r.Errcode == 0 && !r.Duplicate
}

// upload reports whether the route uploads media rather than sends a message.
func (r Route) upload() bool { return r == RouteUpload || r == RouteMediaUpload }

// Server is the fake WeCom. Its methods are safe for concurrent use.
type Server struct {
	// Now is the fake clock; nil means time.Now. Set it before serving.
	Now func() time.Time

	corpID  string
	secret  string
	agentID int
	keys    map[string]bool
	users   map[string]bool // lower-case userids; empty means everyone exists
	chats   map[string]bool // appchat chatids; empty means every chat exists
	mux     *http.ServeMux
	ts      *httptest.Server

	mu        sync.Mutex
	url       string
	seq       int
	requests  []Request
	tokens    map[string]*token
	webhook   map[string][]time.Time // robot key → accepted sends
	member    map[string][]time.Time // userid → delivered app messages
	responses map[string]*responseURL
	media     map[string]*Media // by media_id
	links     map[string]*link  // the AI bot's download links, by code (files.go)
	faults    map[Route][]*faultStep
	script    func(Request) (Fault, bool)
	subs      map[int]chan Request
	nextSub   int
	ws        *wsState
	cards     map[string]*sentCard // by task_id (sentcards.go)
	cardOrder []string             // task_ids in the order sent
	codes     map[string]*cardCode // response_codes of cards
	sent      map[string]time.Time // canonical request JSON → first delivery, for the duplicate check
	held      int                  // calls held by Hang and Late faults
	release   chan struct{}        // closed by ReleaseHeld
}

type tokenState int

const (
	tokenValid tokenState = iota
	tokenExpired
	tokenRevoked
)

type token struct {
	issued time.Time
	state  tokenState
}

type responseURL struct {
	chatID  string
	expires time.Time
	used    bool
}

// Option configures a Server.
type Option func(*Server)

// WithCorp sets the corp the fake knows: gettoken accepts only this corpid
// and secret, and message/send only this agentid.
func WithCorp(corpID, secret string, agentID int) Option {
	return func(s *Server) { s.corpID, s.secret, s.agentID = corpID, secret, agentID }
}

// WithWebhookKeys sets the robot keys the webhook accepts, replacing
// DefaultWebhookKey; any other key gets errcode 93000.
func WithWebhookKeys(keys ...string) Option {
	return func(s *Server) {
		s.keys = make(map[string]bool)
		for _, k := range keys {
			s.keys[k] = true
		}
	}
}

// WithUsers sets the members of the corp. App messages to others are
// answered in invaliduser, and errcode 81013 when no recipient is valid.
// Without it every userid exists.
func WithUsers(userids ...string) Option {
	return func(s *Server) {
		for _, u := range userids {
			s.users[strings.ToLower(u)] = true
		}
	}
}

// WithChats sets the app group chats that exist; appchat/send to another
// chatid gets errcode 40050. Without it every chat exists.
func WithChats(chatids ...string) Option {
	return func(s *Server) {
		for _, c := range chatids {
			s.chats[c] = true
		}
	}
}

// WithURL sets the base URL under which the caller serves Handler (for
// example "http://127.0.0.1:8080/fake-wecom" behind http.StripPrefix); it is
// used to mint response and webhook URLs. Start overrides it.
func WithURL(base string) Option {
	return func(s *Server) { s.url = strings.TrimSuffix(base, "/") }
}

// New returns a fake WeCom configured by opts, not yet listening.
func New(opts ...Option) *Server {
	s := &Server{
		corpID:    DefaultCorpID,
		secret:    DefaultSecret,
		agentID:   DefaultAgentID,
		keys:      map[string]bool{DefaultWebhookKey: true},
		users:     make(map[string]bool),
		chats:     make(map[string]bool),
		tokens:    make(map[string]*token),
		responses: make(map[string]*responseURL),
		media:     make(map[string]*Media),
		links:     make(map[string]*link),
		subs:      make(map[int]chan Request),
		ws:        newWSState(),
		cards:     make(map[string]*sentCard),
		codes:     make(map[string]*cardCode),
	}
	s.resetLocked()
	for _, o := range opts {
		o(s)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /cgi-bin/gettoken", s.endpoint(RouteToken, s.getToken))
	s.mux.HandleFunc("POST /cgi-bin/webhook/send", s.endpoint(RouteWebhook, s.webhookSend))
	s.mux.HandleFunc("POST /cgi-bin/message/send", s.endpoint(RouteMessage, s.messageSend))
	s.mux.HandleFunc("POST /cgi-bin/message/update_template_card", s.endpoint(RouteUpdateCard, s.updateCard))
	s.mux.HandleFunc("POST /cgi-bin/appchat/send", s.endpoint(RouteAppChat, s.appChatSend))
	s.mux.HandleFunc("POST /cgi-bin/aibot/response", s.endpoint(RouteResponse, s.aibotResponse))
	s.mux.HandleFunc("GET /openws", s.serveWS)
	s.mux.HandleFunc("POST /cgi-bin/webhook/upload_media", s.endpoint(RouteUpload, s.webhookUpload))
	s.mux.HandleFunc("POST /cgi-bin/media/upload", s.endpoint(RouteMediaUpload, s.mediaUpload))
	s.mux.HandleFunc("GET /cgi-bin/media/get", s.mediaGet)
	s.mux.HandleFunc("GET /aibot/file", s.fileDownload)
	return s
}

// Handler returns the fake's HTTP handler, serving the /cgi-bin/... paths.
func (s *Server) Handler() http.Handler { return s.mux }

// Start serves the fake on a local httptest server and returns its base URL,
// the api_base a client under test should use. Close stops it.
func (s *Server) Start() string {
	ts := httptest.NewServer(s.mux)
	s.mu.Lock()
	s.ts, s.url = ts, ts.URL
	s.mu.Unlock()
	return ts.URL
}

// Close releases the held calls and stops the server started by Start, if
// any, the in-memory server of PipeClient, and every long connection.
func (s *Server) Close() {
	s.ReleaseHeld()
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	s.closeWS()
	if ts != nil {
		ts.Close()
	}
}

// URL returns the base URL set by Start or WithURL.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// WebhookURL returns the webhook address of the robot with key, as WeCom
// shows it to the group and puts in a robot callback's WebhookUrl.
func (s *Server) WebhookURL(key string) string {
	return s.URL() + "/cgi-bin/webhook/send?key=" + key
}

// ResponseURL mints a one-time AI bot response_url for a message in chatID,
// valid for ResponseURLTTL of fake time. The reply posted to it is recorded
// with that ChatID.
func (s *Server) ResponseURL(chatID string) string {
	code := randomHex(16)
	s.mu.Lock()
	s.responses[code] = &responseURL{chatID: chatID, expires: s.now().Add(ResponseURLTTL)}
	s.mu.Unlock()
	return s.URL() + "/cgi-bin/aibot/response?response_code=" + code
}

// ExpireTokens makes every access_token issued so far expired: the next call
// with one gets errcode 42001, and gettoken issues a new token.
func (s *Server) ExpireTokens() { s.setTokens(tokenExpired) }

// RevokeTokens makes every access_token issued so far invalid, as when the
// secret is reset: the next call with one gets errcode 40014.
func (s *Server) RevokeTokens() { s.setTokens(tokenRevoked) }

func (s *Server) setTokens(st tokenState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		t.state = st
	}
}

// Requests returns every call recorded since the start or the last Reset, in
// order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Messages returns the recorded calls that delivered a message (see
// Request.Delivered), in order: what the users saw, except that an app
// message does not reach the members in its Invalid and Dropped lists.
func (s *Server) Messages() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Delivered() {
			out = append(out, r)
		}
	}
	return out
}

// Reset forgets the recorded calls, the rate-limit windows, the duplicate
// check and the pending faults and script. Tokens, response URLs, uploaded
// media, sent cards and their response codes, and configuration stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.requests = nil
	s.webhook = make(map[string][]time.Time)
	s.member = make(map[string][]time.Time)
	s.sent = make(map[string]time.Time)
	s.faults = make(map[Route][]*faultStep)
	s.script = nil
	s.ws.pushes, s.ws.mute = make(map[string][]time.Time), 0
	if s.release == nil {
		s.release = make(chan struct{})
	}
}

// Held returns how many calls Hang and Late faults hold now.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// ReleaseHeld ends every call held now by a Hang or Late fault: its
// connection is closed without an answer. Calls held later wait again.
func (s *Server) ReleaseHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.release)
	s.release = make(chan struct{})
}

// Subscribe returns a channel that receives every call recorded from now on,
// and a function that ends the subscription and closes the channel. A
// subscriber that falls 64 records behind misses records rather than block
// the fake.
func (s *Server) Subscribe() (<-chan Request, func()) {
	ch := make(chan Request, 64)
	s.mu.Lock()
	id := s.nextSub
	s.nextSub++
	s.subs[id] = ch
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, id)
			close(ch)
			s.mu.Unlock()
		})
	}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// recordLocked stores r and hands it to the subscribers.
func (s *Server) recordLocked(r Request) {
	s.requests = append(s.requests, r)
	for _, ch := range s.subs {
		select {
		case ch <- r:
		default:
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
