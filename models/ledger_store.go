package models

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// LedgerRow holds one department's ticket figures for a report.
type LedgerRow struct {
	Received    int // received (受理) in the period
	Resolved    int // resolved (办结, status 已办结) in the period
	InProgress  int // open now: 待签收 or 办理中
	Overdue     int // open now with the deadline passed
	DueSoon     int // open now with the deadline within the window
	Reopened    int // reopened (重办) in the period
	Unsatisfied int // answered 不满意 at a return visit in the period, not excluded
}

// Add returns the sum of r and o.
func (r LedgerRow) Add(o LedgerRow) LedgerRow {
	return LedgerRow{
		Received: r.Received + o.Received, Resolved: r.Resolved + o.Resolved, InProgress: r.InProgress + o.InProgress,
		Overdue: r.Overdue + o.Overdue, DueSoon: r.DueSoon + o.DueSoon, Reopened: r.Reopened + o.Reopened,
		Unsatisfied: r.Unsatisfied + o.Unsatisfied,
	}
}

// Ledger maps department IDs to their figures; key 0 holds the tickets without
// a department. Departments with no figure at all are absent.
type Ledger map[uint]LedgerRow

// Total sums the figures of the whole district.
func (l Ledger) Total() LedgerRow {
	var t LedgerRow
	for _, r := range l {
		t = t.Add(r)
	}
	return t
}

// Ledger returns the ticket figures of every department for the 18:00 report
// (p is the day; a week or month works the same): received, resolved, reopened
// and unsatisfied in p, and in progress, overdue and due within dueWithin as of
// now. It is one query: a UNION ALL of index-friendly parts, grouped by department.
func (s *Store) Ledger(ctx context.Context, p Period, now time.Time, dueWithin time.Duration) (Ledger, error) {
	return s.LedgerIn(ctx, nil, p, now, dueWithin)
}

// LedgerIn is Ledger of the departments units only (a work group's, and the
// communities its streets answer for, NoUnit among them for the tickets
// without a department); nil means every department and the tickets
// without one.
func (s *Store) LedgerIn(ctx context.Context, units []uint, p Period, now time.Time, dueWithin time.Duration) (Ledger, error) {
	t := s.Table(&Ticket{})
	in, of := unitFilter(units)
	sql := `SELECT department_id, SUM(n_received) AS received, SUM(n_resolved) AS resolved,
	SUM(n_open) AS in_progress, SUM(n_overdue) AS overdue, SUM(n_due) AS due_soon,
	SUM(n_reopened) AS reopened, SUM(n_unsatisfied) AS unsatisfied
FROM (
	SELECT department_id, 1 AS n_received, 0 AS n_resolved, 0 AS n_open, 0 AS n_overdue, 0 AS n_due, 0 AS n_reopened, 0 AS n_unsatisfied
	FROM ` + t + ` WHERE received_at >= ? AND received_at < ?` + in + `
	UNION ALL
	SELECT department_id, 0, 1, 0, 0, 0, 0, 0
	FROM ` + t + ` WHERE resolved_at >= ? AND resolved_at < ? AND status = ?` + in + `
	UNION ALL
	SELECT department_id, 0, 0, 1,
		CASE WHEN ` + overdueSQL + ` THEN 1 ELSE 0 END,
		CASE WHEN deadline >= ? AND deadline < ? THEN 1 ELSE 0 END, 0, 0
	FROM ` + t + ` WHERE status IN ?` + in + `
	UNION ALL
	SELECT department_id, 0, 0, 0, 0, 0, 1, 0
	FROM ` + t + ` WHERE reopened_at >= ? AND reopened_at < ?` + in + `
	UNION ALL
	SELECT department_id, 0, 0, 0, 0, 0, 0, 1
	FROM ` + t + ` WHERE visited_at >= ? AND visited_at < ? AND satisfaction = ? AND excluded = ?` + in + `
) parts
GROUP BY department_id`
	var rows []struct {
		DepartmentID *uint
		LedgerRow
	}
	var args []any
	for _, part := range [][]any{
		{p.Start, p.End},
		{p.Start, p.End, TicketResolved},
		{now, now, now.Add(dueWithin), OpenTicketStatuses},
		{p.Start, p.End},
		{p.Start, p.End, Unsatisfied, false},
	} {
		args = append(append(args, part...), of...)
	}
	err := s.db.WithContext(ctx).Raw(sql, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: ticket ledger: %w", err)
	}
	out := make(Ledger, len(rows))
	for _, r := range rows {
		k := idKey(r.DepartmentID)
		out[k] = out[k].Add(r.LedgerRow)
	}
	return out, nil
}

// unitFilter is the condition that a ticket's department is one of units,
// and its argument; none for nil units (every department). A 0 among units
// stands for the tickets without a department (NoUnit).
func unitFilter(units []uint) (string, []any) {
	if units == nil {
		return "", nil
	}
	if slices.Contains(units, NoUnit) {
		return " AND (department_id IN ? OR department_id IS NULL)", []any{units}
	}
	return " AND department_id IN ?", []any{append([]uint{0}, units...)}
}

// NoUnit, among the units of LedgerIn and ScoreBoardIn, takes in the tickets
// without a department: the default work group counts them beside its units'.
const NoUnit uint = 0
