package models_test

import (
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestAnnouncementsOncePerUnitAndLevelUntilTheyLapse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		at := storetest.At("2026-11-20 10:00")
		announce := func(group string, dept uint, level models.AlertLevel) bool {
			t.Helper()
			var ok bool
			// Inside a transaction, as the scan announces: a duplicate must not spoil it.
			must(t, s.Tx(ctx, func(tx *models.Store) error {
				var err error
				ok, err = tx.Announce(ctx, &models.Announcement{Group: group, DepartmentID: dept, Level: level, AnnouncedAt: at})
				return err
			}))
			return ok
		}
		if !announce("", 1, "alert") || !announce("", 1, "urge") || !announce("", 0, "alert") || !announce("hh", 1, "alert") {
			t.Fatal("a first announcement was refused")
		}
		if announce("", 1, "alert") {
			t.Error("a unit was announced twice at one level to one group")
		}
		got, err := s.Announcements(ctx, "")
		must(t, err)
		if len(got) != 3 || got[0].DepartmentID != 1 || got[0].Level != "alert" || !got[0].AnnouncedAt.Equal(at) || got[2].DepartmentID != 0 {
			t.Fatalf("announcements of the default group: %+v", got)
		}
		must(t, s.LapseAnnouncements(ctx, []uint{got[0].ID}))
		must(t, s.LapseAnnouncements(ctx, nil))
		if !announce("", 1, "alert") {
			t.Error("a lapsed announcement still holds its unit and level")
		}
		folded := models.Announcement{Group: "", DepartmentID: 2, Level: "blacklist", AnnouncedAt: at, Folded: true}
		if ok, err := s.Announce(ctx, &folded); !ok || err != nil {
			t.Fatalf("folded announcement: %v %v", ok, err)
		}
		if n, err := s.UnfoldAnnouncements(ctx, ""); n != 1 || err != nil {
			t.Errorf("unfold cleared %d (%v), want 1", n, err)
		}
		if n, err := s.UnfoldAnnouncements(ctx, ""); n != 0 || err != nil {
			t.Errorf("second unfold cleared %d (%v)", n, err)
		}
		if hh, err := s.Announcements(ctx, "hh"); err != nil || len(hh) != 1 {
			t.Errorf("announcements of group hh: %+v %v", hh, err)
		}
	})
}

func TestGroupPostsCountsADaysPostsBelowAPriority(t *testing.T) {
	now := storetest.At("2026-11-20 09:00")
	clock := func() time.Time { return now }
	storetest.EachWith(t, storetest.Options{Now: clock}, func(t *testing.T, s *models.Store) {
		post := func(when string, group string, groupPost bool, priority int) uint {
			t.Helper()
			now = storetest.At(when)
			row := models.OutboxMessage{Channel: "robot", Kind: "text", Body: when, GroupPost: groupPost, Group: group, Priority: priority}
			if _, err := s.Enqueue(ctx, "", []models.OutboxMessage{row}); err != nil {
				t.Fatal(err)
			}
			var last models.OutboxMessage
			must(t, s.DB(ctx).Order("id DESC").Take(&last).Error)
			return last.ID
		}
		post("2026-11-19 23:59", "", true, 0)  // yesterday
		post("2026-11-20 00:00", "", true, -1) // a digest at midnight
		post("2026-11-20 09:00", "", true, 0)  // a notice
		post("2026-11-20 10:00", "", true, 1)  // the daily report: not counted below 1
		post("2026-11-20 11:00", "", false, 0) // an app message or a reply
		post("2026-11-20 12:00", "hh", true, 0)
		failed := post("2026-11-20 13:00", "", true, 0)
		must(t, s.DB(ctx).Model(&models.OutboxMessage{}).Where("id = ?", failed).Update("status", models.OutboxFailed).Error)
		post("2026-11-21 00:00", "", true, 0) // tomorrow
		from, to := storetest.At("2026-11-20 00:00"), storetest.At("2026-11-21 00:00")
		if n, err := s.GroupPosts(ctx, "", from, to, 1); n != 2 || err != nil {
			t.Errorf("posts to the default group below the report: %d (%v), want 2", n, err)
		}
		if n, err := s.GroupPosts(ctx, "", from, to, 2); n != 3 || err != nil {
			t.Errorf("posts to the default group below replies: %d (%v), want 3", n, err)
		}
		if n, err := s.GroupPosts(ctx, "hh", from, to, 1); n != 1 || err != nil {
			t.Errorf("posts to group hh: %d (%v), want 1", n, err)
		}
	})
}
