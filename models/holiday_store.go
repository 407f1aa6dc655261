package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// HolidayOverrides returns the admins' calendar overrides of a year by date,
// or of every year when year is 0. The calendar applies them over lunar-go's
// arrangement.
func (s *Store) HolidayOverrides(ctx context.Context, year int) ([]HolidayOverride, error) {
	db := s.db.WithContext(ctx).Order("date")
	if year != 0 {
		db = db.Where("date LIKE ?", fmt.Sprintf("%04d-%%", year))
	}
	var out []HolidayOverride
	if err := db.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list holiday overrides: %w", err)
	}
	return out, nil
}

// SetHolidayOverride makes a date ("2006-01-02") a working day (work) or a day
// off, named name, replacing any override of that date.
func (s *Store) SetHolidayOverride(ctx context.Context, date string, work bool, name string) (Change, error) {
	if _, err := time.Parse("2006-01-02", date); err != nil {
		return Unchanged, Errorf(EINVALID, "日期 %q 格式有误，应为 2027-01-01", date)
	}
	var change Change
	err := s.Tx(ctx, func(tx *Store) error {
		var old HolidayOverride
		err := tx.db.WithContext(ctx).Where("date = ?", date).Take(&old).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			change = Created
			return tx.db.WithContext(ctx).Create(&HolidayOverride{Date: date, Work: work, Name: name}).Error
		case err != nil:
			return err
		case old.Work == work && old.Name == name:
			change = Unchanged
			return nil
		}
		change = Updated
		return tx.db.WithContext(ctx).Model(&old).Select("work", "name").
			Updates(&HolidayOverride{Work: work, Name: name}).Error
	})
	if err != nil {
		return Unchanged, dbError(err, "该日期已有调整记录，请重试")
	}
	return change, nil
}

// DeleteHolidayOverride removes the override of a date, so that the date
// follows lunar-go and the weekend rule again; ENOTFOUND when there is none.
func (s *Store) DeleteHolidayOverride(ctx context.Context, date string) error {
	res := s.db.WithContext(ctx).Where("date = ?", date).Delete(&HolidayOverride{})
	if res.Error != nil {
		return fmt.Errorf("models: delete holiday override: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ENOTFOUND, "%s 没有调整记录", date)
	}
	return nil
}
