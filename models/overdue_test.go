package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
)

func TestOverdue(t *testing.T) {
	deadline := sh(11, 20, 18, 0)
	for _, tc := range []struct {
		name     string
		deadline *time.Time
		now      time.Time
		want     bool
	}{
		{"no deadline", nil, deadline.Add(240 * time.Hour), false},
		{"a day before", &deadline, deadline.Add(-24 * time.Hour), false},
		{"a second before", &deadline, deadline.Add(-time.Second), false},
		{"at the deadline", &deadline, deadline, false},
		{"a nanosecond after", &deadline, deadline.Add(time.Nanosecond), true},
		{"a week after", &deadline, deadline.Add(7 * 24 * time.Hour), true},
		{"after, seen from another zone", &deadline, deadline.Add(time.Minute).UTC(), true},
	} {
		if got := models.Overdue(tc.deadline, tc.now); got != tc.want {
			t.Errorf("%s: Overdue = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOverdueTicketsAndDispatchesMustBeOpen(t *testing.T) {
	deadline := sh(11, 20, 18, 0)
	late := deadline.Add(time.Hour)
	for _, tc := range []struct {
		status models.TicketStatus
		want   bool
	}{
		{models.TicketPending, true}, {models.TicketInProgress, true},
		{models.TicketResolved, false}, {models.TicketReturned, false},
	} {
		tk := models.Ticket{Status: tc.status, Deadline: &deadline}
		if got := tk.Overdue(late); got != tc.want {
			t.Errorf("ticket %s an hour late: Overdue = %v, want %v", tc.status, got, tc.want)
		}
	}
	for _, tc := range []struct {
		status models.DispatchStatus
		want   bool
	}{
		{models.DispatchOpen, true}, {models.DispatchClosed, false}, {models.DispatchCancelled, false},
	} {
		d := models.Dispatch{Status: tc.status, Deadline: &deadline}
		if got := d.Overdue(late); got != tc.want {
			t.Errorf("dispatch %s an hour late: Overdue = %v, want %v", tc.status, got, tc.want)
		}
	}
	if (&models.Ticket{Status: models.TicketInProgress}).Overdue(late) {
		t.Error("a ticket without a deadline is overdue")
	}
}
