package report_test

import (
	"fmt"
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

func wantMentions(t *testing.T, name string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s mentions %v, want %v", name, got, want)
	}
}

func TestDailyGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		// The 重点件 track: an overdue ticket with its latest step, and one
		// resolved today, shown once more as closed.
		if _, err := s.MarkKeyTicket(ctx, "2026111000004", "wangwu", at("2026-11-18 09:00")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StepTicket(ctx, models.TicketStep{Number: "2026111000004", Change: models.EventFeedback, Actor: "xiaoli", Text: "已联系施工队，明日进场修缮", At: at("2026-11-20 11:00")}); err != nil {
			t.Fatal(err)
		}
		resolved, _, err := s.TicketByNumber(ctx, "2026112000002")
		must(t, err)
		create(t, s, &models.KeyTicket{TicketID: resolved.ID, MarkedBy: "sunqi", MarkedAt: at("2026-11-20 11:00")})
		d, err := f.builder.Daily(ctx, at("2026-11-20 00:00"), at("2026-11-20 18:00"))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Revisions()) != 2 {
			t.Errorf("report ids = %v", d.Revisions())
		}
		msgs := rendered(d.Message())
		if len(msgs) != 1 || key(msgs[0]) != "daily-report/2026-11-20" {
			t.Fatalf("daily: %d messages, key %q", len(msgs), key(msgs[0]))
		}
		// The non-reporters' heads (城管局, 教育局) are @-mentioned; 环海街道's reporter
		// reported; the <@all> a department typed is neutralised.
		wantMentions(t, "daily", goldenRows(t, "daily", msgs), []string{"lisi", "zhouba"})
		if strings.Contains(msgs[0].Body, "<@all>") {
			t.Error("a report's text mentions @all")
		}
		d.Late = true
		if !strings.Contains(rendered(d.Message())[0].Body, "补发") {
			t.Error("a late report is not marked 补发")
		}
		// A holiday is named beside its weekday; a plain Sunday is not named twice.
		for day, want := range map[string]string{
			"2026-10-01": "**2026年10月1日 星期四**（国庆节）",
			"2026-11-22": "**2026年11月22日 星期日**\n",
		} {
			d, err := f.builder.Daily(ctx, at(day+" 00:00"), at(day+" 18:00"))
			if err != nil {
				t.Fatal(err)
			}
			if got := rendered(d.Message())[0].Body; !strings.Contains(got, want) {
				t.Errorf("%s title: %q", day, strings.SplitN(got, "\n\n", 2)[0])
			}
		}
	})
}

func TestRemindGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		r, err := f.builder.Remind(ctx, at("2026-11-20 17:30"))
		if err != nil {
			t.Fatal(err)
		}
		msgs := rendered(r.Messages()...)
		// 城管局's reporter is reminded with its head.
		wantMentions(t, "remind", goldenRows(t, "remind", msgs), []string{"lisi", "qianqi", "zhouba"})
		var apps []string
		for _, m := range msgs[1:] {
			if m.Channel != "app" {
				t.Errorf("message %q is not an app message", m.Body)
			}
			apps = append(apps, m.To)
		}
		if !slices.Equal(apps, []string{"lisi|qianqi", "zhouba"}) {
			t.Errorf("app messages to %v", apps)
		}
		// With the app, each head gets a notice card: the deadline set apart,
		// the unit's figures, how to report.
		c := config.Default().WeCom
		c.CorpID, c.AgentID, c.Secret = "wwcorp", 1000002, "secret"
		cards := bot.NewOutbox(c).Render(r.Messages()[1])
		if len(cards) != 1 || cards[0].Kind != "template_card" {
			t.Fatalf("reminder to a head with the app: %+v", cards)
		}
		for _, want := range []string{`"card_type":"text_notice"`, `"emphasis_content":{"title":"18:00前","desc":"日报报送时限"}`,
			`{"keyname":"超期","value":"1"}`, "18:00日报将列出本单位：　收1 结0 在办2 超期1", "发送“日报 内容”报送"} {
			if !strings.Contains(cards[0].Body, want) {
				t.Errorf("reminder card lacks %s:\n%s", want, cards[0].Body)
			}
		}
		// Everyone reported: nothing at all.
		for _, d := range []*models.Department{&f.cgj, &f.jyj} {
			if _, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: d.ID, Day: "2026-11-20", Text: "已报", By: "x", At: at("2026-11-20 17:40")}); err != nil {
				t.Fatal(err)
			}
		}
		if r, err = f.builder.Remind(ctx, at("2026-11-20 17:30")); err != nil || len(r.Messages()) != 0 {
			t.Fatalf("reminder when all reported: %+v %v", r, err)
		}
	})
}

func TestLateGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		sub := models.ReportSubmission{DepartmentID: f.cgj.ID, Day: "2026-11-20", Text: "今日处置占道经营5起。", By: "lisi", ByName: "李四", At: at("2026-11-20 19:05"), Late: true}
		if _, err := s.SubmitReport(ctx, sub); err != nil {
			t.Fatal(err)
		}
		// Before the daily report went out, the daily report carries it: no 补报.
		if n, err := f.builder.PostLate(ctx, s, outbox, "2026-11-20"); n != 0 || err != nil {
			t.Fatalf("PostLate before the report: %d %v", n, err)
		}
		d, err := f.builder.Daily(ctx, at("2026-11-20 00:00"), at("2026-11-20 18:00"))
		must(t, err)
		// Post the daily report without 城管局's report, as if it raced the 18:00 run.
		var ids []models.ReportRevision
		for _, u := range d.Units {
			if u.Report != nil && u.Department.ID != f.cgj.ID {
				ids = append(ids, u.Report.RevisionOf())
			}
		}
		if _, err := outbox.Enqueue(ctx, s, d.Message()); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkReportsPosted(ctx, ids, at("2026-11-20 18:00")); err != nil {
			t.Fatal(err)
		}
		if n, err := f.builder.PostLate(ctx, s, outbox, "2026-11-20"); n != 1 || err != nil {
			t.Fatalf("PostLate: %d %v", n, err)
		}
		if n, err := f.builder.PostLate(ctx, s, outbox, "2026-11-20"); err != nil || n != 0 {
			t.Errorf("PostLate posted %d again (%v)", n, err)
		}
		var rows []models.OutboxMessage
		if err := s.DB(ctx).Where("dedupe_key LIKE ?", "daily-late/%").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%d 补报 rows", len(rows))
		}
		row := models.OutboxMessage{Channel: rows[0].Channel, Kind: rows[0].Kind, Body: rows[0].Body, DedupeKey: ptr("daily-late/2026-11-20/ID/1")} // IDs differ between databases
		wantMentions(t, "late", goldenRows(t, "late", []models.OutboxMessage{row}), nil)
	})
}

// A department that corrects its report while the 18:00 run posts the version
// it read gets the correction posted after it (更正), not taken for posted.
func TestReportRevisedWhileTheDailyPosts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		sub := models.ReportSubmission{DepartmentID: f.cgj.ID, Day: "2026-11-20", Text: "今日处置占道经营5起。", By: "lisi", ByName: "李四", At: at("2026-11-20 17:50")}
		if _, err := s.SubmitReport(ctx, sub); err != nil {
			t.Fatal(err)
		}
		d, err := f.builder.Daily(ctx, at("2026-11-20 00:00"), at("2026-11-20 18:00"))
		must(t, err)
		// The correction commits between the run's read and its commit.
		sub.Text, sub.At = "今日处置占道经营6起。", at("2026-11-20 18:00")
		if _, err := s.SubmitReport(ctx, sub); err != nil {
			t.Fatal(err)
		}
		if _, err := outbox.Enqueue(ctx, s, d.Message()); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkReportsPosted(ctx, d.Revisions(), at("2026-11-20 18:00")); err != nil {
			t.Fatal(err)
		}
		if n, err := f.builder.PostLateOf(ctx, s, outbox, d); n != 1 || err != nil {
			t.Fatalf("PostLateOf: %d %v", n, err)
		}
		var rows []models.OutboxMessage
		if err := s.DB(ctx).Where("dedupe_key LIKE ?", "daily-late/%").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "更正") || !strings.Contains(rows[0].Body, "6起") {
			t.Fatalf("after the 18:00 report carried the first version: %+v", rows)
		}
	})
}

func TestNightlyGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		var leader models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		var handler models.Member
		must(t, s.DB(ctx).Where("userid = ?", "xiaoli").Take(&handler).Error)
		create(t, s, &models.Dispatch{
			IssuerID: leader.ID, Instruction: "请于今日内完成外墙脱落隐患排查并反馈", Status: models.DispatchOpen,
			Deadline: ptr(at("2026-11-20 12:00")), IssuedAt: at("2026-11-19 09:00"),
			Targets: []models.DispatchTarget{
				{DepartmentID: &f.zjj.ID, Status: models.TargetSigned},
				{MemberID: &handler.ID, Status: models.TargetPending},
				{DepartmentID: &f.cgj.ID, Status: models.TargetFeedback},
			},
		})
		// A ticket that became overdue today.
		create(t, s, &models.Ticket{Number: "2026111900013", Title: "井盖缺失", DepartmentID: &f.cgj.ID,
			ReceivedAt: at("2026-11-19 09:00"), Deadline: ptr(at("2026-11-20 09:00")), Status: models.TicketInProgress})
		n, err := f.builder.Nightly(ctx, at("2026-11-20 23:00"), at("2026-11-20 23:00"))
		if err != nil {
			t.Fatal(err)
		}
		msgs := rendered(n.Messages()...)
		wantMentions(t, "nightly", goldenRows(t, "nightly", msgs), nil)
		if msgs[0].To != "wangwu|sunqi" || msgs[0].Channel != "app" {
			t.Errorf("nightly goes to %s %q", msgs[0].Channel, msgs[0].To)
		}
	})
}

func TestWeeklyGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		// Settled since: 住建局's 不满意 of Monday was answered 满意 on
		// Thursday; 城管局's reopening of Tuesday was closed again on Thursday.
		fixed := &models.Ticket{Number: "2026111000021", Title: "下水道堵塞", DepartmentID: &f.zjj.ID, Status: models.TicketResolved,
			ReceivedAt: at("2026-11-10 09:00"), ResolvedAt: ptr(at("2026-11-13 10:00")), Satisfaction: models.Satisfied, VisitedAt: ptr(at("2026-11-19 10:00"))}
		closed := &models.Ticket{Number: "2026111200022", Title: "共享单车乱停", DepartmentID: &f.cgj.ID, Status: models.TicketResolved,
			ReceivedAt: at("2026-11-12 09:00"), ReopenCount: 1, ReopenedAt: ptr(at("2026-11-17 09:00")), ResolvedAt: ptr(at("2026-11-19 16:00"))}
		create(t, s, fixed)
		create(t, s, closed)
		create(t, s, &models.TicketEvent{TicketID: fixed.ID, Change: models.EventSatisfaction, To: string(models.Unsatisfied), At: at("2026-11-16 10:00")})
		create(t, s, &models.TicketEvent{TicketID: fixed.ID, Change: models.EventSatisfaction, From: string(models.Unsatisfied), To: string(models.Satisfied), At: at("2026-11-19 10:00")})
		w, err := f.builder.Weekly(ctx, at("2026-11-20 17:00"))
		if err != nil {
			t.Fatal(err)
		}
		msgs := rendered(w.Messages()...)
		wantMentions(t, "weekly", goldenRows(t, "weekly", msgs), nil)
		// The whole list to the main leader and the supervision team, each
		// unit's part to its head, the 红黑榜 to the group.
		var to []string
		for _, m := range msgs {
			to = append(to, m.Channel+":"+m.To)
		}
		// 环海街道 has a reporter and no head: its reporter answers for it.
		if want := []string{"app:wangwu|zhoujiu", "app:zhangsan", "app:lisi", "app:zhaoliu", "robot:"}; !slices.Equal(to, want) {
			t.Errorf("weekly goes to %v, want %v", to, want)
		}
	})
}

func TestMonthlyGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		m, err := f.builder.Monthly(ctx, at("2026-12-01 09:00"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Month.Label() != "2026年11月" {
			t.Errorf("monthly covers %s", m.Month.Label())
		}
		wantMentions(t, "monthly", golden(t, "monthly", m.Message()), nil)
	})
}

