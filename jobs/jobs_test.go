package jobs_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

var ctx = context.Background()

func TestMain(m *testing.M) {
	// Slots are in Asia/Shanghai whatever the machine's zone.
	os.Setenv("TZ", "UTC")
	os.Exit(m.Run())
}

// at is storetest.At: a Shanghai time "2006-01-02 15:04".
var at = storetest.At

func ptr[T any](v T) *T { return &v }

// district seeds two departments that must report, their heads, a handler and
// two leaders, and returns a runner on the store.
type district struct {
	store    *models.Store
	runner   *jobs.Runner
	zjj, cgj models.Department
}

func newDistrict(t *testing.T, s *models.Store) *district {
	t.Helper()
	d := &district{store: s, runner: runnerOn(s)}
	d.zjj = models.Department{Code: "zjj", Name: "住建局", Tier: models.TierDepartment, ReportRequired: true, Sort: 10}
	d.cgj = models.Department{Code: "cgj", Name: "城管局", Tier: models.TierDepartment, ReportRequired: true, Sort: 20}
	create(t, s, &d.zjj)
	create(t, s, &d.cgj)
	for _, m := range []models.Member{
		{UserID: "zhangsan", Name: "张三", Role: models.RoleHead, DepartmentID: &d.zjj.ID},
		{UserID: "xiaoli", Name: "小李", Role: models.RoleHandler, DepartmentID: &d.zjj.ID},
		{UserID: "lisi", Name: "李四", Role: models.RoleHead, DepartmentID: &d.cgj.ID},
		{UserID: "wangwu", Name: "王五", Role: models.RoleLeader, Main: true},
		{UserID: "sunqi", Name: "孙七", Role: models.RoleLeader},
	} {
		m.Active = true
		create(t, s, &m)
	}
	return d
}

// testClock is a settable clock that goroutines may read while a test sets it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(s string) *testClock { return &testClock{t: at(s)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func runnerOn(s *models.Store) *jobs.Runner {
	cfg := config.Default()
	return jobs.NewRunner(jobs.NewEnv(s, bot.NewOutbox(cfg.WeCom), cfg.Domain(), calendar.New(cfg.Location(), nil), nil))
}

// must fails the test on a store error.
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

func (d *district) report(t *testing.T, dep *models.Department, day, when string) {
	t.Helper()
	_, err := d.store.SubmitReport(ctx, models.ReportSubmission{DepartmentID: dep.ID, Day: day, Text: dep.Name + "今日工作正常。", By: "x", At: at(when)})
	if err != nil {
		t.Fatal(err)
	}
}

