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

// The approval chain of a request about a ticket: a unit's member applies,
// the head of the unit reviews (a head's own request skips the review), a
// leader decides. One chain serves every kind of request; the kind says what
// the leader's approval does: 退办 returns the ticket, 延期 moves its deadline.

// RequestKind says what a TicketRequest asks for.
type RequestKind string

// Kinds of request.
const (
	RequestKindReturn    RequestKind = "return"    // 退办: the ticket is returned (TicketReturned)
	RequestKindExtension RequestKind = "extension" // 延期: the deadline moves to ExtendTo
)

// RequestKinds lists every kind of request.
var RequestKinds = []RequestKind{RequestKindReturn, RequestKindExtension}

// Chinese names the kind as people know it: 退办, 延期.
func (k RequestKind) Chinese() string {
	return requestRules[k].name
}

// Ticket changes of the approval chains. An approved 退办 is an EventStatus to
// TicketReturned, an approved 延期 an EventExtension.
const (
	EventReturnRequested    TicketChange = "return_requested"    // a member asked; Reason is theirs
	EventReturnReviewed     TicketChange = "return_reviewed"     // the unit's head agreed; Reason is the head's note
	EventReturnRejected     TicketChange = "return_rejected"     // the head or a leader refused; Reason is theirs
	EventExtensionRequested TicketChange = "extension_requested" // a member asked; To is the deadline asked for
	EventExtensionReviewed  TicketChange = "extension_reviewed"  // the unit's head agreed
	EventExtensionRejected  TicketChange = "extension_rejected"  // the head or a leader refused
)

// requestRule is what sets one kind of request apart.
type requestRule struct {
	name                         string
	requested, reviewed, refused TicketChange
	// grid: the ticket's grid (双派单) may apply as well as its department.
	grid bool
}

var requestRules = map[RequestKind]requestRule{
	RequestKindReturn:    {"退办", EventReturnRequested, EventReturnReviewed, EventReturnRejected, true},
	RequestKindExtension: {"延期", EventExtensionRequested, EventExtensionReviewed, EventExtensionRejected, false},
}

// RequestState is where a TicketRequest stands in the chain.
type RequestState string

// Request states.
const (
	RequestPendingHead   RequestState = "待部门审核"
	RequestPendingLeader RequestState = "待领导批准"
	RequestApproved      RequestState = "已批准"
	RequestRejected      RequestState = "已驳回"
)

// PendingRequestStates are the states of a request still being decided.
var PendingRequestStates = []RequestState{RequestPendingHead, RequestPendingLeader}

// TicketRequest is a member's request about a ticket (退办 or 延期): the unit's
// head reviews it, then a leader approves it; only then does it take effect.
// The table keeps the name it had when returns were the only kind.
type TicketRequest struct {
	ID       uint        `gorm:"primaryKey"`
	Kind     RequestKind `gorm:"size:16;not null;default:return;index"`
	TicketID uint        `gorm:"not null;index"`
	Ticket   *Ticket     `gorm:"constraint:OnDelete:CASCADE"`
	// DepartmentID is the applicant's unit (the ticket's, or its grid's
	// under 双派单 for a 退办): its head reviews the request.
	DepartmentID uint   `gorm:"not null;default:0;index"`
	RequestedBy  string `gorm:"size:64;not null"`
	Reason       string `gorm:"type:text"`
	// ExtendTo is the deadline a 延期 asks for.
	ExtendTo    *time.Time
	RequestedAt time.Time    `gorm:"not null"`
	State       RequestState `gorm:"size:16;not null;index"`
	HeadBy      string       `gorm:"size:64"`
	HeadAt      *time.Time
	HeadNote    string `gorm:"type:text"`
	LeaderBy    string `gorm:"size:64"`
	LeaderAt    *time.Time
	LeaderNote  string `gorm:"type:text"`
}

// TableName keeps the table of the first kind, 退办.
func (TicketRequest) TableName() string { return "return_requests" }

