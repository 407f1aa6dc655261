package models

import "time"

// Ticket sources.
const (
	SourceCity     = "市级直派"
	SourceDistrict = "区级转派"
	SourceOther    = "其他"
)

// Ticket statuses, normalised from the many words of the platforms.
const (
	StatusPending    = "待签收"
	StatusInProgress = "办理中"
	StatusResolved   = "已办结"
	StatusReturned   = "已退办"
)

// OpenStatuses are the statuses of a ticket still being worked.
var OpenStatuses = []string{StatusPending, StatusInProgress}

// Satisfaction values of a return visit (回访).
const (
	Satisfied      = "满意"
	BasicSatisfied = "基本满意"
	Unsatisfied    = "不满意"
)

// Deadline sources: where a ticket's deadline came from.
const (
	DeadlinePlatform  = "platform"  // given by the hotline platform (承诺时间/办理时限)
	DeadlineRule      = "rule"      // received time + the category's limit
	DeadlineExtension = "extension" // moved by an approved extension (延期)
)

// Ticket is one citizen demand from the 12345 hotline platform, keyed by its
// platform number. DepartmentID is the responsible department; GridDepartmentID
// the town or street it was also sent to (双派单). Contacted and Resolved are
// unknown (nil) until the platform reports them.
type Ticket struct {
	ID               uint        `gorm:"primaryKey" json:"-"`
	Number           string      `gorm:"size:64;not null;uniqueIndex" json:"number"`
	Source           string      `gorm:"size:16" json:"source,omitempty"`
	Category         string      `gorm:"size:32;index" json:"category,omitempty"`
	Title            string      `gorm:"size:255" json:"title,omitempty"`
	Content          string      `gorm:"type:text" json:"content,omitempty"`
	Address          string      `gorm:"size:255" json:"address,omitempty"`
	DepartmentID     *uint       `gorm:"index:idx_tickets_dept_received,priority:1" json:"-"`
	Department       *Department `json:"-"`
	GridDepartmentID *uint       `gorm:"index" json:"-"`
	GridDepartment   *Department `json:"-"`
	ReceivedAt       time.Time   `gorm:"not null;index;index:idx_tickets_dept_received,priority:2" json:"received_at"`
	Deadline         *time.Time  `gorm:"index" json:"deadline,omitempty"`
	DeadlineSource   string      `gorm:"size:16" json:"deadline_source,omitempty"`
	SignedAt         *time.Time  `json:"signed_at,omitempty"`
	ResolvedAt       *time.Time  `gorm:"index" json:"resolved_at,omitempty"`
	Status           string      `gorm:"size:16;not null;index" json:"status"`
	Contacted        *bool       `json:"contacted,omitempty"`
	Resolved         *bool       `json:"resolved,omitempty"`
	Satisfaction     string      `gorm:"size:8" json:"satisfaction,omitempty"`
	ReopenCount      int         `gorm:"not null" json:"reopen_count"`
	// Assessed marks a ticket counted in 三率 (有效回访 / 纳入考评).
	Assessed bool `gorm:"not null" json:"assessed"`
	// Excluded marks a ticket taken out of assessment (剔除).
	Excluded  bool      `gorm:"not null" json:"excluded"`
	Priority  bool      `gorm:"not null" json:"priority,omitempty"`  // 重点
	Difficult bool      `gorm:"not null" json:"difficult,omitempty"` // 疑难
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Open reports whether the ticket is still being worked.
func (t *Ticket) Open() bool {
	return t.Status == StatusPending || t.Status == StatusInProgress
}

// TicketEvent records one change of a ticket: what changed, from what to what,
// who did it and when. Imports, the API, chat commands and jobs all write them.
type TicketEvent struct {
	ID       uint      `gorm:"primaryKey" json:"-"`
	TicketID uint      `gorm:"not null;index" json:"-"`
	Kind     string    `gorm:"size:32;not null" json:"kind"`
	From     string    `gorm:"size:255" json:"from,omitempty"`
	To       string    `gorm:"size:255" json:"to,omitempty"`
	Reason   string    `gorm:"type:text" json:"reason,omitempty"`
	Actor    string    `gorm:"size:64" json:"actor,omitempty"`
	At       time.Time `gorm:"not null" json:"at"`
}

// Return request states of the 退办 chain.
const (
	ReturnPendingHead   = "待部门审核"
	ReturnPendingLeader = "待领导批准"
	ReturnApproved      = "已批准"
	ReturnRejected      = "已驳回"
)

// ReturnRequest is a handler's request to return (退办) a ticket: the department
// head reviews it, then a leader approves it; only then is the ticket returned.
type ReturnRequest struct {
	ID          uint      `gorm:"primaryKey"`
	TicketID    uint      `gorm:"not null;index"`
	Ticket      *Ticket   `gorm:"constraint:OnDelete:CASCADE"`
	RequestedBy string    `gorm:"size:64;not null"`
	Reason      string    `gorm:"type:text"`
	RequestedAt time.Time `gorm:"not null"`
	State       string    `gorm:"size:16;not null;index"`
	HeadBy      string    `gorm:"size:64"`
	HeadAt      *time.Time
	HeadNote    string `gorm:"type:text"`
	LeaderBy    string `gorm:"size:64"`
	LeaderAt    *time.Time
	LeaderNote  string `gorm:"type:text"`
}
