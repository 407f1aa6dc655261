package report_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"yanzhen/bot"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
	"yanzhen/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var ctx = context.Background()

func TestMain(m *testing.M) {
	// Reports must read in Asia/Shanghai whatever the machine's zone.
	os.Setenv("TZ", "UTC")
	os.Exit(m.Run())
}

// at is storetest.At: a Shanghai time "2006-01-02 15:04".
var at = storetest.At

func ptr[T any](v T) *T { return &v }

// fixture is the fixed data set of the golden files: a district of five units
// on Friday 2026-11-20, its people, tickets, reports and one dispatch.
type fixture struct {
	store                          *models.Store
	builder                        *report.Builder
	cal                            *calendar.Calendar
	zjj, cgj, jyj, hhjd, hbsq, wsj models.Department
}

func newFixture(t *testing.T, s *models.Store) *fixture {
	t.Helper()
	cfg := config.Default()
	cal := calendar.New(cfg.Location(), nil)
	f := &fixture{store: s, builder: report.New(s, cfg.Domain(), cal), cal: cal}
	f.zjj = models.Department{Code: "zjj", Name: "住建局", Tier: models.TierDepartment, ReportRequired: true, Sort: 10}
	f.cgj = models.Department{Code: "cgj", Name: "城管局", Tier: models.TierDepartment, ReportRequired: true, Sort: 20}
	f.jyj = models.Department{Code: "jyj", Name: "教育局", Tier: models.TierDepartment, ReportRequired: true, Sort: 30}
	f.wsj = models.Department{Code: "wsj", Name: "卫健委", Tier: models.TierDepartment, Sort: 40}
	f.hhjd = models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet, ReportRequired: true, Sort: 50}
	f.hbsq = models.Department{Code: "hbsq", Name: "海滨社区", Tier: models.TierCommunity, Sort: 60}
	for _, d := range []*models.Department{&f.zjj, &f.cgj, &f.jyj, &f.wsj, &f.hhjd, &f.hbsq} {
		create(t, s, d)
	}
	for _, m := range []models.Member{
		{UserID: "zhangsan", Name: "张三", Role: models.RoleHead, DepartmentID: &f.zjj.ID},
		{UserID: "lisi", Name: "李四", Role: models.RoleHead, DepartmentID: &f.cgj.ID},
		{UserID: "zhouba", Name: "周八", Role: models.RoleHead, DepartmentID: &f.jyj.ID},
		{UserID: "zhaoliu", Name: "赵六", Role: models.RoleReporter, DepartmentID: &f.hhjd.ID},
		{UserID: "qianqi", Name: "钱七", Role: models.RoleReporter, DepartmentID: &f.cgj.ID},
		{UserID: "zhoujiu", Name: "周九", Role: models.RoleSupervisor},
		{UserID: "xiaoli", Name: "小李", Role: models.RoleHandler, DepartmentID: &f.zjj.ID},
		{UserID: "wangwu", Name: "王五", Role: models.RoleLeader, Main: true},
		{UserID: "sunqi", Name: "孙七", Role: models.RoleLeader},
	} {
		m.Active = true
		create(t, s, &m)
	}
	type tk struct {
		number, title, category string
		dept                    *models.Department
		received                string
		deadline                string
		status                  models.TicketStatus
		resolvedAt, visitedAt   string
		contacted, resolved     *bool
		satisfaction            models.Satisfaction
		reopenedAt              string
	}
	yes, no := ptr(true), ptr(false)
	tickets := []tk{
		// Received today; one resolved today.
		{"2026112000001", "小区电梯故障停运", "求助", &f.zjj, "2026-11-20 09:10", "2026-11-27 09:10", models.TicketInProgress, "", "", nil, nil, "", ""},
		{"2026112000002", "楼道堆放杂物", "投诉", &f.zjj, "2026-11-20 10:00", "2026-12-04 10:00", models.TicketResolved, "2026-11-20 16:00", "", nil, nil, "", ""},
		{"2026112000003", "占道经营", "投诉", &f.cgj, "2026-11-20 11:30", "2026-12-04 11:30", models.TicketPending, "", "", nil, nil, "", ""},
		// Overdue and due soon.
		{"2026111000004", "老旧小区外墙脱落", "求助", &f.zjj, "2026-11-10 09:00", "2026-11-17 09:00", models.TicketInProgress, "", "", nil, nil, "", ""},
		{"2026111800005", "路灯不亮", "咨询", &f.cgj, "2026-11-18 15:00", "2026-11-19 15:00", models.TicketInProgress, "", "", nil, nil, "", ""},
		{"2026111300006", "校外培训退费", "投诉", &f.jyj, "2026-11-13 09:00", "2026-11-21 09:00", models.TicketInProgress, "", "", nil, nil, "", ""},
		// Visited this month: scores, 不满意, 双否件, reopened today.
		{"2026110200007", "供暖不热", "投诉", &f.zjj, "2026-11-02 09:00", "2026-11-16 09:00", models.TicketResolved, "2026-11-05 10:00", "2026-11-06 10:00", yes, yes, models.Satisfied, ""},
		{"2026110200008", "噪音扰民", "投诉", &f.cgj, "2026-11-02 09:00", "2026-11-16 09:00", models.TicketResolved, "2026-11-04 10:00", "2026-11-20 10:00", yes, no, models.Unsatisfied, ""},
		{"2026110300009", "垃圾清运不及时", "求助", &f.cgj, "2026-11-03 09:00", "2026-11-10 09:00", models.TicketResolved, "2026-11-05 10:00", "2026-11-18 10:00", yes, yes, models.BasicSatisfied, ""},
		{"2026110300010", "学位申请咨询", "咨询", &f.jyj, "2026-11-03 09:00", "2026-11-04 09:00", models.TicketResolved, "2026-11-03 15:00", "2026-11-04 10:00", yes, yes, models.Satisfied, ""},
		{"2026110400011", "背街小巷积水", "求助", &f.hhjd, "2026-11-04 09:00", "2026-11-11 09:00", models.TicketInProgress, "2026-11-06 10:00", "2026-11-17 10:00", no, no, models.Unsatisfied, "2026-11-20 09:30"},
		{"2026110500012", "社区活动场地", "建议", &f.hbsq, "2026-11-05 09:00", "2026-11-26 09:00", models.TicketResolved, "2026-11-09 10:00", "2026-11-10 10:00", yes, yes, models.BasicSatisfied, ""},
	}
	// Enough return visits early in the month (before the week of the 20th)
	// for 住建局 (6), 教育局 (5) and 城管局 (5) to be ranked: 住建局 and 教育局
	// tie at 100.00; 环海街道 and 海滨社区, with one each, are 样本不足.
	for i, d := range []*models.Department{&f.zjj, &f.zjj, &f.zjj, &f.zjj, &f.zjj, &f.jyj, &f.jyj, &f.jyj, &f.jyj, &f.cgj, &f.cgj, &f.cgj} {
		day := fmt.Sprintf("2026-11-%02d", 2+i%10)
		tickets = append(tickets, tk{fmt.Sprintf("20261102%05d", 100+i), "已办结的诉求", "求助", d, day + " 09:00", day + " 18:00",
			models.TicketResolved, day + " 15:00", "2026-11-13 10:00", yes, yes, models.Satisfied, ""})
	}
	for _, x := range tickets {
		row := models.Ticket{
			Number: x.number, Title: x.title, Category: x.category, Source: models.SourceCity,
			DepartmentID: &x.dept.ID, ReceivedAt: at(x.received), Deadline: ptr(at(x.deadline)),
			DeadlineSource: models.DeadlineRule, Status: x.status, Contacted: x.contacted, Resolved: x.resolved,
			Satisfaction: x.satisfaction, Assessed: x.visitedAt != "",
		}
		if x.resolvedAt != "" {
			row.ResolvedAt = ptr(at(x.resolvedAt))
		}
		if x.visitedAt != "" {
			row.VisitedAt = ptr(at(x.visitedAt))
		}
		if x.reopenedAt != "" {
			row.ReopenedAt, row.ReopenCount = ptr(at(x.reopenedAt)), 1
		}
		create(t, s, &row)
	}
	submit := func(d *models.Department, text, by, name, when string, late bool) {
		_, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: d.ID, Day: "2026-11-20", Text: text, By: by, ByName: name, At: at(when), Late: late})
		if err != nil {
			t.Fatal(err)
		}
	}
	submit(&f.zjj, "今日办结工单1件，老旧小区改造完成外墙修缮3栋。\n百日攻坚：加装电梯开工2部。<@all>", "zhangsan", "张三", "2026-11-20 16:30", false)
	submit(&f.hhjd, "今日走访网格12个，处置积水点2处。", "zhaoliu", "赵六", "2026-11-20 17:45", false)
	return f
}