// TicketApplication is a request about a ticket (申请退办, 申请延期).
type TicketApplication struct {
	Kind   RequestKind
	Number string
	// DepartmentIDs are the units the applicant answers for; the ticket must
	// be one of theirs (its department, or for a 退办 its grid).
	DepartmentIDs []uint
	By            string // the applicant's userid
	Reason        string
	// ExtendTo is the deadline a 延期 asks for: later than the current one.
	ExtendTo *time.Time
	At       time.Time
	// Heads are those of DepartmentIDs the applicant is the head of: their
	// requests need no review of their own and go straight to a leader.
	Heads []uint
}

// SubmitRequest records a request about an open ticket of the applicant's
// units, pending the head's review (or a leader's approval when the applicant
// is the head). It refuses, changing nothing, a missing reason, an unknown or
// closed ticket, a ticket of another unit, a second pending request of the
// same kind, and a 延期 without a deadline later than the current one.
func (s *Store) SubmitRequest(ctx context.Context, a TicketApplication) (*TicketRequest, error) {
	rule, ok := requestRules[a.Kind]
	if !ok {
		return nil, fmt.Errorf("models: no request kind %q", a.Kind)
	}
	reason := strings.TrimSpace(a.Reason)
	if reason == "" {
		return nil, Errorf(EINVALID, "请说明%s理由", rule.name)
	}
	var out TicketRequest
	err := s.Tx(ctx, func(tx *Store) error {
		var t Ticket
		if err := findTicket(tx.db.WithContext(ctx), a.Number, &t); err != nil {
			return err
		}
		if !t.Open() {
			return Errorf(EINVALID, "工单 %s %s，不能申请%s", t.Number, t.Status, rule.name)
		}
		dept := ticketDepartment(&t, a.DepartmentIDs, rule.grid)
		if dept == 0 {
			return Errorf(EFORBIDDEN, "工单 %s 不是本单位承办的工单，不能申请%s", t.Number, rule.name)
		}
		event := TicketEvent{TicketID: t.ID, Change: rule.requested, Reason: reason, Actor: a.By, At: a.At}
		if a.Kind == RequestKindExtension {
			if a.ExtendTo == nil {
				return Errorf(EINVALID, "请写明延期后的期限")
			}
			if err := tx.extensionRefusal(&t, *a.ExtendTo); err != nil {
				return err
			}
			event.From, event.To = eventTime(t.Deadline, tx.loc), eventTime(a.ExtendTo, tx.loc)
		}
		var n int64
		err := tx.db.WithContext(ctx).Model(&TicketRequest{}).
			Where("ticket_id = ? AND kind = ? AND state IN ?", t.ID, a.Kind, PendingRequestStates).Count(&n).Error
		if err != nil {
			return fmt.Errorf("models: find %s requests of %s: %w", a.Kind, t.Number, err)
		}
		if n > 0 {
			return Errorf(ECONFLICT, "工单 %s 已有%s申请在审批中", t.Number, rule.name)
		}
		out = TicketRequest{Kind: a.Kind, TicketID: t.ID, DepartmentID: dept, RequestedBy: a.By, Reason: reason,
			RequestedAt: a.At, State: RequestPendingHead}
		if a.Kind == RequestKindExtension {
			to := a.ExtendTo.In(tx.loc)
			out.ExtendTo = &to
		}
		if slices.Contains(a.Heads, dept) {
			at := a.At
			out.State, out.HeadBy, out.HeadAt = RequestPendingLeader, a.By, &at
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&out).Error; err != nil {
			return fmt.Errorf("models: create %s request for %s: %w", a.Kind, t.Number, err)
		}
		out.Ticket = &t
		return tx.addTicketEvent(ctx, event)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
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

// PendingRequest returns the request of a kind about a ticket still being
// decided, with the ticket, or ENOTFOUND.
func (s *Store) PendingRequest(ctx context.Context, kind RequestKind, number string) (*TicketRequest, error) {
	var r TicketRequest
	table := s.Table(&TicketRequest{})
	err := s.db.WithContext(ctx).Preload("Ticket").
		Joins("JOIN "+s.Table(&Ticket{})+" t ON t.id = "+table+".ticket_id").
		Where("t.number = ? AND "+table+".kind = ? AND "+table+".state IN ?", number, kind, PendingRequestStates).
		Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "工单 %s 没有待审批的%s申请", number, kind.Chinese())
	}
	if err != nil {
		return nil, fmt.Errorf("models: find %s request of %s: %w", kind, number, err)
	}
	return &r, nil
}

// PendingRequests returns the requests in a state, oldest first, with their
// tickets: of one kind, or of every kind when kind is ""; with deptIDs only
// those of the units.
func (s *Store) PendingRequests(ctx context.Context, kind RequestKind, state RequestState, deptIDs ...uint) ([]TicketRequest, error) {
	q := s.db.WithContext(ctx).Preload("Ticket").Where("state = ?", state)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if len(deptIDs) > 0 {
		q = q.Where("department_id IN ?", deptIDs)
	}
	var out []TicketRequest
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list requests %s %s: %w", kind, state, err)
	}
	return out, nil
}

