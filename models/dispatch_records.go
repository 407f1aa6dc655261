package models

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DispatchQuery selects the dispatches of a ledger (台账): those issued in
// Period, and when DepartmentID is set only those with a target of that
// department.
type DispatchQuery struct {
	Period       Period
	DepartmentID uint
}

// DispatchRecord is one target of a dispatch, with its dispatch, as the
// ledger lists it: every time a step was taken, and who took it by name.
type DispatchRecord struct {
	DispatchID     uint
	IssuedAt       time.Time
	Issuer         string // the issuer's name
	Instruction    string
	TicketNumbers  StringList
	Deadline       *time.Time
	DispatchStatus DispatchStatus
	ClosedAt       *time.Time
	TargetID       uint
	Target         string // the target's department or member name
	TargetDept     *uint  // the target's department, when it is one
	TargetStatus   TargetStatus
	SignedAt       *time.Time
	SignedBy       string // the signer's name, or userid when unknown
	FeedbackAt     *time.Time
	Feedback       string
	DoneAt         *time.Time
	Result         string
}

// Code is the dispatch's short id: D12.
func (r *DispatchRecord) Code() string { return fmt.Sprintf("D%d", r.DispatchID) }

// EachDispatchRecord calls fn with every target of the dispatches q
// selects (only the department's own targets when q names one), by dispatch
// then target, reading them as a stream: a ledger of any length takes little
// memory. fn's record is reused between calls. It stops at fn's first error
// and returns it.
func (s *Store) EachDispatchRecord(ctx context.Context, q DispatchQuery, fn func(*DispatchRecord) error) error {
	query := `SELECT d.id, d.issued_at, COALESCE(i.name, ''), d.instruction, d.ticket_numbers, d.deadline, d.status, d.closed_at,
	t.id, COALESCE(td.name, tm.name, ''), t.department_id, t.status, t.signed_at, COALESCE(sb.name, t.signed_by, ''),
	t.feedback_at, COALESCE(t.feedback, ''), t.done_at, COALESCE(t.result, '')
FROM ` + s.Table(&DispatchTarget{}) + ` t
JOIN ` + s.Table(&Dispatch{}) + ` d ON d.id = t.dispatch_id
LEFT JOIN ` + s.Table(&Member{}) + ` i ON i.id = d.issuer_id
LEFT JOIN ` + s.Table(&Department{}) + ` td ON td.id = t.department_id
LEFT JOIN ` + s.Table(&Member{}) + ` tm ON tm.id = t.member_id
LEFT JOIN ` + s.Table(&Member{}) + ` sb ON sb.userid = t.signed_by AND t.signed_by <> ''
WHERE d.issued_at >= ? AND d.issued_at < ?`
	args := []any{q.Period.Start, q.Period.End}
	if q.DepartmentID != 0 {
		query += " AND t.department_id = ?"
		args = append(args, q.DepartmentID)
	}
	rows, err := s.db.WithContext(ctx).Raw(query+" ORDER BY d.id, t.id", args...).Rows()
	if err != nil {
		return fmt.Errorf("models: read the dispatch ledger: %w", err)
	}
	defer rows.Close()
	var r DispatchRecord
	var deadline, closed, signed, fed, done nullTime
	var dept nullID
	for rows.Next() {
		err := rows.Scan(&r.DispatchID, &r.IssuedAt, &r.Issuer, &r.Instruction, &r.TicketNumbers, &deadline, &r.DispatchStatus, &closed,
			&r.TargetID, &r.Target, &dept, &r.TargetStatus, &signed, &r.SignedBy, &fed, &r.Feedback, &done, &r.Result)
		if err != nil {
			return fmt.Errorf("models: read the dispatch ledger: %w", err)
		}
		r.IssuedAt = r.IssuedAt.In(s.loc)
		r.Deadline, r.ClosedAt, r.SignedAt, r.FeedbackAt, r.DoneAt = deadline.in(s.loc), closed.in(s.loc), signed.in(s.loc), fed.in(s.loc), done.in(s.loc)
		r.TargetDept = dept.ptr()
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("models: read the dispatch ledger: %w", err)
	}
	return nil
}

// DispatchStepRecord is one step of a dispatch as the ledger lists it.
type DispatchStepRecord struct {
	DispatchID uint
	At         time.Time
	Step       StepKind
	Target     string // the target the step is for, by name; "" for the dispatch as a whole
	Actor      string // who took it, by name, or userid when unknown
	Text       string
}

// EachDispatchStep calls fn with every step of the dispatches q selects, by
// dispatch then in the order taken, as a stream; with a department, the
// steps of the dispatch as a whole and of that department's targets. fn's
// record is reused between calls.
func (s *Store) EachDispatchStep(ctx context.Context, q DispatchQuery, fn func(*DispatchStepRecord) error) error {
	query := `SELECT d.id, e.at, e.kind, COALESCE(td.name, tm.name, ''), COALESCE(a.name, e.actor, ''), COALESCE(e.text, '')
FROM ` + s.Table(&DispatchEvent{}) + ` e
JOIN ` + s.Table(&Dispatch{}) + ` d ON d.id = e.dispatch_id
LEFT JOIN ` + s.Table(&DispatchTarget{}) + ` t ON t.id = e.target_id
LEFT JOIN ` + s.Table(&Department{}) + ` td ON td.id = t.department_id
LEFT JOIN ` + s.Table(&Member{}) + ` tm ON tm.id = t.member_id
LEFT JOIN ` + s.Table(&Member{}) + ` a ON a.userid = e.actor AND e.actor <> ''
WHERE d.issued_at >= ? AND d.issued_at < ?`
	args := []any{q.Period.Start, q.Period.End}
	if q.DepartmentID != 0 {
		query += ` AND d.id IN (SELECT dispatch_id FROM ` + s.Table(&DispatchTarget{}) + ` WHERE department_id = ?)
	AND (e.target_id IS NULL OR t.department_id = ?)`
		args = append(args, q.DepartmentID, q.DepartmentID)
	}
	rows, err := s.db.WithContext(ctx).Raw(query+" ORDER BY d.id, e.id", args...).Rows()
	if err != nil {
		return fmt.Errorf("models: read the dispatch steps: %w", err)
	}
	defer rows.Close()
	var r DispatchStepRecord
	for rows.Next() {
		if err := rows.Scan(&r.DispatchID, &r.At, &r.Step, &r.Target, &r.Actor, &r.Text); err != nil {
			return fmt.Errorf("models: read the dispatch steps: %w", err)
		}
		r.At = r.At.In(s.loc)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("models: read the dispatch steps: %w", err)
	}
	return nil
}

// nullTime scans a nullable time.
type nullTime struct{ sql.NullTime }

// in returns the time in loc, or nil when NULL.
func (n nullTime) in(loc *time.Location) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.In(loc)
	return &t
}

// nullID scans a nullable ID.
type nullID struct{ sql.NullInt64 }

func (n nullID) ptr() *uint {
	if !n.Valid {
		return nil
	}
	id := uint(n.Int64)
	return &id
}
