package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// KeyTicket puts a ticket on the daily 重点件 track of the 18:00 report, from
// the day a leader or the 12345 office named it (重点件 工单号) until it is
// closed. It is kept apart from Ticket.Priority, which the platform's export
// sets and an import rewrites.
type KeyTicket struct {
	ID       uint      `gorm:"primaryKey"`
	TicketID uint      `gorm:"not null;uniqueIndex"`
	Ticket   *Ticket   `gorm:"constraint:OnDelete:CASCADE"`
	MarkedBy string    `gorm:"size:64;not null"`
	MarkedAt time.Time `gorm:"not null"`
}

// MarkKeyTicket puts an open ticket on the 重点件 track. It refuses a closed
// ticket (EINVALID) and one already on the track (ECONFLICT); an unknown
// number is ENOTFOUND.
func (s *Store) MarkKeyTicket(ctx context.Context, number, by string, at time.Time) (*Ticket, error) {
	var t Ticket
	err := s.Tx(ctx, func(tx *Store) error {
		if err := findTicket(tx.db.WithContext(ctx).Preload("Department"), number, &t); err != nil {
			return err
		}
		if !t.Open() {
			return Errorf(EINVALID, "工单 %s %s，无需列为重点件", t.Number, t.Status)
		}
		ok, err := insertOnce(tx.db.WithContext(ctx).Omit(clause.Associations), &KeyTicket{TicketID: t.ID, MarkedBy: by, MarkedAt: at}, "mark key ticket "+number)
		if err != nil {
			return err
		}
		if !ok {
			return Errorf(ECONFLICT, "工单 %s 已是重点件", t.Number)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// KeyTrack is a ticket on the 重点件 track, with its last step in chat.
type KeyTrack struct {
	Ticket   Ticket
	MarkedBy string
	MarkedAt time.Time
	// Last is the ticket's latest event, nil when it has none.
	Last *TicketEvent
}

// closedIn reports whether a closed ticket was closed in p: resolved in p,
// or returned (退办) by a change in p.
func closedIn(t *Ticket, p Period) bool {
	if t.ResolvedAt != nil {
		return p.Contains(*t.ResolvedAt)
	}
	return t.Status == TicketReturned && p.Contains(t.UpdatedAt)
}

// KeyTickets returns the track as of the day p: the tickets put on it before
// p ended that are open, or were resolved in p (their last day on it), by
// when they were put on it, with their departments.
func (s *Store) KeyTickets(ctx context.Context, p Period) ([]KeyTrack, error) {
	var marks []KeyTicket
	err := s.db.WithContext(ctx).Preload("Ticket").Preload("Ticket.Department").
		Where("marked_at < ?", p.End).Order("marked_at, id").Find(&marks).Error
	if err != nil {
		return nil, fmt.Errorf("models: key tickets: %w", err)
	}
	var out []KeyTrack
	var ids []uint
	for _, k := range marks {
		t := k.Ticket
		if t == nil || (!t.Open() && !closedIn(t, p)) {
			continue
		}
		out = append(out, KeyTrack{Ticket: *t, MarkedBy: k.MarkedBy, MarkedAt: k.MarkedAt})
		ids = append(ids, t.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var events []TicketEvent
	if err := s.db.WithContext(ctx).Where("ticket_id IN ? AND at < ?", ids, p.End).Order("at, id").Find(&events).Error; err != nil {
		return nil, fmt.Errorf("models: events of key tickets: %w", err)
	}
	last := map[uint]TicketEvent{}
	for _, e := range events {
		last[e.TicketID] = e
	}
	for i := range out {
		if e, ok := last[out[i].Ticket.ID]; ok {
			out[i].Last = &e
		}
	}
	return out, nil
}
