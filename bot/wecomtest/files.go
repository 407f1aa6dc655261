package wecomtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"yanzhen/bot/wxcrypt"
)

// Files members send to the bot, as WeCom serves them for download:
//   - a file sent to the self-built app is a media_id, fetched with
//     GET /cgi-bin/media/get?access_token=&media_id= while WeCom keeps it
//     (MediaTTL); an unknown or expired media_id is errcode 40007;
//   - a file sent to the AI bot is a link, valid DownloadTTL, to the file
//     encrypted with AES-256-CBC (wxcrypt.EncryptFile): with a random key
//     sent as the message's aeskey on the long connection, with the
//     callback's EncodingAESKey on the callback route. An expired or unknown
//     link answers HTTP 404.
//
// Both answer the file with its name in Content-Disposition, in the RFC 5987
// form for a name that is not ASCII.

// The download routes; they deliver no message.
const (
	RouteMediaGet     Route = "media/get"  // GET /cgi-bin/media/get?access_token=&media_id=
	RouteFileDownload Route = "aibot/file" // GET /aibot/file?code= (the AI bot's download links)
)

// DownloadTTL is how long an AI bot's download link works ("五分钟内有效").
const DownloadTTL = 5 * time.Minute

// download reports whether the route fetches a file rather than sends a message.
func (r Route) download() bool { return r == RouteMediaGet || r == RouteFileDownload }

// link is an AI bot's download link: the encrypted file and when it expires.
type link struct {
	name    string
	data    []byte // encrypted
	expires time.Time
}

// MemberFile stores a file a member sent to the app and returns its
// media_id, as the file message's MediaId carries it.
func (s *Server) MemberFile(name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Media{ID: "2" + randomHex(31), Type: "file", Name: name, Data: data, Uploaded: s.now(), uploader: "member"}
	s.media[m.ID] = m
	return m.ID
}

// AIBotFileLink stores a file a member sent to the AI bot, encrypted with
// key (32 bytes), and returns its download link, valid DownloadTTL.
func (s *Server) AIBotFileLink(name string, data, key []byte) (string, error) {
	enc, err := wxcrypt.EncryptFile(data, key)
	if err != nil {
		return "", err
	}
	code := randomHex(16)
	s.mu.Lock()
	s.links[code] = &link{name: name, data: enc, expires: s.now().Add(DownloadTTL)}
	s.mu.Unlock()
	return s.URL() + "/aibot/file?code=" + code, nil
}

// AIBotFile is a file a member sends to the AI bot in a single chat.
type AIBotFile struct {
	MsgID  string // empty means random
	UserID string
	Name   string
	Data   []byte
}

// PushFile pushes a file message to the AI bot on its long connection, with
// a link and its own aeskey, and returns the frame's req_id.
func (s *Server) PushFile(f AIBotFile) (string, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	u, err := s.AIBotFileLink(f.Name, f.Data, key)
	if err != nil {
		return "", err
	}
	if f.MsgID == "" {
		f.MsgID = randomHex(12)
	}
	body := map[string]any{
		"msgid": f.MsgID, "chattype": "single", "from": userRef{f.UserID}, "msgtype": "file",
		"file": map[string]string{"url": u, "aeskey": base64.StdEncoding.EncodeToString(key)},
	}
	return s.push("aibot_msg_callback", body, &pushed{chatType: "single", userID: f.UserID})
}

// AppFileMessage is a file a member sends to the self-built app.
type AppFileMessage struct {
	ToUserName   string // the CorpID; empty means the signer's receiveid
	FromUserName string
	MediaID      string // Server.MemberFile
	MsgID        string // empty means a random 64-bit number
	AgentID      int
}

// AppFile returns the POST of a file message to the self-built app.
func (s *CallbackSigner) AppFile(m AppFileMessage) (Callback, error) {
	if m.MsgID == "" {
		m.MsgID = randomDigits()
	}
	return s.appCallback(m.ToUserName, m.FromUserName, "file", m.AgentID, func(b *strings.Builder) {
		element(b, "MediaId", m.MediaID)
		fmt.Fprintf(b, "<MsgId>%s</MsgId>", m.MsgID)
	})
}

