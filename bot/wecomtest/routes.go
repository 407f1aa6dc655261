package wecomtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

const maxBody = 8 << 20 // a 2 MB image is under 3 MB of base64

// answer is a route's verdict on one call.
type answer struct {
	errcode int
	errmsg  string         // what went wrong, when errcode != 0
	extra   map[string]any // more fields of the JSON answer
}

func success(extra map[string]any) answer { return answer{extra: extra} }

func failure(code int, msg string) answer { return answer{errcode: code, errmsg: msg} }

// payload holds the fields of every message body the fake reads.
type payload struct {
	ChatID  string          `json:"chatid"`
	ToUser  string          `json:"touser"`
	ToParty string          `json:"toparty"`
	ToTag   string          `json:"totag"`
	AgentID json.RawMessage `json:"agentid"`
	MsgType string          `json:"msgtype"`
	Text    *struct {
		Content             string   `json:"content"`
		MentionedList       []string `json:"mentioned_list"`
		MentionedMobileList []string `json:"mentioned_mobile_list"`
	} `json:"text"`
	Markdown   *content `json:"markdown"`
	MarkdownV2 *content `json:"markdown_v2"`
	Image      *struct {
		Base64  string `json:"base64"`
		MD5     string `json:"md5"`
		MediaID string `json:"media_id"`
	} `json:"image"`
	News *struct {
		Articles []struct {
			Title string `json:"title"`
			URL   string `json:"url"`
		} `json:"articles"`
	} `json:"news"`
	File     *media `json:"file"`
	Voice    *media `json:"voice"`
	Video    *media `json:"video"`
	TextCard *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
	} `json:"textcard"`
	TemplateCard           *templateCard `json:"template_card"`
	EnableDuplicateCheck   int           `json:"enable_duplicate_check"`
	DuplicateCheckInterval int64         `json:"duplicate_check_interval"`

	// update_template_card
	UserIDs      []string `json:"userids"`
	AtAll        int      `json:"atall"`
	ResponseCode string   `json:"response_code"`
	Button       *struct {
		ReplaceName string `json:"replace_name"`
	} `json:"button"`
}

type content struct {
	Content string `json:"content"`
}

type media struct {
	MediaID string `json:"media_id"`
}

// rules are the message types and limits of one route.
type rules struct {
	types       []string
	cards       []string // the template card types taken
	textMax     int
	truncate    bool // an over-long text is cut, not refused
	markdownMax int
}

var (
	webhookRules = rules{
		types: []string{"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"},
		cards: noticeCards, textMax: 2048, markdownMax: 4096,
	}
	// App messages: "文本消息内容最长不超过2048个字节，超过将截断"; markdown up to 2048.
	appRules = rules{
		types: []string{"text", "markdown", "textcard", "template_card", "news", "mpnews", "image", "file", "voice", "video"},
		cards: allCards, textMax: 2048, truncate: true, markdownMax: 2048,
	}
	// The AI bot's response_url takes markdown and template cards; 20480
	// bytes is the AI bot's limit on message content.
	responseRules = rules{types: []string{"markdown", "template_card"}, cards: allCards, markdownMax: 20480}
)

// endpoint wraps a route: it decodes and records the call, applies the
// faults, and otherwise lets serve answer, with the Server locked.
func (s *Server) endpoint(route Route, serve func(*Request, url.Values, *payload, error) answer) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		q := hr.URL.Query()
		if hr.Body == nil { // a request built for ServeHTTP may have none
			hr.Body = http.NoBody
		}
		limit := int64(maxBody)
		if route.upload() {
			limit = maxUpload
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, limit))
		req := Request{Route: route, Body: body}
		if route.upload() { // the file is kept in Media, not twice
			req.Body, req.upload = nil, &upload{contentType: hr.Header.Get("Content-Type"), body: body}
		}
		p := new(payload)
		if err == nil && route != RouteToken && !route.upload() {
			err = json.Unmarshal(body, p)
		}
		decode(&req, q, p)

		s.mu.Lock()
		s.seq++
		req.Seq, req.Time = s.seq, s.now()
		if ru := s.responses[q.Get("response_code")]; ru != nil && route == RouteResponse {
			req.ChatID = ru.chatID // known before any fault, for scripts and the demo
		}
		f, faulted := s.faultLocked(req)
		req.Injected = faulted
		if faulted && !f.Late {
			switch {
			case f.Hangup, f.Hang: // nothing is answered: Status stays 0
			case f.Status != 0:
				req.Status = f.Status
			default:
				req.Status, req.Errcode = http.StatusOK, f.Errcode
			}
			s.recordLocked(req)
			release := s.holdLocked(f)
			s.mu.Unlock()
			s.wait(hr, release)
			writeFault(w, f, req.Seq)
			return
		}
		a := serve(&req, q, p, err)
		req.Status, req.Errcode = http.StatusOK, a.errcode
		s.recordLocked(req)
		release := s.holdLocked(f)
		s.mu.Unlock()
		if faulted { // Late: served, and the answer comes after the client gave up
			s.wait(hr, release)
			writeFault(w, Hangup(), req.Seq)
			return
		}
		writeAnswer(w, a, req.Seq)
	}
}

