package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestRectificationSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 10:00")
		due := at.Add(24 * time.Hour)
		src := "robot:m1"
		item := &models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyQuick, Problem: " 楼道堆物 ", Deadline: &due, IssuerID: f.leader.ID, Source: &src, IssuedAt: at}
		refusals := []struct {
			r    models.Rectification
			want string
		}{
			{models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyQuick, Deadline: &due, IssuerID: f.leader.ID, IssuedAt: at}, "请写明整改问题"},
			{models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyTimed, Problem: "x", IssuerID: f.leader.ID, IssuedAt: at}, "限时整改须写明期限"},
			{models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyUnfixable, Problem: "x", IssuerID: f.leader.ID, IssuedAt: at}, "无法整改须说明理由"},
		}
		for _, c := range refusals {
			if ok, err := s.CreateRectification(ctx, &c.r); ok || models.UserText(err) != c.want {
				t.Errorf("create %+v: %v %v, want %s", c.r, ok, err, c.want)
			}
		}
		if ok, err := s.CreateRectification(ctx, item); !ok || err != nil || item.State != models.RectifyAssigned || item.Problem != "楼道堆物" || item.Code() != "Z1" {
			t.Fatalf("create: %v %v %+v", ok, err, item)
		}
		again := &models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyQuick, Problem: "楼道堆物", Deadline: &due, IssuerID: f.leader.ID, Source: &src, IssuedAt: at}
		if ok, err := s.CreateRectification(ctx, again); ok || err != nil {
			t.Errorf("the same message registered twice: %v %v", ok, err)
		}
		step := func(kind models.RectifyStepKind, actor, text string) (*models.Rectification, error) {
			return s.StepRectification(ctx, models.RectifyStep{ID: item.ID, Step: kind, Actor: actor, Text: text, At: at})
		}
		if _, err := step(models.RectifyPass, "zhoujiu", ""); models.UserText(err) != "整改事项 Z1 已交办，尚不能核查" {
			t.Errorf("verify before a report: %v", err)
		}
		if _, err := step(models.RectifyReport, "zhangsan", " "); models.UserText(err) != "请写明整改情况，如：反馈 Z1 已整改，附现场照片" {
			t.Errorf("report without evidence: %v", err)
		}
		if r, err := step(models.RectifyTake, "zhangsan", ""); err != nil || r.State != models.RectifyWorking || r.TakenAt == nil {
			t.Fatalf("take: %+v %v", r, err)
		}
		if _, err := step(models.RectifyTake, "zhangsan", ""); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("take twice: %v", err)
		}
		if r, err := s.StepRectification(ctx, models.RectifyStep{ID: item.ID, Step: models.RectifyReport, Actor: "zhangsan", Text: "已清理", Refs: models.StringList{"image:abc"}, At: at}); err != nil ||
			r.State != models.RectifyReported || r.ReportedBy != "zhangsan" || r.Evidence != "已清理" || len(r.EvidenceRefs) != 1 {
			t.Fatalf("report: %+v %v", r, err)
		}
		if _, err := step(models.RectifyPass, "zhangsan", ""); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Errorf("the doer verifying: %v", err)
		}
		if r, err := step(models.RectifyFail, "zhoujiu", "仍有堆物"); err != nil || r.State != models.RectifyWorking || r.Reopened != 1 {
			t.Fatalf("fail: %+v %v", r, err)
		}
		if _, err := step(models.RectifyReport, "zhangsan", "已全部清理"); err != nil {
			t.Fatal(err)
		}
		if r, err := step(models.RectifyPass, "zhoujiu", ""); err != nil || r.State != models.RectifyVerified || r.VerifiedBy != "zhoujiu" {
			t.Fatalf("pass: %+v %v", r, err)
		}
		published, err := s.PublishRectifications(ctx, "", at.Add(time.Hour))
		if err != nil || len(published) != 1 || published[0].State != models.RectifyClosed || published[0].Department.Name != "住建局" {
			t.Fatalf("publish: %+v %v", published, err)
		}
		if again, err := s.PublishRectifications(ctx, "", at.Add(2*time.Hour)); err != nil || len(again) != 0 {
			t.Errorf("published twice: %+v %v", again, err)
		}
		if _, err := step(models.RectifyReport, "zhangsan", "再报"); models.UserText(err) != "整改事项 Z1 已销号" {
			t.Errorf("a step after 销号: %v", err)
		}
		events, err := s.RectifyEvents(ctx, item.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []models.RectifyStepKind
		for _, e := range events {
			kinds = append(kinds, e.Step)
		}
		want := []models.RectifyStepKind{models.RectifyIssue, models.RectifyTake, models.RectifyReport, models.RectifyFail, models.RectifyReport, models.RectifyPass, models.RectifyPublish}
		if len(kinds) != len(want) {
			t.Fatalf("events %v, want %v", kinds, want)
		}
		for i := range want {
			if kinds[i] != want[i] {
				t.Errorf("event %d = %s, want %s", i, kinds[i], want[i])
			}
		}
	})
}

