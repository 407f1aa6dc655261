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

// The approval chain of a request: a member applies, a reviewer checks it
// (the unit's head for a 退办 or a 延期, the 12345 office for a 剔除; a
// reviewer's own request skips the review, and a 无法整改 has none), a leader
// decides. One chain serves every kind of request; the kind says what the
// leader's approval does: 退办 returns the ticket, 延期 moves its deadline,
// 剔除 takes it out of the 三率, 无法整改 lets an item of the rectification
// list stand deferred and reported up.

// RequestKind says what a TicketRequest asks for.
type RequestKind string

// Kinds of request.
const (
	RequestKindReturn    RequestKind = "return"    // 退办: the ticket is returned (TicketReturned)
	RequestKindExtension RequestKind = "extension" // 延期: the deadline moves to ExtendTo
	RequestKindExclusion RequestKind = "exclusion" // 剔除: the ticket leaves the 三率 (Excluded)
	RequestKindUnfixable RequestKind = "unfixable" // 无法整改: an item of the rectification list is deferred (RectifyDeferred)
)

// RequestKinds lists every kind of request.
var RequestKinds = []RequestKind{RequestKindReturn, RequestKindExtension, RequestKindExclusion, RequestKindUnfixable}

// Chinese names the kind as people know it: 退办, 延期, 剔除, 无法整改.
func (k RequestKind) Chinese() string {
	return requestRules[k].name
}

// AboutItem reports whether a request of the kind is about an item of the
// rectification list rather than a ticket.
func (k RequestKind) AboutItem() bool { return requestRules[k].item }

// Review is the state in which a request of the kind awaits its review:
// RequestPendingHead, RequestPendingOffice, or "" when a leader decides
// alone.
func (k RequestKind) Review() RequestState { return requestRules[k].review }

// Ticket changes of the approval chains. An approved 退办 is an EventStatus to
// TicketReturned, an approved 延期 an EventExtension, an approved 剔除 an
// EventExcluded.
const (
	EventReturnRequested    TicketChange = "return_requested"    // a member asked; Reason is theirs
	EventReturnReviewed     TicketChange = "return_reviewed"     // the unit's head agreed; Reason is the head's note
	EventReturnRejected     TicketChange = "return_rejected"     // the head or a leader refused; Reason is theirs
	EventExtensionRequested TicketChange = "extension_requested" // a member asked; To is the deadline asked for
	EventExtensionReviewed  TicketChange = "extension_reviewed"  // the unit's head agreed
	EventExtensionRejected  TicketChange = "extension_rejected"  // the head or a leader refused
	EventExclusionRequested TicketChange = "exclusion_requested" // a member or the 12345 office asked
	EventExclusionReviewed  TicketChange = "exclusion_reviewed"  // the 12345 office agreed
	EventExclusionRejected  TicketChange = "exclusion_rejected"  // the 12345 office or a leader refused
	EventExcluded           TicketChange = "excluded"            // a leader approved: the ticket leaves the 三率
)

// requestRule is what sets one kind of request apart.
type requestRule struct {
	name                         string
	requested, reviewed, refused TicketChange
	// review is the state of the review stage; "" when there is none.
	review RequestState
	// grid: the ticket's grid (双派单) may apply as well as its department.
	grid bool
	// open: the ticket must be open (a 剔除 is mostly of a closed one).
	open bool
	// item: the request is about an item of the rectification list.
	item bool
}

var requestRules = map[RequestKind]requestRule{
	RequestKindReturn:    {"退办", EventReturnRequested, EventReturnReviewed, EventReturnRejected, RequestPendingHead, true, true, false},
	RequestKindExtension: {"延期", EventExtensionRequested, EventExtensionReviewed, EventExtensionRejected, RequestPendingHead, false, true, false},
	RequestKindExclusion: {"剔除", EventExclusionRequested, EventExclusionReviewed, EventExclusionRejected, RequestPendingOffice, false, false, false},
	RequestKindUnfixable: {name: "无法整改", item: true},
}

