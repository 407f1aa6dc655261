package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Group is a WeCom work group the bot serves: a district's group covering its
// departments and streets, or a street's group covering its communities. Code
// is the key of the org file and of msg.ToGroup; ChatID is the group's chat,
// where every post goes and by which a command said in the group is known to
// be said there; Robot names the robot of config wecom.robots that posts to
// it ("" for wecom.robot, or the AI bot when no robot is set). ReportAt and
// RemindAt are the group's own times ("HH:MM"), "" for schedule.report_at
// and remind_at. District is the district the group belongs to ("" for the
// configured one). The units it covers are GroupUnit rows.
type Group struct {
	ID       uint   `gorm:"primaryKey"`
	Code     string `gorm:"size:64;not null;uniqueIndex"`
	Name     string `gorm:"size:128;not null"`
	District string `gorm:"size:64;not null;default:'';index"`
	ChatID   string `gorm:"size:128;not null;default:'';index"`
	Robot    string `gorm:"size:32;not null;default:''"`
	ReportAt string `gorm:"size:5;not null;default:''"`
	RemindAt string `gorm:"size:5;not null;default:''"`
	Sort     int    `gorm:"not null;default:0"`
	// Units are the IDs of the departments the group covers, in the
	// configured order of the departments; not a column.
	Units     []uint `gorm:"-"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GroupUnit puts a unit in a group. A unit is in one group at most: its
// daily report, its reminders and the digests of its overdue items go there.
type GroupUnit struct {
	ID           uint `gorm:"primaryKey"`
	GroupID      uint `gorm:"not null;index"`
	DepartmentID uint `gorm:"not null;uniqueIndex"`
}

// UpsertGroup inserts g, or updates the group with g's Code, and makes its
// units exactly g.Units. A unit of another group is refused (ECONFLICT), as
// is a chat id of another group. On return g.ID is set.
func (s *Store) UpsertGroup(ctx context.Context, g *Group) (Change, error) {
	change := Unchanged
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if g.ChatID != "" {
			var other Group
			err := db.Where("chat_id = ? AND code <> ?", g.ChatID, g.Code).Take(&other).Error
			switch {
			case err == nil:
				return Errorf(ECONFLICT, "群聊 %s 已属于工作群 %s", g.ChatID, other.Code)
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return fmt.Errorf("models: find group of chat: %w", err)
			}
		}
		var old Group
		err := db.Where("code = ?", g.Code).Take(&old).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if err := db.Create(g).Error; err != nil {
				return dbError(err, "工作群编码重复："+g.Code)
			}
			change = Created
		case err != nil:
			return fmt.Errorf("models: find group %s: %w", g.Code, err)
		default:
			g.ID, g.CreatedAt = old.ID, old.CreatedAt
			if old.Name != g.Name || old.District != g.District || old.ChatID != g.ChatID || old.Robot != g.Robot ||
				old.ReportAt != g.ReportAt || old.RemindAt != g.RemindAt || old.Sort != g.Sort {
				err := db.Model(&Group{ID: old.ID}).Select("name", "district", "chat_id", "robot", "report_at", "remind_at", "sort", "updated_at").Updates(g).Error
				if err != nil {
					return fmt.Errorf("models: update group %s: %w", g.Code, err)
				}
				change = Updated
			}
		}
		units, err := tx.setGroupUnits(ctx, g)
		if units && change == Unchanged {
			change = Updated
		}
		return err
	})
	return change, err
}

// setGroupUnits makes g's units g.Units and reports whether they changed.
func (s *Store) setGroupUnits(ctx context.Context, g *Group) (bool, error) {
	db := s.db.WithContext(ctx)
	var rows []GroupUnit
	if err := db.Where("group_id = ? OR department_id IN ?", g.ID, append([]uint{0}, g.Units...)).Find(&rows).Error; err != nil {
		return false, fmt.Errorf("models: units of group %s: %w", g.Code, err)
	}
	have := map[uint]bool{}
	var drop []uint
	for _, r := range rows {
		switch {
		case r.GroupID != g.ID:
			var other Group
			if err := db.Select("code").Where("id = ?", r.GroupID).Take(&other).Error; err != nil {
				return false, fmt.Errorf("models: group %d: %w", r.GroupID, err)
			}
			var d Department
			if err := db.Select("name").Where("id = ?", r.DepartmentID).Take(&d).Error; err != nil {
				return false, fmt.Errorf("models: department %d: %w", r.DepartmentID, err)
			}
			return false, Errorf(ECONFLICT, "单位 %s 已属于工作群 %s", d.Name, other.Code)
		case slices.Contains(g.Units, r.DepartmentID):
			have[r.DepartmentID] = true
		default:
			drop = append(drop, r.ID)
		}
	}
	if len(drop) > 0 {
		if err := db.Where("id IN ?", drop).Delete(&GroupUnit{}).Error; err != nil {
			return false, fmt.Errorf("models: drop units of group %s: %w", g.Code, err)
		}
	}
	var add []GroupUnit
	for _, id := range g.Units {
		if !have[id] {
			add = append(add, GroupUnit{GroupID: g.ID, DepartmentID: id})
			have[id] = true
		}
	}
	if len(add) > 0 {
		if err := db.Create(&add).Error; err != nil {
			return false, dbError(err, "单位已属于其他工作群")
		}
	}
	return len(drop) > 0 || len(add) > 0, nil
}

// Groups returns every group in the configured order (Sort, then ID), each
// with its units in the configured order of the departments.
func (s *Store) Groups(ctx context.Context) ([]Group, error) {
	db := s.db.WithContext(ctx)
	var out []Group
	if err := db.Order("sort, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list groups: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	var rows []struct {
		GroupID, DepartmentID uint
	}
	err := db.Table(s.Table(&GroupUnit{}) + " AS u").Select("u.group_id, u.department_id").
		Joins("JOIN " + s.Table(&Department{}) + " AS d ON d.id = u.department_id").
		Order("d.sort, d.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: list group units: %w", err)
	}
	index := make(map[uint]int, len(out))
	for i, g := range out {
		index[g.ID] = i
	}
	for _, r := range rows {
		if i, ok := index[r.GroupID]; ok {
			out[i].Units = append(out[i].Units, r.DepartmentID)
		}
	}
	return out, nil
}

// GroupPlace is where a post to a group goes: its chat and the robot that
// posts there ("" for wecom.robot, or the AI bot).
type GroupPlace struct {
	Code, ChatID, Robot string
}

// GroupPlaceOf returns where posts to the group with code go. Code "" is the
// installation's default group: the first group in the configured order;
// ok is false when there is no group at all (a single-group installation
// configured in wecom.robot alone) or none with the code.
func (s *Store) GroupPlaceOf(ctx context.Context, code string) (GroupPlace, bool, error) {
	q := s.db.WithContext(ctx).Model(&Group{}).Select("code", "chat_id", "robot")
	if code == "" {
		q = q.Order("sort, id").Limit(1)
	} else {
		q = q.Where("code = ?", code)
	}
	var g Group
	err := q.Take(&g).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return GroupPlace{}, false, nil
	case err != nil:
		return GroupPlace{}, false, fmt.Errorf("models: find group %q: %w", code, err)
	}
	return GroupPlace{Code: g.Code, ChatID: g.ChatID, Robot: g.Robot}, true, nil
}
