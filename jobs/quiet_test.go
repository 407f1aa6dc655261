package jobs_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"yanzhen/bot"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

// backlog gives the district's two departments open tickets at every level
// of the ladder at 2026-11-20 10:00, and an overdue dispatch to 城管局; it
// returns the ticket numbers by the userids that must get them by app
// message, and the dispatch's code.
func (d *district) backlog(t *testing.T) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	for i, c := range []struct {
		dept     *models.Department
		deadline string
		to       string
	}{
		{&d.zjj, "2026-11-23 09:00", "xiaoli"},       // 预警, to the handler
		{&d.zjj, "2026-11-20 09:00", "zhangsan"},     // 超期
		{&d.zjj, "2026-11-20 08:00", "zhangsan"},     // 超期
		{&d.zjj, "2026-11-19 08:00", "wangwu|sunqi"}, // 催办
		{&d.zjj, "2026-11-06 09:00", "zhangsan"},     // 通报
		{&d.cgj, "2026-11-20 09:30", "lisi"},         // 超期
		{&d.cgj, "2026-11-09 09:00", "lisi"},         // 通报
	} {
		number := "2026110100" + string(rune('0'+i/10)) + string(rune('0'+i%10))
		create(t, d.store, &models.Ticket{Number: number, Title: "积水", DepartmentID: &c.dept.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-01 09:00"), Deadline: ptr(at(c.deadline))})
		want[c.to] = append(want[c.to], number)
	}
	var leader models.Member
	must(t, d.store.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
	dsp := models.Dispatch{IssuerID: leader.ID, Instruction: "排水管网疏通", Status: models.DispatchOpen,
		Deadline: ptr(at("2026-11-18 18:00")), IssuedAt: at("2026-11-16 09:00"),
		Targets: []models.DispatchTarget{{DepartmentID: &d.cgj.ID, Status: models.TargetPending}}}
	create(t, d.store, &dsp)
	want["wangwu|sunqi"] = append(want["wangwu|sunqi"], dsp.Code())
	return want
}

// checkLists fails unless each recipient got one app message listing each of its items.
func checkLists(t *testing.T, rows []models.OutboxMessage, want map[string][]string) {
	t.Helper()
	got := map[string]string{}
	for _, r := range rows {
		if r.Channel == "app" {
			got[r.To] += r.Body
		}
	}
	for to, items := range want {
		for _, it := range items {
			if !strings.Contains(got[to], it) {
				t.Errorf("%s was not told of %s; got %q", to, it, got[to])
			}
		}
	}
}

// groupPosts returns the rows posted to the group.
func groupPosts(rows []models.OutboxMessage) []models.OutboxMessage {
	var out []models.OutboxMessage
	for _, r := range rows {
		if r.Channel == "robot" {
			out = append(out, r)
		}
	}
	return out
}

// TestStartUpAfterAGapIsQuiet: a service started late on a backlog at every
// level runs the missed scan: every item reaches its people by app message,
// the group gets one message, and the next scan sends nothing.
func TestStartUpAfterAGapIsQuiet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		want := d.backlog(t)
		sched := newScheduler(t, d.runner)
		rows := since(t, s, func() { sched.Check(ctx, at("2026-11-20 10:07")) })
		if posts := groupPosts(rows); len(posts) != 1 {
			t.Fatalf("start-up posted %d group messages, want 1: %q", len(posts), destinations(rows))
		}
		checkLists(t, rows, want)
		if run, err := s.JobRunOf(ctx, jobs.OverdueScan, "", "2026-11-20T10:00"); err != nil || !run.Late {
			t.Errorf("the missed scan did not run late: %+v %v", run, err)
		}
		if again := since(t, s, func() { sched.Check(ctx, at("2026-11-20 10:15")) }); len(again) != 0 {
			t.Errorf("the next scan sent %q", destinations(again))
		}
	})
}

// TestStartUpAtTheRollupTimeTellsTheGroupOnce: started within the roll-up's
// grace, the service posts the roll-up, and the scan after it no digest.
func TestStartUpAtTheRollupTimeTellsTheGroupOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		want := d.backlog(t)
		rows := since(t, s, func() { newScheduler(t, d.runner).Check(ctx, at("2026-11-20 10:07")) })
		posts := groupPosts(rows)
		if len(posts) != 1 || !strings.Contains(posts[0].Body, "【超期汇总】") || !strings.Contains(posts[0].Body, "补发") {
			t.Fatalf("group posts at start: %q", destinations(rows))
		}
		checkLists(t, rows, want)
	})
}

