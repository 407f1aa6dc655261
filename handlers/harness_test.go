package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/handlers"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/report"
	"yanzhen/tickets"
)

var ctx = context.Background()

func TestMain(m *testing.M) {
	// Days and deadlines must be read in Asia/Shanghai whatever the machine's zone.
	os.Setenv("TZ", "America/New_York")
	os.Exit(m.Run())
}

// at is storetest.At: a Shanghai time "2006-01-02 15:04".
var at = storetest.At

// friday is the reference now: Friday 2026-11-20 10:00, a working day.
const friday = "2026-11-20 10:00"

// harness is a district on a store, the handler on it, and a clock that
// the store, the handler and (end to end) the bot and the fake WeCom share.
type harness struct {
	t     *testing.T
	store *models.Store
	cfg   *config.Config
	cal   *calendar.Calendar
	h     *handlers.Handler
	clock *wecomtest.Clock
	dept  map[string]*models.Department // by code
	seen  uint                          // the last outbox row a test has looked at
	seq   int
	// tickets imports the files members send, which files fetches through
	// the bot of an end-to-end test.
	tickets *tickets.Service
	files   botFiles
}

// botFiles fetches files through the bot of an end-to-end test, once it is built.
type botFiles struct{ b *bot.Bot }

func (f *botFiles) FetchAttachment(ctx context.Context, in *models.Inbound, w io.Writer, limit int64) (string, int64, error) {
	if f.b == nil {
		return "", 0, errors.New("no bot to fetch files: use an end-to-end wire")
	}
	return f.b.FetchAttachment(ctx, in, w, limit)
}

// The district: 住建局 and 城管局 (departments), 环海街道 (a street), 教育局
// (no head: its reporter answers), and the people below.
var people = []struct {
	userid, name, dept string
	role               models.Role
	covers             []string
}{
	{"wangwu", "王五", "", models.RoleLeader, nil},
	{"zhaosi", "赵四", "", models.RoleLeader, nil},
	{"zhangsan", "张三", "zjj", models.RoleHead, nil},
	{"lisi", "李四", "hhjd", models.RoleHead, nil},
	{"chenyi", "陈一", "cgj", models.RoleHead, nil},
	{"zhaoliu", "赵六", "hhjd", models.RoleHandler, nil},
	{"sunba", "孙八", "zjj", models.RoleHandler, nil},
	{"qianqi", "钱七", "cgj", models.RoleReporter, []string{"jyj"}},
	{"zhangwei1", "张伟", "zjj", models.RoleHandler, nil},
	{"zhangwei2", "张伟", "cgj", models.RoleHandler, nil},
	{"zhoujiu", "周九", "", models.RoleSupervisor, nil},
	{"liuyi", "刘一", "", models.RoleHotline, nil},
}

func newHarness(t *testing.T, driver string) *harness {
	t.Helper()
	x := &harness{t: t, cfg: config.Default(), clock: wecomtest.NewClock(at(friday)), dept: map[string]*models.Department{}}
	x.store = storetest.Open(t, driver, storetest.Options{Now: x.clock.Now})
	// The app is configured: attachments an AI bot cannot carry go by it.
	x.cfg.WeCom.CorpID, x.cfg.WeCom.AgentID, x.cfg.WeCom.Secret = "wwyanzhen", 1000002, "app-secret"
	x.cal = calendar.New(x.cfg.Location(), nil)
	depts := []models.Department{
		{Code: "zjj", Name: "住建局", Aliases: models.StringList{"住建", "区住建局"}, Tier: models.TierDepartment, ReportRequired: true, Sort: 10},
		{Code: "cgj", Name: "城管局", Aliases: models.StringList{"城管"}, Tier: models.TierDepartment, ReportRequired: true, Sort: 20},
		{Code: "jyj", Name: "教育局", Tier: models.TierDepartment, ReportRequired: true, Sort: 30},
		{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet, ReportRequired: true, Sort: 40},
	}
	for i := range depts {
		if _, err := x.store.UpsertDepartment(ctx, &depts[i]); err != nil {
			t.Fatal(err)
		}
		x.dept[depts[i].Code] = &depts[i]
	}
	for _, p := range people {
		m := models.Member{UserID: p.userid, Name: p.name, Role: p.role, Covers: p.covers, Active: true}
		if p.dept != "" {
			m.DepartmentID = &x.dept[p.dept].ID
		}
		if _, err := x.store.UpsertMember(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if x.h, err = handlers.New(x.options(bot.NewOutbox(x.cfg.WeCom))); err != nil {
		t.Fatal(err)
	}
	return x
}

// options are the handler's options on the harness, sending through out.
func (x *harness) options(out handlers.Enqueuer) handlers.Options {
	reports := report.New(x.store, x.cfg.Domain(), x.cal)
	x.tickets = &tickets.Service{Store: x.store, Calendar: x.cal, Rules: x.cfg.Rules, Outbox: out}
	return handlers.Options{
		Store: x.store, Outbox: out, Config: x.cfg.Domain(), Calendar: x.cal,
		Reports: reports, Charts: reports, Now: x.clock.Now, Tickets: x.tickets, Files: &x.files,
		Reached: func(deadline, now time.Time) int { return jobs.Reached(x.cal, x.cfg.Rules.Escalation, deadline, now) },
	}
}

// each runs f on a fresh harness on every database.
func each(t *testing.T, f func(t *testing.T, x *harness)) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) { f(t, newHarness(t, driver)) })
	}
}

// sent is what one message made the handler enqueue.
type sent struct {
	t    *testing.T
	rows []models.OutboxMessage
}