// must fails the test on an error of the store or the builder.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, s *models.Store, v any) {
	t.Helper()
	if err := s.DB(ctx).Create(v).Error; err != nil {
		t.Fatalf("create %T: %v", v, err)
	}
}

// outbox renders messages as the service does.
var outbox = bot.NewOutbox(config.Default().WeCom)

// rendered returns the outbox rows msgs become.
func rendered(msgs ...msg.Message) []models.OutboxMessage {
	var rows []models.OutboxMessage
	for _, m := range msgs {
		rows = append(rows, outbox.Render(m)...)
	}
	return rows
}

// limit is WeCom's byte limit of a rendered row: 4096 for robot markdown,
// 2048 for text and app markdown.
func limit(m models.OutboxMessage) int {
	if m.Channel == "robot" && m.Kind == "markdown" {
		return 4096
	}
	return 2048
}

// key is a row's dedupe key.
func key(m models.OutboxMessage) string {
	if m.DedupeKey == nil {
		return ""
	}
	return *m.DedupeKey
}

// golden renders the messages, compares them with testdata/name.golden
// (rewritten under -update), checks each against its byte limit, and returns
// the userids the messages @-mention, in order, without repeats.
func golden(t *testing.T, name string, msgs ...msg.Message) []string {
	t.Helper()
	return goldenRows(t, name, rendered(msgs...))
}

// goldenRows is golden for rendered rows.
func goldenRows(t *testing.T, name string, rows []models.OutboxMessage) []string {
	t.Helper()
	var b strings.Builder
	var mentioned []string
	for i, m := range rows {
		fmt.Fprintf(&b, "=== %d %s %s to=%q key=%q bytes=%d\n%s\n", i+1, m.Channel, m.Kind, m.To, key(m), len(m.Body), m.Body)
		if limit := limit(m); len(m.Body) > limit {
			t.Errorf("%s message %d: %d bytes, over the limit of %d", name, i+1, len(m.Body), limit)
		}
		if m.Kind == "markdown" {
			for _, id := range markdownMentions(m.Body) {
				if !slices.Contains(mentioned, id) {
					mentioned = append(mentioned, id)
				}
			}
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return mentioned
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("%s differs from %s (go test ./report -update rewrites it):\n%s", name, path, diff(string(want), got))
	}
	return mentioned
}

var mentionRE = regexp.MustCompile(`<@([^>]+)>`)

func markdownMentions(body string) []string {
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// diff shows the first differing line of want and got.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\nwant: %s\n got: %s", i+1, a, b)
		}
	}
	return "(same lines)"
}
