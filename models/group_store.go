package models

import (
	"context"
	"fmt"
	"time"
)

// Announcement records that a work group was told that a unit crossed a
// level of the escalation ladder (超期, 催办, 通报): while the unit still has
// open items at that level, a crossing of another of its items is not news to
// the group. When the unit has none left at the level, the announcement
// lapses (it is deleted), so that a later crossing is news again. One row per
// (group, unit, level), so that two scans racing announce it once.
type Announcement struct {
	ID    uint   `gorm:"primaryKey"`
	Group string `gorm:"column:group_code;size:64;not null;uniqueIndex:idx_announcements_unit_level,priority:1"`
	// DepartmentID is the unit; 0 stands for the members addressed without one.
	DepartmentID uint       `gorm:"not null;uniqueIndex:idx_announcements_unit_level,priority:2"`
	Level        AlertLevel `gorm:"size:16;not null;uniqueIndex:idx_announcements_unit_level,priority:3"`
	AnnouncedAt  time.Time  `gorm:"not null"`
	// Folded is set when the announcement's digest was not posted because the
	// group's daily budget was spent: the next morning roll-up tells it, and
	// clears the mark.
	Folded bool `gorm:"not null;default:false"`
}

// Announcements returns the live announcements of a group, in ID order.
func (s *Store) Announcements(ctx context.Context, group string) ([]Announcement, error) {
	var out []Announcement
	if err := s.db.WithContext(ctx).Where("group_code = ?", group).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list announcements of group %q: %w", group, err)
	}
	return out, nil
}

// AllAnnouncements returns the live announcements of every group, by group
// code, each group's in ID order: one query for a scan of many groups.
func (s *Store) AllAnnouncements(ctx context.Context) (map[string][]Announcement, error) {
	var rows []Announcement
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: list announcements: %w", err)
	}
	out := map[string][]Announcement{}
	for _, a := range rows {
		out[a.Group] = append(out[a.Group], a)
	}
	return out, nil
}

// Announce records an announcement. It reports false, writing nothing, when
// the group has a live announcement of that unit at that level: each crossing
// is announced once, even when two scans race.
func (s *Store) Announce(ctx context.Context, a *Announcement) (bool, error) {
	return insertOnce(s.db.WithContext(ctx), a, fmt.Sprintf("announce unit %d at %s to group %q", a.DepartmentID, a.Level, a.Group))
}

// LapseAnnouncements deletes the announcements with the given IDs: their
// units have no open items left at their levels.
func (s *Store) LapseAnnouncements(ctx context.Context, ids []uint) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Delete(&Announcement{}).Error; err != nil {
		return fmt.Errorf("models: lapse announcements: %w", err)
	}
	return nil
}

// UnfoldAnnouncements clears the Folded mark of a group's announcements,
// once a morning roll-up has told them, and returns how many it cleared.
func (s *Store) UnfoldAnnouncements(ctx context.Context, group string) (int64, error) {
	res := s.db.WithContext(ctx).Model(&Announcement{}).Where("group_code = ? AND folded = ?", group, true).Update("folded", false)
	if res.Error != nil {
		return 0, fmt.Errorf("models: unfold announcements of group %q: %w", group, res.Error)
	}
	return res.RowsAffected, nil
}

// GroupPosts counts the outbox rows posted to a group (OutboxMessage.GroupPost)
// that were enqueued in [from, to) with a priority below below: what a group's
// daily budget has spent. Rows waiting to be sent count, so that a backlog
// does not hide what is on its way; rows given up on do not.
func (s *Store) GroupPosts(ctx context.Context, group string, from, to time.Time, below int) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&OutboxMessage{}).
		Where("group_post = ? AND group_code = ? AND created_at >= ? AND created_at < ? AND priority < ? AND status <> ?",
			true, group, from, to, below, OutboxFailed).
		Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("models: count the posts to group %q: %w", group, err)
	}
	return int(n), nil
}
