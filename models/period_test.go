package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestQuartersAndSpans(t *testing.T) {
	loc := storetest.Shanghai
	for _, c := range []struct {
		day        time.Time
		startDay   int
		from, to   string
		label      string
		prev, next string
	}{
		{sh(11, 20, 9, 0), 1, "2026-10-01", "2027-01-01", "2026年第四季度", "2026-07-01", "2027-01-01"},
		{sh(1, 1, 0, 0), 1, "2026-01-01", "2026-04-01", "2026年第一季度", "2025-10-01", "2026-04-01"},
		// Months from the 26th: 20 November is in November's month, the
		// fourth quarter runs from 26 September to 25 December.
		{sh(11, 20, 9, 0), 26, "2026-09-26", "2026-12-26", "2026年第四季度（9月26日至12月25日）", "2026-06-26", "2026-12-26"},
		{sh(12, 27, 9, 0), 26, "2026-12-26", "2027-03-26", "2027年第一季度（12月26日至3月25日）", "2026-09-26", "2027-03-26"},
	} {
		q := models.QuarterOf(c.day, loc, c.startDay)
		if got := q.Start.Format(time.DateOnly) + " " + q.End.Format(time.DateOnly); got != c.from+" "+c.to || q.Label() != c.label {
			t.Errorf("quarter of %v (start %d) = %s %q, want %s %s %q", c.day, c.startDay, got, q.Label(), c.from, c.to, c.label)
		}
		if p, n := q.Prev(), q.Next(); p.Start.Format(time.DateOnly) != c.prev || n.Start.Format(time.DateOnly) != c.next {
			t.Errorf("around %s: %v, %v", c.label, p.Start, n.Start)
		}
	}
	span := models.DaysOf(sh(11, 1, 15, 0), sh(11, 20, 9, 0), loc)
	if span.Start != sh(11, 1, 0, 0) || span.End != sh(11, 21, 0, 0) || span.Label() != "2026年11月1日至2026年11月20日" {
		t.Errorf("span %v – %v %q", span.Start, span.End, span.Label())
	}
}
