package models_test

import (
	"testing"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestHolidayOverrides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		for _, tc := range []struct {
			date string
			work bool
			name string
			want models.Change
		}{
			{"2027-02-06", false, "春节", models.Created},
			{"2027-02-06", false, "春节", models.Unchanged},
			{"2027-02-06", false, "春节假期", models.Updated},
			{"2027-02-20", true, "春节调休", models.Created},
			{"2026-12-31", false, "", models.Created},
		} {
			if ch, err := s.SetHolidayOverride(ctx, tc.date, tc.work, tc.name); err != nil || ch != tc.want {
				t.Errorf("set %s: %v %v", tc.date, ch, err)
			}
		}
		if _, err := s.SetHolidayOverride(ctx, "2027-2-30", false, ""); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("bad date: %v", err)
		}
		list, err := s.HolidayOverrides(ctx, 2027)
		if err != nil || len(list) != 2 || list[0].Date != "2027-02-06" || list[0].Name != "春节假期" || !list[1].Work {
			t.Errorf("2027 = %+v %v", list, err)
		}
		if all, err := s.HolidayOverrides(ctx, 0); err != nil || len(all) != 3 {
			t.Errorf("all = %+v (%v)", all, err)
		}
		if err := s.DeleteHolidayOverride(ctx, "2026-12-31"); err != nil {
			t.Error(err)
		}
		if err := s.DeleteHolidayOverride(ctx, "2026-12-31"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("second delete: %v", err)
		}
	})
}
