package models_test

import (
	"fmt"
	"strings"
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

// A scan's batch records every alert it holds, but one that another scan
// recorded first (a level fired, or a repeat made since it was read, or an
// acknowledgement), and says which.
func TestAlertsRecordedInBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		at := storetest.At("2026-11-20 10:00")
		fire := func(ids ...uint) []models.Alert {
			var out []models.Alert
			for _, id := range ids {
				out = append(out, models.Alert{SubjectKind: models.SubjectTicket, SubjectID: id, Level: "alert", FirstSentAt: at, LastSentAt: at})
			}
			return out
		}
		// Another scan fired ticket 5's level first.
		first := fire(5)[0]
		if ok, err := s.FireAlert(ctx, &first); !ok || err != nil {
			t.Fatalf("fire: %v %v", ok, err)
		}
		var ids []uint
		for id := uint(1); id <= 1200; id++ { // more than a batch on either database
			ids = append(ids, id)
		}
		var ok []bool
		err := s.Tx(ctx, func(tx *models.Store) error {
			var err error
			ok, err = tx.FireAlerts(ctx, fire(ids...))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if ok[i] != (id != 5) {
				t.Errorf("ticket %d's alert recorded %v", id, ok[i])
			}
		}
		got, err := s.AlertsOf(ctx, models.SubjectTicket, ids)
		if err != nil || len(got) != len(ids) || len(got[5]) != 1 || got[5][0].ID != first.ID || got[600][0].Count != 1 {
			t.Fatalf("AlertsOf: %d subjects, %v", len(got), err)
		}
		// Ticket 7's alert was acknowledged and ticket 8's repeated since the read.
		var seen []models.AlertSeen
		for _, id := range ids {
			seen = append(seen, models.AlertSeen{ID: got[id][0].ID, Count: got[id][0].Count})
		}
		must(t, s.DB(ctx).Model(&models.Alert{}).Where("id = ?", got[7][0].ID).Update("acked_at", at.Add(time.Hour)).Error)
		if ok, err := s.RepeatAlert(ctx, &got[8][0], at.Add(2*time.Hour)); !ok || err != nil {
			t.Fatalf("repeat: %v %v", ok, err)
		}
		later := at.Add(4 * time.Hour)
		err = s.Tx(ctx, func(tx *models.Store) error {
			var err error
			ok, err = tx.RepeatAlerts(ctx, seen, later)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if ok[i] != (id != 7 && id != 8) {
				t.Errorf("ticket %d's repeat recorded %v", id, ok[i])
			}
		}
		after, err := s.AlertsOf(ctx, models.SubjectTicket, []uint{1, 7, 8, 1200})
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[uint]int{1: 2, 7: 1, 8: 2, 1200: 2} {
			a := after[id][0]
			if a.Count != want || (id == 1 || id == 1200) != a.LastSentAt.Equal(later) {
				t.Errorf("ticket %d's alert: count %d, last sent %s", id, a.Count, a.LastSentAt)
			}
		}
	})
}

// The overdue scan reads each open ticket due once, with the alerts of it
// and of its grid street's part, by deadline.
func TestEachOpenTicketDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		dep := models.Department{Code: "zjj", Name: "住建局"}
		street := models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet}
		mustCreate(t, s, &dep)
		mustCreate(t, s, &street)
		now := storetest.At("2026-11-20 10:00")
		due := func(h int) *time.Time {
			d := now.Add(time.Duration(h) * time.Hour)
			return &d
		}
		var tickets []models.Ticket
		for _, tk := range []models.Ticket{
			{Number: "T1", Status: models.TicketInProgress, Deadline: due(-30), GridDepartmentID: &street.ID},
			{Number: "T2", Status: models.TicketPending, Deadline: due(-40)},
			{Number: "T3", Status: models.TicketResolved, Deadline: due(-1)},
			{Number: "T4", Status: models.TicketInProgress, Deadline: due(48)},
			{Number: "T5", Status: models.TicketInProgress, Deadline: due(-2), ClaimedDoneAt: due(-1)},
		} {
			tk.DepartmentID, tk.ReceivedAt, tk.Title = &dep.ID, storetest.At("2026-11-01 09:00"), "标题"+tk.Number
			mustCreate(t, s, &tk)
			tickets = append(tickets, tk)
		}
		for _, a := range []models.Alert{
			{SubjectKind: models.SubjectTicket, SubjectID: tickets[0].ID, Level: "warn"},
			{SubjectKind: models.SubjectTicket, SubjectID: tickets[0].ID, Level: "alert", Count: 3},
			{SubjectKind: models.SubjectGrid, SubjectID: tickets[0].ID, Level: "alert"},
			{SubjectKind: models.SubjectDispatch, SubjectID: tickets[0].ID, Level: "alert"},
		} {
			a.FirstSentAt, a.LastSentAt = now.Add(-time.Hour), now.Add(-time.Hour)
			if ok, err := s.FireAlert(ctx, &a); !ok || err != nil {
				t.Fatalf("fire: %v %v", ok, err)
			}
		}
		var got []string
		err := s.EachOpenTicketDue(ctx, *due(24), func(tk *models.DueTicket) error {
			line := fmt.Sprintf("%s %s %d/%d %s", tk.Number, tk.Title, tk.DepartmentID, tk.GridDeptID, tk.Deadline.Format("01-02 15:04"))
			for _, a := range tk.Alerts {
				line += fmt.Sprintf(" %s:%s×%d@%s", a.SubjectKind, a.Level, a.Count, a.LastSentAt.Format("15:04"))
			}
			got = append(got, line)
			return nil
		})
		want := []string{
			fmt.Sprintf("T2 标题T2 %d/0 11-18 18:00", dep.ID),
			fmt.Sprintf("T1 标题T1 %d/%d 11-19 04:00 ticket:warn×1@09:00 ticket:alert×3@09:00 ticket_grid:alert×1@09:00", dep.ID, street.ID),
		}
		if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("EachOpenTicketDue:\n%s\nwant\n%s\n(%v)", strings.Join(got, "\n"), strings.Join(want, "\n"), err)
		}
	})
}