// outbox returns the outbox rows whose dedupe key starts with prefix, in order.
func outbox(t *testing.T, s *models.Store, prefix string) []models.OutboxMessage {
	t.Helper()
	var rows []models.OutboxMessage
	if err := s.DB(ctx).Where("dedupe_key LIKE ?", prefix+"%").Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func mustRun(t *testing.T, r *jobs.Runner, job, when string) jobs.Result {
	t.Helper()
	res, err := r.RunAt(ctx, job, at(when))
	if err != nil {
		t.Fatalf("run %s at %s: %v", job, when, err)
	}
	return res
}

func TestDue(t *testing.T) {
	cfg := config.Default()
	loc := cfg.Location()
	cal := calendar.New(loc, nil)
	sched := func(name string) *jobs.Job { return jobs.Find(name) }
	for _, c := range []struct {
		job, now string
		workdays bool
		grace    time.Duration
		slot     string
		want     jobs.Decision
	}{
		{jobs.DailyReport, "2026-11-20 17:59", true, 2 * time.Hour, "2026-11-19 18:00", jobs.SkipMissed},
		{jobs.DailyReport, "2026-11-20 18:00", true, 2 * time.Hour, "2026-11-20 18:00", jobs.RunOnTime},
		{jobs.DailyReport, "2026-11-20 18:04", true, 2 * time.Hour, "2026-11-20 18:00", jobs.RunOnTime},
		{jobs.DailyReport, "2026-11-20 18:20", true, 2 * time.Hour, "2026-11-20 18:00", jobs.RunLate},
		{jobs.DailyReport, "2026-11-20 20:00", true, 2 * time.Hour, "2026-11-20 18:00", jobs.RunLate},
		{jobs.DailyReport, "2026-11-20 20:01", true, 2 * time.Hour, "2026-11-20 18:00", jobs.SkipMissed},
		{jobs.DailyReport, "2026-11-21 09:00", true, 2 * time.Hour, "2026-11-20 18:00", jobs.SkipMissed},
		{jobs.DailyReport, "2026-11-23 09:00", true, 2 * time.Hour, "", jobs.NoSlot}, // Friday's is past the look-back
		{jobs.DailyReport, "2026-11-21 18:00", false, 2 * time.Hour, "2026-11-21 18:00", jobs.RunOnTime},
		{jobs.DailyReport, "2026-10-01 18:00", true, 2 * time.Hour, "2026-09-30 18:00", jobs.SkipMissed}, // 国庆节
		{jobs.DailyReport, "2026-10-10 18:00", true, 2 * time.Hour, "2026-10-10 18:00", jobs.RunOnTime},  // 国庆节调休 Saturday
		{jobs.OverdueScan, "2026-11-20 10:07", true, 2 * time.Hour, "2026-11-20 10:00", jobs.RunLate},
		{jobs.OverdueScan, "2026-11-20 10:15", true, 2 * time.Hour, "2026-11-20 10:15", jobs.RunOnTime},
		{jobs.OverdueScan, "2026-11-21 10:15", true, 2 * time.Hour, "2026-11-20 23:45", jobs.SkipMissed},
		{jobs.WeeklyReport, "2026-11-20 17:00", false, 2 * time.Hour, "2026-11-20 17:00", jobs.RunOnTime},
		{jobs.WeeklyReport, "2026-11-19 17:00", false, 2 * time.Hour, "", jobs.NoSlot},
		{jobs.MonthlyReport, "2026-12-01 09:30", false, 2 * time.Hour, "2026-12-01 09:00", jobs.RunLate},
		{jobs.Remind, "2026-11-20 17:45", true, 30 * time.Minute, "2026-11-20 17:30", jobs.RunLate},
		{jobs.Remind, "2026-11-20 18:01", true, 30 * time.Minute, "2026-11-20 17:30", jobs.SkipMissed},
	} {
		s, err := sched(c.job).ScheduleOf(cfg.Schedule, loc)
		if err != nil {
			t.Fatal(err)
		}
		var workday func(time.Time) bool
		if c.workdays {
			workday = cal.IsWorkday
		}
		slot, d := jobs.Due(s, at(c.now), c.grace, workday)
		var want time.Time
		if c.slot != "" {
			want = at(c.slot)
		}
		if d != c.want || !slot.Equal(want) {
			t.Errorf("%s at %s: %s %s, want %s %s", c.job, c.now, slot.In(loc).Format(jobs.SlotLayout), d, want.Format(jobs.SlotLayout), c.want)
		}
	}
}

func TestEverySchedule(t *testing.T) {
	e := jobs.Every{D: 25 * time.Minute, Loc: storetest.Shanghai}
	for _, c := range []struct{ from, want string }{
		{"2026-11-20 10:00", "2026-11-20 10:25"},
		{"2026-11-20 10:24", "2026-11-20 10:25"},
		{"2026-11-20 10:25", "2026-11-20 10:50"},
		{"2026-11-20 23:50", "2026-11-21 00:00"}, // every day starts at midnight
	} {
		if got := e.Next(at(c.from)); !got.Equal(at(c.want)) {
			t.Errorf("Next(%s) = %s, want %s", c.from, got, c.want)
		}
	}
}

func TestRemindRemindsOnlyMissingDepartments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		d.report(t, &d.zjj, "2026-11-20", "2026-11-20 16:00")
		res := mustRun(t, d.runner, jobs.Remind, "2026-11-20 17:30")
		if !res.Ran || res.Messages != 2 {
			t.Fatalf("remind: %+v", res)
		}
		group := outbox(t, s, "remind/2026-11-20")
		if len(group) != 2 || !strings.Contains(group[0].Body, "城管局 <@lisi>") || strings.Contains(group[0].Body, "住建局") ||
			group[1].Channel != "app" || group[1].To != "lisi" {
			t.Errorf("remind messages: %+v", group)
		}
		// Run again: the dedupe keys keep it from going out twice.
		if res := mustRun(t, d.runner, jobs.Remind, "2026-11-20 17:35"); res.Messages != 0 || res.Repeated != 2 {
			t.Errorf("second remind: %+v", res)
		}
		d.report(t, &d.cgj, "2026-11-21", "2026-11-21 10:00")
		d.report(t, &d.zjj, "2026-11-21", "2026-11-21 10:00")
		if res := mustRun(t, d.runner, jobs.Remind, "2026-11-21 17:30"); res.Messages != 0 || !strings.Contains(res.Summary, "均已报送") {
			t.Errorf("remind when all reported: %+v", res)
		}
	})
}

