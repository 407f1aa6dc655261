package models

import (
	"fmt"
	"time"
)

// DailyReport is a department's report of one working day (Day is "2006-01-02" in
// the configured zone). A resubmission replaces Text and bumps Revision; a report
// submitted after the report time is Late and goes out as its own 补报 message.
// PostedAt is set once the report has been put in the outbox, and cleared by a
// new revision, which then goes out too.
type DailyReport struct {
	ID            uint        `gorm:"primaryKey"`
	DepartmentID  uint        `gorm:"not null;uniqueIndex:idx_daily_reports_dept_day,priority:1"`
	Department    *Department `gorm:"constraint:OnDelete:CASCADE"`
	Day           string      `gorm:"size:10;not null;index;uniqueIndex:idx_daily_reports_dept_day,priority:2"`
	Text          string      `gorm:"type:text;not null"`
	SubmittedBy   string      `gorm:"size:64;not null"`
	SubmitterName string      `gorm:"size:64"`
	SubmittedAt   time.Time   `gorm:"not null"`
	Late          bool        `gorm:"not null"`
	Revision      int         `gorm:"not null"`
	Withdrawn     bool        `gorm:"not null"`
	PostedAt      *time.Time
	// PostedRevision is the revision that went out last; a later revision of
	// a posted report goes out again as a correction (更正).
	PostedRevision int `gorm:"not null"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ReportVersion is one person's version of a department's report of a day: a
// head and a reporter (日报联络员) who both report for a unit write versions of
// its one DailyReport, each person one (their latest submission; 补充日报
// extends the report as it stands into the sender's version). The report shows
// the latest version that stands; a person withdraws only their own, and the
// report then falls back to the latest other version, if any (see
// Store.WithdrawReport).
type ReportVersion struct {
	ID            uint         `gorm:"primaryKey"`
	ReportID      uint         `gorm:"not null;uniqueIndex:idx_report_versions_by,priority:1"`
	Report        *DailyReport `gorm:"constraint:OnDelete:CASCADE"`
	SubmittedBy   string       `gorm:"size:64;not null;uniqueIndex:idx_report_versions_by,priority:2"`
	SubmitterName string       `gorm:"size:64"`
	Text          string       `gorm:"type:text;not null"`
	SubmittedAt   time.Time    `gorm:"not null"`
	Late          bool         `gorm:"not null"`
	Withdrawn     bool         `gorm:"not null"`
}

// DispatchStatus is where a dispatch as a whole stands.
type DispatchStatus string

// Dispatch statuses.
const (
	DispatchOpen      DispatchStatus = "办理中"
	DispatchClosed    DispatchStatus = "已办结"
	DispatchCancelled DispatchStatus = "已撤销"
)

// TargetStatus is where one addressee of a dispatch (a DispatchTarget) stands.
type TargetStatus string

// Dispatch target statuses, in the order a target moves through them.
const (
	TargetPending  TargetStatus = "待签收"
	TargetSigned   TargetStatus = "已签收"
	TargetFeedback TargetStatus = "已反馈"
	TargetDone     TargetStatus = "已办结"
	TargetReturned TargetStatus = "已退回"
)

// StepKind is one kind of step of a dispatch: issuing it, a target's
// answer, or the issuer's decision.
type StepKind string

// Dispatch steps, as DispatchEvent.Step records them.
const (
	StepIssue    StepKind = "issue"    // 下达, by the issuer
	StepSign     StepKind = "sign"     // 签收, by a target
	StepFeedback StepKind = "feedback" // 反馈, by a target
	StepDone     StepKind = "done"     // 办结, by a target
	StepConfirm  StepKind = "confirm"  // 确认: the issuer closes the dispatch
	StepReturn   StepKind = "return"   // 退回: the issuer sends finished targets back to work
	StepCancel   StepKind = "cancel"   // 撤销, by the issuer
	StepVerify   StepKind = "verify"   // 核查通过: someone other than the targets verified it, which closes it
)

// DispatchKind says what a Dispatch was issued as.
type DispatchKind string

// Dispatch kinds.
const (
	DispatchDirect      DispatchKind = "调度" // a leader's point-to-point instruction (调度)
	DispatchSupervision DispatchKind = "督办" // a supervisor's or leader's 督办 of a ticket
)

// Dispatch is a leader's point-to-point instruction (点对点调度), or the 督办 of
// a ticket: what is to be done, by whom (Targets), about which tickets, by when.
type Dispatch struct {
	ID            uint    `gorm:"primaryKey"`
	IssuerID      uint    `gorm:"not null;index"`
	Issuer        *Member `gorm:"constraint:OnDelete:RESTRICT"`
	Instruction   string  `gorm:"type:text;not null"`
	Raw           string  `gorm:"type:text"`
	TicketNumbers StringList
	Deadline      *time.Time     `gorm:"index"`
	Status        DispatchStatus `gorm:"size:16;not null;index"`
	Kind          DispatchKind   `gorm:"size:16;not null;default:调度"`
	// Route and ChatID say where it was issued, so replies go back there.
	Route  Route  `gorm:"size:16"`
	ChatID string `gorm:"size:128"`
	// Source is the callback message that issued it ("route:msgid"): a message
	// handled twice finds its dispatch instead of issuing a second one.
	Source    *string `gorm:"size:191;uniqueIndex"`
	IssuedAt  time.Time
	ClosedAt  *time.Time
	Targets   []DispatchTarget
	CreatedAt time.Time
	UpdatedAt time.Time
	// Verify marks a dispatch its issuer wants verified (需核查): it closes by
	// StepVerify, not StepConfirm. VerifiedBy and VerifiedAt say who verified
	// a dispatch, which the weekly 整改公示 lists.
	Verify     bool       `gorm:"not null;default:false"`
	VerifiedBy string     `gorm:"size:64"`
	VerifiedAt *time.Time `gorm:"index"`
}

// Code is the short id people type: D12.
func (d *Dispatch) Code() string { return fmt.Sprintf("D%d", d.ID) }

// Title names the dispatch with its kind, as notices head it: 调度 D12, 督办 D13.
func (d *Dispatch) Title() string {
	kind := d.Kind
	if kind == "" {
		kind = DispatchDirect
	}
	return string(kind) + " " + d.Code()
}

// Overdue reports whether the dispatch is open and Overdue at now.
func (d *Dispatch) Overdue(now time.Time) bool {
	return d.Status == DispatchOpen && Overdue(d.Deadline, now)
}

// DispatchTarget is one addressee of a dispatch: a department (answered by its
// head) or a member, with its progress.
type DispatchTarget struct {
	ID           uint         `gorm:"primaryKey"`
	DispatchID   uint         `gorm:"not null;index"`
	DepartmentID *uint        `gorm:"index"`
	Department   *Department  `gorm:"constraint:OnDelete:RESTRICT"`
	MemberID     *uint        `gorm:"index"`
	Member       *Member      `gorm:"constraint:OnDelete:RESTRICT"`
	Status       TargetStatus `gorm:"size:16;not null"`
	SignedAt     *time.Time
	SignedBy     string `gorm:"size:64"`
	FeedbackAt   *time.Time
	Feedback     string `gorm:"type:text"`
	DoneAt       *time.Time
	Result       string `gorm:"type:text"`
}

// DispatchEvent records one step of a dispatch: who took which Step, when,
// with what words.
type DispatchEvent struct {
	ID         uint      `gorm:"primaryKey"`
	DispatchID uint      `gorm:"not null;index"`
	TargetID   *uint     `gorm:"index"`
	Step       StepKind  `gorm:"column:kind;size:32;not null"`
	Actor      string    `gorm:"size:64"`
	Text       string    `gorm:"type:text"`
	At         time.Time `gorm:"not null"`
}
