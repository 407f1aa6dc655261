package demo

import (
	"context"
	"fmt"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/report"
)

// practiceKey marks a database whose demo practice was seeded.
const practiceKey = "demo.practice_seeded"

// seedItem is an item of the demo's rectification list and the steps it took.
type seedItem struct {
	unit, by string
	class    models.RectifyClass
	problem  string
	reason   string
	age      time.Duration // registered this long before now
	due      time.Duration // due this long after it was registered (0: none)
	steps    []models.RectifyStepKind
}

// demoItems hold a few items at each step of the closed loop.
var demoItems = []seedItem{
	{"zjj", "hanxue", models.RectifyQuick, "海景花园3栋楼道堆放杂物，影响消防通道", "", 2 * time.Hour, 24 * time.Hour, nil},
	{"scjgj", "hanxue", models.RectifyTimed, "学府路农贸市场周边占道经营、油污满地", "", 9 * 24 * time.Hour, 5 * 24 * time.Hour, nil},
	{"cgj", "zhoujianguo", models.RectifyQuick, "滨江路夜间渣土车撒漏", "", 20 * time.Hour, 24 * time.Hour, []models.RectifyStepKind{models.RectifyTake}},
	{"jyj", "hanxue", models.RectifyTimed, "校外培训机构预付费退费不及时", "", 6 * 24 * time.Hour, 14 * 24 * time.Hour,
		[]models.RectifyStepKind{models.RectifyTake, models.RectifyReport, models.RectifyFail}},
	{"hhjd", "zhoujianguo", models.RectifyTimed, "环海路背街小巷积水点整治", "", 8 * 24 * time.Hour, 10 * 24 * time.Hour,
		[]models.RectifyStepKind{models.RectifyTake, models.RectifyReport}},
	{"wjw", "hanxue", models.RectifyQuick, "社区卫生服务站夜间无人值守", "", 3 * 24 * time.Hour, 24 * time.Hour,
		[]models.RectifyStepKind{models.RectifyTake, models.RectifyReport, models.RectifyPass}},
	{"jtj", "zhoujianguo", models.RectifyTimed, "学府路学校周边上下学时段交通疏导", "", 15 * 24 * time.Hour, 7 * 24 * time.Hour,
		[]models.RectifyStepKind{models.RectifyTake, models.RectifyReport, models.RectifyPass, models.RectifyPublish}},
	{"mzj", "hanxue", models.RectifyUnfixable, "科创街道养老驿站选址需调整用地性质", "涉及控制性详细规划调整，须报市级审批", 4 * 24 * time.Hour, 0, nil},
	{"zjj", "zhoujianguo", models.RectifyUnfixable, "海景花园老旧小区加装电梯", "管线迁改涉及供电、燃气多家单位，年内无法实施", 40 * 24 * time.Hour, 0,
		[]models.RectifyStepKind{models.RectifyDefer}},
}

// seedPractice gives the demo district the practice at every step, written
// through the store as the handlers and jobs write it: the items of
// demoItems, units on each rung of the accountability ladder (the 责令检视
// with its dispatch), two tickets on the 重点件 track and two 剔除件 in the
// approval chain. It does nothing on a database where it ran before, and
// returns how many things it wrote.
func seedPractice(ctx context.Context, store *models.Store, cal *calendar.Calendar, cfg *config.Config, now time.Time) (int, error) {
	if _, err := store.GetKV(ctx, practiceKey); err == nil {
		return 0, nil
	} else if models.ErrorCode(err) != models.ENOTFOUND {
		return 0, fmt.Errorf("demo: seed practice: %w", err)
	}
	dir, err := store.Directory(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo: seed practice: %w", err)
	}
	n := 0
	err = store.Tx(ctx, func(tx *models.Store) error {
		s := practiceSeeder{tx: tx, dir: dir, cal: cal, now: now.In(cfg.Location())}
		for _, it := range demoItems {
			if err := s.item(ctx, it); err != nil {
				return err
			}
		}
		if err := s.ladder(ctx, cfg); err != nil {
			return err
		}
		if err := s.tracks(ctx); err != nil {
			return err
		}
		n = s.n
		return tx.PutKV(ctx, practiceKey, now.Format(time.RFC3339), nil)
	})
	if err != nil {
		return 0, fmt.Errorf("demo: seed practice: %w", err)
	}
	return n, nil
}

