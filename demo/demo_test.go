package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/bot/wxcrypt"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/tickets"
)

func TestConfigPointsEverythingAtTheSimulator(t *testing.T) {
	cfg, err := Config("0.0.0.0:18080", "/tmp/x.db", []string{"YANZHEN_SCHEDULE_ENABLED=false", "YANZHEN_DATABASE_DRIVER=mysql"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WeCom.APIBase != "http://127.0.0.1:18080/wecom-sim" {
		t.Errorf("api_base %q", cfg.WeCom.APIBase)
	}
	if cfg.Database.Driver != "sqlite" || cfg.Database.DSN.Reveal() != "/tmp/x.db" || cfg.Log.Format != "console" || cfg.Schedule.Enabled {
		t.Errorf("database, log or schedule: %+v %+v %+v", cfg.Database, cfg.Log, cfg.Schedule)
	}
	if _, err := Config("127.0.0.1:1", "x.db", []string{"YANZHEN_TIMEZONE=Mars/Olympus"}); err == nil || err.Error() != "config: timezone must be an IANA zone such as Asia/Shanghai" {
		t.Errorf("bad override: %v", err)
	}
	for _, c := range []struct{ addr, url string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{":8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://127.0.0.1:8080"},
		{"[::1]:8080", "http://[::1]:8080"},
		{"localhost:9", "http://localhost:9"},
	} {
		if got := BaseURL(c.addr); got != c.url {
			t.Errorf("BaseURL(%q) = %q, want %q", c.addr, got, c.url)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, "0.0.0.0:1": false, ":1": false, "10.0.0.2:1": false} {
		if Loopback(addr) != want {
			t.Errorf("Loopback(%q) != %v", addr, want)
		}
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t, models.DriverSQLite, storetest.Options{})
	cfg := config.Default()
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, cfg.Location())
	svc := ticketService(t, store, cfg)
	first, err := Seed(ctx, svc, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	if first.Org.Created != 52 || first.Tickets.Created != ticketCount || first.Reports != len(demoReports) {
		t.Errorf("first seed: %+v, tickets %v", first, first.Tickets)
	}
	second, err := Seed(ctx, svc, cfg, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if second.Org.Created != 0 || second.Org.Updated != 0 || second.Tickets.String() != "新增 0, 更新 0, 未变 300, 错误 0" || second.Reports != 0 {
		t.Errorf("second seed wrote again: %+v, tickets %v", second, second.Tickets)
	}
	// The next day has reports of its own; the ledger stays as generated.
	if next, err := Seed(ctx, svc, cfg, now.Add(24*time.Hour)); err != nil || next.Reports != len(demoReports) || next.Tickets.Unchanged != ticketCount {
		t.Errorf("next day: %+v, tickets %v, %v", next, next.Tickets, err)
	}
	for _, set := range []models.TicketSet{models.SetOverdue, models.SetDueSoon, models.SetUnsatisfied, models.SetReopened} {
		counts, err := store.CountTickets(ctx, models.TicketQuery{Set: set, Now: now, Within: cfg.Rules.WarnWithin.D()})
		if err != nil {
			t.Fatal(err)
		}
		if counts.Total() == 0 {
			t.Errorf("no %s tickets in the demo ledger", set)
		}
	}
	dir, err := store.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dir.Departments); n < 10 || n > 16 {
		t.Errorf("%d units, want 10 to 16", n)
	}
	mains := 0
	for _, m := range dir.WithRole(models.RoleLeader) {
		if m.Main {
			mains++
		}
	}
	if mains != 1 {
		t.Errorf("%d main leaders", mains)
	}
	reports, err := store.DailyReports(ctx, "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	required := len(models.Unreported(dir.Departments, nil))
	if len(reports) != len(demoReports) || len(reports)*2 < required-1 || len(reports)*2 > required+1 {
		t.Errorf("%d of %d units reported, want about half", len(reports), required)
	}
	for _, r := range reports {
		if r.Late || r.SubmittedAt.After(now) {
			t.Errorf("report of unit %d stamped %v (late %v), now is %v", r.DepartmentID, r.SubmittedAt, r.Late, now)
		}
	}
	steps, err := FirstSteps(ctx, store, now)
	if err != nil {
		t.Fatal(err)
	}
	if steps.Reporter == nil || steps.Leader == nil || !steps.Leader.Main || steps.Target != "住建局" || steps.TargetHead == nil {
		t.Fatalf("first steps: %+v", steps)
	}
	if _, ok := reports[*steps.Reporter.DepartmentID]; ok {
		t.Errorf("first reporter %s's unit has reported already", steps.Reporter.Name)
	}
	tips := steps.Tips()
	if len(tips) != 6 || !strings.HasPrefix(tips[0], "以「黄志明（卫健委）」身份发送：日报 ") ||
		!strings.Contains(tips[2], "「环海街道工作群」") || !strings.Contains(tips[2], "「周海燕（海景社区）」") || !strings.Contains(tips[3], "「提级」") ||
		!strings.Contains(tips[4], "调度 @住建局") || !strings.Contains(tips[4], "「王建华」") || !strings.Contains(tips[5], StrangerName) {
		t.Errorf("tips: %q", tips)
	}
}

func TestSeedBeforeTheWorkingDayStampsReportsBeforeNow(t *testing.T) {
	ctx := context.Background()
	store := storetest.Open(t, models.DriverSQLite, storetest.Options{})
	cfg := config.Default()
	now := time.Date(2026, 11, 20, 2, 30, 0, 0, cfg.Location())
	if _, err := Seed(ctx, ticketService(t, store, cfg), cfg, now); err != nil {
		t.Fatal(err)
	}
	reports, err := store.DailyReports(ctx, "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.SubmittedAt.After(now) || r.SubmittedAt.Before(now.Add(-time.Hour)) {
			t.Errorf("report stamped %v at %v", r.SubmittedAt, now)
		}
	}
}

// ticketService is the ticket import that Main builds over store.
func ticketService(t *testing.T, store *models.Store, cfg *config.Config) *tickets.Service {
	t.Helper()
	cal, err := tickets.LoadCalendar(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	return &tickets.Service{Store: store, Calendar: cal, Rules: cfg.Rules}
}

// rig is a demo Server on a real listener, with a stand-in for the bot's
// robot route that decrypts what the page says and answers through the
// webhook of the callback, as the bot does.
type rig struct {
	url   string
	srv   *Server
	cfg   *config.Config
	heard chan robotPlain
	jobs  *stubJobs
	// answer is what the stand-in bot does with a message; by default it
	// replies "收到：…" through the callback's webhook.
	answer func(robotPlain)
	// tapped is what the stand-in bot does with a tap on a card, posted to
	// its /wecom/app route; by default nothing.
	tapped func(cardTap)
}

// cardTap is the plaintext of a template_card_event.
type cardTap struct {
	ToUserName   string
	FromUserName string
	MsgType      string
	Event        string
	EventKey     string
	TaskID       string `xml:"TaskId"`
	CardType     string
	ResponseCode string
	AgentID      int
}

type robotPlain struct {
	WebhookURL string `xml:"WebhookUrl"`
	ChatID     string `xml:"ChatId"`
	From       struct {
		UserID string `xml:"UserId"`
		Name   string `xml:"Name"`
	} `xml:"From"`
	Content string `xml:"Text>Content"`
}

type stubJobs struct {
	job, group string
	at         time.Time
	err        error
}

func (j *stubJobs) RunGroupAt(_ context.Context, job, group string, at time.Time) (jobs.Result, error) {
	j.job, j.group, j.at = job, group, at
	if j.err != nil {
		return jobs.Result{}, j.err
	}
	return jobs.Result{Ran: true, Messages: 2, Summary: "已发布日报"}, nil
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Config(ln.Addr().String(), "unused.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	store := storetest.Open(t, models.DriverSQLite, storetest.Options{})
	if _, err := Seed(context.Background(), ticketService(t, store, cfg), cfg, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := &rig{url: BaseURL(ln.Addr().String()), cfg: cfg, heard: make(chan robotPlain, 8), jobs: &stubJobs{}}
	r.answer = func(m robotPlain) {
		r.sendJSON(m.WebhookURL, map[string]any{"chatid": m.ChatID, "msgtype": "text", "text": map[string]string{"content": "收到：" + m.Content}})
	}
	r.srv, err = New(t.Context(), Options{Config: cfg, Store: store, Jobs: r.jobs})
	if err != nil {
		t.Fatal(err)
	}
	r.tapped = func(cardTap) {}
	mux := http.NewServeMux()
	mux.Handle("POST /wecom/app", standIn(t, cfg.WeCom.AppCallback.Token.Reveal(), cfg.WeCom.AppCallback.AESKey.Reveal(), cfg.WeCom.CorpID,
		func(m cardTap) { go r.tapped(m) }))
	mux.Handle("POST /wecom/robot", standIn(t, cfg.WeCom.Robot.Token.Reveal(), cfg.WeCom.Robot.AESKey.Reveal(), "",
		func(m robotPlain) {
			r.heard <- m
			go r.answer(m)
		}))
	mux.Handle("/", r.srv.Handler())
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	ts.Start()
	t.Cleanup(ts.Close)
	return r
}

// standIn is a callback route of the stand-in bot: it opens a callback
// with the route's crypto, as the bot does, and hands its XML plaintext,
// decoded, to heard.
func standIn[T any](t *testing.T, token, aesKey, receiveID string, heard func(T)) http.Handler {
	t.Helper()
	crypter, err := wxcrypt.New(token, aesKey, receiveID)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		enc, err := wxcrypt.ParseXMLEnvelope(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q := req.URL.Query()
		plain, err := crypter.Open(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), enc)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var m T
		if err := xml.Unmarshal(plain, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		heard(m)
	})
}

// sendJSON posts v to a URL of the fake WeCom, as the bot's client would.
func (r *rig) sendJSON(url string, v any) {
	body, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
	if err == nil {
		resp.Body.Close()
	}
}

// appMessage sends an app message to userids through the fake WeCom.
func (r *rig) appMessage(kind, content string, userids ...string) {
	r.sendJSON(r.appURL("message/send"), map[string]any{
		"touser": strings.Join(userids, "|"), "agentid": r.cfg.WeCom.AgentID, "msgtype": kind, kind: map[string]string{"content": content},
	})
}

// appURL returns the address of an app API of the fake WeCom, with a token.
func (r *rig) appURL(api string) string {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	resp, err := http.Get(r.cfg.WeCom.APIBase + "/cgi-bin/gettoken?corpid=" + r.cfg.WeCom.CorpID + "&corpsecret=" + r.cfg.WeCom.Secret.Reveal())
	if err != nil {
		return ""
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	return r.cfg.WeCom.APIBase + "/cgi-bin/" + api + "?access_token=" + tok.AccessToken
}

func (r *rig) post(t *testing.T, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(r.url+path, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// events reads the event stream until want events arrived, with a header
// Last-Event-ID when lastID is not empty.
func (r *rig) events(t *testing.T, lastID string, want int) (hello map[string]any, evs []Event, ids []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.url+"/demo/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var name, id string
	for sc.Scan() && len(evs) < want {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data := []byte(strings.TrimPrefix(line, "data: "))
			if name == "hello" {
				if err := json.Unmarshal(data, &hello); err != nil {
					t.Fatal(err)
				}
			} else {
				var e Event
				if err := json.Unmarshal(data, &e); err != nil {
					t.Fatal(err)
				}
				evs, ids = append(evs, e), append(ids, id)
			}
		case line == "":
			name, id = "", ""
		}
	}
	if len(evs) < want {
		t.Fatalf("stream ended after %d of %d events: %v %+v", len(evs), want, sc.Err(), evs)
	}
	return hello, evs, ids
}

func TestSayBecomesASignedCallbackAndTheReplyIsStreamed(t *testing.T) {
	r := newRig(t)
	code, out := r.post(t, "/demo/say", "application/json", `{"userid":"huangzhiming","text":"  日报 今日受理工单6件，办结5件。 "}`)
	if code != http.StatusOK {
		t.Fatalf("say: %d %v", code, out)
	}
	m := <-r.heard
	if m.From.UserID != "huangzhiming" || m.From.Name != "黄志明" || m.ChatID != ChatID ||
		m.Content != "@雁阵 日报 今日受理工单6件，办结5件。" {
		t.Errorf("callback: %+v", m)
	}
	if u, err := url.Parse(m.WebhookURL); err != nil || u.Path != SimPrefix+"/cgi-bin/webhook/send" || u.Query().Get("key") != wecomtest.DefaultWebhookKey {
		t.Errorf("webhook url %q", m.WebhookURL)
	}
	hello, evs, ids := r.events(t, "", 2)
	if hello["epoch"] == "" {
		t.Errorf("hello %v", hello)
	}
	if evs[0].Kind != EventSay || evs[0].From != "huangzhiming" || evs[0].Name != "黄志明" || evs[0].Content != m.Content {
		t.Errorf("first event %+v", evs[0])
	}
	if evs[1].Kind != EventGroup || evs[1].Name != "雁阵" || evs[1].Content != "收到："+m.Content || evs[1].MsgType != "text" {
		t.Errorf("second event %+v", evs[1])
	}

	if evs[0].Chat != ChatID || evs[1].Chat != ChatID {
		t.Errorf("said in chat %q, answered in %q", evs[0].Chat, evs[1].Chat)
	}
	// Said in the street's group: the callback comes from its chat, and the
	// events carry it, for the page to show in that group.
	if code, out := r.post(t, "/demo/say", "application/json", `{"userid":"zhouhaiyan","group":"hh","text":"未报"}`); code != http.StatusOK {
		t.Fatalf("say in the street's group: %d %v", code, out)
	}
	if m := <-r.heard; m.ChatID != "wrkSFfCgAAdemo-huanhai-group" || m.From.Name != "周海燕" {
		t.Errorf("the street's callback: %+v", m)
	}
	_, street, _ := r.events(t, ids[1], 2)
	if street[0].Chat != "wrkSFfCgAAdemo-huanhai-group" || street[1].Chat != "wrkSFfCgAAdemo-huanhai-group" {
		t.Errorf("the street's events: %+v", street)
	}
	if code, out := r.post(t, "/demo/say", "application/json", `{"userid":"zhouhaiyan","group":"nope","text":"未报"}`); code != http.StatusBadRequest || out["error"] != "没有工作群 nope" {
		t.Errorf("an unknown group: %d %v", code, out)
	}
	// A reconnect replays only what came after the last event seen.
	r.srv.notice("第三条")
	_, again, _ := r.events(t, ids[1], 3)
	if again[2].Content != "第三条" {
		t.Errorf("replay after %s: %+v", ids[1], again)
	}
	// A Last-Event-ID of another process (a restart) replays everything.
	_, all, _ := r.events(t, "otherepoch-2", 5)
	if all[0].ID != 1 {
		t.Errorf("replay after a restart starts at %d", all[0].ID)
	}
}

func TestStrangerAndBadRequests(t *testing.T) {
	r := newRig(t)
	if code, out := r.post(t, "/demo/say", "application/json", `{"userid":"`+StrangerID+`","text":"你好"}`); code != http.StatusOK {
		t.Fatalf("stranger: %d %v", code, out)
	}
	if m := <-r.heard; m.From.UserID != StrangerID || m.From.Name != StrangerName {
		t.Errorf("stranger callback %+v", m)
	}
	cases := []struct {
		body, ct string
		code     int
		err      string
	}{
		{`{"userid":"nobody","text":"hi"}`, "application/json", 400, "群里没有成员 nobody"},
		{`{"userid":"zhoujianguo","text":"   "}`, "application/json", 400, "请输入消息内容"},
		{`{"userid":"zhoujianguo","text":"` + strings.Repeat("长", 700) + `"}`, "application/json", 400, "消息过长，请控制在 2048 字节以内"},
		{`userid=zhoujianguo&text=hi`, "application/x-www-form-urlencoded", 415, "请求须为 JSON"},
		{`{"userid":"zhoujianguo","text":"hi","extra":1}`, "application/json", 400, "请求格式错误"},
	}
	for _, c := range cases {
		code, out := r.post(t, "/demo/say", c.ct, c.body)
		if code != c.code || out["error"] != c.err {
			t.Errorf("%s: %d %v, want %d %q", c.body, code, out, c.code, c.err)
		}
	}
}

func TestRunJobAsIfAtATime(t *testing.T) {
	r := newRig(t)
	code, out := r.post(t, "/demo/run", "application/json", `{"job":"daily-report","at":"2026-11-20T18:00"}`)
	if code != http.StatusOK || out["summary"] != "已按 2026-11-20 18:00 为「高新区联系服务群众工作群」执行「日报汇总」：已发布日报（新发消息 2 条）" {
		t.Fatalf("run: %d %v", code, out)
	}
	want := time.Date(2026, 11, 20, 18, 0, 0, 0, storetest.Shanghai)
	if r.jobs.job != "daily-report" || r.jobs.group != "qu" || !r.jobs.at.Equal(want) {
		t.Errorf("ran %s of %q at %v", r.jobs.job, r.jobs.group, r.jobs.at)
	}
	// For the street's group: its own report, named in the notice.
	code, out = r.post(t, "/demo/run", "application/json", `{"job":"daily-report","group":"hh","at":"2026-11-20T17:30"}`)
	if code != http.StatusOK || r.jobs.group != "hh" || out["summary"] != "已按 2026-11-20 17:30 为「环海街道工作群」执行「日报汇总」：已发布日报（新发消息 2 条）" {
		t.Errorf("run for the street: %d %v, ran for %q", code, out, r.jobs.group)
	}
	if code, _ := r.post(t, "/demo/run", "application/json", `{"job":"remind"}`); code != http.StatusOK || time.Since(r.jobs.at) > time.Minute {
		t.Errorf("run now: %d at %v", code, r.jobs.at)
	}
	for body, want := range map[string]string{
		`{"job":"reboot"}`:                      "没有任务 reboot",
		`{"job":"remind","at":"tomorrow 9am"}`:  "时间格式应为 2006-01-02T15:04",
		`{"job":"remind","at":"2026-11-20 18"}`: "时间格式应为 2006-01-02T15:04",
		`{"job":"remind","group":"nope"}`:       "没有工作群 nope",
	} {
		if code, out := r.post(t, "/demo/run", "application/json", body); code != http.StatusBadRequest || out["error"] != want {
			t.Errorf("%s: %d %v", body, code, out)
		}
	}
	r.jobs.err = errors.New("database is locked")
	if code, out := r.post(t, "/demo/run", "application/json", `{"job":"remind"}`); code != http.StatusBadGateway || out["error"] != "系统繁忙，请稍后再试" {
		t.Errorf("failing job: %d %v", code, out)
	}
	_, evs, _ := r.events(t, "", 4)
	if evs[0].Kind != EventNotice || !strings.Contains(evs[0].Content, "日报汇总") || !strings.Contains(evs[3].Content, "失败") {
		t.Errorf("notices %+v", evs)
	}
}

func TestPageInfoAndStatus(t *testing.T) {
	r := newRig(t)
	resp, err := http.Get(r.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `src="/static/app.js"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("page: %d %q", resp.StatusCode, resp.Header)
	}
	for _, path := range []string{"/static/app.js", "/static/app.css", "/static/icon.svg"} {
		if resp, err := http.Get(r.url + path); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %v %v", path, err, resp)
		}
	}
	var info struct {
		Group, Bot, First string
		Groups            []groupView
		Members           []memberView
		Names             []string
		Jobs              []job
	}
	getJSON(t, r.url+"/demo/info", &info)
	if info.Group != "高新区联系服务群众工作群" || info.Bot != "雁阵" || info.First == "" || len(info.Jobs) != 8 {
		t.Errorf("info: %+v", info)
	}
	// The page's switcher: the district's group and the street's, each with
	// its chat and its jobs at its own times.
	if len(info.Groups) != 2 || info.Groups[0].Chat != ChatID || info.Groups[1].Code != "hh" || info.Groups[1].Name != "环海街道工作群" ||
		info.Groups[1].Jobs[1].When != "工作日 17:30" || info.Groups[0].Jobs[1].When != "工作日 18:00" {
		t.Errorf("groups: %+v", info.Groups)
	}
	if info.Members[0].Name != "周建国" || info.Members[0].Title != "区领导（主要领导）" {
		t.Errorf("roster starts with %+v", info.Members[0])
	}
	var status struct {
		Pending, Failed int
		Runs            []jobRun
	}
	getJSON(t, r.url+"/demo/status", &status)
	if status.Pending != 0 || status.Runs == nil {
		t.Errorf("status %+v", status)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestFakeRecordsBecomeEvents(t *testing.T) {
	at := time.Now()
	app := wecomtest.Request{Route: wecomtest.RouteMessage, Time: at, Status: 200, MsgType: "markdown", Content: "**调度**",
		ToUser: []string{"wangjianhua", "Ghost", "busy"}, Invalid: []string{"ghost"}, Dropped: []string{"busy"}}
	e, ok := fromFake(app, "雁阵")
	if !ok || e.Kind != EventApp || len(e.To) != 1 || e.To[0] != "wangjianhua" {
		t.Errorf("app message: %+v", e)
	}
	limited := wecomtest.Request{Route: wecomtest.RouteWebhook, Time: at, Status: 200, Errcode: 45009}
	if e, ok := fromFake(limited, "雁阵"); !ok || e.Kind != EventNotice || !strings.Contains(e.Content, "45009（接口调用超过频率限制）") {
		t.Errorf("rate limited: %+v", e)
	}
	if _, ok := fromFake(wecomtest.Request{Route: wecomtest.RouteToken, Status: 200}, "雁阵"); ok {
		t.Error("a token fetch became an event")
	}
	if e, ok := fromFake(wecomtest.Request{Route: wecomtest.RouteWebhook, Status: 200, MsgType: "markdown", Content: "# 日报"}, "雁阵"); !ok || e.Kind != EventGroup {
		t.Errorf("group: %+v", e)
	}
}

func TestTimelineKeepsTheLatest(t *testing.T) {
	tl := newTimeline(3)
	for range 5 {
		tl.add(Event{Kind: EventNotice})
	}
	evs, _ := tl.since(0)
	if len(evs) != 3 || evs[0].ID != 3 || evs[2].ID != 5 {
		t.Errorf("kept %+v", evs)
	}
	if evs, _ := tl.since(4); len(evs) != 1 || evs[0].ID != 5 {
		t.Errorf("since 4: %+v", evs)
	}
	_, changed := tl.since(5)
	tl.add(Event{})
	select {
	case <-changed:
	default:
		t.Error("append did not signal")
	}
}
