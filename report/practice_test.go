package report_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/report"
)

// urge records that tickets of a unit reached the 催办 level at when.
func urge(t *testing.T, s *models.Store, dept *models.Department, when string, n int) {
	t.Helper()
	for i := range n {
		tk := models.Ticket{Number: fmt.Sprintf("U%s%s%d", dept.Code, when[:10], i), Status: models.TicketInProgress,
			ReceivedAt: at(when).AddDate(0, 0, -10), DepartmentID: &dept.ID}
		create(t, s, &tk)
		if ok, err := s.FireAlert(ctx, &models.Alert{SubjectKind: models.SubjectTicket, SubjectID: tk.ID, Level: models.AlertLevel(config.LevelUrge),
			DepartmentID: &dept.ID, FirstSentAt: at(when), LastSentAt: at(when)}); err != nil || !ok {
			t.Fatalf("fire: %v %v", ok, err)
		}
	}
}

// climbs writes an evaluation's climbs: 住建局→1（本周催办工单3件）.
func climbs(e *report.Evaluation) string {
	var parts []string
	for _, c := range e.Climbs {
		parts = append(parts, c.Department.Name+"→"+strconv.Itoa(int(c.To))+"（"+c.Trigger()+"）")
	}
	return strings.Join(parts, " ")
}

func TestLadderTriggersAndRungs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		friday := at("2026-11-20 17:00")
		urge(t, s, &f.zjj, "2026-11-18 10:00", 3)
		urge(t, s, &f.cgj, "2026-11-18 10:00", 2) // one short of the trigger
		urge(t, s, &f.jyj, "2026-11-12 10:00", 3) // last week's
		e, err := f.builder.EvaluateWeek(ctx, friday)
		must(t, err)
		// By default the floor asks for two weeks running: 城管局 and 环海街道
		// are below it this week only (海滨社区 has no visit this week).
		if got := climbs(e); got != "住建局→1（本周催办工单3件）" {
			t.Errorf("default triggers: %s", got)
		}

		// With one week and a sample of one, the floor catches the units
		// ranked below 85 this week; a unit meeting both triggers climbs once.
		cfg := config.Default()
		cfg.Rules.Accountability.FloorWeeks, cfg.Rules.Scores.MinSample = 1, 1
		urge(t, s, &f.hhjd, "2026-11-19 10:00", 3)
		b := report.New(s, cfg.Domain(), f.cal)
		e, err = b.EvaluateWeek(ctx, friday)
		must(t, err)
		if got := climbs(e); got != "住建局→1（本周催办工单3件） 城管局→1（综合评分连续1周低于85） 环海街道→1（本周催办工单3件；综合评分连续1周低于85）" {
			t.Errorf("a week's floor: %s", got)
		}

		// A unit climbs from where it stands; a quarter without a step starts it over.
		long, recent := "week 2026-08-10", "week 2026-11-09"
		create(t, s, &models.AccountabilityRecord{DepartmentID: f.zjj.ID, Step: models.AccountInterview, Evaluation: &long, At: at("2026-08-14 17:00")})
		create(t, s, &models.AccountabilityRecord{DepartmentID: f.cgj.ID, Step: models.AccountInterview, Evaluation: &recent, At: at("2026-11-13 17:00")})
		e, err = b.EvaluateWeek(ctx, friday)
		must(t, err)
		if got := climbs(e); !strings.HasPrefix(got, "住建局→1（") || !strings.Contains(got, "城管局→3（") {
			t.Errorf("from where they stand: %s", got)
		}
		for _, c := range e.Climbs {
			if c.To == models.AccountReview && !c.Due.Equal(at("2026-11-27 17:00")) {
				t.Errorf("检视报告 due %v", c.Due)
			}
		}
		// Once recorded, the same evaluation does not move the unit again.
		this := e.Key
		create(t, s, &models.AccountabilityRecord{DepartmentID: f.zjj.ID, Step: models.AccountRemind, Evaluation: &this, At: friday})
		e, err = b.EvaluateWeek(ctx, friday.Add(time.Minute))
		must(t, err)
		if got := climbs(e); strings.Contains(got, "住建局") {
			t.Errorf("evaluated twice: %s", got)
		}
		// The floor counts only weeks since the unit's last step.
		create(t, s, &models.AccountabilityRecord{DepartmentID: f.hhjd.ID, Step: models.AccountRemind, By: "wangwu", At: at("2026-11-17 10:00")})
		e, err = b.EvaluateWeek(ctx, friday.Add(time.Minute))
		must(t, err)
		if got := climbs(e); !strings.Contains(got, "环海街道→2（本周催办工单3件）") {
			t.Errorf("a floor run that began before the last step: %s", got)
		}
	})
}

func TestPracticeGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		var leader models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		friday := at("2026-11-20 17:00")
		week := "week 2026-11-16"
		create(t, s, &models.AccountabilityRecord{DepartmentID: f.cgj.ID, Step: models.AccountRemind, Trigger: "本周催办工单4件", Evaluation: &week, At: at("2026-11-20 16:00")})
		create(t, s, &models.AccountabilityRecord{DepartmentID: f.jyj.ID, Step: models.AccountInterview, Trigger: "2026年10月区级部门黑榜", At: at("2026-11-02 09:00")})
		item := func(dept *models.Department, class models.RectifyClass, problem, reason string, issued, due string) *models.Rectification {
			r := &models.Rectification{DepartmentID: dept.ID, Class: class, Problem: problem, Reason: reason, IssuerID: leader.ID, IssuedAt: at(issued)}
			if due != "" {
				r.Deadline = ptr(at(due))
			}
			if ok, err := s.CreateRectification(ctx, r); !ok || err != nil {
				t.Fatalf("create: %v %v", ok, err)
			}
			return r
		}
		item(&f.zjj, models.RectifyQuick, "海景花园3栋楼道堆放杂物", "", "2026-11-18 10:00", "2026-11-19 10:00")
		item(&f.cgj, models.RectifyTimed, "滨江路占道经营反复出现", "", "2026-11-01 10:00", "2026-12-04 18:00")
		deferred := item(&f.zjj, models.RectifyUnfixable, "海景花园加装电梯", "涉及规划调整需市级审批", "2026-10-10 10:00", "")
		if _, err := s.StepRectification(ctx, models.RectifyStep{ID: deferred.ID, Step: models.RectifyDefer, Actor: "wangwu", At: at("2026-10-11 10:00")}); err != nil {
			t.Fatal(err)
		}

		w, err := f.builder.Weekly(ctx, friday)
		must(t, err)
		e := &report.Evaluation{Key: week, Label: w.Week.Label(), Now: friday, Climbs: []report.Climb{{Department: f.zjj, To: models.AccountRemind, Triggers: []string{"本周催办工单3件"}}}}
		w.Practice.With(e)
		msgs := rendered(w.Messages()...)
		wantMentions(t, "practice_weekly", goldenRows(t, "practice_weekly", msgs[len(msgs)-1:]), nil)

		m, err := f.builder.Monthly(ctx, at("2026-12-01 09:00"))
		must(t, err)
		m.Practice.With(&report.Evaluation{Key: "month 2026-11-01", Climbs: []report.Climb{{Department: f.cgj, To: models.AccountInterview, Triggers: []string{"2026年11月区级部门黑榜"}}}})
		wantMentions(t, "practice_monthly", golden(t, "practice_monthly", m.Message()), nil)

		// The climbs' own messages: to the heads, and to the team of a 约谈 or 检视.
		e.Climbs = append(e.Climbs,
			report.Climb{Department: f.cgj, To: models.AccountInterview, Triggers: []string{"本周催办工单4件"}, Heads: []*models.Member{{UserID: "lisi", Name: "李四"}}},
			report.Climb{Department: f.jyj, To: models.AccountReview, Triggers: []string{"综合评分连续2周低于85"}, Heads: []*models.Member{{UserID: "zhouba", Name: "周八"}}, Due: at("2026-11-27 17:00")})
		e.Climbs[0].Heads = []*models.Member{{UserID: "zhangsan", Name: "张三"}}
		e.Supervisors, e.Leaders = []*models.Member{{UserID: "zhoujiu"}}, []*models.Member{{UserID: "wangwu"}}
		recorded := map[uint]bool{f.zjj.ID: true, f.cgj.ID: true, f.jyj.ID: true}
		wantMentions(t, "practice_climbs", golden(t, "practice_climbs", e.Messages(recorded, map[uint]string{f.jyj.ID: "D7"})...), nil)
		if n := len(e.Messages(map[uint]bool{f.zjj.ID: true}, nil)); n != 1 {
			t.Errorf("a climb another run recorded is told again: %d messages", n)
		}
	})
}

func TestQuarterlyAndPublicityGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s)
		var leader models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		create(t, s, &models.Dispatch{IssuerID: leader.ID, Instruction: "外墙脱落隐患排查", Status: models.DispatchClosed, Deadline: ptr(at("2026-11-20 12:00")),
			IssuedAt: at("2026-11-19 09:00"), ClosedAt: ptr(at("2026-11-20 16:00")), Verify: true, VerifiedBy: "wangwu", VerifiedAt: ptr(at("2026-11-20 16:00")),
			Targets: []models.DispatchTarget{{DepartmentID: &f.zjj.ID, Status: models.TargetDone}}})
		r := &models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyQuick, Problem: "楼道堆放杂物", Deadline: ptr(at("2026-11-19 10:00")), IssuerID: leader.ID, IssuedAt: at("2026-11-18 10:00")}
		if ok, err := s.CreateRectification(ctx, r); !ok || err != nil {
			t.Fatal(ok, err)
		}
		for _, st := range []models.RectifyStep{
			{ID: r.ID, Step: models.RectifyReport, Actor: "xiaoli", Text: "已清理", At: at("2026-11-19 09:00")},
			{ID: r.ID, Step: models.RectifyPass, Actor: "wangwu", At: at("2026-11-19 15:00")},
		} {
			if _, err := s.StepRectification(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		p := f.builder.PublicityOf(at("2026-11-20 17:00"))
		var err error
		p.Dispatches, err = s.VerifiedDispatches(ctx, p.Week)
		must(t, err)
		p.Items, err = s.PublishRectifications(ctx, "", at("2026-11-20 17:00"))
		must(t, err)
		p.Names = func(userid string) string { return map[string]string{"wangwu": "王五"}[userid] }
		wantMentions(t, "publicity", golden(t, "publicity", *p.Message("2026-11-20T17:00")), nil)

		q, err := f.builder.Quarterly(ctx, at("2027-01-04 09:00"))
		must(t, err)
		if q.Quarter.Label() != "2026年第四季度" || q.Dispatches.Issued != 1 || q.Dispatches.Late != 1 || q.Registered[models.RectifyQuick] != 1 || q.Closed[models.RectifyQuick] != 1 {
			t.Errorf("quarter %s: %+v", q.Quarter.Label(), q)
		}
		wantMentions(t, "quarterly", golden(t, "quarterly", q.Message()), nil)
	})
}
