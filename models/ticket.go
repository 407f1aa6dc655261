package models

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// TicketSource says how a ticket reached the district.
type TicketSource string

// Ticket sources.
const (
	SourceCity     TicketSource = "市级直派"
	SourceDistrict TicketSource = "区级转派"
	SourceOther    TicketSource = "其他"
)

// TicketStatus is where a ticket stands, normalised from the many words of the platforms.
type TicketStatus string

// Ticket statuses.
const (
	TicketPending    TicketStatus = "待签收"
	TicketInProgress TicketStatus = "办理中"
	TicketResolved   TicketStatus = "已办结"
	TicketReturned   TicketStatus = "已退办"
)

// OpenTicketStatuses are the statuses of a ticket still being worked.
var OpenTicketStatuses = []TicketStatus{TicketPending, TicketInProgress}

// Satisfaction is the answer of a return visit (回访); "" until the platform reports one.
type Satisfaction string

// Satisfaction values.
const (
	Satisfied      Satisfaction = "满意"
	BasicSatisfied Satisfaction = "基本满意"
	Unsatisfied    Satisfaction = "不满意"
)

// DeadlineSource says where a ticket's deadline came from; "" while it has none.
type DeadlineSource string

// Deadline sources.
const (
	DeadlinePlatform  DeadlineSource = "platform"  // given by the hotline platform (承诺时间/办理时限)
	DeadlineRule      DeadlineSource = "rule"      // received time + the category's limit
	DeadlineExtension DeadlineSource = "extension" // moved by an approved extension (延期)
)

