package models

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// DepartmentScore is one line of a ScoreBoard: a department's counts and 三率.
type DepartmentScore struct {
	// Department is the department; the zero value on the district line.
	Department Department
	Counts     ScoreCounts
	Rates      Rates
}

// ScoreBoard is 三率 and the 综合评分 of every department for one period, as
// the store computes them; ordering and numbering them is the reports' job
// (report.Rank).
type ScoreBoard struct {
	Period Period
	// Departments holds every department in the configured order (Sort, then ID).
	Departments []DepartmentScore
	// District sums every assessed ticket, including those without a department.
	District DepartmentScore
}

// ScoreBoard computes 三率 and the 综合评分 of every department for period p
// with one grouped query. A ticket counts when it is assessed (有效回访), not
// excluded (剔除), and its return visit (VisitedAt) falls in p.
func (s *Store) ScoreBoard(ctx context.Context, p Period, w Weights) (*ScoreBoard, error) {
	return s.ScoreBoardIn(ctx, nil, p, w)
}

// ScoreBoardIn is ScoreBoard counting the tickets of the departments units
// only (nil: every department, and the tickets without one); the board
// still lists every department.
func (s *Store) ScoreBoardIn(ctx context.Context, units []uint, p Period, w Weights) (*ScoreBoard, error) {
	counts, err := s.scoreCountsIn(ctx, units, p)
	if err != nil {
		return nil, err
	}
	depts, err := s.Departments(ctx)
	if err != nil {
		return nil, err
	}
	b := &ScoreBoard{Period: p}
	for _, c := range counts {
		b.District.Counts = b.District.Counts.Add(c)
	}
	b.District.Rates = b.District.Counts.Rates(w)
	for _, d := range depts {
		c := counts[d.ID]
		b.Departments = append(b.Departments, DepartmentScore{Department: d, Counts: c, Rates: c.Rates(w)})
	}
	return b, nil
}

// Long periods on MySQL are aggregated in parts side by side, for one GROUP BY
// runs on one core: parts of scorePart, at most scoreParallel at a time.
const (
	scoreSplit    = 62 * 24 * time.Hour
	scorePart     = 31 * 24 * time.Hour
	scoreParallel = 4
)

// ScoreCounts returns the counts behind 三率 per department ID for period p
// (key 0: tickets without a department), from a GROUP BY over the assessed,
// not excluded tickets visited in p. On MySQL, outside a transaction, a period
// longer than two months is cut into month-long parts run side by side and
// summed; the counts are the same.
func (s *Store) ScoreCounts(ctx context.Context, p Period) (map[uint]ScoreCounts, error) {
	return s.scoreCountsIn(ctx, nil, p)
}

// scoreCountsIn is ScoreCounts of the departments units (nil: all).
func (s *Store) scoreCountsIn(ctx context.Context, units []uint, p Period) (map[uint]ScoreCounts, error) {
	parts := []Period{p}
	_, inTx := s.db.Statement.ConnPool.(gorm.TxCommitter)
	if s.driver == DriverMySQL && !inTx && !p.Start.IsZero() && !p.End.IsZero() && p.End.Sub(p.Start) > scoreSplit {
		parts = nil
		for start := p.Start; start.Before(p.End); start = start.Add(scorePart) {
			parts = append(parts, Period{Kind: p.Kind, Start: start, End: minTime(start.Add(scorePart), p.End)})
		}
	}
	results := make([]map[uint]ScoreCounts, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, scoreParallel)
	var wg sync.WaitGroup
	for i, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = s.scoreCounts(ctx, units, part)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := results[0]
	for _, r := range results[1:] {
		for k, c := range r {
			out[k] = out[k].Add(c)
		}
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// scoreCounts is scoreCountsIn of one part, in one GROUP BY.
func (s *Store) scoreCounts(ctx context.Context, units []uint, p Period) (map[uint]ScoreCounts, error) {
	var rows []struct {
		DepartmentID *uint
		ScoreCounts
	}
	in, of := unitFilter(units)
	sql := `SELECT department_id, COUNT(*) AS valid,
	SUM(CASE WHEN contacted = ? THEN 1 ELSE 0 END) AS contacted,
	SUM(CASE WHEN resolved = ? THEN 1 ELSE 0 END) AS resolved,
	SUM(CASE WHEN satisfaction = ? THEN 1 ELSE 0 END) AS satisfied,
	SUM(CASE WHEN satisfaction = ? THEN 1 ELSE 0 END) AS basic_satisfied
FROM ` + s.Table(&Ticket{}) + `
WHERE assessed = ? AND excluded = ? AND visited_at >= ? AND visited_at < ?` + in + `
GROUP BY department_id`
	err := s.db.WithContext(ctx).Raw(sql, append([]any{true, true, Satisfied, BasicSatisfied, true, false, p.Start, p.End}, of...)...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: score counts: %w", err)
	}
	out := make(map[uint]ScoreCounts, len(rows))
	for _, r := range rows {
		k := idKey(r.DepartmentID)
		out[k] = out[k].Add(r.ScoreCounts)
	}
	return out, nil
}