// RequestState is where a TicketRequest stands in the chain.
type RequestState string

// Request states.
const (
	RequestPendingHead   RequestState = "待部门审核"
	RequestPendingOffice RequestState = "待热线办审核"
	RequestPendingLeader RequestState = "待领导批准"
	RequestApproved      RequestState = "已批准"
	RequestRejected      RequestState = "已驳回"
)

// PendingRequestStates are the states of a request still being decided.
var PendingRequestStates = []RequestState{RequestPendingHead, RequestPendingOffice, RequestPendingLeader}

// TicketRequest is a member's request about a ticket (退办, 延期, 剔除) or an
// item of the rectification list (无法整改): a reviewer checks it (Head…),
// then a leader approves it; only then does it take effect. The table keeps
// the name it had when returns were the only kind.
type TicketRequest struct {
	ID   uint        `gorm:"primaryKey"`
	Kind RequestKind `gorm:"size:16;not null;default:return;index"`
	// TicketID is the ticket of a request about one, ItemID the item of one
	// about an item (RequestKind.AboutItem).
	TicketID *uint          `gorm:"index"`
	Ticket   *Ticket        `gorm:"constraint:OnDelete:CASCADE"`
	ItemID   *uint          `gorm:"index"`
	Item     *Rectification `gorm:"constraint:OnDelete:CASCADE"`
	// DepartmentID is the applicant's unit (the ticket's, or its grid's
	// under 双派单 for a 退办; the item's): its head reviews a 退办 or 延期.
	DepartmentID uint   `gorm:"not null;default:0;index"`
	RequestedBy  string `gorm:"size:64;not null"`
	Reason       string `gorm:"type:text"`
	// ExtendTo is the deadline a 延期 asks for.
	ExtendTo    *time.Time
	RequestedAt time.Time    `gorm:"not null"`
	State       RequestState `gorm:"size:16;not null;index"`
	// HeadBy, HeadAt and HeadNote are the review: the unit's head's, or the
	// 12345 office's for a 剔除.
	HeadBy     string `gorm:"size:64"`
	HeadAt     *time.Time
	HeadNote   string `gorm:"type:text"`
	LeaderBy   string `gorm:"size:64"`
	LeaderAt   *time.Time
	LeaderNote string `gorm:"type:text"`
}

// TableName keeps the table of the first kind, 退办.
func (TicketRequest) TableName() string { return "return_requests" }

// Subject names what the request is about: 工单 2024112700123, 整改事项 Z12.
// The Ticket or Item must be loaded.
func (r *TicketRequest) Subject() string {
	switch {
	case r.Item != nil:
		return "整改事项 " + r.Item.Code()
	case r.Ticket != nil:
		return "工单 " + r.Ticket.Number
	}
	return "申请" + fmt.Sprint(r.ID)
}

// TicketApplication is a request (申请退办, 申请延期, 申请剔除, 无法整改).
type TicketApplication struct {
	Kind RequestKind
	// Number is the ticket's number; for a request about an item
	// (RequestKind.AboutItem), ItemID is the item's ID.
	Number string
	ItemID uint
	// DepartmentIDs are the units the applicant answers for; the ticket must
	// be one of theirs (its department, or for a 退办 its grid), and so must
	// the item, unless the applicant registered it.
	DepartmentIDs []uint
	By            string // the applicant's userid
	Reason        string
	// ExtendTo is the deadline a 延期 asks for: later than the current one.
	ExtendTo *time.Time
	At       time.Time
	// Heads are those of DepartmentIDs the applicant is the head of: their
	// 退办 and 延期 need no review and go straight to a leader.
	Heads []uint
	// Office marks an applicant of the 12345 office: it may ask a 剔除 of any
	// unit's ticket, and its own needs no review.
	Office bool
}

