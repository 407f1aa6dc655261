package models_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// TestScoreSeriesIsEachPeriodsScoreCounts checks the one-query series of six
// months against ScoreCounts of each month: the same counts, a month without
// visits empty, and visits outside the months left out.
func TestScoreSeriesIsEachPeriodsScoreCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		a, b := dept(t, s, "a", "甲局", 1), dept(t, s, "b", "乙局", 2)
		n := 0
		add := func(d *models.Department, visited time.Time, resolved bool, sat models.Satisfaction) {
			n++
			tk := &models.Ticket{Number: fmt.Sprintf("T%03d", n), Status: models.TicketResolved, ReceivedAt: visited.AddDate(0, 0, -2),
				VisitedAt: &visited, Assessed: true, Contacted: ptr(true), Resolved: ptr(resolved), Satisfaction: sat}
			if d != nil {
				tk.DepartmentID = &d.ID
			}
			mustCreate(t, s, tk)
		}
		for m := time.May; m <= time.November; m++ {
			if m == time.August {
				continue // a month without visits
			}
			add(a, time.Date(2026, m, 3, 9, 0, 0, 0, storetest.Shanghai), true, models.Satisfied)
			add(a, time.Date(2026, m, 28, 23, 59, 0, 0, storetest.Shanghai), m%2 == 0, models.BasicSatisfied)
			add(b, time.Date(2026, m, 15, 9, 0, 0, 0, storetest.Shanghai), false, models.Unsatisfied)
		}
		add(nil, sh(10, 10, 9, 0), true, models.Satisfied)
		last := models.MonthOf(sh(11, 20, 0, 0), storetest.Shanghai, 1)
		var months []models.Period
		for p, i := last, 0; i < 6; p, i = p.Prev(), i+1 {
			months = append([]models.Period{p}, months...)
		}
		series, err := s.ScoreSeries(ctx, months)
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 6 {
			t.Fatalf("%d periods", len(series))
		}
		for i, p := range months {
			want, err := s.ScoreCounts(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(series[i], want) {
				t.Errorf("%s: series %+v, counts %+v", p.Label(), series[i], want)
			}
		}
		if aug := series[2]; len(aug) != 0 {
			t.Errorf("August has no visit, got %+v", aug)
		}
		if c := series[5][a.ID]; c != (models.ScoreCounts{Valid: 2, Contacted: 2, Resolved: 1, Satisfied: 1, BasicSatisfied: 1}) {
			t.Errorf("甲局 in November: %+v", c)
		}
		if c := series[4][0]; c.Valid != 1 {
			t.Errorf("the ticket without a department in October: %+v", c)
		}
		if empty, err := s.ScoreSeries(ctx, nil); err != nil || len(empty) != 0 {
			t.Errorf("no periods: %v %v", empty, err)
		}
	})
}
