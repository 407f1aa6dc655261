package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// TicketSet names a set of tickets the reports and alerts use.
type TicketSet string

// The named sets. "Open" means 待签收 or 办理中 (OpenTicketStatuses). Each set says
// which time places a ticket in a TicketQuery's Period.
const (
	// SetOverdue: open and Overdue at Now. Period bounds the deadline.
	SetOverdue TicketSet = "overdue"
	// SetDueSoon: open, deadline from Now to Now+Within. Period is not used.
	SetDueSoon TicketSet = "due_soon"
	// SetUnsatisfied: answered 不满意 at the return visit, not excluded (剔除).
	// Period bounds the visit (VisitedAt).
	SetUnsatisfied TicketSet = "unsatisfied"
	// SetDoubleNo is 双否件: not resolved (是否解决 = 否) and 不满意, not
	// excluded (Ticket.DoubleNo). Period bounds the visit (VisitedAt).
	SetDoubleNo TicketSet = "double_no"
	// SetReopened: reopened at least once (重办). Period bounds the last reopening (ReopenedAt).
	SetReopened TicketSet = "reopened"
)

// TicketQuery selects one named set, optionally of one period and one department.
type TicketQuery struct {
	Set TicketSet
	// Period bounds the set's time (see TicketSet); the zero Period is no bound.
	Period Period
	// Now is the time overdue and due-soon are judged at; required for them.
	Now time.Time
	// Within is the due-soon window (config rules.warn_within).
	Within time.Duration
	// DepartmentID limits the set to one department; 0 means district-wide.
	DepartmentID uint
	// Units limits the set to the tickets of these departments (a work
	// group's or a district's, Scope.Filter); nil means no limit.
	Units []uint
	// Limit caps ListTickets; 0 means no cap.
	Limit int
}

// scope returns the query of q's set, and the order its list is read in.
func (s *Store) scope(ctx context.Context, q TicketQuery) (*gorm.DB, string, error) {
	db := s.db.WithContext(ctx).Model(&Ticket{})
	bound := func(col string) {
		if !q.Period.IsZero() {
			db = db.Where(col+" >= ? AND "+col+" < ?", q.Period.Start, q.Period.End)
		}
	}
	var order string
	switch q.Set {
	case SetOverdue, SetDueSoon:
		if q.Now.IsZero() {
			return nil, "", fmt.Errorf("models: ticket set %s needs Now", q.Set)
		}
		db = db.Where("status IN ?", OpenTicketStatuses)
		if q.Set == SetOverdue {
			db = db.Where(overdueSQL, q.Now)
			bound("deadline")
		} else {
			db = db.Where("deadline >= ? AND deadline < ?", q.Now, q.Now.Add(q.Within))
		}
		order = "deadline, id"
	case SetUnsatisfied, SetDoubleNo:
		db = db.Where("satisfaction = ? AND excluded = ?", Unsatisfied, false)
		if q.Set == SetDoubleNo {
			db = db.Where("resolved = ?", false)
		}
		bound("visited_at")
		order = "visited_at, id"
	case SetReopened:
		db = db.Where("reopen_count > 0")
		bound("reopened_at")
		order = "reopened_at, id"
	default:
		return nil, "", fmt.Errorf("models: unknown ticket set %q", q.Set)
	}
	if q.DepartmentID != 0 {
		db = db.Where("department_id = ?", q.DepartmentID)
	}
	if q.Units != nil {
		db = db.Where("department_id IN ?", append([]uint{0}, q.Units...))
	}
	return db, order, nil
}

// Counts are numbers of tickets per department ID; key 0 counts the tickets
// without a department.
type Counts map[uint]int

// Total is the district-wide count.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// CountTickets counts q's set per department in one grouped query.
// Departments with none are absent.
func (s *Store) CountTickets(ctx context.Context, q TicketQuery) (Counts, error) {
	db, _, err := s.scope(ctx, q)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		DepartmentID *uint
		N            int
	}
	if err := db.Select("department_id, COUNT(*) AS n").Group("department_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: count %s tickets: %w", q.Set, err)
	}
	out := make(Counts, len(rows))
	for _, r := range rows {
		out[idKey(r.DepartmentID)] += r.N
	}
	return out, nil
}

// ListTickets lists q's set with departments loaded: overdue and due-soon by
// deadline (the most urgent first), the others by the time that placed them
// in the set, oldest first.
func (s *Store) ListTickets(ctx context.Context, q TicketQuery) ([]Ticket, error) {
	db, order, err := s.scope(ctx, q)
	if err != nil {
		return nil, err
	}
	if q.Limit > 0 {
		db = db.Limit(q.Limit)
	}
	var out []Ticket
	if err := db.Preload("Department").Preload("GridDepartment").Order(order).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list %s tickets: %w", q.Set, err)
	}
	return out, nil
}

func idKey(id *uint) uint {
	if id == nil {
		return 0
	}
	return *id
}

// UnsatisfiedIn returns the tickets whose return visit was answered 不满意 in
// p, not excluded, with their departments, oldest visit first: those so
// answered now (SetUnsatisfied of p), and those whose 不满意 answer recorded
// in p (an EventSatisfaction to 不满意) a later visit has replaced since, so
// that a list of the period can say they were settled.
func (s *Store) UnsatisfiedIn(ctx context.Context, p Period) ([]Ticket, error) {
	db := s.db.WithContext(ctx)
	answered := db.Model(&TicketEvent{}).Select("ticket_id").
		Where(&TicketEvent{Change: EventSatisfaction, To: string(Unsatisfied)}).
		Where("at >= ? AND at < ?", p.Start, p.End)
	now := db.Where("satisfaction = ? AND visited_at >= ? AND visited_at < ?", Unsatisfied, p.Start, p.End)
	var out []Ticket
	err := db.Model(&Ticket{}).Where("excluded = ?", false).Where(now.Or("id IN (?)", answered)).
		Preload("Department").Preload("GridDepartment").Order("visited_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: unsatisfied tickets of %s: %w", p.Label(), err)
	}
	return out, nil
}