// Ticket is one citizen demand from the 12345 hotline platform, keyed by its
// platform number. DepartmentID is the responsible department; GridDepartmentID
// the town or street it was also sent to (双派单). Contacted and Resolved are
// unknown (nil) until the platform reports them.
//
// Its indexes are few on purpose, for each one costs every imported row: the
// number, (department, received), received, resolved, reopened, the grid,
// idx_tickets_open (status, deadline, department) covering the scans and
// per-department counts of open tickets, and idx_tickets_visits,
// which leads with the visit and covers the 三率 GROUP BY and the visit sets.
type Ticket struct {
	ID               uint           `gorm:"primaryKey" json:"-"`
	Number           string         `gorm:"size:64;not null;uniqueIndex" json:"number"`
	Source           TicketSource   `gorm:"size:16" json:"source,omitempty"`
	Category         string         `gorm:"size:32" json:"category,omitempty"`
	Title            string         `gorm:"size:255" json:"title,omitempty"`
	Content          string         `gorm:"type:text" json:"content,omitempty"`
	Address          string         `gorm:"size:255" json:"address,omitempty"`
	DepartmentID     *uint          `gorm:"index:idx_tickets_dept_received,priority:1;index:idx_tickets_visits,priority:4;index:idx_tickets_open,priority:3;index:idx_tickets_unit_open,priority:1;index:idx_tickets_dept_resolved,priority:1" json:"-"`
	Department       *Department    `json:"-"`
	GridDepartmentID *uint          `gorm:"index" json:"-"`
	GridDepartment   *Department    `json:"-"`
	ReceivedAt       time.Time      `gorm:"not null;index;index:idx_tickets_dept_received,priority:2" json:"received_at"`
	Deadline         *time.Time     `gorm:"index:idx_tickets_open,priority:2;index:idx_tickets_unit_open,priority:3" json:"deadline,omitempty"`
	DeadlineSource   DeadlineSource `gorm:"size:16" json:"deadline_source,omitempty"`
	SignedAt         *time.Time     `json:"signed_at,omitempty"`
	ResolvedAt       *time.Time     `gorm:"index;index:idx_tickets_dept_resolved,priority:2" json:"resolved_at,omitempty"`
	Status           TicketStatus   `gorm:"size:16;not null;index:idx_tickets_open,priority:1;index:idx_tickets_unit_open,priority:2" json:"status"`
	Contacted        *bool          `gorm:"index:idx_tickets_visits,priority:5" json:"contacted,omitempty"`
	Resolved         *bool          `gorm:"index:idx_tickets_visits,priority:6" json:"resolved,omitempty"`
	Satisfaction     Satisfaction   `gorm:"size:8;index:idx_tickets_visits,priority:7" json:"satisfaction,omitempty"`
	// VisitedAt is the return visit (回访) that gave Satisfaction; it places the
	// ticket in an assessment period.
	VisitedAt   *time.Time `gorm:"index:idx_tickets_visits,priority:1" json:"visited_at,omitempty"`
	ReopenCount int        `gorm:"not null" json:"reopen_count"`
	// ReopenedAt is when ReopenCount last went up (重办).
	ReopenedAt *time.Time `gorm:"index" json:"reopened_at,omitempty"`
	// Assessed marks a ticket counted in 三率 (有效回访 / 纳入考评).
	Assessed bool `gorm:"not null;index:idx_tickets_visits,priority:2" json:"assessed"`
	// Excluded marks a ticket taken out of assessment (剔除).
	Excluded  bool      `gorm:"not null;index:idx_tickets_visits,priority:3" json:"excluded"`
	Priority  bool      `gorm:"not null" json:"priority,omitempty"`  // 重点
	Difficult bool      `gorm:"not null" json:"difficult,omitempty"` // 疑难
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"updated_at"`
	// ClaimedDoneAt is set while a 办结 a unit reported in chat awaits the
	// platform's confirmation (ClaimedStatus): the overdue scan leaves the
	// ticket alone meanwhile. The next import that reports the ticket closed
	// confirms the claim, and one that brings news of the ticket yet still
	// says it is open withdraws it (see ClaimSettled); either clears the three
	// fields. ClaimedBy is the claimant's userid, ClaimedResult their words.
	ClaimedDoneAt *time.Time `json:"claimed_done_at,omitempty"`
	ClaimedBy     string     `gorm:"size:64" json:"claimed_by,omitempty"`
	ClaimedResult string     `gorm:"type:text" json:"claimed_result,omitempty"`
	// ExcludedAt is set when a 剔除 approved in chat (RequestKindExclusion)
	// took effect: an import no longer clears Excluded then.
	ExcludedAt *time.Time `json:"excluded_at,omitempty"`
	// The grid street's part under 双派单 (GridDepartmentID): its own 签收
	// and its latest 反馈, kept beside the responsible unit's. The chat
	// writes them; imports leave them alone (chatColumns).
	GridSignedAt   *time.Time `json:"grid_signed_at,omitempty"`
	GridFeedback   string     `gorm:"type:text" json:"grid_feedback,omitempty"`
	GridFeedbackAt *time.Time `json:"grid_feedback_at,omitempty"`
	// RaisedLevel is the level the ticket was raised to (提级) once it stayed
	// open past its level's limit (rules.raise): TierStreet (RaisedToID is
	// the street) or TierDistrict; "" while it stays at its unit's level.
	// RaisedAt is when; the next level's limit counts from it. The index on
	// RaisedToID (a unit's ledger) bears the name of the one MySQL makes for
	// its foreign key, so that MySQL keeps one.
	RaisedLevel Tier        `gorm:"size:16;not null;default:''" json:"raised_level,omitempty"`
	RaisedToID  *uint       `gorm:"index:fk_tickets_raised_to" json:"-"`
	RaisedTo    *Department `json:"-"`
	RaisedAt    *time.Time  `json:"raised_at,omitempty"`
}

// chatColumns are the columns of tickets that the chat and the jobs write
// and imports never do: an import's update leaves them as they are.
var chatColumns = []string{"grid_signed_at", "grid_feedback", "grid_feedback_at", "raised_level", "raised_to_id", "raised_at"}

// Open reports whether the ticket is still being worked: its status is one of OpenTicketStatuses.
func (t *Ticket) Open() bool {
	return slices.Contains(OpenTicketStatuses, t.Status)
}

// DoubleNo reports whether t is a 双否件: answered 不满意 and not resolved
// (是否解决 = 否) at its return visit, and not excluded (剔除). SetDoubleNo
// selects the same tickets in SQL.
func (t *Ticket) DoubleNo() bool {
	return t.Satisfaction == Unsatisfied && t.Resolved != nil && !*t.Resolved && !t.Excluded
}

// ClaimedStatus is how a ticket whose claimed 办结 awaits the platform is shown.
const ClaimedStatus = "已办结（待平台确认）"

// ClaimPending reports whether a 办结 reported in chat awaits the platform's confirmation.
func (t *Ticket) ClaimPending() bool { return t.ClaimedDoneAt != nil }

// StatusText is the status as people read it: ClaimedStatus while a claim is
// pending, else the platform's status.
func (t *Ticket) StatusText() string {
	if t.ClaimPending() {
		return ClaimedStatus
	}
	return string(t.Status)
}

// Overdue is the one rule of 超期: something due at deadline is overdue at
// now once the deadline has passed, that is strictly before now; at the
// deadline itself it is not yet. Without a deadline nothing is overdue. The
// store's queries say the same in SQL (overdueSQL).
func Overdue(deadline *time.Time, now time.Time) bool {
	return deadline != nil && deadline.Before(now)
}

// overdueSQL is Overdue as a condition on the deadline column, bound to now.
const overdueSQL = "deadline < ?"

// Overdue reports whether the ticket is open and Overdue at now.
func (t *Ticket) Overdue(now time.Time) bool { return t.Open() && Overdue(t.Deadline, now) }

// TicketChange is what a TicketEvent records: which change of a ticket.
type TicketChange string

// Ticket changes. The approval chains (request_store.go) and the steps units
// take in chat (ticket_steps.go) add their own.
const (
	EventCreated      TicketChange = "created"      // first seen; To is the status
	EventStatus       TicketChange = "status"       // status changed
	EventDeadline     TicketChange = "deadline"     // deadline changed by the platform or the rules
	EventDepartment   TicketChange = "department"   // responsible department changed; From and To are names
	EventSatisfaction TicketChange = "satisfaction" // return-visit result changed
	EventReopen       TicketChange = "reopen"       // reopen count went up; From and To are the counts
	EventExtension    TicketChange = "extension"    // deadline moved by an extension (延期), with its reason
)

// EventTimeLayout is how times are written in TicketEvent.From and To.
const EventTimeLayout = "2006-01-02 15:04"

// TicketEvent records one change of a ticket: what changed (Change), from
// what to what, who did it and when. Imports, the API, chat commands and jobs
// all write them.
type TicketEvent struct {
	ID       uint         `gorm:"primaryKey" json:"-"`
	TicketID uint         `gorm:"not null;index:idx_ticket_events_ticket_at,priority:1" json:"-"`
	Change   TicketChange `gorm:"column:kind;size:32;not null" json:"kind"`
	From     string       `gorm:"size:255" json:"from,omitempty"`
	To       string       `gorm:"size:255" json:"to,omitempty"`
	Reason   string       `gorm:"type:text" json:"reason,omitempty"`
	Actor    string       `gorm:"size:64" json:"actor,omitempty"`
	At       time.Time    `gorm:"not null;index:idx_ticket_events_ticket_at,priority:2" json:"at"`
}

// PeriodKind says how long a Period is.
type PeriodKind string

// The kinds of period reports use.
const (
	PeriodDay   PeriodKind = "day"
	PeriodWeek  PeriodKind = "week"  // ISO week, Monday to Sunday
	PeriodMonth PeriodKind = "month" // calendar month, or from a start day to the day before it next month
)

// Period is a half-open span of time [Start, End) in the configured zone: a
// day, an ISO week or an assessment month. Tickets fall into a period by the
// time that matters for the question asked (see TicketSet and ScoreBoard).
// The zero Period is no bound at all.
type Period struct {
	Kind       PeriodKind
	Start, End time.Time
}

// DayOf returns the day of t in loc.
func DayOf(t time.Time, loc *time.Location) Period {
	y, m, d := t.In(loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return Period{Kind: PeriodDay, Start: start, End: start.AddDate(0, 0, 1)}
}

// WeekOf returns the ISO week (Monday 00:00 to the next Monday 00:00) of t in loc.
func WeekOf(t time.Time, loc *time.Location) Period {
	day := DayOf(t, loc).Start
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	start := day.AddDate(0, 0, -back)
	return Period{Kind: PeriodWeek, Start: start, End: start.AddDate(0, 0, 7)}
}

// MonthOf returns the assessment month of t in loc. With startDay 1 it is the
// calendar month; with startDay 26 the period containing 20 November runs from
// 26 October to 25 November (inclusive) and is November's. startDay outside
// 1–28 counts as 1.
func MonthOf(t time.Time, loc *time.Location, startDay int) Period {
	if startDay < 1 || startDay > 28 {
		startDay = 1
	}
	y, m, d := t.In(loc).Date()
	if d < startDay {
		m--
	}
	start := time.Date(y, m, startDay, 0, 0, 0, 0, loc)
	return Period{Kind: PeriodMonth, Start: start, End: start.AddDate(0, 1, 0)}
}

// IsZero reports whether p is the zero Period (no bound).
func (p Period) IsZero() bool { return p.Start.IsZero() && p.End.IsZero() }

// Contains reports whether t falls in p.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Prev returns the period of the same kind just before p.
func (p Period) Prev() Period { return p.shift(-1) }

// Next returns the period of the same kind just after p.
func (p Period) Next() Period { return p.shift(1) }

func (p Period) shift(n int) Period {
	switch p.Kind {
	case PeriodDay:
		return Period{Kind: p.Kind, Start: p.Start.AddDate(0, 0, n), End: p.End.AddDate(0, 0, n)}
	case PeriodWeek:
		return Period{Kind: p.Kind, Start: p.Start.AddDate(0, 0, 7*n), End: p.End.AddDate(0, 0, 7*n)}
	case PeriodMonth:
		return Period{Kind: p.Kind, Start: p.Start.AddDate(0, n, 0), End: p.End.AddDate(0, n, 0)}
	case PeriodQuarter:
		return Period{Kind: p.Kind, Start: p.Start.AddDate(0, 3*n, 0), End: p.End.AddDate(0, 3*n, 0)}
	case PeriodYear:
		return Period{Kind: p.Kind, Start: p.Start.AddDate(n, 0, 0), End: p.End.AddDate(n, 0, 0)}
	}
	d := p.End.Sub(p.Start)
	return Period{Kind: p.Kind, Start: p.Start.Add(time.Duration(n) * d), End: p.End.Add(time.Duration(n) * d)}
}

// Label names the period for report titles: 2026年11月20日, 2026年第47周（11月16日至11月22日）,
// 2026年11月, or 2026年11月（10月26日至11月25日） when a month does not start on the 1st.
func (p Period) Label() string {
	last := p.End.AddDate(0, 0, -1)
	span := p.Start.Format("1月2日") + "至" + last.Format("1月2日")
	switch p.Kind {
	case PeriodDay:
		return p.Start.Format("2006年1月2日")
	case PeriodWeek:
		y, w := p.Start.ISOWeek()
		return fmt.Sprintf("%d年第%d周（%s）", y, w, span)
	case PeriodMonth:
		if p.Start.Day() == 1 {
			return p.Start.Format("2006年1月")
		}
		return last.Format("2006年1月") + "（" + span + "）"
	case PeriodQuarter:
		return quarterLabel(p)
	case PeriodYear:
		return yearLabel(p)
	}
	return p.Start.Format("2006年1月2日") + "至" + last.Format("2006年1月2日")
}

// Weights weigh 三率 into the 综合评分: Score = Response·响应率 + Resolution·解决率 +
// Satisfaction·满意率, and a 基本满意 answer counts BasicSatisfied of a 满意 one in 满意率.
// config.Rules.Scores carries the configured values (0.1, 0.5, 0.4 and 0.9 by default).
type Weights struct {
	Response, Resolution, Satisfaction float64
	BasicSatisfied                     float64
}

// ScoreCounts are the counts 三率 are computed from, over the assessed
// (有效回访), not excluded (剔除) tickets of one department and period.
type ScoreCounts struct {
	Valid          int // assessed tickets (有效回访)
	Contacted      int // of which the citizen was contacted (响应)
	Resolved       int // of which the demand was resolved (解决)
	Satisfied      int // of which the answer was 满意
	BasicSatisfied int // of which the answer was 基本满意
}

// Add returns the sum of c and o.
func (c ScoreCounts) Add(o ScoreCounts) ScoreCounts {
	return ScoreCounts{
		Valid: c.Valid + o.Valid, Contacted: c.Contacted + o.Contacted, Resolved: c.Resolved + o.Resolved,
		Satisfied: c.Satisfied + o.Satisfied, BasicSatisfied: c.BasicSatisfied + o.BasicSatisfied,
	}
}

// Sub returns c less o.
func (c ScoreCounts) Sub(o ScoreCounts) ScoreCounts {
	return ScoreCounts{
		Valid: c.Valid - o.Valid, Contacted: c.Contacted - o.Contacted, Resolved: c.Resolved - o.Resolved,
		Satisfied: c.Satisfied - o.Satisfied, BasicSatisfied: c.BasicSatisfied - o.BasicSatisfied,
	}
}

// Rates computes 三率 and the 综合评分 of DESIGN §5 as percentages (0–100):
// 响应率 = Contacted/Valid, 解决率 = Resolved/Valid, 满意率 = (Satisfied +
// w.BasicSatisfied·BasicSatisfied)/Valid, Score = the weighted sum. With no
// valid ticket every figure is 0 and Rates.Empty is true: show "—", not 0%.
func (c ScoreCounts) Rates(w Weights) Rates {
	r := Rates{Valid: c.Valid}
	if c.Valid <= 0 {
		return r
	}
	v := float64(c.Valid)
	r.Response = 100 * float64(c.Contacted) / v
	r.Resolution = 100 * float64(c.Resolved) / v
	r.Satisfaction = 100 * (float64(c.Satisfied) + w.BasicSatisfied*float64(c.BasicSatisfied)) / v
	r.Score = w.Response*r.Response + w.Resolution*r.Resolution + w.Satisfaction*r.Satisfaction
	return r
}

// Rates are 三率 and the 综合评分 of one department and period, as percentages.
type Rates struct {
	Valid                              int
	Response, Resolution, Satisfaction float64
	Score                              float64
}

// NoFigure is what reports show for a rate of a period without valid tickets.
const NoFigure = "—"

// Empty reports whether there was no valid ticket, so no rate at all.
func (r Rates) Empty() bool { return r.Valid <= 0 }

// Percent formats one of r's rates as "96.50%", or NoFigure when r is empty.
func (r Rates) Percent(v float64) string {
	if r.Empty() {
		return NoFigure
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "%"
}

// ScoreText formats the 综合评分 as "92.35", or NoFigure when r is empty.
func (r Rates) ScoreText() string {
	if r.Empty() {
		return NoFigure
	}
	return strconv.FormatFloat(r.Score, 'f', 2, 64)
}
