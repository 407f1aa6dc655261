package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestAlertFiresOnceAndRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		at := storetest.At("2026-11-20 10:00")
		a := models.Alert{SubjectKind: models.SubjectTicket, SubjectID: 7, Level: "alert", FirstSentAt: at, LastSentAt: at}
		if ok, err := s.FireAlert(ctx, &a); !ok || err != nil || a.Count != 1 {
			t.Fatalf("first fire: %v %v %+v", ok, err, a)
		}
		again := models.Alert{SubjectKind: models.SubjectTicket, SubjectID: 7, Level: "alert", FirstSentAt: at, LastSentAt: at}
		err := s.Tx(ctx, func(tx *models.Store) error {
			ok, err := tx.FireAlert(ctx, &again)
			if ok {
				t.Error("second fire of one level recorded")
			}
			return err // a duplicate must not spoil the transaction
		})
		if err != nil {
			t.Fatal(err)
		}
		other := models.Alert{SubjectKind: models.SubjectDispatch, SubjectID: 7, Level: "alert", FirstSentAt: at, LastSentAt: at}
		if ok, err := s.FireAlert(ctx, &other); err != nil || !ok {
			t.Errorf("same id and level of another subject kind refused (%v)", err)
		}
		stale := a
		if ok, err := s.RepeatAlert(ctx, &a, at.Add(4*time.Hour)); !ok || err != nil || a.Count != 2 {
			t.Fatalf("repeat: %v %v %+v", ok, err, a)
		}
		if ok, err := s.RepeatAlert(ctx, &stale, at.Add(4*time.Hour)); err != nil || ok {
			t.Errorf("repeat from a stale read recorded (%v)", err)
		}
		must(t, s.DB(ctx).Model(&models.Alert{}).Where("id = ?", a.ID).Update("acked_at", at.Add(5*time.Hour)).Error)
		if ok, err := s.RepeatAlert(ctx, &a, at.Add(8*time.Hour)); err != nil || ok {
			t.Errorf("repeat of an acknowledged alert recorded (%v)", err)
		}
		got, err := s.AlertsOf(ctx, models.SubjectTicket, []uint{7, 8})
		if err != nil || len(got) != 1 || len(got[7]) != 1 || got[7][0].Count != 2 || got[7][0].AckedAt == nil ||
			!got[7][0].LastSentAt.Equal(at.Add(4*time.Hour)) {
			t.Errorf("AlertsOf = %+v %v", got, err)
		}
	})
}

func TestOpenSubjectsDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		dep := models.Department{Code: "zjj", Name: "住建局"}
		mustCreate(t, s, &dep)
		due := func(h int) *time.Time {
			d := storetest.At("2026-11-20 10:00").Add(time.Duration(h) * time.Hour)
			return &d
		}
		for i, tk := range []models.Ticket{
			{Number: "T1", Status: models.TicketInProgress, Deadline: due(-30)},
			{Number: "T2", Status: models.TicketPending, Deadline: due(1)},
			{Number: "T3", Status: models.TicketResolved, Deadline: due(-1)},
			{Number: "T4", Status: models.TicketInProgress, Deadline: due(48)},
			{Number: "T5", Status: models.TicketInProgress},
		} {
			tk.DepartmentID, tk.ReceivedAt, tk.Title = &dep.ID, storetest.At("2026-11-01 09:00"), "工单"+string(rune('A'+i))
			mustCreate(t, s, &tk)
		}
		got, err := s.OpenTicketsDue(ctx, time.Time{}, *due(24))
		if err != nil || len(got) != 2 || got[0].Number != "T1" || got[1].Number != "T2" || got[1].Title != "工单B" ||
			*got[0].DepartmentID != dep.ID {
			t.Fatalf("OpenTicketsDue = %+v %v", got, err)
		}
		if got, err := s.OpenTicketsDue(ctx, *due(-2), *due(24)); err != nil || len(got) != 1 || got[0].Number != "T2" {
			t.Errorf("OpenTicketsDue from = %+v (%v)", got, err)
		}
		boss := models.Member{UserID: "wangwu", Name: "王五", Role: models.RoleLeader, Active: true}
		mustCreate(t, s, &boss)
		for _, d := range []models.Dispatch{
			{Instruction: "督办", Status: models.DispatchOpen, Deadline: due(-1),
				Targets: []models.DispatchTarget{{DepartmentID: &dep.ID, Status: models.TargetPending}, {MemberID: &boss.ID, Status: models.TargetDone}}},
			{Instruction: "已结", Status: models.DispatchClosed, Deadline: due(-1)},
			{Instruction: "不急", Status: models.DispatchOpen, Deadline: due(72)},
		} {
			d.IssuerID, d.IssuedAt = boss.ID, storetest.At("2026-11-19 09:00")
			mustCreate(t, s, &d)
		}
		ds, err := s.OpenDispatchesDue(ctx, *due(0))
		if err != nil || len(ds) != 1 || ds[0].Instruction != "督办" || len(ds[0].Targets) != 2 || ds[0].Targets[1].Status != models.TargetDone {
			t.Errorf("OpenDispatchesDue = %+v %v", ds, err)
		}
	})
}