// AIBotFileMessage is a file a member sends to the AI bot on its callback
// route: the link (Server.AIBotFileLink, with the callback's key, KeyOf)
// and no aeskey.
type AIBotFileMessage struct {
	MsgID       string // empty means random
	AIBotID     string
	UserID      string
	ResponseURL string // e.g. Server.ResponseURL("")
	URL         string
}

// AIBotFile returns the POST of a file message to the AI bot, in a single chat.
func (s *CallbackSigner) AIBotFile(m AIBotFileMessage) (Callback, error) {
	if m.MsgID == "" {
		m.MsgID = randomHex(12)
	}
	plain, err := json.Marshal(map[string]any{
		"msgid": m.MsgID, "aibotid": m.AIBotID, "chattype": "single", "from": userRef{m.UserID},
		"response_url": m.ResponseURL, "msgtype": "file", "file": map[string]string{"url": m.URL},
	})
	if err != nil {
		return Callback{}, fmt.Errorf("AI bot callback: %w", err)
	}
	return s.jsonCallback(plain)
}

// KeyOf is the AESKey of the callback route's EncodingAESKey, which
// encrypts the files of the AI bot's callback route.
func KeyOf(encodingAESKey string) ([]byte, error) { return wxcrypt.KeyOf(encodingAESKey) }

// mediaGet serves GET /cgi-bin/media/get: a file members sent to the app,
// or media the app uploaded.
func (s *Server) mediaGet(w http.ResponseWriter, hr *http.Request) {
	q := hr.URL.Query()
	s.serveFile(w, RouteMediaGet, func(req *Request) (string, []byte, answer) {
		if a, ok := s.checkTokenLocked(q, req.Time); !ok {
			return "", nil, a
		}
		m := s.media[q.Get("media_id")]
		if m == nil || (m.uploader != "member" && m.uploader != "app") || !req.Time.Before(m.Uploaded.Add(MediaTTL)) {
			return "", nil, failure(40007, "invalid media_id")
		}
		req.Media = m
		return m.Name, m.Data, answer{}
	})
}

// fileDownload serves an AI bot's download link.
func (s *Server) fileDownload(w http.ResponseWriter, hr *http.Request) {
	code := hr.URL.Query().Get("code")
	s.serveFile(w, RouteFileDownload, func(req *Request) (string, []byte, answer) {
		l := s.links[code]
		if l == nil || !req.Time.Before(l.expires) {
			return "", nil, answer{errcode: http.StatusNotFound}
		}
		return l.name, l.data, answer{}
	})
}

// serveFile records a download, applies the faults, and answers the file
// find returns, or its failure: an errcode as JSON, except that the AI bot's
// links answer a bare HTTP status (the errcode field).
func (s *Server) serveFile(w http.ResponseWriter, route Route, find func(*Request) (string, []byte, answer)) {
	s.mu.Lock()
	s.seq++
	req := Request{Route: route, Seq: s.seq, Time: s.now()}
	if f, ok := s.faultLocked(req); ok {
		req.Status, req.Errcode = f.Status, f.Errcode
		if !f.Hangup && f.Status == 0 {
			req.Status = http.StatusOK
		}
		s.recordLocked(req)
		s.mu.Unlock()
		writeFault(w, f, req.Seq)
		return
	}
	name, data, a := find(&req)
	switch {
	case a.errcode != 0 && route == RouteFileDownload:
		req.Status = a.errcode
	case a.errcode != 0:
		req.Status, req.Errcode = http.StatusOK, a.errcode
	default:
		req.Status = http.StatusOK
	}
	s.recordLocked(req)
	s.mu.Unlock()
	switch {
	case a.errcode != 0 && route == RouteFileDownload:
		w.WriteHeader(a.errcode)
	case a.errcode != 0:
		writeAnswer(w, a, req.Seq)
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", disposition(name))
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		_, _ = w.Write(data)
	}
}

// disposition is the Content-Disposition of a download named name.
func disposition(name string) string {
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": name}); d != "" {
		return d
	}
	return `attachment; filename*=UTF-8''` + url.PathEscape(name)
}
