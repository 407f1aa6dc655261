package demo

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
)

//go:embed web
var webFiles embed.FS

// static holds the page's files: index.html, app.js, app.css, icon.svg.
var static = func() fs.FS {
	f, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err)
	}
	return f
}()

// The stranger: a colleague in the group whom nobody registered in yanzhen.
const (
	StrangerID   = "liuyang"
	StrangerName = "刘洋"
)

// timelineCapacity is how many events a demo process remembers for the page.
const timelineCapacity = 2000

// maxSay is the longest message the page may send, in bytes (WeCom's text limit).
const maxSay = 2048

// JobRunner runs one scheduled job by name for one work group (its code;
// "" the default group) as if at a time, as `yanzhen run JOB --at` does for
// the groups of that time; its messages go to the outbox (*jobs.Runner).
type JobRunner interface {
	RunGroupAt(ctx context.Context, job, group string, at time.Time) (jobs.Result, error)
}

// Options are what a Server is built from; all but Log are required.
type Options struct {
	Config *config.Config // the demo's configuration (see Config)
	Store  *models.Store
	// Jobs runs the job buttons of the page.
	Jobs JobRunner
	Log  *zap.Logger
}

// Server is the demo's web surface: the page, its endpoints under /demo/, and
// the fake WeCom under SimPrefix, all on the listener of the service itself.
type Server struct {
	cfg    *config.Config
	store  *models.Store
	jobs   JobRunner
	log    *zap.Logger
	fake   *wecomtest.Server
	signer *wecomtest.CallbackSigner
	// appSigner signs the app's callbacks (taps on cards); nil on the AI
	// bot's long connection, where taps are pushed as frames.
	appSigner *wecomtest.CallbackSigner
	client    *http.Client
	events    *timeline
	media     *mediaShelf
	epoch     string
	ctx       context.Context
}

// New builds the Server and starts copying what the fake WeCom receives into
// the page's timeline until ctx ends; event streams end with ctx too.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Config == nil || o.Store == nil || o.Jobs == nil {
		return nil, errors.New("demo: Config, Store and Jobs are required")
	}
	cfg := o.Config
	var signer, appSigner *wecomtest.CallbackSigner
	if !cfg.WeCom.AIBot.WebSocket() {
		var err error
		if signer, err = wecomtest.NewCallbackSigner(cfg.WeCom.Robot.Token.Reveal(), cfg.WeCom.Robot.AESKey.Reveal(), ""); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if appSigner, err = wecomtest.NewCallbackSigner(cfg.WeCom.AppCallback.Token.Reveal(), cfg.WeCom.AppCallback.AESKey.Reveal(), cfg.WeCom.CorpID); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{
		cfg: cfg, store: o.Store, jobs: o.Jobs, log: log,
		fake: wecomtest.New(
			wecomtest.WithURL(cfg.WeCom.APIBase),
			wecomtest.WithCorp(cfg.WeCom.CorpID, cfg.WeCom.Secret.Reveal(), int(cfg.WeCom.AgentID)),
			wecomtest.WithWebhookKeys(cfg.WeCom.Robot.WebhookKey.Reveal()),
		),
		signer: signer, appSigner: appSigner,
		client: &http.Client{Timeout: 10 * time.Second},
		events: newTimeline(timelineCapacity),
		media:  newMediaShelf(),
		epoch:  strconv.FormatInt(time.Now().UnixNano(), 36),
		ctx:    ctx,
	}
	received, stop := s.fake.Subscribe()
	go func() {
		<-ctx.Done()
		stop()
	}()
	go func() {
		for r := range received {
			if e, ok := fromFake(r, cfg.WeCom.BotName); ok {
				if r.Media != nil && e.Kind != EventNotice {
					e.Media = s.media.keep(r.Media)
				}
				if e.Kind == EventCard {
					e.Views = s.cardViews(r.TaskID)
				}
				s.events.add(e)
			}
		}
	}()
	return s, nil
}

