package models_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestTicketSets(t *testing.T) {
	now := sh(11, 20, 10, 0)
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj, cgj := dept(t, s, "zjj", "住建局", 1), dept(t, s, "cgj", "城管局", 2)
		mk := func(number string, d *models.Department, status models.TicketStatus, deadline time.Time, f func(*models.Ticket)) {
			tk := &models.Ticket{Number: number, DepartmentID: &d.ID, ReceivedAt: sh(10, 1, 9, 0), Status: status, Deadline: &deadline}
			if f != nil {
				f(tk)
			}
			mustCreate(t, s, tk)
		}
		far := sh(12, 30, 0, 0)
		mk("A", zjj, models.TicketInProgress, sh(11, 19, 18, 0), nil)      // overdue
		mk("B", cgj, models.TicketPending, sh(11, 20, 18, 0), nil)         // due soon
		mk("C", zjj, models.TicketResolved, sh(11, 18, 18, 0), nil)        // resolved: never overdue
		mk("D", zjj, models.TicketInProgress, sh(11, 25, 18, 0), nil)      // later
		mk("E", cgj, models.TicketInProgress, sh(10, 30, 18, 0), nil)      // overdue since October
		mk("K", cgj, models.TicketReturned, sh(11, 1, 18, 0), nil)         // returned: not overdue
		mk("L", zjj, models.TicketPending, now, nil)                       // due this very minute: not yet overdue
		mk("F", zjj, models.TicketResolved, far, func(tk *models.Ticket) { // 双否
			tk.Satisfaction, tk.Resolved, tk.VisitedAt = models.Unsatisfied, ptr(false), ptr(sh(11, 19, 9, 0))
		})
		mk("G", cgj, models.TicketResolved, far, func(tk *models.Ticket) { // unsatisfied, resolved
			tk.Satisfaction, tk.Resolved, tk.VisitedAt = models.Unsatisfied, ptr(true), ptr(sh(11, 18, 9, 0))
		})
		mk("H", zjj, models.TicketResolved, far, func(tk *models.Ticket) { // excluded
			tk.Satisfaction, tk.Resolved, tk.VisitedAt, tk.Excluded = models.Unsatisfied, ptr(false), ptr(sh(11, 18, 9, 0)), true
		})
		mk("I", zjj, models.TicketInProgress, far, func(tk *models.Ticket) { tk.ReopenCount, tk.ReopenedAt = 1, ptr(sh(11, 17, 9, 0)) })
		mk("J", cgj, models.TicketInProgress, far, func(tk *models.Ticket) { tk.ReopenCount, tk.ReopenedAt = 2, ptr(sh(11, 9, 9, 0)) })

		week := models.WeekOf(now, storetest.Shanghai)
		month := models.MonthOf(now, storetest.Shanghai, 1)
		for _, tc := range []struct {
			name  string
			q     models.TicketQuery
			want  []string
			count models.Counts
		}{
			{"overdue now", models.TicketQuery{Set: models.SetOverdue, Now: now}, []string{"E", "A"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"overdue this month", models.TicketQuery{Set: models.SetOverdue, Now: now, Period: month}, []string{"A"}, models.Counts{zjj.ID: 1}},
			{"overdue of 城管局", models.TicketQuery{Set: models.SetOverdue, Now: now, DepartmentID: cgj.ID}, []string{"E"}, models.Counts{cgj.ID: 1}},
			{"due within 24h", models.TicketQuery{Set: models.SetDueSoon, Now: now, Within: 24 * time.Hour}, []string{"L", "B"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"unsatisfied this week", models.TicketQuery{Set: models.SetUnsatisfied, Period: week}, []string{"G", "F"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"双否 this week", models.TicketQuery{Set: models.SetDoubleNo, Period: week}, []string{"F"}, models.Counts{zjj.ID: 1}},
			{"双否 today", models.TicketQuery{Set: models.SetDoubleNo, Period: models.DayOf(now, storetest.Shanghai)}, nil, models.Counts{}},
			{"reopened this week", models.TicketQuery{Set: models.SetReopened, Period: week}, []string{"I"}, models.Counts{zjj.ID: 1}},
			{"reopened this month", models.TicketQuery{Set: models.SetReopened, Period: month}, []string{"J", "I"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"reopened, first only", models.TicketQuery{Set: models.SetReopened, Period: month, Limit: 1}, []string{"J"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list, err := s.ListTickets(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, tk := range list {
					got = append(got, tk.Number)
					if tk.Department == nil {
						t.Errorf("%s: department not loaded", tk.Number)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("list = %v, want %v", got, tc.want)
				}
				counts, err := s.CountTickets(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(counts, tc.count) {
					t.Errorf("counts = %v, want %v", counts, tc.count)
				}
			})
		}
		if _, err := s.CountTickets(ctx, models.TicketQuery{Set: models.SetOverdue}); err == nil {
			t.Error("overdue without Now: want an error")
		}
		// The set's SQL and the Go rule (Ticket.Overdue) agree on every ticket.
		overdue, err := s.ListTickets(ctx, models.TicketQuery{Set: models.SetOverdue, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		inSet := map[string]bool{}
		for _, tk := range overdue {
			inSet[tk.Number] = true
		}
		all, err := s.TicketsByNumber(ctx, strings.Split("A B C D E F G H I J K L", " "))
		if err != nil || len(all) != 12 {
			t.Fatalf("tickets: %d, %v", len(all), err)
		}
		for number, tk := range all {
			if tk.Overdue(now) != inSet[number] {
				t.Errorf("ticket %s: Overdue = %v, in SetOverdue = %v", number, tk.Overdue(now), inSet[number])
			}
		}
		// So do SetDoubleNo and Ticket.DoubleNo.
		doubleNo, err := s.ListTickets(ctx, models.TicketQuery{Set: models.SetDoubleNo})
		if err != nil {
			t.Fatal(err)
		}
		inSet = map[string]bool{}
		for _, tk := range doubleNo {
			inSet[tk.Number] = true
		}
		for number, tk := range all {
			if tk.DoubleNo() != inSet[number] {
				t.Errorf("ticket %s: DoubleNo = %v, in SetDoubleNo = %v", number, tk.DoubleNo(), inSet[number])
			}
		}
	})
}

// UnsatisfiedIn finds the period's 不满意 answers, those a later visit has
// replaced included.
func TestUnsatisfiedIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := dept(t, s, "zjj", "住建局", 1)
		week := models.WeekOf(sh(11, 20, 10, 0), storetest.Shanghai)
		mk := func(number string, sat models.Satisfaction, visited time.Time) *models.Ticket {
			tk := &models.Ticket{Number: number, DepartmentID: &zjj.ID, ReceivedAt: sh(11, 1, 9, 0), Status: models.TicketResolved,
				Satisfaction: sat, VisitedAt: &visited, Resolved: ptr(sat != models.Unsatisfied)}
			mustCreate(t, s, tk)
			return tk
		}
		mk("NOW", models.Unsatisfied, sh(11, 17, 9, 0))        // unsatisfied this week
		mk("OLD", models.Unsatisfied, sh(11, 10, 9, 0))        // unsatisfied last week
		fixed := mk("FIX", models.Satisfied, sh(11, 19, 9, 0)) // unsatisfied on Tuesday, satisfied on Thursday
		mk("FINE", models.Satisfied, sh(11, 18, 9, 0))         // satisfied all along
		for _, e := range []models.TicketEvent{
			{TicketID: fixed.ID, Change: models.EventSatisfaction, From: "", To: string(models.Unsatisfied), At: sh(11, 17, 12, 0)},
			{TicketID: fixed.ID, Change: models.EventSatisfaction, From: string(models.Unsatisfied), To: string(models.Satisfied), At: sh(11, 19, 12, 0)},
		} {
			mustCreate(t, s, &e)
		}
		list, err := s.UnsatisfiedIn(ctx, week)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tk := range list {
			got = append(got, tk.Number)
		}
		if !slices.Equal(got, []string{"NOW", "FIX"}) {
			t.Errorf("UnsatisfiedIn = %v, want [NOW FIX]", got)
		}
	})
}
