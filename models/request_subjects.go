package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// What a request is about and what a decision does to it: the checks of a
// request about a ticket or an item when it is made, and the effects of a
// decision on the ticket or the item (request_store.go keeps the chain).

// ticketApplication checks a request about a ticket, fills in out's ticket
// and unit, and returns what records the request on the ticket.
func (s *Store) ticketApplication(ctx context.Context, a TicketApplication, rule requestRule, out *TicketRequest) (func() error, error) {
	var t Ticket
	if err := findTicket(s.db.WithContext(ctx), a.Number, &t); err != nil {
		return nil, err
	}
	if rule.open && !t.Open() {
		return nil, Errorf(EINVALID, "工单 %s %s，不能申请%s", t.Number, t.Status, rule.name)
	}
	if a.Kind == RequestKindExclusion && t.Excluded {
		return nil, Errorf(EINVALID, "工单 %s 已剔除，不计入考核", t.Number)
	}
	dept := ticketDepartment(&t, a.DepartmentIDs, rule.grid)
	if dept == 0 && a.Office && rule.review == RequestPendingOffice && t.DepartmentID != nil {
		dept = *t.DepartmentID
	}
	if dept == 0 {
		return nil, Errorf(EFORBIDDEN, "工单 %s 不是本单位承办的工单，不能申请%s", t.Number, rule.name)
	}
	event := TicketEvent{TicketID: t.ID, Change: rule.requested, Reason: out.Reason, Actor: a.By, At: a.At}
	if a.Kind == RequestKindExtension {
		if a.ExtendTo == nil {
			return nil, Errorf(EINVALID, "请写明延期后的期限")
		}
		if err := s.extensionRefusal(&t, *a.ExtendTo); err != nil {
			return nil, err
		}
		event.From, event.To = eventTime(t.Deadline, s.loc), eventTime(a.ExtendTo, s.loc)
		to := a.ExtendTo.In(s.loc)
		out.ExtendTo = &to
	}
	out.TicketID, out.Ticket, out.DepartmentID = &t.ID, &t, dept
	return func() error { return s.addTicketEvent(ctx, event) }, nil
}

// itemApplication checks a request about an item of the rectification list,
// fills in out's item and unit, and returns what records it on the item.
func (s *Store) itemApplication(ctx context.Context, a TicketApplication, out *TicketRequest) (func() error, error) {
	r, err := s.Rectification(ctx, a.ItemID)
	if err != nil {
		return nil, err
	}
	issuer := r.Issuer != nil && UserIDKey(r.Issuer.UserID) == UserIDKey(a.By)
	if !issuer && !slices.Contains(a.DepartmentIDs, r.DepartmentID) {
		return nil, Errorf(EFORBIDDEN, "整改事项 %s 不是本单位的整改事项，不能申请无法整改", r.Code())
	}
	if !slices.Contains([]RectifyState{RectifyPending, RectifyAssigned, RectifyWorking}, r.State) {
		return nil, Errorf(EINVALID, "整改事项 %s %s，不能申请无法整改", r.Code(), r.State)
	}
	out.ItemID, out.Item, out.DepartmentID = &r.ID, r, r.DepartmentID
	return func() error {
		return s.addRectifyEvent(ctx, RectifyEvent{ItemID: r.ID, Step: RectifyAsk, Actor: a.By, Text: out.Reason, At: a.At})
	}, nil
}

// ticketDepartment returns which of deptIDs the ticket belongs to: its
// department first, then (with grid) its grid; 0 when neither.
func ticketDepartment(t *Ticket, deptIDs []uint, grid bool) uint {
	units := []*uint{t.DepartmentID}
	if grid {
		units = append(units, t.GridDepartmentID)
	}
	for _, id := range units {
		if id != nil && slices.Contains(deptIDs, *id) {
			return *id
		}
	}
	return 0
}