// Handler serves the page at /, its endpoints under /demo/ and the fake WeCom
// under SimPrefix.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(SimPrefix+"/", http.StripPrefix(SimPrefix, s.fake.Handler()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /static/", http.StripPrefix("/static", noCache(http.FileServerFS(static))))
	mux.HandleFunc("GET /demo/info", s.info)
	mux.HandleFunc("GET /demo/status", s.status)
	mux.HandleFunc("GET /demo/events", s.stream)
	mux.HandleFunc("GET /demo/media/{id}", s.media.serve)
	mux.HandleFunc("POST /demo/say", jsonOnly(s.say))
	mux.HandleFunc("POST /demo/run", jsonOnly(s.run))
	mux.HandleFunc("POST /demo/tap", jsonOnly(s.tap))
	return mux
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// jsonOnly refuses a POST that is not JSON. Another site's page cannot send
// JSON to the demo without the browser asking first, so it cannot speak or
// run jobs through a visitor's browser.
func jsonOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "请求须为 JSON")
			return
		}
		h(w, r)
	}
}

// Say posts text to the bot's /wecom/robot route as a signed, encrypted robot
// callback from the member userid (or the stranger) @-mentioning the robot in
// the chat of the work group with code group ("" the first), exactly as
// WeCom sends it; on the AI bot's long connection it pushes the message to
// the bot as a frame instead. The message is put in the timeline first, as
// the group shows it before the bot answers.
func (s *Server) Say(ctx context.Context, userid, group, text string) error {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return badRequest("请输入消息内容")
	case len(text) > maxSay:
		return badRequest("消息过长，请控制在 %d 字节以内", maxSay)
	}
	chat, err := s.chatOf(ctx, group)
	if err != nil {
		return err
	}
	name := StrangerName
	if userid != StrangerID {
		m, err := s.store.MemberByUserID(ctx, userid)
		if models.ErrorCode(err) == models.ENOTFOUND {
			return badRequest("群里没有成员 %s", userid)
		}
		if err != nil {
			return err
		}
		name = m.Name
	}
	if s.signer == nil {
		return s.pushFrame(ctx, userid, name, chat, text)
	}
	cb, err := s.signer.RobotText(wecomtest.RobotMessage{
		WebhookURL: s.fake.WebhookURL(s.cfg.WeCom.Robot.WebhookKey.Reveal()),
		ChatID:     chat,
		UserID:     userid,
		Name:       name,
		BotName:    s.cfg.WeCom.BotName,
		Content:    text,
	})
	if err != nil {
		return fmt.Errorf("demo: say: %w", err)
	}
	s.events.add(Event{Kind: EventSay, Time: time.Now(), From: userid, Name: name, Chat: chat, MsgType: "text",
		Content: "@" + s.cfg.WeCom.BotName + " " + text})
	return s.deliver(ctx, cb, "/wecom/robot", "机器人回调")
}

// deliver posts a callback to the bot's route at path, as WeCom does; what
// names it in the notice the page shows when it does not arrive.
func (s *Server) deliver(ctx context.Context, cb wecomtest.Callback, path, what string) error {
	req, err := cb.Request(BaseURL(s.cfg.HTTP.Listen) + path)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", path, err)
	}
	resp, err := s.client.Do(req.WithContext(ctx))
	if err != nil {
		s.notice(what + "未送达：连接失败")
		return fmt.Errorf("demo: post the callback to %s: %w", path, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.notice(fmt.Sprintf("%s未被接收：HTTP %d", what, resp.StatusCode))
		return fmt.Errorf("demo: the callback to %s was answered HTTP %d", path, resp.StatusCode)
	}
	return nil
}

func (s *Server) notice(text string) {
	s.events.add(Event{Kind: EventNotice, Time: time.Now(), Content: text})
}

// requestError is a mistake of the page's request, shown to the user as is.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}

func (s *Server) say(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"userid"`
		Group  string `json:"group"`
		Text   string `json:"text"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if err := s.Say(r.Context(), in.UserID, in.Group, in.Text); err != nil {
		s.fail(w, "say", err)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}

// fail answers an endpoint's error: a request mistake as 400 with its text,
// anything else as 502 with a generic line, logged in full.
func (s *Server) fail(w http.ResponseWriter, what string, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeError(w, http.StatusBadRequest, re.msg)
		return
	}
	s.log.Warn("demo "+what+" failed", zap.String("error", err.Error()))
	writeError(w, http.StatusBadGateway, models.UserText(err))
}