func TestOverdueScanGolden(t *testing.T) {
	cfg := config.Default()
	f := newFixtureCal()
	ladder := cfg.Rules.Escalation
	now := at("2026-11-20 10:00")
	zhangsan := &models.Member{UserID: "zhangsan", Name: "张三"}
	xiaoli := &models.Member{UserID: "xiaoli", Name: "小李"}
	lisi := &models.Member{UserID: "lisi", Name: "李四"}
	blacklist := report.Item{Label: "工单2026110200031", Title: "违建拆除", Deadline: at("2026-11-10 09:00"), Level: 3, Step: ladder[3], Count: 1}
	urge := report.Item{Label: "工单2026111000004", Title: "老旧小区外墙脱落", Deadline: at("2026-11-17 09:00"), Level: 2, Step: ladder[2], Count: 1}
	repeat := report.Item{Label: "调度D3", Title: "请于今日内完成外墙脱落隐患排查并反馈", Deadline: at("2026-11-20 09:00"), Level: 1, Step: ladder[1], Count: 3, Also: []string{"wangwu"}}
	alerts := []report.Item{
		{Label: "工单2026111900007", Title: "井盖缺失", Deadline: at("2026-11-20 08:00"), Level: 1, Step: ladder[1], Count: 1},
		{Label: "工单2026111900008", Title: "路灯不亮", Deadline: at("2026-11-20 09:30"), Level: 1, Step: ladder[1], Count: 1},
		{Label: "工单2026111900009", Title: "垃圾清运不及时", Deadline: at("2026-11-20 09:00"), Level: 1, Step: ladder[1], Count: 1},
	}
	cgjUrge := report.Item{Label: "调度D4", Title: "占道经营整治", Deadline: at("2026-11-19 09:00"), Level: 2, Step: ladder[2], Count: 2, Also: []string{"zhaojiu"}}
	scan := report.Scan{
		Slot: "2026-11-20T10:00", Now: now,
		Leaders: []*models.Member{{UserID: "wangwu"}, {UserID: "sunqi"}},
		// 住建局 newly crossed 通报 and 催办; 城管局 超期, with three open items
		// at it, of which the digest shows the two most overdue.
		Digests: []report.Digest{{Crossed: []report.LevelUnits{
			{Step: ladder[3], Units: []report.UnitLevel{{Key: 1, Name: "住建局", Heads: []*models.Member{zhangsan}, Count: 1, Items: []report.Item{blacklist}}}},
			{Step: ladder[2], Units: []report.UnitLevel{{Key: 1, Name: "住建局", Heads: []*models.Member{zhangsan}, Count: 1, Items: []report.Item{urge}}}},
			{Step: ladder[1], Units: []report.UnitLevel{{Key: 2, Name: "城管局", Heads: []*models.Member{lisi}, Count: 3, Items: []report.Item{alerts[0], alerts[2], alerts[1]}}}},
		}}},
		Units: []report.ScanUnit{
			{Key: 1, Name: "住建局", Heads: []*models.Member{zhangsan}, Handlers: []*models.Member{xiaoli}, Items: []report.Item{
				{Label: "工单2026111900021", Title: "小区绿化带破损", Deadline: at("2026-11-23 10:00"), Level: 0, Step: ladder[0], Count: 1},
				urge, repeat, blacklist,
			}},
			{Key: 2, Name: "城管局", Heads: []*models.Member{lisi}, Items: append([]report.Item{cgjUrge}, alerts...)},
		},
	}
	msgs := scan.Messages(f)
	if len(msgs) == 0 || msgs[0].Priority != msg.Bulk {
		t.Fatalf("the digest is not bulk: %+v", msgs)
	}
	rows := rendered(msgs...)
	wantMentions(t, "overdue", goldenRows(t, "overdue", rows), []string{"zhangsan", "lisi"})
	var to []string
	group := 0
	for _, m := range rows {
		switch m.Channel {
		case "app":
			to = append(to, m.To)
		case "robot":
			group++
		}
	}
	if group != 1 || !slices.Equal(to, []string{"xiaoli", "zhangsan", "lisi", "wangwu|sunqi|zhaojiu"}) {
		t.Errorf("%d group messages, app messages to %v", group, to)
	}
	// A scan where nothing crossed posts nothing to the group.
	scan.Digests = nil
	for _, m := range rendered(scan.Messages(f)...) {
		if m.Channel == "robot" {
			t.Errorf("a scan without crossings posts to the group: %s", m.Body)
		}
	}
}