// follow does what a decision does to the request's subject and records it:
// an approval takes effect (grant), a review or a refusal is recorded.
func (s *Store) follow(ctx context.Context, r *TicketRequest, rule requestRule, d RequestDecision) error {
	switch {
	case r.State == RequestApproved:
		return s.grant(ctx, r, d)
	case rule.item:
		item, err := s.StepRectification(ctx, RectifyStep{ID: r.Item.ID, Step: RectifyRefuse, Actor: d.By, Text: d.Note, Until: d.Until, At: d.At})
		r.Item = item
		return err
	}
	change := rule.refused
	if r.State == RequestPendingLeader {
		change = rule.reviewed
	}
	return s.addTicketEvent(ctx, TicketEvent{TicketID: r.Ticket.ID, Change: change, Reason: d.Note, Actor: d.By, At: d.At})
}

// grant makes an approved request take effect on its subject.
func (s *Store) grant(ctx context.Context, r *TicketRequest, d RequestDecision) error {
	switch r.Kind {
	case RequestKindReturn:
		return s.returnTicket(ctx, r.Ticket, r.Reason, d)
	case RequestKindExtension:
		if r.ExtendTo == nil {
			return fmt.Errorf("models: extension request %d without a deadline", r.ID)
		}
		return s.extend(ctx, r.Ticket, *r.ExtendTo, r.Reason, d.By, d.At)
	case RequestKindExclusion:
		return s.exclude(ctx, r.Ticket, r.Reason, d)
	case RequestKindUnfixable:
		item, err := s.StepRectification(ctx, RectifyStep{ID: r.Item.ID, Step: RectifyDefer, Actor: d.By, Text: r.Reason, At: d.At})
		r.Item = item
		return err
	}
	return fmt.Errorf("models: no request kind %q", r.Kind)
}

// exclude takes a ticket out of the 三率 (剔除) for good: an import no longer
// clears it (ExcludedAt).
func (s *Store) exclude(ctx context.Context, t *Ticket, reason string, d RequestDecision) error {
	if t.Excluded {
		return Errorf(EINVALID, "工单 %s 已剔除，不计入考核", t.Number)
	}
	res := s.db.WithContext(ctx).Model(&Ticket{}).Where("id = ? AND excluded = ?", t.ID, false).
		Updates(map[string]any{"excluded": true, "excluded_at": d.At, "updated_at": d.At})
	if res.Error != nil {
		return fmt.Errorf("models: exclude ticket %s: %w", t.Number, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ECONFLICT, "")
	}
	at := d.At
	t.Excluded, t.ExcludedAt = true, &at
	return s.addTicketEvent(ctx, TicketEvent{TicketID: t.ID, Change: EventExcluded, Reason: reason, Actor: d.By, At: d.At})
}

// returnTicket marks an open ticket returned (已退办) and records the change.
func (s *Store) returnTicket(ctx context.Context, t *Ticket, reason string, d RequestDecision) error {
	if !t.Open() {
		return Errorf(EINVALID, "工单 %s 已%s，无需退办", t.Number, strings.TrimPrefix(string(t.Status), "已"))
	}
	res := s.db.WithContext(ctx).Model(&Ticket{}).Where("id = ? AND status = ?", t.ID, t.Status).
		Updates(map[string]any{"status": TicketReturned, "updated_at": d.At})
	if res.Error != nil {
		return fmt.Errorf("models: return ticket %s: %w", t.Number, res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ECONFLICT, "")
	}
	from := t.Status
	t.Status = TicketReturned
	return s.addTicketEvent(ctx, TicketEvent{TicketID: t.ID, Change: EventStatus, From: string(from), To: string(TicketReturned),
		Reason: "退办：" + reason, Actor: d.By, At: d.At})
}

func (s *Store) addTicketEvent(ctx context.Context, e TicketEvent) error {
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("models: record ticket event %s: %w", e.Change, err)
	}
	return nil
}