// TestRepeatAfterAGapHappensOnceByAppOnly: a scan after hours away repeats an
// open level once, to the head by app message, not once per missed interval
// and not in the group.
func TestRepeatAfterAGapHappensOnceByAppOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		tk := models.Ticket{Number: "2026111300301", Title: "噪音扰民", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 09:00"))}
		create(t, s, &tk)
		sched := newScheduler(t, d.runner)
		first := since(t, s, func() { sched.Check(ctx, at("2026-11-20 09:00")) })
		if len(groupPosts(first)) != 1 {
			t.Fatalf("first scan: %q", destinations(first))
		}
		// Down from 09:00 to 20:10: the 13:00 and 17:00 repeats were missed.
		rows := since(t, s, func() { sched.Check(ctx, at("2026-11-20 20:10")) })
		if got := destinations(rows); got != "app:zhangsan" || !strings.Contains(rows[0].Body, "第2次提醒") {
			t.Fatalf("after the gap: %q %v", got, rows)
		}
		var a models.Alert
		must(t, s.DB(ctx).Where("subject_id = ?", tk.ID).Take(&a).Error)
		if a.Count != 2 {
			t.Errorf("alert count %d after the gap, want 2", a.Count)
		}
	})
}

func TestMorningRollupTellsTheGroupWhatStandsOnceADay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		d.backlog(t)
		create(t, s, &models.Member{UserID: "liuyi", Name: "刘一", Role: models.RoleHotline, Active: true})
		mustRun(t, d.runner, jobs.OverdueScan, "2026-11-20 10:00")
		rows := since(t, s, func() { mustRun(t, d.runner, jobs.MorningRollup, "2026-11-23 09:00") })
		if len(rows) != 2 || rows[0].Channel != "robot" || rows[0].Priority != int(msg.Notice) {
			t.Fatalf("roll-up: %+v", rows)
		}
		// The 12345 office reads the same roll-up by app message.
		if rows[1].Channel != "app" || rows[1].To != "liuyi" || !strings.Contains(rows[1].Body, "【超期汇总】11月23日") {
			t.Errorf("the 12345 office's copy: %s to %q: %s", rows[1].Channel, rows[1].To, rows[1].Body)
		}
		body := rows[0].Body
		// On Monday the dispatch and two tickets are 通报 and 住建局's 超期
		// tickets are 催办; 城管局's 超期 ticket too.
		for _, want := range []string{
			"【超期汇总】11月23日 星期一", "截至09:00，2个单位尚有超期事项", ">8<",
			"通报</font> 2个单位 2项\n**住建局** 1项", "最早 工单202611010004｜超期11个工作日",
			"催办</font>（已报区领导） 2个单位 4项\n**住建局** 3项", "**城管局** 1项",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the roll-up does not say %q:\n%s", want, body)
			}
		}
		if strings.Contains(body, "<@") || len(rows[0].Mentions) > 0 {
			t.Errorf("the roll-up mentions people:\n%s", body)
		}
		blacklist, urge, alert := strings.Index(body, ">通报<"), strings.Index(body, ">催办<"), strings.Index(body, ">超期<")
		if blacklist < 0 || blacklist > urge || urge > alert {
			t.Errorf("levels are not the most severe first:\n%s", body)
		}
		if res := mustRun(t, d.runner, jobs.MorningRollup, "2026-11-23 09:30"); res.Messages != 0 {
			t.Errorf("a second roll-up the same day sent %d", res.Messages)
		}
		// The scan right after the roll-up tells the group nothing new.
		if rows := scanned(t, d, "2026-11-23 09:00"); len(groupPosts(rows)) != 0 {
			t.Errorf("the scan after the roll-up posted %q", destinations(rows))
		}
		must(t, s.DB(ctx).Model(&models.Ticket{}).Where("1 = 1").Update("status", models.TicketResolved).Error)
		must(t, s.DB(ctx).Model(&models.Dispatch{}).Where("1 = 1").Update("status", models.DispatchClosed).Error)
		if res := mustRun(t, d.runner, jobs.MorningRollup, "2026-11-24 09:00"); res.Messages != 0 || !strings.Contains(res.Summary, "无未办结") {
			t.Errorf("roll-up with nothing open: %+v", res)
		}
	})
}

// budgetRunner is a runner whose config sets the group's daily budget, with
// its log and metrics observed.
func budgetRunner(t *testing.T, s *models.Store, budget int) (*jobs.Runner, *observer.ObservedLogs, *prometheus.Registry) {
	t.Helper()
	cfg := config.Default()
	cfg.Rules.GroupDailyBudget = budget
	core, logs := observer.New(zapcore.InfoLevel)
	env := jobs.NewEnv(s, bot.NewOutbox(cfg.WeCom), cfg.Domain(), calendar.New(cfg.Location(), nil), zap.New(core))
	reg := prometheus.NewRegistry()
	m, err := jobs.NewMetrics(reg)
	must(t, err)
	env.Metrics = m
	return jobs.NewRunner(env), logs, reg
}