func TestRectificationListsAndTallies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		now := storetest.At("2026-11-20 10:00")
		add := func(dept uint, class models.RectifyClass, issued time.Time, due *time.Time) *models.Rectification {
			r := &models.Rectification{DepartmentID: dept, Class: class, Problem: "问题", Reason: "理由", Deadline: due, IssuerID: f.leader.ID, IssuedAt: issued}
			if ok, err := s.CreateRectification(ctx, r); !ok || err != nil {
				t.Fatalf("create: %v %v", ok, err)
			}
			return r
		}
		past, later := now.Add(-time.Hour), now.Add(48*time.Hour)
		add(f.zjj.ID, models.RectifyQuick, now.AddDate(0, 0, -2), &past)   // overdue, a week old
		add(f.zjj.ID, models.RectifyTimed, now.AddDate(0, 0, -20), &later) // 8–30 days
		add(f.hh.ID, models.RectifyTimed, now.AddDate(0, 0, -40), &past)   // older, overdue
		add(f.hh.ID, models.RectifyUnfixable, now.AddDate(0, 0, -3), nil)  // awaiting approval
		tallies, err := s.TallyRectifications(ctx, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		got := map[models.RectifyClass]models.RectifyTally{}
		for _, x := range tallies {
			got[x.Class] = x
		}
		if q := got[models.RectifyQuick]; q.Total() != 1 || q.ByAge[models.AgeWeek] != 1 || q.Overdue != 1 {
			t.Errorf("即知即改 %+v", q)
		}
		if tm := got[models.RectifyTimed]; tm.Total() != 2 || tm.ByAge[models.AgeMonth] != 1 || tm.ByAge[models.AgeOlder] != 1 || tm.Overdue != 1 {
			t.Errorf("限时整改 %+v", tm)
		}
		if u := got[models.RectifyUnfixable]; u.Total() != 1 || u.Overdue != 0 {
			t.Errorf("无法整改 %+v", u)
		}
		list, err := s.ListRectifications(ctx, models.RectifyQuery{DepartmentID: f.hh.ID, Class: models.RectifyTimed})
		if err != nil || len(list) != 1 || list[0].Department.Name != "环海街道" {
			t.Errorf("list of a unit and class: %+v %v", list, err)
		}
		// The ladder's share: the items whose unit owes the work, due by then.
		due, err := s.OpenRectificationsDue(ctx, now)
		if err != nil || len(due) != 2 {
			t.Errorf("due: %+v %v", due, err)
		}
	})
}

