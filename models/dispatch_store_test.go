package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// dispatchFixture is a leader, two departments and a member target.
type dispatchFixture struct {
	leader   models.Member
	zjj, hh  models.Department
	zhangsan models.Member
}

func newDispatchFixture(t *testing.T, s *models.Store) *dispatchFixture {
	f := &dispatchFixture{
		leader: models.Member{UserID: "wangwu", Name: "王五", Role: models.RoleLeader, Active: true},
		zjj:    models.Department{Code: "zjj", Name: "住建局"},
		hh:     models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet},
	}
	mustCreate(t, s, &f.leader)
	mustCreate(t, s, &f.zjj)
	mustCreate(t, s, &f.hh)
	f.zhangsan = models.Member{UserID: "zhangsan", Name: "张三", Role: models.RoleHead, DepartmentID: &f.zjj.ID, Active: true}
	mustCreate(t, s, &f.zhangsan)
	return f
}

func (f *dispatchFixture) issue(t *testing.T, s *models.Store, at time.Time, source string) *models.Dispatch {
	t.Helper()
	deadline := at.Add(26 * time.Hour)
	d := &models.Dispatch{IssuerID: f.leader.ID, Instruction: "办结并回复群众", TicketNumbers: models.StringList{"2024112700123"},
		Deadline: &deadline, IssuedAt: at, Targets: []models.DispatchTarget{{DepartmentID: &f.zjj.ID}, {DepartmentID: &f.hh.ID}}}
	if source != "" {
		d.Source = &source
	}
	ok, err := s.CreateDispatch(ctx, d)
	if err != nil || !ok {
		t.Fatalf("create dispatch: %v %v", ok, err)
	}
	return d
}

func TestDispatchLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 10:00")
		d := f.issue(t, s, at, "robot:m1")
		if d.ID == 0 || d.Code() == "D0" || d.Targets[0].ID == 0 || d.Targets[1].Status != models.TargetPending {
			t.Fatalf("created %+v", d)
		}
		// The same message handled again creates nothing.
		again := &models.Dispatch{IssuerID: f.leader.ID, Instruction: "x", IssuedAt: at, Source: d.Source,
			Targets: []models.DispatchTarget{{DepartmentID: &f.zjj.ID}}}
		if ok, err := s.CreateDispatch(ctx, again); ok || err != nil {
			t.Errorf("replayed source: %v %v", ok, err)
		}

		zjjT, hhT := d.Targets[0].ID, d.Targets[1].ID
		step := func(kind models.StepKind, ids []uint, text string, minutes int) (*models.Dispatch, []models.DispatchTarget, error) {
			return s.StepDispatch(ctx, models.DispatchStep{DispatchID: d.ID, Step: kind, TargetIDs: ids,
				Actor: "zhangsan", Text: text, At: at.Add(time.Duration(minutes) * time.Minute)})
		}
		got, changed, err := step(models.StepSign, []uint{zjjT}, "", 5)
		if err != nil || len(changed) != 1 || changed[0].Status != models.TargetSigned || changed[0].Department.Name != "住建局" ||
			got.Targets[0].SignedBy != "zhangsan" || got.Targets[1].Status != models.TargetPending {
			t.Fatalf("sign: %+v %+v %v", got, changed, err)
		}
		if _, _, err := step(models.StepSign, []uint{zjjT}, "", 6); models.UserText(err) != "调度 "+d.Code()+" 已签收，无需重复签收" {
			t.Errorf("second sign: %v", err)
		}
		if _, _, err := step(models.StepConfirm, nil, "", 7); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("confirm with open targets: %v", err)
		}
		// Feedback without signing signs too; done by both.
		if got, _, err = step(models.StepFeedback, []uint{hhT}, "已联系群众", 10); err != nil ||
			got.Targets[1].Status != models.TargetFeedback || got.Targets[1].SignedAt == nil || got.Targets[1].Feedback != "已联系群众" {
			t.Fatalf("feedback: %+v %v", got, err)
		}
		for _, id := range []uint{zjjT, hhT} {
			if _, _, err := step(models.StepDone, []uint{id}, "已办结", 20); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := step(models.StepFeedback, []uint{zjjT}, "补充", 21); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("feedback after done: %v", err)
		}
		// Return one target; it works again and the issuer confirms.
		got, changed, err = step(models.StepReturn, []uint{hhT}, "请补充照片", 30)
		if err != nil || len(changed) != 1 || changed[0].ID != hhT || got.Targets[1].Status != models.TargetReturned ||
			got.Targets[1].DoneAt != nil || got.Targets[0].Status != models.TargetDone {
			t.Fatalf("return: %+v %v", got, err)
		}
		if _, _, err := step(models.StepDone, []uint{hhT}, "已补充照片", 40); err != nil {
			t.Fatal(err)
		}
		if got, _, err = step(models.StepConfirm, nil, "", 50); err != nil || got.Status != models.DispatchClosed || got.ClosedAt == nil {
			t.Fatalf("confirm: %+v %v", got, err)
		}
		if _, _, err := step(models.StepSign, []uint{zjjT}, "", 51); models.UserText(err) != "调度 "+d.Code()+" 已确认办结" {
			t.Errorf("step on a closed dispatch: %v", err)
		}
		// A return after closing reopens.
		if got, _, err = step(models.StepReturn, nil, "群众仍不满意", 60); err != nil || got.Status != models.DispatchOpen ||
			got.ClosedAt != nil || got.Targets[0].Status != models.TargetReturned || got.Targets[1].Status != models.TargetReturned {
			t.Fatalf("return after close: %+v %v", got, err)
		}
		if got, _, err = step(models.StepCancel, nil, "另行安排", 70); err != nil || got.Status != models.DispatchCancelled {
			t.Fatalf("cancel: %+v %v", got, err)
		}
		if _, _, err := step(models.StepReturn, nil, "x", 71); models.UserText(err) != "调度 "+d.Code()+" 已撤销" {
			t.Errorf("return of a cancelled dispatch: %v", err)
		}

		events, err := s.DispatchEvents(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []models.StepKind
		for _, e := range events {
			kinds = append(kinds, e.Step)
		}
		want := []models.StepKind{"issue", "sign", "feedback", "done", "done", "return", "done", "confirm", "return", "return", "cancel"}
		if len(kinds) != len(want) {
			t.Fatalf("events %v, want %v", kinds, want)
		}
		for i := range want {
			if kinds[i] != want[i] {
				t.Fatalf("events %v, want %v", kinds, want)
			}
		}
		if events[0].Actor != "wangwu" || !events[1].At.Equal(at.Add(5*time.Minute)) || events[1].TargetID == nil || *events[1].TargetID != zjjT {
			t.Errorf("first events: %+v %+v", events[0], events[1])
		}
	})
}

