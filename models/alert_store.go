package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	q := s.openDue(ctx, to).
		Select("id", "number", "title", "category", "department_id", "grid_department_id", "deadline", "status")
	if !from.IsZero() {
		q = q.Where("deadline >= ?", from)
	}
	var out []Ticket
	if err := q.Order("deadline, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: open tickets due: %w", err)
	}
	return out, nil
}

// openDue selects the tickets the overdue ladder watches that are due by to:
// open, with a deadline at or before to, and no claimed 办结 awaiting the
// platform (Ticket.ClaimPending).
func (s *Store) openDue(ctx context.Context, to time.Time) *gorm.DB {
	return s.db.WithContext(ctx).Model(&Ticket{}).
		Where("status IN ? AND claimed_done_at IS NULL AND deadline IS NOT NULL AND deadline <= ?", OpenTicketStatuses, to)
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

// DueTicket is an open ticket as the overdue scan reads it: the fields an
// alert shows, and the alerts recorded for it (SubjectTicket) and for its
// grid street's part (SubjectGrid), in the order they were recorded. A
// department of 0 is none.
type DueTicket struct {
	ID                       uint
	Number, Title            string
	DepartmentID, GridDeptID uint
	Deadline                 time.Time
	Alerts                   []Alert
}

// EachOpenTicketDue calls fn with every open ticket whose deadline is at or
// before to, by deadline then ID, with its alerts; a ticket whose claimed
// 办结 awaits the platform (Ticket.ClaimPending) is left out. The tickets
// come from one streamed query, their alerts a page of tickets at a time,
// so that a scan over a city holds one page: fn's argument, Alerts
// included, is reused for the next ticket, and fn must copy what it keeps.
// fn's error stops the walk and is returned.
func (s *Store) EachOpenTicketDue(ctx context.Context, to time.Time, fn func(*DueTicket) error) error {
	rows, err := s.openDue(ctx, to).
		Select("id", "number", "COALESCE(title, '')", "department_id", "grid_department_id", "deadline").
		Order("deadline, id").Rows()
	if err != nil {
		return fmt.Errorf("models: open tickets due: %w", err)
	}
	defer rows.Close()
	page := make([]DueTicket, 0, s.duePage())
	var dept, grid nullID
	for rows.Next() {
		page = page[:len(page)+1]
		t := &page[len(page)-1]
		if err := rows.Scan(&t.ID, &t.Number, &t.Title, &dept, &grid, &t.Deadline); err != nil {
			return fmt.Errorf("models: open tickets due: %w", err)
		}
		t.Deadline, t.DepartmentID, t.GridDeptID, t.Alerts = t.Deadline.In(s.loc), uint(dept.Int64), uint(grid.Int64), t.Alerts[:0]
		if len(page) == cap(page) {
			if err := s.dueAlerts(ctx, page, fn); err != nil {
				return err
			}
			page = page[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("models: open tickets due: %w", err)
	}
	return s.dueAlerts(ctx, page, fn)
}

// duePage is how many tickets EachOpenTicketDue reads the alerts of at
// once: their IDs and the two subject kinds are bound in one statement,
// within SQLite's bound; MySQL takes more, in fewer round trips.
func (s *Store) duePage() int {
	if s.driver == DriverSQLite {
		return sqliteParams - 2
	}
	return 4 * mysqlRows
}

// dueAlerts reads the alerts of a page of tickets and calls fn with each.
func (s *Store) dueAlerts(ctx context.Context, page []DueTicket, fn func(*DueTicket) error) error {
	if len(page) == 0 {
		return nil
	}
	at := make(map[uint]int, len(page))
	ids := make([]uint, len(page))
	for i := range page {
		at[page[i].ID], ids[i] = i, page[i].ID
	}
	var alerts []Alert
	err := s.db.WithContext(ctx).Where("subject_kind IN ? AND subject_id IN ?", []AlertSubject{SubjectTicket, SubjectGrid}, ids).
		Order("id").Find(&alerts).Error
	if err != nil {
		return fmt.Errorf("models: alerts of open tickets due: %w", err)
	}
	for _, a := range alerts {
		t := &page[at[a.SubjectID]]
		t.Alerts = append(t.Alerts, a)
	}
	for i := range page {
		if err := fn(&page[i]); err != nil {
			return err
		}
	}
	return nil
}

// alertColumns are the columns FireAlerts writes.
var alertColumns = []string{"subject_kind", "subject_id", "level", "department_id", "first_sent_at", "last_sent_at", "count"}

// FireAlerts records the first sendings of levels, as FireAlert does one,
// in multi-row INSERTs sized for the database, and reports per alert
// whether it was recorded: false for a level recorded before, by another
// scan. A batch that meets such a level is undone to its savepoint and
// recorded one alert at a time, so that the answer is exact.
func (s *Store) FireAlerts(ctx context.Context, alerts []Alert) ([]bool, error) {
	out := make([]bool, len(alerts))
	table := s.Table(&Alert{})
	head := "INSERT INTO " + table + " (" + strings.Join(alertColumns, ",") + ") VALUES "
	tail := " ON DUPLICATE KEY UPDATE id = id"
	if s.driver == DriverSQLite {
		tail = " ON CONFLICT DO NOTHING"
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(alertColumns)), ",") + ")"
	per := s.chunkRows(len(alertColumns))
	for lo := 0; lo < len(alerts); lo += per {
		chunk := alerts[lo:min(lo+per, len(alerts))]
		args := make([]any, 0, len(chunk)*len(alertColumns))
		for i := range chunk {
			a := &chunk[i]
			if a.Count == 0 {
				a.Count = 1
			}
			args = append(args, a.SubjectKind, a.SubjectID, a.Level, a.DepartmentID, a.FirstSentAt, a.LastSentAt, a.Count)
		}
		query := head + strings.TrimSuffix(strings.Repeat(tuple+",", len(chunk)), ",") + tail
		whole, err := s.allOrNothing(ctx, "fire alerts", len(chunk), func(db *gorm.DB) (int64, error) {
			res := db.Exec(query, args...)
			return res.RowsAffected, res.Error
		})
		if err != nil {
			return nil, err
		}
		for i := range chunk {
			if whole {
				out[lo+i] = true
			} else if out[lo+i], err = s.FireAlert(ctx, &chunk[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// AlertSeen is an alert as a scan read it: its ID and its count then.
type AlertSeen struct {
	ID    uint
	Count int
}

// RepeatAlerts records one more sending at now of each of alerts, as
// RepeatAlert does one, in UPDATEs of many rows at once, and reports per
// alert whether it was recorded: false for one acknowledged (签收) or
// repeated by another scan since it was read. A batch that meets such an
// alert is undone to its savepoint and recorded one alert at a time.
func (s *Store) RepeatAlerts(ctx context.Context, alerts []AlertSeen, now time.Time) ([]bool, error) {
	out := make([]bool, len(alerts))
	per := s.chunkRows(1)
	for lo := 0; lo < len(alerts); lo += per {
		chunk := alerts[lo:min(lo+per, len(alerts))]
		// Alerts read with the same count are bumped by one statement, which
		// checks that none changed since: rarely more than a few per batch.
		byCount := map[int][]uint{}
		var counts []int
		for _, a := range chunk {
			if byCount[a.Count] == nil {
				counts = append(counts, a.Count)
			}
			byCount[a.Count] = append(byCount[a.Count], a.ID)
		}
		whole, err := s.allOrNothing(ctx, "repeat alerts", len(chunk), func(db *gorm.DB) (int64, error) {
			var n int64
			for _, c := range counts {
				res := db.Model(&Alert{}).Where("id IN ? AND count = ? AND acked_at IS NULL", byCount[c], c).
					Updates(map[string]any{"last_sent_at": now, "count": c + 1})
				if res.Error != nil {
					return n, res.Error
				}
				n += res.RowsAffected
			}
			return n, nil
		})
		if err != nil {
			return nil, err
		}
		for i, a := range chunk {
			if whole {
				out[lo+i] = true
			} else if out[lo+i], err = s.RepeatAlert(ctx, &Alert{ID: a.ID, Count: a.Count}, now); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// errPartial undoes a batch that did not write every row.
var errPartial = errors.New("models: batch written in part")

// allOrNothing runs write, which writes want rows, in a savepoint, and
// reports whether it wrote them all; when it wrote fewer, they are undone.
func (s *Store) allOrNothing(ctx context.Context, what string, want int, write func(db *gorm.DB) (int64, error)) (bool, error) {
	err := s.Tx(ctx, func(tx *Store) error {
		n, err := write(tx.db.WithContext(ctx))
		switch {
		case err != nil:
			return fmt.Errorf("models: %s: %w", what, err)
		case n < int64(want):
			return errPartial
		}
		return nil
	})
	if errors.Is(err, errPartial) {
		return false, nil
	}
	return err == nil, err
}
