package models_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestLedger(t *testing.T) {
	now := sh(11, 20, 17, 0)
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj, cgj := dept(t, s, "zjj", "住建局", 1), dept(t, s, "cgj", "城管局", 2)
		n := 0
		add := func(d *models.Department, f func(*models.Ticket)) {
			n++
			tk := &models.Ticket{Number: fmt.Sprint("L", n), ReceivedAt: sh(11, 10, 9, 0), Status: models.TicketInProgress, Deadline: ptr(sh(11, 30, 18, 0))}
			if d != nil {
				tk.DepartmentID = &d.ID
			}
			f(tk)
			mustCreate(t, s, tk)
		}
		add(zjj, func(tk *models.Ticket) { tk.ReceivedAt, tk.Deadline = sh(11, 20, 9, 0), ptr(sh(11, 21, 9, 0)) })     // received today, due soon
		add(zjj, func(tk *models.Ticket) { tk.Status, tk.ResolvedAt = models.TicketResolved, ptr(sh(11, 20, 10, 0)) }) // resolved today
		add(zjj, func(tk *models.Ticket) { tk.Deadline = ptr(sh(11, 20, 12, 0)) })                                     // overdue
		add(zjj, func(tk *models.Ticket) { tk.ReopenCount, tk.ReopenedAt = 1, ptr(sh(11, 20, 8, 0)) })                 // reopened today
		add(zjj, func(tk *models.Ticket) {                                                                             // unsatisfied today
			tk.Status, tk.Satisfaction, tk.VisitedAt = models.TicketResolved, models.Unsatisfied, ptr(sh(11, 20, 11, 0))
		})
		add(zjj, func(tk *models.Ticket) { // excluded: not counted
			tk.Status, tk.Satisfaction, tk.VisitedAt, tk.Excluded = models.TicketResolved, models.Unsatisfied, ptr(sh(11, 20, 11, 0)), true
		})
		add(zjj, func(tk *models.Ticket) { tk.Status, tk.ResolvedAt = models.TicketResolved, ptr(sh(11, 19, 10, 0)) }) // yesterday
		add(cgj, func(tk *models.Ticket) { tk.ReceivedAt, tk.Status = sh(11, 20, 8, 0), models.TicketReturned })
		add(nil, func(tk *models.Ticket) { tk.Status, tk.Deadline = models.TicketPending, nil })

		l, err := s.Ledger(ctx, models.DayOf(now, storetest.Shanghai), now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want := models.Ledger{
			zjj.ID: {Received: 1, Resolved: 1, InProgress: 3, Overdue: 1, DueSoon: 1, Reopened: 1, Unsatisfied: 1},
			cgj.ID: {Received: 1},
			0:      {InProgress: 1},
		}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("ledger = %+v\nwant     %+v", l, want)
		}
		if tot := l.Total(); tot != (models.LedgerRow{Received: 2, Resolved: 1, InProgress: 4, Overdue: 1, DueSoon: 1, Reopened: 1, Unsatisfied: 1}) {
			t.Errorf("total = %+v", tot)
		}
		// A group's ledger: its units' tickets; the default group's also those without a unit.
		for units, want := range map[string]models.Ledger{
			"cgj":        {cgj.ID: {Received: 1}},
			"cgj+NoUnit": {cgj.ID: {Received: 1}, 0: {InProgress: 1}},
		} {
			in := []uint{cgj.ID}
			if units == "cgj+NoUnit" {
				in = append(in, models.NoUnit)
			}
			l, err := s.LedgerIn(ctx, in, models.DayOf(now, storetest.Shanghai), now, 24*time.Hour)
			if err != nil || !reflect.DeepEqual(l, want) {
				t.Errorf("LedgerIn(%s) = %+v (%v), want %+v", units, l, err, want)
			}
		}
	})
}