func TestDispatchesForAndBy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 10:00")
		d1 := f.issue(t, s, at, "")
		d2 := &models.Dispatch{IssuerID: f.leader.ID, Instruction: "请张三牵头", IssuedAt: at,
			Targets: []models.DispatchTarget{{MemberID: &f.zhangsan.ID}}}
		if _, err := s.CreateDispatch(ctx, d2); err != nil {
			t.Fatal(err)
		}
		d3 := f.issue(t, s, at, "")
		if _, _, err := s.StepDispatch(ctx, models.DispatchStep{DispatchID: d3.ID, Step: models.StepCancel, At: at}); err != nil {
			t.Fatal(err)
		}
		got, err := s.DispatchesFor(ctx, f.zhangsan.ID, []uint{f.zjj.ID})
		if err != nil || len(got) != 2 || got[0].ID != d1.ID || got[1].ID != d2.ID || got[1].Targets[0].Member.Name != "张三" || got[0].Issuer.Name != "王五" {
			t.Fatalf("DispatchesFor = %+v %v", got, err)
		}
		if got, err := s.DispatchesFor(ctx, f.zhangsan.ID, nil); err != nil || len(got) != 1 || got[0].ID != d2.ID {
			t.Errorf("DispatchesFor without departments = %+v (%v)", got, err)
		}
		if _, _, err := s.StepDispatch(ctx, models.DispatchStep{DispatchID: d1.ID, Step: models.StepDone, TargetIDs: []uint{d1.Targets[0].ID}, Text: "ok", At: at}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.DispatchesFor(ctx, f.zhangsan.ID, []uint{f.zjj.ID}); err != nil || len(got) != 1 || got[0].ID != d2.ID {
			t.Errorf("DispatchesFor after done = %+v (%v)", got, err)
		}
		if got, err := s.DispatchesBy(ctx, f.leader.ID); err != nil || len(got) != 2 {
			t.Errorf("DispatchesBy = %d %v", len(got), err)
		}
		if _, err := s.Dispatch(ctx, 999); models.UserText(err) != "未找到调度 D999" {
			t.Errorf("unknown dispatch: %v", err)
		}
		if _, err := s.CreateDispatch(ctx, &models.Dispatch{IssuerID: f.leader.ID, Instruction: "x", IssuedAt: at}); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("dispatch without targets: %v", err)
		}
	})
}

func TestAckAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		at := storetest.At("2026-11-20 10:00")
		for _, level := range []models.AlertLevel{"warn", "alert"} {
			a := models.Alert{SubjectKind: models.SubjectDispatch, SubjectID: 3, Level: level, FirstSentAt: at, LastSentAt: at}
			if _, err := s.FireAlert(ctx, &a); err != nil {
				t.Fatal(err)
			}
		}
		other := models.Alert{SubjectKind: models.SubjectTicket, SubjectID: 3, Level: "alert", FirstSentAt: at, LastSentAt: at}
		if _, err := s.FireAlert(ctx, &other); err != nil {
			t.Fatal(err)
		}
		if n, err := s.AckAlerts(ctx, models.SubjectDispatch, 3, at.Add(time.Hour)); n != 2 || err != nil {
			t.Fatalf("ack: %d %v", n, err)
		}
		if n, err := s.AckAlerts(ctx, models.SubjectDispatch, 3, at.Add(2*time.Hour)); err != nil || n != 0 {
			t.Errorf("second ack changed %d (%v)", n, err)
		}
		got, err := s.AlertsOf(ctx, models.SubjectDispatch, []uint{3})
		must(t, err)
		if len(got[3]) != 2 || got[3][0].AckedAt == nil || !got[3][0].AckedAt.Equal(at.Add(time.Hour)) {
			t.Errorf("alerts after ack: %+v", got)
		}
		if ok, err := s.RepeatAlert(ctx, &got[3][1], at.Add(3*time.Hour)); err != nil || ok {
			t.Errorf("an acknowledged alert repeated (%v)", err)
		}
		if tk, err := s.AlertsOf(ctx, models.SubjectTicket, []uint{3}); err != nil || tk[3][0].AckedAt != nil {
			t.Errorf("a ticket alert of the same id was acknowledged (%v)", err)
		}
	})
}