func TestDailyReportMarksPostedAndLateReportsFollow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		d.report(t, &d.zjj, "2026-11-20", "2026-11-20 16:00")
		res := mustRun(t, d.runner, jobs.DailyReport, "2026-11-20 18:00")
		if !res.Ran || res.Messages != 1 {
			t.Fatalf("daily: %+v", res)
		}
		reports, err := s.DailyReports(ctx, "2026-11-20")
		must(t, err)
		if reports[d.zjj.ID].PostedAt == nil {
			t.Error("the report the daily report carried is not marked posted")
		}
		// 城管局 reports late; the next scan's sweep posts it as 补报, once.
		d.report(t, &d.cgj, "2026-11-20", "2026-11-20 19:05")
		mustRun(t, d.runner, jobs.OverdueScan, "2026-11-20 19:15")
		mustRun(t, d.runner, jobs.OverdueScan, "2026-11-20 19:30")
		late := outbox(t, s, "daily-late/2026-11-20/")
		if len(late) != 1 || !strings.Contains(late[0].Body, "【补报】城管局") {
			t.Errorf("补报: %+v", late)
		}
		if res := mustRun(t, d.runner, jobs.DailyReport, "2026-11-20 18:30"); res.Messages != 0 || !strings.Contains(res.Summary, "此前已发布") {
			t.Errorf("second daily report: %+v", res)
		}
	})
}

func TestPeriodicReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		create(t, s, &models.Ticket{Number: "2026111600001", Title: "噪音扰民", DepartmentID: &d.cgj.ID,
			ReceivedAt: at("2026-11-16 09:00"), Status: models.TicketResolved, Assessed: true,
			VisitedAt: ptr(at("2026-11-18 10:00")), Contacted: ptr(true), Resolved: ptr(false), Satisfaction: models.Unsatisfied})
		if res := mustRun(t, d.runner, jobs.NightlyDigest, "2026-11-18 23:00"); res.Messages != 1 {
			t.Errorf("nightly: %+v", res)
		}
		if rows := outbox(t, s, "nightly-digest/2026-11-18"); len(rows) != 1 || rows[0].To != "wangwu|sunqi" || !strings.Contains(rows[0].Body, "2026111600001") {
			t.Errorf("nightly rows: %+v", rows)
		}
		// The week's list goes to the main leader with its chart after it,
		// and 城管局's part to its head.
		if res := mustRun(t, d.runner, jobs.WeeklyReport, "2026-11-20 17:00"); res.Messages != 4 {
			t.Errorf("weekly: %+v", res)
		}
		if rows := outbox(t, s, fmt.Sprintf("weekly-report/2026-11-16/unit/%d", d.cgj.ID)); len(rows) != 1 || rows[0].To != "lisi" ||
			!strings.Contains(rows[0].Body, "2026111600001") || !strings.Contains(rows[0].Body, "未解决") {
			t.Errorf("weekly to 城管局's head: %+v", rows)
		}
		if rows := outbox(t, s, "weekly-report/2026-11-16/leader"); len(rows) != 2 || rows[0].To != "wangwu" || rows[0].Kind != "markdown" ||
			rows[1].To != "wangwu" || rows[1].Kind != "image" || rows[1].Media == "" || rows[1].ID < rows[0].ID {
			t.Errorf("weekly goes to %+v", rows)
		}
		// The month's ranking is posted, then its chart: 城管局 has the
		// visits to be ranked (rules.scores.min_sample).
		for i := 2; i <= 5; i++ {
			create(t, s, &models.Ticket{Number: fmt.Sprintf("202611160000%d", i), Title: "占道经营", DepartmentID: &d.cgj.ID,
				ReceivedAt: at("2026-11-16 09:00"), Status: models.TicketResolved, Assessed: true,
				VisitedAt: ptr(at("2026-11-25 10:00")), Contacted: ptr(true), Resolved: ptr(true), Satisfaction: models.Satisfied})
		}
		if res := mustRun(t, d.runner, jobs.MonthlyReport, "2026-12-01 09:00"); res.Messages != 2 {
			t.Errorf("monthly: %+v", res)
		}
		if rows := outbox(t, s, "monthly-report/2026-11-01"); len(rows) != 2 || !strings.Contains(rows[0].Body, "城管局") ||
			rows[1].Kind != "image" || rows[1].Channel != rows[0].Channel || rows[1].Media == "" {
			t.Errorf("monthly rows: %+v", rows)
		}
	})
}

func TestRunAtUnknownJob(t *testing.T) {
	r := runnerOn(storetest.Open(t, models.DriverSQLite, storetest.Options{}))
	if _, err := r.RunAt(ctx, "nope", time.Now()); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("unknown job: %v", err)
	}
}
