package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestRates(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		counts                      models.ScoreCounts
		w                           models.Weights
		response, resolution, satis string
		score                       string
	}{
		{"empty period shows a dash", models.ScoreCounts{}, defaultWeights, "—", "—", "—", "—"},
		{"all good", models.ScoreCounts{Valid: 4, Contacted: 4, Resolved: 4, Satisfied: 4}, defaultWeights, "100.00%", "100.00%", "100.00%", "100.00"},
		// 满意率 = (1 + 0.9×1)/4 = 47.5%; 综合 = 0.1×75 + 0.5×50 + 0.4×47.5 = 51.5.
		{"mixed", models.ScoreCounts{Valid: 4, Contacted: 3, Resolved: 2, Satisfied: 1, BasicSatisfied: 1}, defaultWeights, "75.00%", "50.00%", "47.50%", "51.50"},
		// Only 基本满意: 满意率 = 0.9×10/10 = 90%; 综合 = 10 + 50 + 36 = 96.
		{"basic satisfied counts 0.9", models.ScoreCounts{Valid: 10, Contacted: 10, Resolved: 10, BasicSatisfied: 10}, defaultWeights, "100.00%", "100.00%", "90.00%", "96.00"},
		// Other places weigh differently: 0.2/0.4/0.4 and 基本满意 at 0.8.
		// 响应 50, 解决 50, 满意 (0 + 0.8×2)/2 = 80 → 10 + 20 + 32 = 62.
		{"configured weights", models.ScoreCounts{Valid: 2, Contacted: 1, Resolved: 1, BasicSatisfied: 2},
			models.Weights{Response: 0.2, Resolution: 0.4, Satisfaction: 0.4, BasicSatisfied: 0.8}, "50.00%", "50.00%", "80.00%", "62.00"},
		// 6/7, 5/7, (3 + 1.8)/7: rounded for display only.
		{"sevenths", models.ScoreCounts{Valid: 7, Contacted: 6, Resolved: 5, Satisfied: 3, BasicSatisfied: 2}, defaultWeights, "85.71%", "71.43%", "68.57%", "71.71"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.counts.Rates(tc.w)
			got := [4]string{r.Percent(r.Response), r.Percent(r.Resolution), r.Percent(r.Satisfaction), r.ScoreText()}
			want := [4]string{tc.response, tc.resolution, tc.satis, tc.score}
			if got != want {
				t.Errorf("rates = %v, want %v", got, want)
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	t.Setenv("TZ", "UTC")
	loc := storetest.Shanghai
	// 23:30 UTC on the 20th is already the 21st in Shanghai.
	day := models.DayOf(time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC), loc)
	if !day.Start.Equal(sh(11, 21, 0, 0)) || !day.End.Equal(sh(11, 22, 0, 0)) || day.Label() != "2026年11月21日" {
		t.Errorf("day = %v – %v %s", day.Start, day.End, day.Label())
	}
	for _, at := range []time.Time{sh(11, 16, 0, 0), sh(11, 20, 12, 0), sh(11, 22, 23, 59)} {
		w := models.WeekOf(at, loc)
		if !w.Start.Equal(sh(11, 16, 0, 0)) || !w.End.Equal(sh(11, 23, 0, 0)) {
			t.Errorf("week of %v = %v – %v", at, w.Start, w.End)
		}
		if w.Label() != "2026年第47周（11月16日至11月22日）" {
			t.Errorf("week label = %s", w.Label())
		}
	}
	if w := models.WeekOf(time.Date(2027, 1, 1, 9, 0, 0, 0, loc), loc); w.Label() != "2026年第53周（12月28日至1月3日）" {
		t.Errorf("new year's week = %s", w.Label())
	}
	if w := models.WeekOf(sh(11, 20, 0, 0), loc).Next(); !w.Start.Equal(sh(11, 23, 0, 0)) {
		t.Errorf("next week starts %v", w.Start)
	}
	for _, tc := range []struct {
		at       time.Time
		startDay int
		start    time.Time
		label    string
	}{
		{sh(11, 20, 9, 0), 1, sh(11, 1, 0, 0), "2026年11月"},
		{sh(11, 1, 0, 0), 1, sh(11, 1, 0, 0), "2026年11月"},
		{sh(11, 20, 9, 0), 26, sh(10, 26, 0, 0), "2026年11月（10月26日至11月25日）"},
		{sh(11, 26, 0, 0), 26, sh(11, 26, 0, 0), "2026年12月（11月26日至12月25日）"},
		{time.Date(2027, 1, 5, 0, 0, 0, 0, loc), 26, sh(12, 26, 0, 0), "2027年1月（12月26日至1月25日）"},
		{sh(11, 20, 9, 0), 0, sh(11, 1, 0, 0), "2026年11月"}, // out of range: calendar month
	} {
		p := models.MonthOf(tc.at, loc, tc.startDay)
		if !p.Start.Equal(tc.start) || !p.End.Equal(tc.start.AddDate(0, 1, 0)) || p.Label() != tc.label {
			t.Errorf("MonthOf(%v, %d) = %v – %v %q", tc.at, tc.startDay, p.Start, p.End, p.Label())
		}
	}
	if p := models.MonthOf(sh(1, 10, 0, 0), loc, 1).Prev(); p.Label() != "2025年12月" || !p.Contains(time.Date(2025, 12, 31, 23, 59, 0, 0, loc)) {
		t.Errorf("month before January = %s", p.Label())
	}
}