var mentionRE = regexp.MustCompile(`<@([^<>\s]+)>`)

// decode fills req with what the call carries, whether or not it is valid.
func decode(req *Request, q url.Values, p *payload) {
	req.Key = q.Get("key")
	req.ChatID = p.ChatID
	if req.ChatID == "" {
		req.ChatID = q.Get("chatid")
	}
	if p.ToUser != "" {
		req.ToUser = strings.Split(p.ToUser, "|")
	}
	req.ToParty = p.ToParty
	_ = json.Unmarshal(p.AgentID, &req.AgentID) // stays 0 unless an integer
	req.MsgType = p.MsgType
	switch {
	case p.MsgType == "text" && p.Text != nil:
		req.Content = p.Text.Content
		req.Mentions = slices.Clone(p.Text.MentionedList)
		req.MentionedMobiles = p.Text.MentionedMobileList
	case p.MsgType == "markdown" && p.Markdown != nil:
		req.Content = p.Markdown.Content
	case p.MsgType == "markdown_v2" && p.MarkdownV2 != nil:
		req.Content = p.MarkdownV2.Content
	case p.MsgType == "textcard" && p.TextCard != nil:
		req.Content = p.TextCard.Title + "\n" + p.TextCard.Description
	case p.MsgType == "news" && p.News != nil:
		var titles []string
		for _, a := range p.News.Articles {
			titles = append(titles, a.Title)
		}
		req.Content = strings.Join(titles, "\n")
	case p.TemplateCard != nil: // a card sent, or the card of an update
		req.Content = p.TemplateCard.text()
	}
	if p.MsgType == "text" || p.MsgType == "markdown" {
		for _, m := range mentionRE.FindAllStringSubmatch(req.Content, -1) {
			req.Mentions = append(req.Mentions, m[1])
		}
	}
}

// check validates the message of p against r; it may cut req.Content.
func check(req *Request, p *payload, r rules) answer {
	if !slices.Contains(r.types, p.MsgType) {
		return failure(40008, "invalid message type")
	}
	switch p.MsgType {
	case "text":
		if p.Text == nil || p.Text.Content == "" {
			return failure(44004, "empty content")
		}
		if len(p.Text.Content) > r.textMax {
			if !r.truncate {
				return failure(40058, fmt.Sprintf("text.content exceed max length %d. invalid Request Parameter", r.textMax))
			}
			req.Content = truncate(p.Text.Content, r.textMax)
		}
	case "markdown", "markdown_v2":
		c := p.Markdown
		if p.MsgType == "markdown_v2" {
			c = p.MarkdownV2
		}
		if c == nil || c.Content == "" {
			return failure(44004, "empty content")
		}
		if len(c.Content) > r.markdownMax {
			return failure(40058, fmt.Sprintf("%s.content exceed max length %d. invalid Request Parameter", p.MsgType, r.markdownMax))
		}
	case "image":
		if p.Image == nil {
			return failure(40058, "image missing. invalid Request Parameter")
		}
		if p.Image.Base64 == "" {
			return checkMedia(p.Image.MediaID)
		}
	case "news":
		if p.News == nil || len(p.News.Articles) == 0 || len(p.News.Articles) > 8 {
			return failure(40058, "news.articles must hold 1 to 8 articles. invalid Request Parameter")
		}
	case "file":
		return checkMedia(mediaID(p.File))
	case "voice":
		return checkMedia(mediaID(p.Voice))
	case "video":
		return checkMedia(mediaID(p.Video))
	case "textcard":
		if p.TextCard == nil || p.TextCard.Title == "" || p.TextCard.Description == "" || p.TextCard.URL == "" {
			return failure(40058, "textcard needs title, description and url. invalid Request Parameter")
		}
	case "template_card":
		return checkCard(p.TemplateCard, r.cards)
	}
	return success(nil)
}

