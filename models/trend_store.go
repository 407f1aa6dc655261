package models

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ScoreSeries returns the counts behind 三率 per department ID (key 0: the
// tickets without a department) for each of periods, in order, from one
// grouped query over the assessed, not excluded tickets visited in them.
// Periods must not overlap; a period without a valid ticket has an empty map.
func (s *Store) ScoreSeries(ctx context.Context, periods []Period) ([]map[uint]ScoreCounts, error) {
	out := make([]map[uint]ScoreCounts, len(periods))
	for i := range out {
		out[i] = map[uint]ScoreCounts{}
	}
	if len(periods) == 0 {
		return out, nil
	}
	// The bucket of a ticket is the index of the period its visit falls in.
	var bucket strings.Builder
	var args []any
	bucket.WriteString("CASE")
	for i, p := range periods {
		fmt.Fprintf(&bucket, " WHEN visited_at >= ? AND visited_at < ? THEN %d", i)
		args = append(args, p.Start, p.End)
	}
	bucket.WriteString(" END")
	first, last := periods[0].Start, periods[0].End
	for _, p := range periods[1:] {
		first, last = minTime(first, p.Start), maxTime(last, p.End)
	}
	sql := `SELECT bucket, department_id, COUNT(*) AS valid,
	SUM(CASE WHEN contacted = ? THEN 1 ELSE 0 END) AS contacted,
	SUM(CASE WHEN resolved = ? THEN 1 ELSE 0 END) AS resolved,
	SUM(CASE WHEN satisfaction = ? THEN 1 ELSE 0 END) AS satisfied,
	SUM(CASE WHEN satisfaction = ? THEN 1 ELSE 0 END) AS basic_satisfied
FROM (SELECT ` + bucket.String() + ` AS bucket, department_id, contacted, resolved, satisfaction
	FROM ` + s.Table(&Ticket{}) + `
	WHERE assessed = ? AND excluded = ? AND visited_at >= ? AND visited_at < ?) visits
WHERE bucket IS NOT NULL
GROUP BY bucket, department_id`
	args = append(append([]any{true, true, Satisfied, BasicSatisfied}, args...), true, false, first, last)
	var rows []struct {
		Bucket       int
		DepartmentID *uint
		ScoreCounts
	}
	if err := s.db.WithContext(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: score series: %w", err)
	}
	for _, r := range rows {
		if r.Bucket >= 0 && r.Bucket < len(out) {
			k := idKey(r.DepartmentID)
			out[r.Bucket][k] = out[r.Bucket][k].Add(r.ScoreCounts)
		}
	}
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
