package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Ticket changes of the 退办 chain; the return itself is an EventStatus
// from the open status to TicketReturned.
const (
	EventReturnRequested TicketChange = "return_requested" // a handler asked; Reason is theirs
	EventReturnReviewed  TicketChange = "return_reviewed"  // the department head agreed; Reason is the head's note
	EventReturnRejected  TicketChange = "return_rejected"  // the head or a leader refused; Reason is theirs
)

// ReturnApplication is a request to return a ticket (申请退办).
type ReturnApplication struct {
	Number string
	// DepartmentIDs are the departments the applicant answers for; the
	// ticket must be one of theirs (its department or its grid).
	DepartmentIDs []uint
	By            string // the applicant's userid
	Reason        string
	At            time.Time
	// Heads are those of DepartmentIDs the applicant is the head of: their
	// requests need no review of their own and go straight to a leader.
	Heads []uint
}

// RequestReturn records a request to return an open ticket of the
// applicant's departments, pending the head's review (or a leader's approval
// when the applicant is the head). It refuses a missing reason, an unknown or
// closed ticket, a ticket of another department, and a second pending request.
func (s *Store) RequestReturn(ctx context.Context, a ReturnApplication) (*ReturnRequest, error) {
	reason := strings.TrimSpace(a.Reason)
	if reason == "" {
		return nil, Errorf(EINVALID, "请说明退办理由")
	}
	var out ReturnRequest
	err := s.Tx(ctx, func(tx *Store) error {
		var t Ticket
		if err := findTicket(tx.db.WithContext(ctx), a.Number, &t); err != nil {
			return err
		}
		if !t.Open() {
			return Errorf(EINVALID, "工单 %s %s，不能申请退办", t.Number, t.Status)
		}
		dept := ticketDepartment(&t, a.DepartmentIDs)
		if dept == 0 {
			return Errorf(EFORBIDDEN, "工单 %s 不是本单位承办的工单，不能申请退办", t.Number)
		}
		var n int64
		err := tx.db.WithContext(ctx).Model(&ReturnRequest{}).
			Where("ticket_id = ? AND state IN ?", t.ID, PendingReturnStates).Count(&n).Error
		if err != nil {
			return fmt.Errorf("models: find return requests of %s: %w", t.Number, err)
		}
		if n > 0 {
			return Errorf(ECONFLICT, "工单 %s 已有退办申请在审批中", t.Number)
		}
		out = ReturnRequest{TicketID: t.ID, DepartmentID: dept, RequestedBy: a.By, Reason: reason,
			RequestedAt: a.At, State: ReturnPendingHead}
		if slices.Contains(a.Heads, dept) {
			at := a.At
			out.State, out.HeadBy, out.HeadAt = ReturnPendingLeader, a.By, &at
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&out).Error; err != nil {
			return fmt.Errorf("models: create return request for %s: %w", t.Number, err)
		}
		out.Ticket = &t
		return tx.addTicketEvent(ctx, TicketEvent{TicketID: t.ID, Change: EventReturnRequested, Reason: reason, Actor: a.By, At: a.At})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ticketDepartment returns which of deptIDs the ticket belongs to: its
// department first, then its grid; 0 when neither.
func ticketDepartment(t *Ticket, deptIDs []uint) uint {
	for _, id := range []*uint{t.DepartmentID, t.GridDepartmentID} {
		for _, d := range deptIDs {
			if id != nil && *id == d {
				return d
			}
		}
	}
	return 0
}

// PendingReturn returns the request of a ticket still being decided, with
// the ticket, or ENOTFOUND.
func (s *Store) PendingReturn(ctx context.Context, number string) (*ReturnRequest, error) {
	var r ReturnRequest
	err := s.db.WithContext(ctx).Preload("Ticket").
		Joins("JOIN "+s.Table(&Ticket{})+" t ON t.id = "+s.Table(&ReturnRequest{})+".ticket_id").
		Where("t.number = ? AND "+s.Table(&ReturnRequest{})+".state IN ?", number, PendingReturnStates).
		Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "工单 %s 没有待审批的退办申请", number)
	}
	if err != nil {
		return nil, fmt.Errorf("models: find return request of %s: %w", number, err)
	}
	return &r, nil
}

// PendingReturns returns the requests in a state, oldest first, with their
// tickets; with deptIDs only those of the departments.
func (s *Store) PendingReturns(ctx context.Context, state ReturnState, deptIDs ...uint) ([]ReturnRequest, error) {
	q := s.db.WithContext(ctx).Preload("Ticket").Where("state = ?", state)
	if len(deptIDs) > 0 {
		q = q.Where("department_id IN ?", deptIDs)
	}
	var out []ReturnRequest
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list return requests %s: %w", state, err)
	}
	return out, nil
}

// ReturnDecision is a head's review or a leader's decision on a request.
type ReturnDecision struct {
	ID uint
	// State is the state the decider saw: ReturnPendingHead for the head's
	// review, ReturnPendingLeader for the leader's decision.
	State   ReturnState
	Approve bool
	By      string // the decider's userid
	Note    string
	At      time.Time
}

// DecideReturn takes a decision: the head's approval passes the request to a
// leader, a leader's approval returns the ticket (TicketReturned, with an
// EventStatus), and either's refusal closes it. It fails with ECONFLICT when
// the request is no longer in the state the decider saw, and refuses to
// return a ticket that was closed meanwhile.
func (s *Store) DecideReturn(ctx context.Context, d ReturnDecision) (*ReturnRequest, error) {
	var out ReturnRequest
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Preload("Ticket").Take(&out, d.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Errorf(ENOTFOUND, "未找到退办申请")
			}
			return fmt.Errorf("models: find return request %d: %w", d.ID, err)
		}
		if out.State != d.State {
			return Errorf(ECONFLICT, "该退办申请当前%s，请刷新后重试", out.State)
		}
		at := d.At
		set := map[string]any{}
		event := TicketEvent{TicketID: out.TicketID, Change: EventReturnRejected, Reason: d.Note, Actor: d.By, At: d.At}
		switch {
		case d.State == ReturnPendingHead:
			set["head_by"], set["head_at"], set["head_note"] = d.By, &at, d.Note
			out.HeadBy, out.HeadAt, out.HeadNote = d.By, &at, d.Note
			out.State = ReturnRejected
			if d.Approve {
				out.State, event.Change = ReturnPendingLeader, EventReturnReviewed
			}
		case d.State == ReturnPendingLeader:
			set["leader_by"], set["leader_at"], set["leader_note"] = d.By, &at, d.Note
			out.LeaderBy, out.LeaderAt, out.LeaderNote = d.By, &at, d.Note
			out.State = ReturnRejected
			if d.Approve {
				if err := tx.returnTicket(ctx, out.Ticket, out.Reason, d); err != nil {
					return err
				}
				out.State = ReturnApproved
			}
		default:
			return fmt.Errorf("models: no decision on a return request %s", d.State)
		}
		set["state"] = out.State
		res := tx.db.WithContext(ctx).Model(&ReturnRequest{}).Where("id = ? AND state = ?", d.ID, d.State).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("models: decide return request %d: %w", d.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "该退办申请已由他人处理，请刷新后重试")
		}
		if out.State == ReturnApproved {
			return nil // returnTicket recorded the status event
		}
		return tx.addTicketEvent(ctx, event)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// returnTicket marks an open ticket returned (已退办) and records the change.
func (s *Store) returnTicket(ctx context.Context, t *Ticket, reason string, d ReturnDecision) error {
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