// TestOverdueListsAreWhole: the people responsible get every item, however
// many, where the group's digest shows a few.
func TestOverdueListsAreWhole(t *testing.T) {
	ladder := config.Default().Rules.Escalation
	var items []report.Item
	for i := range 40 {
		items = append(items, report.Item{Label: fmt.Sprintf("工单20261119%05d", i), Title: "路灯不亮", Deadline: at("2026-11-20 09:00"), Level: 1, Step: ladder[1], Count: 1})
	}
	head := &models.Member{UserID: "zhangsan", Name: "张三"}
	scan := report.Scan{Slot: "s", Now: at("2026-11-20 10:00"),
		Digests: []report.Digest{{Crossed: []report.LevelUnits{{Step: ladder[1], Units: []report.UnitLevel{{Key: 1, Name: "住建局", Heads: []*models.Member{head}, Count: 40, Items: items}}}}}},
		Units:   []report.ScanUnit{{Key: 1, Name: "住建局", Heads: []*models.Member{head}, Items: items}},
	}
	var digest, list string
	for _, m := range rendered(scan.Messages(newFixtureCal())...) {
		if m.Channel == "robot" {
			digest += m.Body
		} else {
			list += m.Body
		}
	}
	if n := strings.Count(digest, "工单2026111900"); n != 2 || !strings.Contains(digest, "40项") {
		t.Errorf("the digest shows %d items:\n%s", n, digest)
	}
	for _, it := range items {
		if !strings.Contains(list, it.Label) {
			t.Errorf("the head's list lacks %s", it.Label)
		}
	}
}

func TestRollupGolden(t *testing.T) {
	ladder := config.Default().Rules.Escalation
	item := func(label, deadline string, level int) report.Item {
		return report.Item{Label: label, Title: "标题不出现在汇总里", Deadline: at(deadline), Level: level, Step: ladder[level], Count: 1}
	}
	roll := report.Rollup{Now: at("2026-11-23 09:00"), Levels: []report.LevelUnits{
		{Step: ladder[3], Units: []report.UnitLevel{
			{Key: 1, Name: "住建局", Count: 2, Items: []report.Item{item("工单2026110200031", "2026-11-10 09:00", 3), item("工单2026110300032", "2026-11-12 09:00", 3)}},
		}},
		{Step: ladder[2], Units: []report.UnitLevel{
			{Key: 1, Name: "住建局", Count: 1, Items: []report.Item{item("工单2026111000004", "2026-11-17 09:00", 2)}},
			{Key: 2, Name: "城管局", Count: 1, Items: []report.Item{item("调度D4", "2026-11-19 09:00", 2)}},
		}},
		{Step: ladder[1], Units: []report.UnitLevel{
			{Key: 3, Name: "教育局", Count: 3, New: true, Items: []report.Item{item("工单2026111900009", "2026-11-20 17:00", 1)}},
		}},
	}}
	m, ok := roll.Message(newFixtureCal())
	if !ok || m.Priority != msg.Notice {
		t.Fatalf("roll-up: %v %+v", ok, m)
	}
	wantMentions(t, "rollup", golden(t, "rollup", m), nil)
	roll.Late = true
	if m, _ := roll.Message(newFixtureCal()); !strings.Contains(rendered(m)[0].Body, "补发") {
		t.Error("a late roll-up is not marked 补发")
	}
	if _, ok := (&report.Rollup{Now: at("2026-11-23 09:00")}).Message(newFixtureCal()); ok {
		t.Error("a roll-up of nothing is sent")
	}
}

func newFixtureCal() *calendar.Calendar { return calendar.New(storetest.Shanghai, nil) }