// practiceSeeder writes the demo's practice in one transaction.
type practiceSeeder struct {
	tx  *models.Store
	dir *models.Directory
	cal *calendar.Calendar
	now time.Time
	n   int
}

// member returns the member with a userid of the demo org.
func (s *practiceSeeder) member(userid string) (*models.Member, error) {
	if m := s.dir.MemberByUserID(userid); m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("member %s is missing from the demo org", userid)
}

// unit returns the department with a code of the demo org.
func (s *practiceSeeder) unit(code string) (*models.Department, error) {
	if d := deptByCode(s.dir, code); d != nil {
		return d, nil
	}
	return nil, fmt.Errorf("department %s is missing from the demo org", code)
}

// item registers one item and takes its steps, an hour apart, by the unit's
// head (the doer) and the issuer (the verifier).
func (s *practiceSeeder) item(ctx context.Context, it seedItem) error {
	d, err := s.unit(it.unit)
	if err != nil {
		return err
	}
	by, err := s.member(it.by)
	if err != nil {
		return err
	}
	heads := s.dir.MembersOf(d.ID, models.RoleHead)
	if len(heads) == 0 {
		return fmt.Errorf("department %s has no head", it.unit)
	}
	issued := s.now.Add(-it.age)
	r := &models.Rectification{DepartmentID: d.ID, Class: it.class, Problem: it.problem, Reason: it.reason, IssuerID: by.ID, IssuedAt: issued}
	if it.due > 0 {
		due := issued.Add(it.due)
		r.Deadline = &due
	}
	if _, err := s.tx.CreateRectification(ctx, r); err != nil {
		return err
	}
	s.n++
	if it.class == models.RectifyUnfixable {
		req, err := s.tx.SubmitRequest(ctx, models.TicketApplication{Kind: models.RequestKindUnfixable, ItemID: r.ID, By: by.UserID, Reason: it.reason, At: issued})
		if err != nil {
			return err
		}
		if len(it.steps) > 0 && it.steps[0] == models.RectifyDefer {
			_, err = s.tx.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true,
				By: "zhoujianguo", Note: "同意报区里统筹", At: issued.Add(time.Hour)})
		}
		return err
	}
	texts := map[models.RectifyStepKind]string{
		models.RectifyReport: "已整改完毕，现场照片已留存", models.RectifyFail: "复查发现仍有2家未退费，请继续督促",
	}
	for i, step := range it.steps {
		actor := heads[0].UserID
		if step == models.RectifyPass || step == models.RectifyFail {
			actor = by.UserID
		}
		if step == models.RectifyPublish {
			actor = ""
		}
		at := issued.Add(time.Duration(i+1) * time.Hour)
		if _, err := s.tx.StepRectification(ctx, models.RectifyStep{ID: r.ID, Step: step, Actor: actor, Text: texts[step], At: at}); err != nil {
			return err
		}
	}
	return nil
}

