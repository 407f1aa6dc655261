package tickets

import (
	"time"

	"yanzhen/models"
	"yanzhen/sheet"
)

// apply merges a row onto the stored ticket (nil for a new one) and applies
// the rules: the platform's deadline wins, else received + the category's
// limit on the calendar; an extension (延期) is never pulled earlier by an
// import; a visit or reopening without its own time is placed at the
// ticket's own time when first seen, else at now.
func (s *Service) apply(old *models.Ticket, in *input, now time.Time) (*models.Ticket, *sheet.Error) {
	var t models.Ticket
	if old != nil {
		t = *old
	} else {
		t.Number = in.number
	}
	if !in.received.IsZero() {
		t.ReceivedAt = in.received
	}
	if t.ReceivedAt.IsZero() {
		return nil, &sheet.Error{Row: in.num, Column: in.receivedColumn, Reason: "新工单须填写受理时间"}
	}
	setString(&t.Source, in.source)
	setString(&t.Category, in.category)
	setString(&t.Title, in.title)
	setString(&t.Content, in.content)
	setString(&t.Address, in.address)
	setPtr(&t.DepartmentID, in.departmentID)
	setPtr(&t.GridDepartmentID, in.gridID)
	setPtr(&t.SignedAt, in.signed)
	setPtr(&t.ResolvedAt, in.resolvedAt)
	setPtr(&t.Contacted, in.contacted)
	setPtr(&t.Resolved, in.resolved)
	if t.ExcludedAt == nil { // a 剔除 approved in chat stands
		setBool(&t.Excluded, in.excluded)
	}
	setBool(&t.Priority, in.priority)
	setBool(&t.Difficult, in.difficult)

	switch {
	case in.status != "":
		t.Status = in.status
	case old == nil && t.ResolvedAt != nil:
		t.Status = models.TicketResolved
	case old == nil:
		t.Status = models.TicketPending
	}

	// The return visit: 有效回访 is given, or known from an answer.
	setString(&t.Satisfaction, in.satisfaction)
	if in.assessed != nil {
		t.Assessed = *in.assessed
	} else {
		t.Assessed = t.Satisfaction != ""
	}
	revisit := old != nil && old.Satisfaction != "" && t.Satisfaction != old.Satisfaction
	switch {
	case in.visited != nil:
		t.VisitedAt = in.visited
	case (t.Satisfaction != "" || t.Assessed) && (t.VisitedAt == nil || revisit):
		t.VisitedAt = s.firstSeen(old, &t, now)
	}

	oldCount := 0
	if old != nil {
		oldCount = old.ReopenCount
	}
	if in.reopenCount != nil {
		t.ReopenCount = *in.reopenCount
	}
	switch {
	case in.reopened != nil:
		t.ReopenedAt = in.reopened
	case t.ReopenCount > oldCount:
		t.ReopenedAt = s.firstSeen(old, &t, now)
	}

	s.applyDeadline(&t, in)
	settleClaim(old, &t)
	return &t, nil
}

// firstSeen is when a change without a time of its own happened: for a ticket
// seen for the first time, its resolution (or receipt); later, the import's now.
func (s *Service) firstSeen(old, t *models.Ticket, now time.Time) *time.Time {
	switch {
	case old != nil:
		return &now
	case t.ResolvedAt != nil:
		at := *t.ResolvedAt
		return &at
	}
	at := t.ReceivedAt
	return &at
}

func (s *Service) applyDeadline(t *models.Ticket, in *input) {
	var platform *time.Time
	switch {
	case in.deadline != nil:
		platform = in.deadline
	case in.limit != nil:
		d := s.Calendar.Deadline(t.ReceivedAt, *in.limit)
		platform = &d
	}
	switch {
	case platform != nil:
		if t.DeadlineSource == models.DeadlineExtension && t.Deadline != nil && !platform.After(*t.Deadline) {
			return // an extension stands until the platform gives a later deadline
		}
		t.Deadline, t.DeadlineSource = platform, models.DeadlinePlatform
	case t.DeadlineSource == "" || t.DeadlineSource == models.DeadlineRule:
		d := s.RuleDeadline(t.ReceivedAt, t.Category)
		t.Deadline, t.DeadlineSource = &d, models.DeadlineRule
	}
}

func setString[S ~string](dst *S, v S) {
	if v != "" {
		*dst = v
	}
}

func setPtr[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}