// RequestDecision is a head's review or a leader's decision on a request.
type RequestDecision struct {
	ID uint
	// State is the state the decider saw: RequestPendingHead for the head's
	// review, RequestPendingLeader for the leader's decision.
	State   RequestState
	Approve bool
	By      string // the decider's userid
	Note    string
	At      time.Time
}

// DecideRequest takes a decision: the head's approval passes the request to a
// leader; a leader's approval makes it take effect (a 退办 returns the ticket
// with an EventStatus, a 延期 moves its deadline with an EventExtension, both
// by the leader); either's refusal closes it. It fails with ECONFLICT when the
// request is no longer in the state the decider saw, and refuses an approval
// that no longer fits the ticket (closed meanwhile, or a deadline already
// later than the one asked for). The returned request carries the ticket as
// it now stands.
func (s *Store) DecideRequest(ctx context.Context, d RequestDecision) (*TicketRequest, error) {
	var out TicketRequest
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Preload("Ticket").Take(&out, d.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Errorf(ENOTFOUND, "未找到申请")
			}
			return fmt.Errorf("models: find request %d: %w", d.ID, err)
		}
		rule := requestRules[out.Kind]
		if out.State != d.State {
			return Errorf(ECONFLICT, "该%s申请当前%s，请刷新后重试", rule.name, out.State)
		}
		at := d.At
		set := map[string]any{}
		event := TicketEvent{TicketID: out.TicketID, Change: rule.refused, Reason: d.Note, Actor: d.By, At: d.At}
		out.State = RequestRejected
		switch d.State {
		case RequestPendingHead:
			set["head_by"], set["head_at"], set["head_note"] = d.By, &at, d.Note
			out.HeadBy, out.HeadAt, out.HeadNote = d.By, &at, d.Note
			if d.Approve {
				out.State, event.Change = RequestPendingLeader, rule.reviewed
			}
		case RequestPendingLeader:
			set["leader_by"], set["leader_at"], set["leader_note"] = d.By, &at, d.Note
			out.LeaderBy, out.LeaderAt, out.LeaderNote = d.By, &at, d.Note
			if d.Approve {
				if err := tx.grant(ctx, &out, d); err != nil {
					return err
				}
				out.State = RequestApproved
			}
		default:
			return fmt.Errorf("models: no decision on a request %s", d.State)
		}
		set["state"] = out.State
		res := tx.db.WithContext(ctx).Model(&TicketRequest{}).Where("id = ? AND state = ?", d.ID, d.State).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("models: decide request %d: %w", d.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "该%s申请已由他人处理，请刷新后重试", rule.name)
		}
		if out.State == RequestApproved {
			return nil // grant recorded the ticket's change
		}
		return tx.addTicketEvent(ctx, event)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// grant makes an approved request take effect on its ticket.
func (s *Store) grant(ctx context.Context, r *TicketRequest, d RequestDecision) error {
	switch r.Kind {
	case RequestKindReturn:
		return s.returnTicket(ctx, r.Ticket, r.Reason, d)
	case RequestKindExtension:
		if r.ExtendTo == nil {
			return fmt.Errorf("models: extension request %d without a deadline", r.ID)
		}
		return s.extend(ctx, r.Ticket, *r.ExtendTo, r.Reason, d.By, d.At)
	}
	return fmt.Errorf("models: no request kind %q", r.Kind)
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