// ladder puts units on each rung: 科创街道 reminded, 人社局 due an
// interview, 卫健委 interviewed, 市场监管局 ordered to examine itself with
// its 检视报告 due.
func (s *practiceSeeder) ladder(ctx context.Context, cfg *config.Config) error {
	leader, err := s.member("zhoujianguo")
	if err != nil {
		return err
	}
	week := models.WeekOf(s.now, cfg.Location()).Prev()
	key := "week " + week.Start.Format(time.DateOnly)
	at := week.End.Add(-(2*24 + 7) * time.Hour) // last Friday 17:00
	steps := []struct {
		unit    string
		step    models.AccountStep
		trigger string
	}{
		{"kcjd", models.AccountRemind, "本周催办工单3件"},
		{"rsj", models.AccountInterview, "本周催办工单4件"},
		{"wjw", models.AccountInterview, "综合评分连续2周低于85"},
		{"scjgj", models.AccountReview, "上月区级部门黑榜"},
	}
	for _, st := range steps {
		d, err := s.unit(st.unit)
		if err != nil {
			return err
		}
		rec := &models.AccountabilityRecord{DepartmentID: d.ID, Step: st.step, Trigger: st.trigger, Evaluation: &key, At: at}
		if _, err := s.tx.RecordAccountability(ctx, rec); err != nil {
			return err
		}
		s.n++
		switch st.unit {
		case "wjw":
			heads := s.dir.MembersOf(d.ID, models.RoleHead)
			if _, _, err := s.tx.RecordInterview(ctx, models.Interview{DepartmentID: d.ID, On: at.Add(24 * time.Hour),
				Attendees: "周建国（区领导）约谈" + d.Name + names(heads), Minutes: "逐件分析不满意工单，两周内完成回访整改并报督导专班",
				By: "hanxue", At: at.Add(24 * time.Hour)}); err != nil {
				return err
			}
		case "scjgj":
			c := report.Climb{Department: *d, To: models.AccountReview, Triggers: []string{st.trigger}, Due: cfg.Rules.Accountability.ReviewWithin.From(s.now, s.cal)}
			due := c.Due
			disp := &models.Dispatch{Kind: models.DispatchReview, IssuerID: leader.ID, Instruction: c.ReviewInstruction(), Deadline: &due,
				IssuedAt: s.now.Add(-time.Hour), Targets: []models.DispatchTarget{{DepartmentID: &d.ID}}}
			if _, err := s.tx.CreateDispatch(ctx, disp); err != nil {
				return err
			}
			if err := s.tx.SetReviewDispatch(ctx, rec.ID, disp.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// tracks puts the two most overdue open tickets on the 重点件 track and sends
// two tickets to the 剔除 chain: one awaiting the 12345 office, one approved.
func (s *practiceSeeder) tracks(ctx context.Context) error {
	overdue, err := s.tx.ListTickets(ctx, models.TicketQuery{Set: models.SetOverdue, Now: s.now, Limit: 2})
	if err != nil {
		return err
	}
	for _, t := range overdue {
		if _, err := s.tx.MarkKeyTicket(ctx, t.Number, "zhoujianguo", s.now.Add(-3*time.Hour)); err != nil {
			return err
		}
		s.n++
	}
	unsatisfied, err := s.tx.ListTickets(ctx, models.TicketQuery{Set: models.SetUnsatisfied, Limit: 2})
	if err != nil {
		return err
	}
	for i, t := range unsatisfied {
		if t.DepartmentID == nil {
			continue
		}
		heads := s.dir.MembersOf(*t.DepartmentID, models.RoleHead)
		if len(heads) == 0 {
			continue
		}
		at := s.now.Add(-5 * time.Hour)
		req, err := s.tx.SubmitRequest(ctx, models.TicketApplication{Kind: models.RequestKindExclusion, Number: t.Number,
			DepartmentIDs: []uint{*t.DepartmentID}, By: heads[0].UserID, Reason: "诉求人要求超出政策规定，经核实属无效诉求", At: at})
		if err != nil {
			return err
		}
		s.n++
		if i == 0 {
			continue
		}
		if _, err := s.tx.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingOffice, Approve: true, By: "wuting", At: at.Add(time.Hour)}); err != nil {
			return err
		}
		if _, err := s.tx.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true, By: "zhoujianguo", At: at.Add(2 * time.Hour)}); err != nil {
			return err
		}
	}
	return nil
}

// names joins members' names with 、.
func names(ms []*models.Member) string {
	out := ""
	for i, m := range ms {
		if i > 0 {
			out += "、"
		}
		out += m.Name
	}
	return out
}