func TestExclusionAndUnfixableChains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 10:00")
		yes := true
		tk := models.Ticket{Number: "2026110599", Status: models.TicketResolved, ReceivedAt: at.AddDate(0, 0, -10), DepartmentID: &f.zjj.ID,
			Assessed: true, VisitedAt: &at, Contacted: &yes, Satisfaction: models.Unsatisfied}
		mustCreate(t, s, &tk)
		apply := models.TicketApplication{Kind: models.RequestKindExclusion, Number: tk.Number, DepartmentIDs: []uint{f.hh.ID}, By: "lisi", Reason: "无效诉求", At: at}
		if _, err := s.SubmitRequest(ctx, apply); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Errorf("another unit's 剔除: %v", err)
		}
		// A closed ticket may be asked out of the 三率; the 12345 office reviews.
		apply.DepartmentIDs, apply.By = []uint{f.zjj.ID}, "sunba"
		req, err := s.SubmitRequest(ctx, apply)
		if err != nil || req.State != models.RequestPendingOffice {
			t.Fatalf("request: %+v %v", req, err)
		}
		if req, err = s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingOffice, Approve: true, By: "liuyi", At: at}); err != nil || req.State != models.RequestPendingLeader || req.HeadBy != "liuyi" {
			t.Fatalf("review: %+v %v", req, err)
		}
		if req, err = s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true, By: "wangwu", At: at}); err != nil || req.State != models.RequestApproved || !req.Ticket.Excluded {
			t.Fatalf("approval: %+v %v", req, err)
		}
		board, err := s.ScoreCounts(ctx, models.DayOf(at, storetest.Shanghai))
		if err != nil || board[f.zjj.ID].Valid != 0 {
			t.Errorf("an excluded ticket still counts: %+v %v", board, err)
		}
		approved, err := s.ApprovedRequests(ctx, models.RequestKindExclusion, models.DayOf(at, storetest.Shanghai))
		if err != nil || len(approved) != 1 || approved[0].Ticket.Department.Name != "住建局" {
			t.Errorf("approved: %+v %v", approved, err)
		}
		// An import that does not say 剔除 leaves an approved one standing.
		stored, _, err := s.TicketByNumber(ctx, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		fresh := *stored
		fresh.Department = nil
		if _, err := s.SaveTickets(ctx, []models.TicketWrite{{Old: stored, New: &fresh}}, "import"); err != nil {
			t.Fatal(err)
		}
		if again, _, err := s.TicketByNumber(ctx, tk.Number); err != nil || !again.Excluded || again.ExcludedAt == nil {
			t.Errorf("after the import: %+v %v", again, err)
		}
		if _, err := s.SubmitRequest(ctx, apply); models.UserText(err) != "工单 2026110599 已剔除，不计入考核" {
			t.Errorf("a second 剔除: %v", err)
		}

		// 无法整改 goes to a leader alone; refused while awaiting approval, the
		// item is to be fixed by the date given.
		item := &models.Rectification{DepartmentID: f.zjj.ID, Class: models.RectifyUnfixable, Problem: "加装电梯", Reason: "需规划调整", IssuerID: f.leader.ID, IssuedAt: at}
		if ok, err := s.CreateRectification(ctx, item); !ok || err != nil || item.State != models.RectifyPending {
			t.Fatalf("create: %+v %v", item, err)
		}
		ask := models.TicketApplication{Kind: models.RequestKindUnfixable, ItemID: item.ID, By: "zhoujiu", Reason: item.Reason, At: at}
		if _, err := s.SubmitRequest(ctx, ask); models.ErrorCode(err) != models.EFORBIDDEN {
			t.Errorf("a stranger's 无法整改: %v", err)
		}
		ask.By = "wangwu" // the issuer
		req, err = s.SubmitRequest(ctx, ask)
		if err != nil || req.State != models.RequestPendingLeader || req.Subject() != "整改事项 Z1" {
			t.Fatalf("无法整改 request: %+v %v", req, err)
		}
		if got, err := s.PendingRequest(ctx, models.RequestKindUnfixable, "z1"); err != nil || got.ID != req.ID {
			t.Errorf("pending by code: %+v %v", got, err)
		}
		until := at.AddDate(0, 0, 14)
		if req, err = s.DecideRequest(ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, By: "zhaosi", Note: "应当整改", At: at, Until: &until}); err != nil ||
			req.State != models.RequestRejected || req.Item.Class != models.RectifyTimed || req.Item.State != models.RectifyAssigned || !req.Item.Deadline.Equal(until) {
			t.Fatalf("refusal: %+v %+v %v", req, req.Item, err)
		}
	})
}

func TestAccountabilityRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 17:00")
		week := "week 2026-11-16"
		first := &models.AccountabilityRecord{DepartmentID: f.zjj.ID, Step: models.AccountRemind, Trigger: "本周催办工单3件", Evaluation: &week, At: at}
		if ok, err := s.RecordAccountability(ctx, first); !ok || err != nil {
			t.Fatalf("record: %v %v", ok, err)
		}
		twice := &models.AccountabilityRecord{DepartmentID: f.zjj.ID, Step: models.AccountInterview, Evaluation: &week, At: at}
		if ok, err := s.RecordAccountability(ctx, twice); ok || err != nil {
			t.Errorf("a second step in one evaluation: %v %v", ok, err)
		}
		next := "week 2026-11-23"
		due := &models.AccountabilityRecord{DepartmentID: f.zjj.ID, Step: models.AccountInterview, Evaluation: &next, At: at.AddDate(0, 0, 7)}
		if ok, err := s.RecordAccountability(ctx, due); !ok || err != nil {
			t.Fatal(ok, err)
		}
		iv := models.Interview{DepartmentID: f.zjj.ID, On: at.AddDate(0, 0, 8), Attendees: "王五约谈张三", Minutes: "两周内清理积案", By: "zhoujiu", At: at.AddDate(0, 0, 7)}
		if _, _, err := s.RecordInterview(ctx, iv); models.UserText(err) != "约谈日期不能晚于今天" {
			t.Errorf("a 约谈 in the future: %v", err)
		}
		iv.On = at.AddDate(0, 0, 7)
		rec, called, err := s.RecordInterview(ctx, iv)
		if err != nil || !called || rec.ID != due.ID || !rec.Held() || rec.RecordedBy != "zhoujiu" {
			t.Fatalf("the 约谈 due: %+v %v %v", rec, called, err)
		}
		// With none due, a 约谈 entered is a step of its own.
		own, called, err := s.RecordInterview(ctx, models.Interview{DepartmentID: f.hh.ID, On: at, Minutes: "约谈", By: "wangwu", At: at})
		if err != nil || called || own.Step != models.AccountInterview || own.By != "wangwu" {
			t.Errorf("an own 约谈: %+v %v %v", own, called, err)
		}
		latest, err := s.LatestAccountability(ctx, at.AddDate(0, 0, 30))
		if err != nil || latest[f.zjj.ID].ID != due.ID || latest[f.hh.ID].ID != own.ID {
			t.Errorf("latest: %+v %v", latest, err)
		}
		in, err := s.AccountabilityIn(ctx, models.WeekOf(at, storetest.Shanghai))
		if err != nil || len(in) != 2 || in[0].Department.Name != "住建局" {
			t.Errorf("in the week: %+v %v", in, err)
		}
	})
}

func TestKeyTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 10:00")
		open := models.Ticket{Number: "2026111000001", Status: models.TicketInProgress, ReceivedAt: at.AddDate(0, 0, -3), DepartmentID: &f.zjj.ID}
		shut := models.Ticket{Number: "2026111000002", Status: models.TicketResolved, ReceivedAt: at.AddDate(0, 0, -3), DepartmentID: &f.zjj.ID}
		mustCreate(t, s, &open)
		mustCreate(t, s, &shut)
		if _, err := s.MarkKeyTicket(ctx, shut.Number, "wangwu", at); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("a closed ticket: %v", err)
		}
		if tk, err := s.MarkKeyTicket(ctx, open.Number, "wangwu", at); err != nil || tk.Department.Name != "住建局" {
			t.Fatalf("mark: %+v %v", tk, err)
		}
		if _, err := s.MarkKeyTicket(ctx, open.Number, "liuyi", at); models.UserText(err) != "工单 2026111000001 已是重点件" {
			t.Errorf("twice: %v", err)
		}
		day := models.DayOf(at, storetest.Shanghai)
		if track, err := s.KeyTickets(ctx, day.Prev()); err != nil || len(track) != 0 {
			t.Errorf("the day before it was marked: %+v %v", track, err)
		}
		// Resolved today, it shows once more; tomorrow it is off the track.
		resolved := at.Add(5 * time.Hour)
		if err := s.DB(ctx).Model(&open).Updates(map[string]any{"status": models.TicketResolved, "resolved_at": resolved}).Error; err != nil {
			t.Fatal(err)
		}
		if track, err := s.KeyTickets(ctx, day); err != nil || len(track) != 1 || track[0].Ticket.Open() {
			t.Errorf("the day it closed: %+v %v", track, err)
		}
		if track, err := s.KeyTickets(ctx, day.Next()); err != nil || len(track) != 0 {
			t.Errorf("the day after: %+v %v", track, err)
		}
	})
}
