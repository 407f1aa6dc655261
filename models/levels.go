package models

import (
	"context"
	"fmt"
	"time"
)

// The three levels of the district's ledger (社区, 街道, 区): every ticket
// belongs to a unit at a level (its department's tier); a ticket the level
// does not close within its limit is raised (提级) to the level above — a
// community's to its street, a street's to the district — and the unit it
// was raised to answers for it beside its own unit. Under 双派单 the grid
// street answers for its part too (GridDepartmentID).

// EventRaised records 提级: From and To name the units (区 for the
// district), Reason says which limit passed.
const EventRaised TicketChange = "raised"

// Holder returns the level a ticket stands at and the unit that holds it
// there: the raised-to street, or the district (unit nil) once raised, else
// its own department at its tier. dept finds a department by ID.
func (t *Ticket) Holder(dept func(uint) *Department) (Tier, *uint) {
	switch {
	case t.RaisedLevel == TierDistrict:
		return TierDistrict, nil
	case t.RaisedLevel != "":
		return t.RaisedLevel, t.RaisedToID
	case t.DepartmentID == nil:
		return "", nil
	}
	if d := dept(*t.DepartmentID); d != nil {
		tier := d.Tier
		if tier == "" {
			tier = TierDepartment
		}
		return tier, t.DepartmentID
	}
	return "", nil
}

// TicketsToRaise returns the open tickets (no 办结 claimed) that stand at one
// of levels — by their unit's tier while not raised, by RaisedLevel once
// raised — with the fields 提级 needs, oldest first.
func (s *Store) TicketsToRaise(ctx context.Context, levels []Tier) ([]Ticket, error) {
	if len(levels) == 0 {
		return nil, nil
	}
	t, d := s.Table(&Ticket{}), s.Table(&Department{})
	var out []Ticket
	err := s.db.WithContext(ctx).Table(t+" AS t").
		Select("t.id, t.number, t.title, t.category, t.department_id, t.grid_department_id, t.received_at, t.deadline, t.status, t.raised_level, t.raised_to_id, t.raised_at").
		Joins("JOIN "+d+" AS d ON d.id = t.department_id").
		Where("t.status IN ? AND t.claimed_done_at IS NULL", OpenTicketStatuses).
		Where("(t.raised_level = '' AND d.kind IN ?) OR t.raised_level IN ?", levels, levels).
		Order("t.received_at, t.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: tickets to raise: %w", err)
	}
	return out, nil
}

// Raise is one ticket raised a level: from the level it stood at to the
// level above, held there by the unit ToID (nil for the district).
type Raise struct {
	TicketID uint
	From, To Tier
	ToID     *uint
	At       time.Time
	// FromName and ToName name the units for the ticket's history; Reason
	// says which limit passed.
	FromName, ToName, Reason string
}

// RaiseTicket raises a ticket as r says and records EventRaised in its
// history. It reports false, changing nothing, when the ticket is no longer
// open at r.From (closed, claimed, or raised by another run meanwhile).
func (s *Store) RaiseTicket(ctx context.Context, r Raise) (bool, error) {
	raised := false
	err := s.Tx(ctx, func(tx *Store) error {
		current := r.From
		q := tx.db.WithContext(ctx).Model(&Ticket{}).
			Where("id = ? AND status IN ? AND claimed_done_at IS NULL", r.TicketID, OpenTicketStatuses)
		if current == TierCommunity || current == TierDepartment {
			q = q.Where("raised_level = ''")
		} else {
			q = q.Where("raised_level = ? OR raised_level = ''", current)
		}
		res := q.Updates(map[string]any{"raised_level": r.To, "raised_to_id": r.ToID, "raised_at": r.At})
		if res.Error != nil {
			return fmt.Errorf("models: raise ticket %d: %w", r.TicketID, res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		raised = true
		return tx.addTicketEvent(ctx, TicketEvent{TicketID: r.TicketID, Change: EventRaised, From: r.FromName, To: r.ToName, Reason: r.Reason, At: r.At})
	})
	return raised, err
}

// OpenTicketsOf returns the open tickets a unit answers for, oldest first,
// with their departments: those it is responsible for, those raised to it,
// and those it is the grid street of (双派单).
func (s *Store) OpenTicketsOf(ctx context.Context, unit uint) ([]Ticket, error) {
	var out []Ticket
	err := s.db.WithContext(ctx).Preload("Department").Preload("GridDepartment").Preload("RaisedTo").
		Where("status IN ?", OpenTicketStatuses).
		Where("department_id = ? OR raised_to_id = ? OR grid_department_id = ?", unit, unit, unit).
		Order("received_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: open tickets of unit %d: %w", unit, err)
	}
	return out, nil
}

// OpenTicketCounts returns, per department of units, how many open tickets
// it is responsible for and when the oldest was received: a street's ledger
// shows each of its communities' in one line.
func (s *Store) OpenTicketCounts(ctx context.Context, units []uint) (map[uint]OpenCount, error) {
	out := map[uint]OpenCount{}
	if len(units) == 0 {
		return out, nil
	}
	var rows []struct {
		DepartmentID uint
		ReceivedAt   time.Time
	}
	err := s.db.WithContext(ctx).Model(&Ticket{}).Select("department_id, received_at").
		Where("status IN ? AND department_id IN ?", OpenTicketStatuses, units).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: count open tickets: %w", err)
	}
	for _, r := range rows {
		c := out[r.DepartmentID]
		c.N++
		if c.Oldest.IsZero() || r.ReceivedAt.Before(c.Oldest) {
			c.Oldest = r.ReceivedAt
		}
		out[r.DepartmentID] = c
	}
	return out, nil
}

// OpenCount is a unit's open tickets: how many, and the oldest's receipt.
type OpenCount struct {
	N      int
	Oldest time.Time
}