func mediaID(m *media) string {
	if m == nil {
		return ""
	}
	return m.MediaID
}

func checkMedia(id string) answer {
	if id == "" {
		return failure(40007, "invalid media_id")
	}
	return success(nil)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// getToken serves GET /cgi-bin/gettoken?corpid=&corpsecret=. While a token
// is valid, WeCom hands out the same one with its remaining lifetime.
func (s *Server) getToken(req *Request, q url.Values, _ *payload, _ error) answer {
	switch corp, secret := q.Get("corpid"), q.Get("corpsecret"); {
	case corp == "":
		return failure(41002, "corpid missing")
	case corp != s.corpID:
		return failure(40013, "invalid corpid")
	case secret == "":
		return failure(41004, "corpsecret missing")
	case secret != s.secret:
		return failure(40001, "invalid credential")
	}
	for tok, t := range s.tokens {
		if left := t.issued.Add(TokenTTL).Sub(req.Time); t.state == tokenValid && left > 0 {
			return success(map[string]any{"access_token": tok, "expires_in": int(left / time.Second)})
		}
	}
	tok := randomHex(32)
	s.tokens[tok] = &token{issued: req.Time}
	return success(map[string]any{"access_token": tok, "expires_in": int(TokenTTL / time.Second)})
}

// checkTokenLocked answers the access_token errors of q, if any.
func (s *Server) checkTokenLocked(q url.Values, now time.Time) (answer, bool) {
	tok := q.Get("access_token")
	if tok == "" {
		return failure(41001, "access_token missing"), false
	}
	t := s.tokens[tok]
	switch {
	case t == nil || t.state == tokenRevoked:
		return failure(40014, "invalid access_token"), false
	case t.state == tokenExpired || !now.Before(t.issued.Add(TokenTTL)):
		return failure(42001, "access_token expired"), false
	}
	return answer{}, true
}

// webhookSend serves POST /cgi-bin/webhook/send?key=: the group robot.
func (s *Server) webhookSend(req *Request, _ url.Values, p *payload, err error) answer {
	if !s.keys[req.Key] {
		return failure(93000, "invalid webhook url")
	}
	if err != nil {
		return failure(40058, "Warning: wrong json format. invalid Request Parameter")
	}
	if a := check(req, p, webhookRules); a.errcode != 0 {
		return a
	}
	if a := s.checkMediaLocked(req, p, "robot:"+req.Key); a.errcode != 0 {
		return a
	}
	sent := within(s.webhook[req.Key], req.Time, time.Minute)
	if len(sent) >= WebhookPerMinute {
		return failure(45009, "api freq out of limit")
	}
	s.webhook[req.Key] = append(sent, req.Time)
	return success(nil)
}

// checkAppCallLocked answers the errors of a call of the app's API in q
// with a JSON body for the app's agentid: the access_token, the JSON as
// decoded (err), the agentid.
func (s *Server) checkAppCallLocked(req *Request, q url.Values, err error) (answer, bool) {
	if a, ok := s.checkTokenLocked(q, req.Time); !ok {
		return a, false
	}
	if err != nil {
		return failure(40058, "Warning: wrong json format. invalid Request Parameter"), false
	}
	if req.AgentID == 0 || req.AgentID != s.agentID {
		return failure(40056, "invalid agentid"), false
	}
	return answer{}, true
}

// messageSend serves POST /cgi-bin/message/send?access_token=: app messages
// to members. Members over their per-member limit are dropped silently, as
// WeCom does.
func (s *Server) messageSend(req *Request, q url.Values, p *payload, err error) answer {
	if a, ok := s.checkAppCallLocked(req, q, err); !ok {
		return a
	}
	if a := check(req, p, appRules); a.errcode != 0 {
		return a
	}
	if a := s.checkMediaLocked(req, p, "app"); a.errcode != 0 {
		return a
	}
	if a, dup := s.duplicateLocked(req, p); dup {
		return a
	}
	if a := s.taskIDFreeLocked(p.TemplateCard); p.MsgType == "template_card" && a.errcode != 0 {
		return a
	}
	var valid []string
	for _, u := range req.ToUser {
		switch u = strings.ToLower(u); {
		case u == "@all" && len(s.users) > 0:
			for known := range s.users {
				valid = append(valid, known)
			}
		case u == "@all" || len(s.users) == 0 || s.users[u]:
			valid = append(valid, u)
		default:
			req.Invalid = append(req.Invalid, u)
		}
	}
	invalid := strings.Join(req.Invalid, "|")
	if len(valid) == 0 && p.ToParty == "" && p.ToTag == "" {
		a := failure(81013, "user & party & tag all invalid")
		a.extra = map[string]any{"invaliduser": invalid}
		return a
	}
	slices.Sort(valid)
	var reached []string
	for _, u := range slices.Compact(valid) {
		got := within(s.member[u], req.Time, time.Hour)
		if len(got) >= MemberPerHour || len(within(got, req.Time, time.Minute)) >= MemberPerMinute {
			req.Dropped = append(req.Dropped, u)
			continue
		}
		s.member[u] = append(got, req.Time)
		reached = append(reached, u)
	}
	out := map[string]any{
		"invaliduser": invalid, "invalidparty": "", "invalidtag": "", "unlicenseduser": "",
		"msgid": randomHex(16),
	}
	if p.MsgType == "template_card" && p.TemplateCard.TaskID != "" {
		s.keepCardLocked(req, p.TemplateCard, cardJSON(req.Body), "", reached)
		out["response_code"] = s.mintCodeLocked(p.TemplateCard.TaskID, req.Time)
	}
	return success(out)
}

// appChatSend serves POST /cgi-bin/appchat/send?access_token=: messages to a
// group chat created by the app.
func (s *Server) appChatSend(req *Request, q url.Values, p *payload, err error) answer {
	if a, ok := s.checkTokenLocked(q, req.Time); !ok {
		return a
	}
	if err != nil {
		return failure(40058, "Warning: wrong json format. invalid Request Parameter")
	}
	if req.ChatID == "" || (len(s.chats) > 0 && !s.chats[req.ChatID]) {
		return failure(40050, "chatid not found")
	}
	if a := check(req, p, appRules); a.errcode != 0 {
		return a
	}
	return s.checkMediaLocked(req, p, "app")
}

// aibotResponse serves POST /cgi-bin/aibot/response?response_code=: the AI
// bot's one-time reply. WeCom documents no errcode for a used or expired
// response_url; the fake answers 40058 (invalid parameter), which a client
// must not retry. A call that fails does not use the URL up.
func (s *Server) aibotResponse(req *Request, q url.Values, p *payload, err error) answer {
	ru := s.responses[q.Get("response_code")]
	if ru == nil || ru.used || !req.Time.Before(ru.expires) {
		return failure(40058, "response_code is invalid, used or expired. invalid Request Parameter")
	}
	if err != nil {
		return failure(40058, "Warning: wrong json format. invalid Request Parameter")
	}
	if a := check(req, p, responseRules); a.errcode != 0 {
		return a
	}
	ru.used = true
	return success(nil)
}

// within returns the times of ts less than d before now, reusing ts.
func within(ts []time.Time, now time.Time, d time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= d {
		i++
	}
	return ts[i:]
}

func writeAnswer(w http.ResponseWriter, a answer, seq int) {
	out := map[string]any{"errcode": a.errcode, "errmsg": "ok"}
	if a.errcode != 0 {
		out["errmsg"] = fmt.Sprintf("%s, hint: [%d], more info at https://open.work.weixin.qq.com/devtool/query?e=%d", a.errmsg, seq, a.errcode)
	}
	for k, v := range a.extra {
		out[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(out)
}

func writeFault(w http.ResponseWriter, f Fault, seq int) {
	switch {
	case f.Hangup || f.Hang:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // the server drops the connection
	case f.Status != 0:
		w.WriteHeader(f.Status)
	default:
		writeAnswer(w, failure(f.Errcode, "injected fault"), seq)
	}
}
