package models_test

import (
	"slices"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// levels is a street with a community, a department, and a 双派单 ticket of
// the department with the street as its grid, and a ticket of the community.
type levels struct {
	street, community, dept models.Department
	dual, local             models.Ticket
}

func newLevels(t *testing.T, s *models.Store) *levels {
	t.Helper()
	l := &levels{
		street: models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet, Sort: 50},
		dept:   models.Department{Code: "zjj", Name: "住建局", Sort: 10},
	}
	mustCreate(t, s, &l.street)
	mustCreate(t, s, &l.dept)
	l.community = models.Department{Code: "hbsq", Name: "海滨社区", Tier: models.TierCommunity, ParentID: &l.street.ID, Sort: 60}
	mustCreate(t, s, &l.community)
	l.dual = models.Ticket{Number: "2026111000001", Title: "路灯不亮", DepartmentID: &l.dept.ID, GridDepartmentID: &l.street.ID,
		Status: models.TicketInProgress, ReceivedAt: sh(11, 10, 9, 0), Deadline: ptr(sh(11, 17, 18, 0))}
	l.local = models.Ticket{Number: "2026111000002", Title: "楼道堆物", Category: "求助", DepartmentID: &l.community.ID,
		Status: models.TicketPending, ReceivedAt: sh(11, 10, 9, 0), Deadline: ptr(sh(11, 17, 18, 0))}
	mustCreate(t, s, &l.dual)
	mustCreate(t, s, &l.local)
	return l
}

// TestTheGridSignsAndFeedsBackOnItsOwn: under 双派单 the street's 签收 and
// 反馈 are kept beside the responsible unit's, acknowledge the street's
// alerts only, and an import leaves them as they are.
func TestTheGridSignsAndFeedsBackOnItsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		l := newLevels(t, s)
		now := sh(11, 18, 10, 0)
		for _, subject := range []models.AlertSubject{models.SubjectTicket, models.SubjectGrid} {
			if ok, err := s.FireAlert(ctx, &models.Alert{SubjectKind: subject, SubjectID: l.dual.ID, Level: "alert", FirstSentAt: now, LastSentAt: now}); err != nil || !ok {
				t.Fatalf("fire %s: %v %v", subject, ok, err)
			}
		}
		step := func(change models.TicketChange, grid bool, text string, at time.Time) (*models.Ticket, error) {
			return s.StepTicket(ctx, models.TicketStep{Number: l.dual.Number, Change: change, Actor: "u", Text: text, At: at, Grid: grid})
		}
		tk, err := step(models.EventSigned, true, "", now)
		must(t, err)
		if tk.GridSignedAt == nil || tk.SignedAt != nil {
			t.Errorf("the grid's 签收 signed %v for the street, %v for the unit", tk.GridSignedAt, tk.SignedAt)
		}
		if _, err := step(models.EventSigned, true, "", now.Add(time.Minute)); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("a second 签收 by the grid: %v", err)
		}
		tk, err = step(models.EventSigned, false, "", now.Add(2*time.Minute))
		must(t, err)
		if tk.SignedAt == nil || !tk.SignedAt.Equal(now.Add(2*time.Minute)) {
			t.Errorf("the unit's 签收 after the grid's: %v", tk.SignedAt)
		}
		alerts, err := s.AlertsOf(ctx, models.SubjectGrid, []uint{l.dual.ID})
		must(t, err)
		unit, err := s.AlertsOf(ctx, models.SubjectTicket, []uint{l.dual.ID})
		must(t, err)
		if alerts[l.dual.ID][0].AckedAt == nil || !unit[l.dual.ID][0].AckedAt.Equal(now.Add(2*time.Minute)) {
			t.Errorf("acknowledged: the grid's at %v, the unit's at %v", alerts[l.dual.ID][0].AckedAt, unit[l.dual.ID][0].AckedAt)
		}
		_, err = step(models.EventFeedback, true, "已到现场", now.Add(time.Hour))
		must(t, err)
		if _, err := step(models.EventClaimed, true, "", now.Add(time.Hour)); err == nil {
			t.Error("the grid claimed the ticket done")
		}
		// An import that brings news of the ticket keeps the grid's part.
		stored, err := s.TicketsByNumber(ctx, []string{l.dual.Number})
		must(t, err)
		next := *stored[l.dual.Number]
		next.Title, next.GridSignedAt, next.GridFeedback = "路灯不亮（已核实）", nil, ""
		if _, err := s.SaveTickets(ctx, []models.TicketWrite{{Old: stored[l.dual.Number], New: &next}}, "import"); err != nil {
			t.Fatal(err)
		}
		got, events, err := s.TicketByNumber(ctx, l.dual.Number)
		must(t, err)
		if got.GridSignedAt == nil || got.GridFeedback != "已到现场" || got.GridFeedbackAt == nil || got.Title != "路灯不亮（已核实）" {
			t.Errorf("after the import: grid signed %v, feedback %q", got.GridSignedAt, got.GridFeedback)
		}
		var changes []models.TicketChange
		for _, e := range events {
			changes = append(changes, e.Change)
		}
		if want := []models.TicketChange{models.EventGridSigned, models.EventSigned, models.EventGridFeedback}; !slices.Equal(changes[:3], want) {
			t.Errorf("history %v, want %v first", changes, want)
		}
	})
}

