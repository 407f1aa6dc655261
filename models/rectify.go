package models

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The rectification list (整改清单): a problem found — by a leader or the
// supervision team, on its own or from a ticket or a dispatch — is registered
// (立项) and assigned (交办) to a unit in one step, classed 即知即改, 限时整改
// or 无法整改. The unit takes it up (落实) and reports back with evidence
// (反馈); someone other than the doer verifies it (核查), and a failed
// verification reopens it; the weekly 整改公示 publishes the verified items
// and closes them (销号). An item stands as 无法整改 only with a leader's
// approval, through the approval chain of requests (request_store.go), and
// is reported up monthly.

// RectifyClass is how a problem on the rectification list is to be fixed.
type RectifyClass string

// Rectification classes.
const (
	RectifyQuick     RectifyClass = "即知即改" // fix at once: a short limit (rules.rectify.quick_limit)
	RectifyTimed     RectifyClass = "限时整改" // fix by a date
	RectifyUnfixable RectifyClass = "无法整改" // cannot be fixed now: explained, approved, reported up
)

// RectifyClasses lists the classes in the order lists and reports show them.
var RectifyClasses = []RectifyClass{RectifyQuick, RectifyTimed, RectifyUnfixable}

// RectifyState is where an item of the rectification list stands.
type RectifyState string

// Rectification states, in the order an item moves through them.
const (
	RectifyPending  RectifyState = "待审批" // 无法整改 awaiting a leader's approval
	RectifyAssigned RectifyState = "已交办" // registered and assigned, not yet taken up
	RectifyWorking  RectifyState = "整改中" // taken up (落实), or reopened by a failed 核查
	RectifyReported RectifyState = "待核查" // the unit reported it fixed, with evidence (反馈)
	RectifyVerified RectifyState = "待公示" // verified (核查通过), awaiting the weekly 公示
	RectifyClosed   RectifyState = "已销号" // published (公示) and closed
	RectifyDeferred RectifyState = "已报备" // 无法整改 approved: on the list, reported up monthly
)

// OpenRectifyStates are the states of an item not yet closed.
var OpenRectifyStates = []RectifyState{RectifyPending, RectifyAssigned, RectifyWorking, RectifyReported, RectifyVerified, RectifyDeferred}

// RectifyStates are all the states: the open ones, then RectifyClosed.
var RectifyStates = append(slices.Clone(OpenRectifyStates), RectifyClosed)

// WorkRectifyStates are the states in which the unit owes the work: the
// overdue ladder watches an item only in them.
var WorkRectifyStates = []RectifyState{RectifyAssigned, RectifyWorking}

// Rectification is one item of the rectification list, assigned to a unit.
// Chat names it by its Code (Z12), apart from dispatches (D12) and tickets.
type Rectification struct {
	ID           uint         `gorm:"primaryKey"`
	DepartmentID uint         `gorm:"not null;index"`
	Department   *Department  `gorm:"constraint:OnDelete:RESTRICT"`
	Class        RectifyClass `gorm:"size:16;not null;index"`
	State        RectifyState `gorm:"size:16;not null;index"`
	Problem      string       `gorm:"type:text;not null"`
	// Reason says why the problem cannot be fixed now (无法整改).
	Reason   string     `gorm:"type:text"`
	Deadline *time.Time `gorm:"index"`
	// TicketNumber and DispatchID name the ticket or dispatch the problem was
	// found in, when it was.
	TicketNumber string  `gorm:"size:64;index"`
	DispatchID   *uint   `gorm:"index"`
	IssuerID     uint    `gorm:"not null;index"`
	Issuer       *Member `gorm:"constraint:OnDelete:RESTRICT"`
	// Source is the callback message that registered it ("route:msgid").
	Source   *string   `gorm:"size:191;uniqueIndex"`
	IssuedAt time.Time `gorm:"not null"`
	TakenAt  *time.Time
	// ReportedAt, ReportedBy and Evidence are the unit's last report (反馈);
	// EvidenceRefs refer to the photos and files it came with, where the
	// route carried them.
	ReportedAt   *time.Time
	ReportedBy   string `gorm:"size:64"`
	Evidence     string `gorm:"type:text"`
	EvidenceRefs StringList
	VerifiedAt   *time.Time
	VerifiedBy   string `gorm:"size:64"`
	// Reopened counts the failed verifications.
	Reopened  int        `gorm:"not null"`
	ClosedAt  *time.Time `gorm:"index"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Code is the short id people type: Z12.
func (r *Rectification) Code() string { return fmt.Sprintf("Z%d", r.ID) }

// ParseItemCode reads an item's code, Z12 or z12, as its ID.
func ParseItemCode(s string) (uint, bool) {
	if len(s) < 2 || (s[0] != 'Z' && s[0] != 'z') {
		return 0, false
	}
	id, err := strconv.ParseUint(s[1:], 10, 32)
	if err != nil || id == 0 {
		return 0, false
	}
	return uint(id), true
}

// Open reports whether the item is not yet closed (销号).
func (r *Rectification) Open() bool { return r.State != RectifyClosed }

// Owed reports whether the unit owes the work (WorkRectifyStates).
func (r *Rectification) Owed() bool { return slices.Contains(WorkRectifyStates, r.State) }

// Overdue reports whether the unit owes the work and it is Overdue at now.
func (r *Rectification) Overdue(now time.Time) bool { return r.Owed() && Overdue(r.Deadline, now) }

// RectifyStepKind is one step of an item after it was registered.
type RectifyStepKind string

// Rectification steps, as RectifyEvent.Step records them.
const (
	RectifyIssue   RectifyStepKind = "issue"   // 立项 and 交办, by the issuer
	RectifyTake    RectifyStepKind = "take"    // 落实: the unit takes it up (签收)
	RectifyReport  RectifyStepKind = "report"  // 反馈: the unit reports it fixed, with evidence
	RectifyPass    RectifyStepKind = "pass"    // 核查通过, by someone other than the doer
	RectifyFail    RectifyStepKind = "fail"    // 核查不通过: reopened, with the verifier's note
	RectifyPublish RectifyStepKind = "publish" // 公示 and 销号, by the weekly job
	RectifyAsk     RectifyStepKind = "ask"     // 无法整改 asked for, awaiting a leader's approval
	RectifyDefer   RectifyStepKind = "defer"   // 无法整改 approved by a leader
	RectifyRefuse  RectifyStepKind = "refuse"  // 无法整改 refused by a leader: to be fixed by Until
)

// RectifyEvent records one step of an item: who took it, when, with what words.
type RectifyEvent struct {
	ID     uint            `gorm:"primaryKey"`
	ItemID uint            `gorm:"not null;index"`
	Step   RectifyStepKind `gorm:"column:kind;size:16;not null"`
	Actor  string          `gorm:"size:64"`
	Text   string          `gorm:"type:text"`
	At     time.Time       `gorm:"not null"`
}

// SubjectRectification is an item of the rectification list on the overdue
// ladder, beside tickets and dispatches.
const SubjectRectification AlertSubject = "rectify"