func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Job   string `json:"job"`
		Group string `json:"group"` // the work group's code; "" the first
		At    string `json:"at"`    // "2006-01-02T15:04" in the configured zone, as a datetime-local field gives it; empty means now
	}
	if !readJSON(w, r, &in) {
		return
	}
	set, err := s.store.GroupSet(r.Context())
	if err != nil {
		s.fail(w, "run "+in.Job, err)
		return
	}
	g := set.Of(in.Group)
	if g == nil {
		writeError(w, http.StatusBadRequest, "没有工作群 "+in.Group)
		return
	}
	list := s.jobList(g)
	i := slices.IndexFunc(list, func(j job) bool { return j.Name == in.Job })
	if i < 0 {
		writeError(w, http.StatusBadRequest, "没有任务 "+in.Job)
		return
	}
	label := list[i].Label
	at := time.Now().In(s.cfg.Location())
	if in.At != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", in.At, s.cfg.Location())
		if err != nil {
			writeError(w, http.StatusBadRequest, "时间格式应为 2006-01-02T15:04")
			return
		}
		at = t
	}
	res, err := s.jobs.RunGroupAt(r.Context(), in.Job, g.Code, at)
	if err != nil {
		s.notice(fmt.Sprintf("按 %s 执行「%s」失败：%s", at.Format("2006-01-02 15:04"), label, models.UserText(err)))
		s.fail(w, "run "+in.Job, err)
		return
	}
	line := fmt.Sprintf("已按 %s 执行「%s」", at.Format("2006-01-02 15:04"), label)
	if job := jobs.Find(in.Job); job != nil && job.Reach != jobs.Once && len(set.Groups) > 1 {
		line = fmt.Sprintf("已按 %s 为「%s」执行「%s」", at.Format("2006-01-02 15:04"), g.Name, label)
	}
	switch {
	case !res.Ran:
		line += "：该时段已在运行或已完成，未重复执行"
	case res.Summary != "":
		line += fmt.Sprintf("：%s（新发消息 %d 条）", res.Summary, res.Messages)
	default:
		line += fmt.Sprintf("（新发消息 %d 条）", res.Messages)
	}
	s.notice(line)
	writeJSON(w, map[string]string{"summary": line})
}

