package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// alertBatch bounds the number of ids in one IN list.
const alertBatch = 500

// OpenTicketsDue returns the open tickets whose deadline falls in [from, to]
// (from zero means no lower bound), ordered by deadline, with only the fields an
// alert or a digest shows: number, title, category, department and grid,
// deadline, status.
// A ticket whose claimed 办结 awaits the platform (Ticket.ClaimPending) is left out.
func (s *Store) OpenTicketsDue(ctx context.Context, from, to time.Time) ([]Ticket, error) {
	q := s.db.WithContext(ctx).Model(&Ticket{}).
		Select("id", "number", "title", "category", "department_id", "grid_department_id", "deadline", "status").
		Where("status IN ? AND claimed_done_at IS NULL AND deadline IS NOT NULL AND deadline <= ?", OpenTicketStatuses, to)
	if !from.IsZero() {
		q = q.Where("deadline >= ?", from)
	}
	var out []Ticket
	if err := q.Order("deadline, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: open tickets due: %w", err)
	}
	return out, nil
}

// OpenDispatchesDue returns the open dispatches with a deadline at or before
// to, ordered by deadline, with their targets.
func (s *Store) OpenDispatchesDue(ctx context.Context, to time.Time) ([]Dispatch, error) {
	var out []Dispatch
	err := s.db.WithContext(ctx).Preload("Targets", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).
		Where("status = ? AND deadline IS NOT NULL AND deadline <= ?", DispatchOpen, to).
		Order("deadline, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: open dispatches due: %w", err)
	}
	return out, nil
}

// AlertsOf returns the alerts recorded for subjects of one kind, by subject ID.
func (s *Store) AlertsOf(ctx context.Context, subject AlertSubject, ids []uint) (map[uint][]Alert, error) {
	out := make(map[uint][]Alert, len(ids))
	for start := 0; start < len(ids); start += alertBatch {
		end := min(start+alertBatch, len(ids))
		var rows []Alert
		err := s.db.WithContext(ctx).Where("subject_kind = ? AND subject_id IN ?", subject, ids[start:end]).
			Order("id").Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("models: list alerts: %w", err)
		}
		for _, a := range rows {
			out[a.SubjectID] = append(out[a.SubjectID], a)
		}
	}
	return out, nil
}

// FireAlert records the first sending of one level for one subject. It reports
// false, writing nothing, when that level was recorded before: each (subject,
// level) fires once, even when two scans race.
func (s *Store) FireAlert(ctx context.Context, a *Alert) (bool, error) {
	if a.Count == 0 {
		a.Count = 1
	}
	return insertOnce(s.db.WithContext(ctx), a, fmt.Sprintf("fire alert %s %d %s", a.SubjectKind, a.SubjectID, a.Level))
}

// RepeatAlert records one more sending of an alert at now. It reports false,
// writing nothing, when the alert changed since a was read (another scan
// repeated it) or was acknowledged (签收) meanwhile. On success a is updated.
func (s *Store) RepeatAlert(ctx context.Context, a *Alert, now time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Alert{}).
		Where("id = ? AND count = ? AND acked_at IS NULL", a.ID, a.Count).
		Updates(map[string]any{"last_sent_at": now, "count": a.Count + 1})
	if res.Error != nil {
		return false, fmt.Errorf("models: repeat alert %d: %w", a.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	a.LastSentAt, a.Count = now, a.Count+1
	return true, nil
}