// TestRaiseOncePerLevel: a ticket is raised from its level once; a second
// run that read it before finds it gone; the raise is in its history, and
// the units that answer for it list it.
func TestRaiseOncePerLevel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		l := newLevels(t, s)
		due, err := s.TicketsToRaise(ctx, []models.Tier{models.TierCommunity})
		must(t, err)
		if len(due) != 1 || due[0].Number != l.local.Number {
			t.Fatalf("to raise: %+v", due)
		}
		at := sh(11, 17, 10, 0)
		raise := models.Raise{TicketID: l.local.ID, From: models.TierCommunity, To: models.TierStreet, ToID: &l.street.ID, At: at,
			FromName: "海滨社区", ToName: "环海街道", Reason: "超过社区办理时限（5个工作日）"}
		ok, err := s.RaiseTicket(ctx, raise)
		must(t, err)
		again, err := s.RaiseTicket(ctx, raise)
		must(t, err)
		if !ok || again {
			t.Errorf("raised %v, then again %v", ok, again)
		}
		tk, events, err := s.TicketByNumber(ctx, l.local.Number)
		must(t, err)
		if tk.RaisedLevel != models.TierStreet || tk.RaisedTo == nil || tk.RaisedTo.Name != "环海街道" || !tk.RaisedAt.Equal(at) {
			t.Errorf("raised ticket %+v", tk)
		}
		if e := events[len(events)-1]; e.Change != models.EventRaised || e.From != "海滨社区" || e.To != "环海街道" || e.Reason != raise.Reason {
			t.Errorf("history %+v", e)
		}
		if level, holder := tk.Holder(func(id uint) *models.Department { return map[uint]*models.Department{l.street.ID: &l.street}[id] }); level != models.TierStreet || *holder != l.street.ID {
			t.Errorf("held at %s by %v", level, holder)
		}
		// At the street's level now: raised on to the district once.
		due, err = s.TicketsToRaise(ctx, []models.Tier{models.TierStreet})
		must(t, err)
		if len(due) != 1 || due[0].Number != l.local.Number || due[0].RaisedAt == nil {
			t.Fatalf("to raise from the street: %+v", due)
		}
		up := models.Raise{TicketID: l.local.ID, From: models.TierStreet, To: models.TierDistrict, At: at.Add(time.Hour), FromName: "环海街道", ToName: "高新区"}
		if ok, err := s.RaiseTicket(ctx, up); err != nil || !ok {
			t.Errorf("raise to the district: %v %v", ok, err)
		}
		for _, c := range []struct {
			unit uint
			want []string
		}{
			{l.street.ID, []string{l.dual.Number}}, // its grid part; the community's ticket went on to the district
			{l.community.ID, []string{l.local.Number}},
			{l.dept.ID, []string{l.dual.Number}},
		} {
			list, err := s.OpenTicketsOf(ctx, c.unit)
			must(t, err)
			var numbers []string
			for _, t := range list {
				numbers = append(numbers, t.Number)
			}
			if !slices.Equal(numbers, c.want) {
				t.Errorf("unit %d lists %v, want %v", c.unit, numbers, c.want)
			}
		}
		counts, err := s.OpenTicketCounts(ctx, []uint{l.community.ID})
		must(t, err)
		if c := counts[l.community.ID]; c.N != 1 || !c.Oldest.Equal(l.local.ReceivedAt) {
			t.Errorf("the community's count %+v", c)
		}
	})
}

// TestLedgerAndScoresOfSomeUnits: the figures of a work group's units come
// from queries that count those units' tickets only.
func TestLedgerAndScoresOfSomeUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		l := newLevels(t, s)
		now := sh(11, 10, 18, 0)
		day := models.DayOf(now, storetest.Shanghai)
		all, err := s.Ledger(ctx, day, now, 24*time.Hour)
		must(t, err)
		some, err := s.LedgerIn(ctx, []uint{l.community.ID}, day, now, 24*time.Hour)
		must(t, err)
		if all.Total().Received != 2 || len(some) != 1 || some[l.community.ID].Received != 1 || some[l.community.ID].InProgress != 1 {
			t.Errorf("all %+v, the community's %+v", all, some)
		}
		yes := true
		mustCreate(t, s, &models.Ticket{Number: "V1", DepartmentID: &l.dept.ID, Status: models.TicketResolved, ReceivedAt: sh(11, 2, 9, 0),
			VisitedAt: ptr(sh(11, 5, 9, 0)), Assessed: true, Contacted: &yes, Resolved: &yes, Satisfaction: models.Satisfied})
		month := models.MonthOf(now, storetest.Shanghai, 1)
		board, err := s.ScoreBoardIn(ctx, []uint{l.community.ID}, month, models.Weights{Response: 0.1, Resolution: 0.5, Satisfaction: 0.4})
		must(t, err)
		if board.District.Counts.Valid != 0 || len(board.Departments) != 3 {
			t.Errorf("the community's board counts %+v over %d units", board.District.Counts, len(board.Departments))
		}
		board, err = s.ScoreBoardIn(ctx, nil, month, models.Weights{Response: 0.1, Resolution: 0.5, Satisfaction: 0.4})
		must(t, err)
		if board.District.Counts.Valid != 1 {
			t.Errorf("the whole board counts %+v", board.District.Counts)
		}
	})
}