// say sends text from a member in the work group (robot route) and returns
// what was enqueued.
func (x *harness) say(from, text string) sent {
	x.t.Helper()
	x.seq++
	return x.handle(&models.Inbound{
		Route: models.RouteRobot, MsgID: fmt.Sprintf("msg%d", x.seq), ChatID: "wrkgroup", ChatType: "group",
		FromUserID: from, MsgType: "text", Text: text, ReplyURL: "http://wecom.test/cgi-bin/webhook/send?key=k1",
		ReceivedAt: x.clock.Now(),
	})
}

// handle hands one inbound message to the handler and returns the new outbox rows.
func (x *harness) handle(in *models.Inbound) sent {
	x.t.Helper()
	if err := x.h.Handle(ctx, in); err != nil {
		x.t.Fatalf("Handle(%q): %v", in.Text, err)
	}
	var rows []models.OutboxMessage
	if err := x.store.DB(ctx).Where("id > ?", x.seen).Order("id").Find(&rows).Error; err != nil {
		x.t.Fatal(err)
	}
	if len(rows) > 0 {
		x.seen = rows[len(rows)-1].ID
	}
	return sent{x.t, rows}
}

// drain marks every outbox row so far as looked at.
func (x *harness) drain() {
	x.t.Helper()
	var last models.OutboxMessage
	if err := x.store.DB(ctx).Order("id DESC").Limit(1).Find(&last).Error; err != nil {
		x.t.Fatal(err)
	}
	x.seen = last.ID
}

// postDaily posts the day's report as the 18:00 run does, at the clock's
// time: it goes out through the outbox, its revisions are marked posted, and
// what it sent is drained.
func (x *harness) postDaily() {
	x.t.Helper()
	d, err := report.New(x.store, x.cfg.Domain(), x.cal).Daily(ctx, x.clock.Now(), x.clock.Now())
	if err != nil {
		x.t.Fatal(err)
	}
	if _, err := bot.NewOutbox(x.cfg.WeCom).Enqueue(ctx, x.store, d.Message()); err != nil {
		x.t.Fatal(err)
	}
	if err := x.store.MarkReportsPosted(ctx, d.Revisions(), x.clock.Now()); err != nil {
		x.t.Fatal(err)
	}
	x.drain()
}

// reply returns the one reply to the sender, its attachments aside.
func (s sent) reply() string {
	s.t.Helper()
	var out []string
	for _, r := range s.rows {
		if r.Channel == "reply" && r.Media == "" {
			out = append(out, r.Body)
		}
	}
	if len(out) != 1 {
		s.t.Fatalf("%d replies, want 1: %+v", len(out), s.rows)
	}
	return out[0]
}

// only checks that nothing but the reply was sent and returns it.
func (s sent) only() string {
	s.t.Helper()
	if len(s.rows) != 1 {
		s.t.Fatalf("%d messages, want the reply only: %+v", len(s.rows), s.rows)
	}
	return s.reply()
}

// app returns the app messages by recipient list ("a|b").
func (s sent) app() map[string]string {
	out := map[string]string{}
	for _, r := range s.rows {
		if r.Channel == "app" {
			if _, dup := out[r.To]; dup {
				s.t.Fatalf("two app messages to %s", r.To)
			}
			out[r.To] = r.Body
			if r.Kind == "template_card" {
				out[r.To] = cardText(s.t, []byte(r.Body))
			}
		}
	}
	return out
}

// card is what a reader sees of a template card.
type card struct {
	MainTitle struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"main_title"`
	SubTitle    string `json:"sub_title_text"`
	TaskID      string `json:"task_id"`
	ReplaceText string `json:"replace_text"`
	Buttons     []struct {
		Text string `json:"text"`
		Key  string `json:"key"`
	} `json:"button_list"`
}

// readCard reads a template card's JSON.
func readCard(t *testing.T, data []byte) card {
	t.Helper()
	var c card
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("not a card: %v: %s", err, data)
	}
	return c
}

// cardText is a card's title and text, as one string.
func cardText(t *testing.T, data []byte) string {
	t.Helper()
	c := readCard(t, data)
	return c.MainTitle.Title + c.SubTitle
}

// group returns the messages to the work group through the configured robot.
func (s sent) group() []models.OutboxMessage {
	var out []models.OutboxMessage
	for _, r := range s.rows {
		if r.Channel == "robot" {
			out = append(out, r)
		}
	}
	return out
}

// contains fails unless s contains every part.
func contains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, s)
		}
	}
}

// count returns the number of rows of a model, of those that match a
// condition when one is given.
func (x *harness) count(model any, where ...any) int64 {
	x.t.Helper()
	var n int64
	q := x.store.DB(ctx).Model(model)
	if len(where) > 0 {
		q = q.Where(where[0], where[1:]...)
	}
	if err := q.Count(&n).Error; err != nil {
		x.t.Fatal(err)
	}
	return n
}

// keys returns the sorted keys of a map.
func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// addTicket records an open ticket of a department, with a grid.
func (x *harness) addTicket(number, dept, grid string, deadline time.Time) *models.Ticket {
	x.t.Helper()
	tk := &models.Ticket{Number: number, Title: "小区路灯不亮", Category: "求助", Source: models.SourceCity,
		Status: models.TicketInProgress, ReceivedAt: x.clock.Now().Add(-48 * time.Hour), Deadline: &deadline, DepartmentID: &x.dept[dept].ID}
	if grid != "" {
		tk.GridDepartmentID = &x.dept[grid].ID
	}
	if err := x.store.DB(ctx).Create(tk).Error; err != nil {
		x.t.Fatal(err)
	}
	return tk
}