// SubmitRequest records a request pending its review, or a leader's approval
// when it needs none: the applicant is the reviewer (a head of the unit for a
// 退办 or 延期, the 12345 office for a 剔除), or the kind has no review
// (无法整改). It refuses, changing nothing, a missing reason, an unknown
// subject, a ticket or item of another unit, a second pending request of the
// same kind, and what the kind cannot ask for: a 退办 or 延期 of a closed
// ticket, a 延期 without a deadline later than the current one, a 剔除 of a
// ticket already excluded, a 无法整改 of an item past its work (reported,
// verified, closed or already deferred).
func (s *Store) SubmitRequest(ctx context.Context, a TicketApplication) (*TicketRequest, error) {
	rule, ok := requestRules[a.Kind]
	if !ok {
		return nil, fmt.Errorf("models: no request kind %q", a.Kind)
	}
	reason := strings.TrimSpace(a.Reason)
	if reason == "" {
		return nil, Errorf(EINVALID, "请说明%s理由", rule.name)
	}
	out := TicketRequest{Kind: a.Kind, RequestedBy: a.By, Reason: reason, RequestedAt: a.At, State: rule.review}
	err := s.Tx(ctx, func(tx *Store) error {
		var record func() error
		var err error
		if rule.item {
			record, err = tx.itemApplication(ctx, a, &out)
		} else {
			record, err = tx.ticketApplication(ctx, a, rule, &out)
		}
		if err != nil {
			return err
		}
		var n int64
		q := tx.db.WithContext(ctx).Model(&TicketRequest{}).Where("kind = ? AND state IN ?", a.Kind, PendingRequestStates)
		if rule.item {
			q = q.Where("item_id = ?", *out.ItemID)
		} else {
			q = q.Where("ticket_id = ?", *out.TicketID)
		}
		if err := q.Count(&n).Error; err != nil {
			return fmt.Errorf("models: find %s requests of %s: %w", a.Kind, out.Subject(), err)
		}
		if n > 0 {
			return Errorf(ECONFLICT, "%s 已有%s申请在审批中", out.Subject(), rule.name)
		}
		reviewer := (rule.review == RequestPendingHead && slices.Contains(a.Heads, out.DepartmentID)) ||
			(rule.review == RequestPendingOffice && a.Office)
		if reviewer {
			at := a.At
			out.HeadBy, out.HeadAt = a.By, &at
		}
		if reviewer || rule.review == "" {
			out.State = RequestPendingLeader
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&out).Error; err != nil {
			return fmt.Errorf("models: create %s request for %s: %w", a.Kind, out.Subject(), err)
		}
		return record()
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// PendingRequest returns the request of a kind still being decided, with its
// ticket or item, or ENOTFOUND. subject is the ticket's number, or for a
// request about an item the item's code (Z12).
func (s *Store) PendingRequest(ctx context.Context, kind RequestKind, subject string) (*TicketRequest, error) {
	var r TicketRequest
	table := s.Table(&TicketRequest{})
	q := s.db.WithContext(ctx).Preload("Ticket").Preload("Item").Where(table+".kind = ? AND "+table+".state IN ?", kind, PendingRequestStates)
	if kind.AboutItem() {
		id, ok := ParseItemCode(subject)
		if !ok {
			return nil, Errorf(EINVALID, "整改事项编号应如 Z12")
		}
		q = q.Where("item_id = ?", id)
	} else {
		q = q.Joins("JOIN "+s.Table(&Ticket{})+" t ON t.id = "+table+".ticket_id").Where("t.number = ?", subject)
	}
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		noun := "工单 "
		if kind.AboutItem() {
			noun = "整改事项 "
		}
		return nil, Errorf(ENOTFOUND, "%s%s 没有待审批的%s申请", noun, subject, kind.Chinese())
	}
	if err != nil {
		return nil, fmt.Errorf("models: find %s request of %s: %w", kind, subject, err)
	}
	return &r, nil
}

// PendingRequests returns the requests in a state, oldest first, with their
// tickets or items: of one kind, or of every kind when kind is ""; with
// deptIDs only those of the units.
func (s *Store) PendingRequests(ctx context.Context, kind RequestKind, state RequestState, deptIDs ...uint) ([]TicketRequest, error) {
	q := s.db.WithContext(ctx).Preload("Ticket").Preload("Item").Where("state = ?", state)
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

// ApprovedRequests returns the requests of a kind a leader approved in p,
// oldest first, with their tickets (and the tickets' departments) or items.
func (s *Store) ApprovedRequests(ctx context.Context, kind RequestKind, p Period) ([]TicketRequest, error) {
	var out []TicketRequest
	err := s.db.WithContext(ctx).Preload("Ticket").Preload("Ticket.Department").Preload("Item").Preload("Item.Department").
		Where("kind = ? AND state = ? AND leader_at >= ? AND leader_at < ?", kind, RequestApproved, p.Start, p.End).
		Order("leader_at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: approved %s requests: %w", kind, err)
	}
	return out, nil
}

// RequestDecision is a review or a leader's decision on a request.
type RequestDecision struct {
	ID uint
	// State is the state the decider saw: the kind's review state for the
	// review, RequestPendingLeader for the leader's decision.
	State   RequestState
	Approve bool
	By      string // the decider's userid
	Note    string
	At      time.Time
	// Until is the deadline of an item a leader refuses to let stand as
	// 无法整改 while it awaits approval: it is to be fixed by then (限时整改).
	Until *time.Time
}

// DecideRequest takes a decision: the reviewer's approval passes the request
// to a leader; a leader's approval makes it take effect (a 退办 returns the
// ticket with an EventStatus, a 延期 moves its deadline with an
// EventExtension, a 剔除 excludes the ticket with an EventExcluded, a 无法整改
// defers the item, all by the leader); either's refusal closes it (a refused
// 无法整改 of an item awaiting approval makes it 限时整改 due Until). It fails
// with ECONFLICT when the request is no longer in the state the decider saw,
// and refuses an approval that no longer fits its subject (a ticket closed
// meanwhile, a deadline already later than the one asked for, an item past
// its work). The returned request carries its subject as it now stands.
func (s *Store) DecideRequest(ctx context.Context, d RequestDecision) (*TicketRequest, error) {
	var out TicketRequest
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Preload("Ticket").Preload("Item").Take(&out, d.ID).Error; err != nil {
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
		out.State = RequestRejected
		switch {
		case d.State == RequestPendingLeader:
			set["leader_by"], set["leader_at"], set["leader_note"] = d.By, &at, d.Note
			out.LeaderBy, out.LeaderAt, out.LeaderNote = d.By, &at, d.Note
			if d.Approve {
				out.State = RequestApproved
			}
		case d.State == rule.review && d.State != "":
			set["head_by"], set["head_at"], set["head_note"] = d.By, &at, d.Note
			out.HeadBy, out.HeadAt, out.HeadNote = d.By, &at, d.Note
			if d.Approve {
				out.State = RequestPendingLeader
			}
		default:
			return fmt.Errorf("models: no decision on a %s request %s", out.Kind, d.State)
		}
		set["state"] = out.State
		res := tx.db.WithContext(ctx).Model(&TicketRequest{}).Where("id = ? AND state = ?", d.ID, d.State).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("models: decide request %d: %w", d.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return Errorf(ECONFLICT, "该%s申请已由他人处理，请刷新后重试", rule.name)
		}
		return tx.follow(ctx, &out, rule, d)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Request returns a request by ID with its ticket or item, or ENOTFOUND.
func (s *Store) Request(ctx context.Context, id uint) (*TicketRequest, error) {
	var r TicketRequest
	err := s.db.WithContext(ctx).Preload("Ticket").Preload("Item").Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "未找到该申请")
	}
	if err != nil {
		return nil, fmt.Errorf("models: find request %d: %w", id, err)
	}
	return &r, nil
}