// memberView is a member as the page lists them.
type memberView struct {
	UserID string `json:"userid"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Title  string `json:"title"`
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	dir, err := s.store.Directory(r.Context())
	if err != nil {
		s.fail(w, "info", err)
		return
	}
	steps, err := FirstSteps(r.Context(), s.store, time.Now())
	if err != nil {
		s.fail(w, "info", err)
		return
	}
	first := ""
	if steps.Reporter != nil {
		first = steps.Reporter.UserID
	}
	set, err := s.store.GroupSet(r.Context())
	if err != nil {
		s.fail(w, "info", err)
		return
	}
	groups := make([]groupView, 0, len(set.Groups))
	for i := range set.Groups {
		g := &set.Groups[i]
		name := g.Name
		if name == "" {
			name = s.cfg.District.GroupName
		}
		chat := g.ChatID
		if chat == "" {
			chat = ChatID
		}
		groups = append(groups, groupView{Code: g.Code, Name: name, Chat: chat, Jobs: s.jobList(g)})
	}
	writeJSON(w, map[string]any{
		"district":  s.cfg.District.Name,
		"group":     groups[0].Name,
		"groups":    groups,
		"bot":       s.cfg.WeCom.BotName,
		"timezone":  s.cfg.Timezone,
		"transport": s.cfg.WeCom.AIBot.Mode, // how messages reach the bot: callback or websocket
		"members":   memberViews(dir),
		"stranger":  memberView{UserID: StrangerID, Name: StrangerName, Role: "stranger", Title: "未登记"},
		"names":     mentionNames(dir),
		"first":     first,
		"tips":      steps.Tips(),
		"jobs":      groups[0].Jobs,
	})
}

// mentionNames lists the names people @-mention: units and members, with aliases.
func mentionNames(dir *models.Directory) []string {
	var out []string
	for _, d := range dir.Departments {
		out = append(append(out, d.Name), d.Aliases...)
	}
	for _, m := range dir.Members {
		out = append(append(out, m.Name), m.Aliases...)
	}
	return out
}

// memberViews lists the members in the order of the group's roster: leaders
// (the main leader first), then each unit in its configured order with its
// head, reporters and handlers, then everyone else.
func memberViews(dir *models.Directory) []memberView {
	rank := map[models.Role]int{models.RoleHead: 0, models.RoleReporter: 1, models.RoleHandler: 2, models.RoleAdmin: 3}
	deptRank := map[uint]int{}
	for i, d := range dir.Departments {
		deptRank[d.ID] = i
	}
	key := func(m *models.Member) (int, int, int) {
		switch {
		case m.Role == models.RoleLeader && m.Main:
			return 0, 0, 0
		case m.Role == models.RoleLeader:
			return 1, 0, 0
		case m.Role == models.RoleSupervisor:
			return 2, 0, 0
		case m.DepartmentID != nil:
			return 3, deptRank[*m.DepartmentID], rank[m.Role]
		}
		return 4, 0, 0
	}
	members := make([]*models.Member, len(dir.Members))
	for i := range dir.Members {
		members[i] = &dir.Members[i]
	}
	slices.SortStableFunc(members, func(a, b *models.Member) int {
		a1, a2, a3 := key(a)
		b1, b2, b3 := key(b)
		return cmp.Or(cmp.Compare(a1, b1), cmp.Compare(a2, b2), cmp.Compare(a3, b3))
	})
	out := make([]memberView, 0, len(members))
	for _, m := range members {
		title := m.Role.Chinese()
		if m.Main {
			title += "（主要领导）"
		}
		if m.DepartmentID != nil {
			if d := dir.Department(*m.DepartmentID); d != nil {
				title = d.Name + " · " + title
			}
		}
		out = append(out, memberView{UserID: m.UserID, Name: m.Name, Role: string(m.Role), Title: title})
	}
	return out
}

// jobRun is a job's latest run as the status strip shows it.
type jobRun struct {
	Job     string           `json:"job"`
	Group   string           `json:"group,omitempty"`
	Slot    string           `json:"slot"`
	Status  models.JobStatus `json:"status"`
	Late    bool             `json:"late"`
	Summary string           `json:"summary,omitempty"`
	At      *time.Time       `json:"at,omitempty"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	db := s.store.DB(ctx)
	var out struct {
		Pending int64    `json:"pending"`
		Failed  int64    `json:"failed"`
		Runs    []jobRun `json:"runs"`
	}
	backlog, _, err := s.store.OutboxBacklog(ctx)
	if err != nil {
		s.fail(w, "status", err)
		return
	}
	for _, n := range backlog {
		out.Pending += n
	}
	if err := db.Model(&models.OutboxMessage{}).Where("status = ?", models.OutboxFailed).Count(&out.Failed).Error; err != nil {
		s.fail(w, "status", fmt.Errorf("count failed outbox rows: %w", err))
		return
	}
	var runs []models.JobRun
	if err := db.Order("id DESC").Limit(50).Find(&runs).Error; err != nil {
		s.fail(w, "status", fmt.Errorf("list job runs: %w", err))
		return
	}
	seen := map[string]bool{}
	out.Runs = []jobRun{}
	for _, run := range runs {
		if seen[run.Job+"\x00"+run.Group] {
			continue
		}
		seen[run.Job+"\x00"+run.Group] = true
		at := run.FinishedAt
		if at == nil {
			at = &run.StartedAt
		}
		out.Runs = append(out.Runs, jobRun{Job: run.Job, Group: run.Group, Slot: run.Slot, Status: run.Status, Late: run.Late, Summary: run.Summary, At: at})
	}
	writeJSON(w, out)
}

// stream serves the timeline as server-sent events: a hello naming this
// process, then every event after the client's Last-Event-ID (all of them on
// a first connection or after a restart), then each new one as it happens.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	// A stream outlives the server's read and write timeouts.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	after := 0
	if epoch, n, ok := strings.Cut(r.Header.Get("Last-Event-ID"), "-"); ok && epoch == s.epoch {
		after, _ = strconv.Atoi(n)
	}
	hello, _ := json.Marshal(map[string]string{"epoch": s.epoch})
	fmt.Fprintf(w, "retry: 2000\nevent: hello\ndata: %s\n\n", hello)
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		evs, changed := s.events.since(after)
		for _, e := range evs {
			b, err := json.Marshal(e)
			if err != nil {
				s.log.Error("demo: encode event", zap.Error(err))
				return
			}
			fmt.Fprintf(w, "id: %s-%d\ndata: %s\n\n", s.epoch, e.ID, b)
			after = e.ID
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-changed:
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "请求格式错误")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