// counter reads the digests counter of the default group with an outcome.
func counter(t *testing.T, reg *prometheus.Registry, outcome string) float64 {
	t.Helper()
	families, err := reg.Gather()
	must(t, err)
	for _, f := range families {
		if f.GetName() != "yanzhen_overdue_digests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["group"] == "default" && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestGroupBudgetFoldsDigestsIntoTheNextRollup: once the group's posts of the
// day and the scheduled posts still to come fill its budget, a digest folds
// into the next morning roll-up (marked 新增 there), with a log line and a
// metric; the people responsible still get their lists.
func TestGroupBudgetFoldsDigestsIntoTheNextRollup(t *testing.T) {
	clock := newTestClock("2026-11-20 08:00")
	storetest.EachWith(t, storetest.Options{Now: clock.Now}, func(t *testing.T, s *models.Store) {
		clock.Set(at("2026-11-20 08:00"))
		d := newDistrict(t, s)
		runner, logs, reg := budgetRunner(t, s, 4)
		d.runner = runner
		out := bot.NewOutbox(config.Default().WeCom)
		// Two notices in the group this Friday morning, and a reply and an app
		// message, which do not count.
		in := &models.Inbound{Route: models.RouteRobot, MsgID: "m1", ChatType: "group", FromUserID: "zhangsan", ReplyURL: "https://example.com/hook"}
		for _, m := range []msg.Message{
			msg.Plain(msg.ToGroup(""), "调度通知一"), msg.Plain(msg.ToGroup(""), "调度通知二"),
			msg.Plain(msg.ReplyTo(in), "已收到"), msg.Plain(msg.ToMembers("lisi"), "通知"),
		} {
			if _, err := out.Enqueue(ctx, s, m); err != nil {
				t.Fatal(err)
			}
		}
		create(t, s, &models.Ticket{Number: "2026111300401", Title: "路面塌陷", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 10:00"))})
		create(t, s, &models.Ticket{Number: "2026111300402", Title: "占道经营", DepartmentID: &d.cgj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 17:40"))})
		// At 10:00, 2 posts + the reminder, the weekly list and the 整改公示
		// still to come + this digest would be 6 of 4: it folds.
		clock.Set(at("2026-11-20 10:00"))
		d.expectScan(t, "2026-11-20 10:00", "app:zhangsan", "app:lisi")
		folded := logs.FilterMessageSnippet("folded into the next morning roll-up").All()
		if len(folded) != 1 || folded[0].ContextMap()["posted_today"] != int64(2) || folded[0].ContextMap()["reserved"] != int64(3) {
			t.Errorf("fold log: %+v", folded)
		}
		if got := counter(t, reg, "folded"); got != 1 {
			t.Errorf("folded digests counted %v, want 1", got)
		}
		// At 17:45 nothing is left to come: 2 + 1 fits. 住建局's crossing is
		// the roll-up's now; its repeat goes to the head.
		clock.Set(at("2026-11-20 17:45"))
		rows := d.expectScan(t, "2026-11-20 17:45", "robot:", "app:zhangsan", "app:lisi")
		if !strings.Contains(rows[0].Body, "城管局") || strings.Contains(rows[0].Body, "住建局") {
			t.Errorf("digest after the day's scheduled posts: %s", rows[0].Body)
		}
		if got := counter(t, reg, "posted"); got != 1 {
			t.Errorf("posted digests counted %v, want 1", got)
		}
		// Monday's roll-up tells the folded crossing as new, once.
		clock.Set(at("2026-11-23 09:00"))
		rows = since(t, s, func() { mustRun(t, d.runner, jobs.MorningRollup, "2026-11-23 09:00") })
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "住建局** 1项（新增）") || strings.Contains(rows[0].Body, "城管局** 1项（新增）") {
			t.Fatalf("roll-up after a fold: %+v", rows)
		}
		var folds int64
		must(t, s.DB(ctx).Model(&models.Announcement{}).Where("folded = ?", true).Count(&folds).Error)
		if folds != 0 {
			t.Errorf("%d announcements still folded after the roll-up", folds)
		}
	})
}

// TestCrossingsBeforeTheRollupFoldIntoIt: on a working day before the
// morning roll-up, a scan tells the people by app message and leaves the
// group to the roll-up, which marks the unit new.
func TestCrossingsBeforeTheRollupFoldIntoIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		runner, _, reg := budgetRunner(t, s, 30)
		d.runner = runner
		create(t, s, &models.Ticket{Number: "2026111300601", Title: "供暖不热", DepartmentID: &d.cgj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-19 23:59"))})
		d.expectScan(t, "2026-11-20 08:30", "app:lisi")
		if got := counter(t, reg, "before_rollup"); got != 1 {
			t.Errorf("digests folded before the roll-up counted %v, want 1", got)
		}
		rows := since(t, s, func() { mustRun(t, d.runner, jobs.MorningRollup, "2026-11-20 09:00") })
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "城管局** 1项（新增）") {
			t.Fatalf("roll-up: %+v", rows)
		}
		// A Saturday has no roll-up: a scan run then posts as usual.
		create(t, s, &models.Ticket{Number: "2026111300602", Title: "供暖不热", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 23:59"))})
		d.expectScan(t, "2026-11-21 08:30", "robot:", "app:zhangsan", "app:wangwu|sunqi")
	})
}
