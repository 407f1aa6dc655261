package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The accountability ladder (问责) of a unit that keeps lagging: the first
// time its triggers are met it is reminded (提醒), the second time
// interviewed (约谈, entered in chat by the supervision team or a leader),
// the third time ordered to examine itself (责令检视: a 检视报告 by a
// deadline, tracked as a dispatch of kind DispatchReview). The triggers and
// their evaluation are the jobs'; the store keeps each step with who and when.

// AccountStep is a rung of the accountability ladder.
type AccountStep int

// Rungs, in order. The ladder goes no higher than AccountReview: a unit
// triggered again at the top is ordered to examine itself again.
const (
	AccountRemind    AccountStep = 1 // 第一次提醒
	AccountInterview AccountStep = 2 // 第二次约谈
	AccountReview    AccountStep = 3 // 第三次责令检视
)

// AccountSteps lists the rungs in order.
var AccountSteps = []AccountStep{AccountRemind, AccountInterview, AccountReview}

// Chinese names the rung: 提醒, 约谈, 责令检视.
func (s AccountStep) Chinese() string {
	switch s {
	case AccountRemind:
		return "提醒"
	case AccountInterview:
		return "约谈"
	case AccountReview:
		return "责令检视"
	}
	return fmt.Sprintf("第%d级", int(s))
}

// Ordinal names the rung with its place, as the practice does: 第一次提醒,
// 第二次约谈, 第三次责令检视.
func (s AccountStep) Ordinal() string {
	if s < AccountRemind || s > AccountReview {
		return s.Chinese()
	}
	return "第" + [...]string{"一", "二", "三"}[s-1] + "次" + s.Chinese()
}

// DispatchReview is the dispatch that tracks a 责令检视: the unit submits its
// 检视报告 as the dispatch's 办结, by its deadline.
const DispatchReview DispatchKind = "责令检视"

// AccountabilityRecord is one step of a unit on the accountability ladder,
// with who took it and when.
type AccountabilityRecord struct {
	ID           uint        `gorm:"primaryKey"`
	DepartmentID uint        `gorm:"not null;index;uniqueIndex:idx_accountability_eval,priority:1"`
	Department   *Department `gorm:"constraint:OnDelete:CASCADE"`
	Step         AccountStep `gorm:"not null"`
	// Trigger says in words which triggers were met; empty for a 约谈 entered
	// in chat without one.
	Trigger string `gorm:"type:text"`
	// Evaluation keys the evaluation that recorded the step ("week
	// 2026-11-16", "month 2026-11-01"): a unit climbs at most one step per
	// evaluation, however often it runs. Nil for a step entered in chat.
	Evaluation *string `gorm:"size:64;uniqueIndex:idx_accountability_eval,priority:2"`
	// By is the userid of who recorded the step: "" for the evaluation.
	By string    `gorm:"size:64"`
	At time.Time `gorm:"not null;index"`
	// The 约谈: the day it was held, who met whom, what was agreed, and who
	// entered it when. A 约谈 the ladder called for waits with MeetingOn nil
	// until it is entered.
	MeetingOn  *time.Time
	Attendees  string `gorm:"size:255"`
	Minutes    string `gorm:"type:text"`
	RecordedBy string `gorm:"size:64"`
	RecordedAt *time.Time
	// DispatchID is the dispatch tracking a 责令检视's 检视报告.
	DispatchID *uint
}

// Held reports whether a 约谈 has been entered (or the step is not a 约谈).
func (r *AccountabilityRecord) Held() bool { return r.Step != AccountInterview || r.MeetingOn != nil }

// RecordAccountability records a step from an evaluation; it reports false,
// writing nothing, when the unit already took a step in that evaluation.
func (s *Store) RecordAccountability(ctx context.Context, r *AccountabilityRecord) (bool, error) {
	if r.Evaluation == nil || r.Step < AccountRemind || r.Step > AccountReview {
		return false, fmt.Errorf("models: accountability step %d without an evaluation", r.Step)
	}
	return insertOnce(s.db.WithContext(ctx).Omit(clause.Associations), r, "record accountability of department "+fmt.Sprint(r.DepartmentID))
}

// SetReviewDispatch links a 责令检视 to the dispatch that tracks it.
func (s *Store) SetReviewDispatch(ctx context.Context, recordID, dispatchID uint) error {
	err := s.db.WithContext(ctx).Model(&AccountabilityRecord{}).Where("id = ?", recordID).Update("dispatch_id", dispatchID).Error
	if err != nil {
		return fmt.Errorf("models: link accountability %d to dispatch %d: %w", recordID, dispatchID, err)
	}
	return nil
}

// Interview is a 约谈 entered in chat.
type Interview struct {
	DepartmentID uint
	On           time.Time // the day it was held
	Attendees    string    // who met whom
	Minutes      string    // what was agreed
	By           string    // who entered it
	At           time.Time
}

// RecordInterview enters a 约谈: it completes the unit's oldest 约谈 the ladder
// called for and is still waiting, or else records one of its own (the unit
// then stands at 约谈). It refuses an empty 纪要 and a day after At. It returns
// the record and whether the ladder had called for it.
func (s *Store) RecordInterview(ctx context.Context, iv Interview) (*AccountabilityRecord, bool, error) {
	iv.Minutes = strings.TrimSpace(iv.Minutes)
	switch {
	case iv.Minutes == "":
		return nil, false, Errorf(EINVALID, "请写明约谈纪要")
	case iv.On.After(iv.At):
		return nil, false, Errorf(EINVALID, "约谈日期不能晚于今天")
	}
	on, at := iv.On.In(s.loc), iv.At
	var out AccountabilityRecord
	called := false
	err := s.Tx(ctx, func(tx *Store) error {
		err := tx.db.WithContext(ctx).Where("department_id = ? AND step = ? AND meeting_on IS NULL", iv.DepartmentID, AccountInterview).
			Order("at, id").Take(&out).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			out = AccountabilityRecord{DepartmentID: iv.DepartmentID, Step: AccountInterview, By: iv.By, At: at}
		case err != nil:
			return fmt.Errorf("models: find the 约谈 due of department %d: %w", iv.DepartmentID, err)
		default:
			called = true
		}
		out.MeetingOn, out.Attendees, out.Minutes, out.RecordedBy, out.RecordedAt = &on, iv.Attendees, iv.Minutes, iv.By, &at
		if called {
			res := tx.db.WithContext(ctx).Model(&AccountabilityRecord{}).Where("id = ? AND meeting_on IS NULL", out.ID).
				Updates(map[string]any{"meeting_on": on, "attendees": iv.Attendees, "minutes": iv.Minutes, "recorded_by": iv.By, "recorded_at": at})
			if res.Error != nil {
				return fmt.Errorf("models: record 约谈 %d: %w", out.ID, res.Error)
			}
			if res.RowsAffected == 0 {
				return Errorf(ECONFLICT, "")
			}
			return nil
		}
		if err := tx.db.WithContext(ctx).Omit(clause.Associations).Create(&out).Error; err != nil {
			return fmt.Errorf("models: record 约谈 of department %d: %w", iv.DepartmentID, err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return &out, called, nil
}

// AccountabilityOf returns a unit's steps, oldest first.
func (s *Store) AccountabilityOf(ctx context.Context, deptID uint) ([]AccountabilityRecord, error) {
	var out []AccountabilityRecord
	if err := s.db.WithContext(ctx).Where("department_id = ?", deptID).Order("at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: accountability of department %d: %w", deptID, err)
	}
	return out, nil
}

// AccountabilityIn returns the steps taken in p, oldest first, with their units.
func (s *Store) AccountabilityIn(ctx context.Context, p Period) ([]AccountabilityRecord, error) {
	var out []AccountabilityRecord
	err := s.db.WithContext(ctx).Preload("Department").Where("at >= ? AND at < ?", p.Start, p.End).Order("at, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: accountability in %s: %w", p.Label(), err)
	}
	return out, nil
}

// LatestAccountability returns each unit's latest step taken before `before`,
// by unit ID.
func (s *Store) LatestAccountability(ctx context.Context, before time.Time) (map[uint]AccountabilityRecord, error) {
	var rows []AccountabilityRecord
	if err := s.db.WithContext(ctx).Where("at < ?", before).Order("at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: latest accountability: %w", err)
	}
	out := make(map[uint]AccountabilityRecord, len(rows))
	for _, r := range rows {
		out[r.DepartmentID] = r
	}
	return out, nil
}

// UrgedTickets counts, per department, the tickets whose alert at level (the
// 催办 level of the ladder) was first sent in p.
func (s *Store) UrgedTickets(ctx context.Context, level AlertLevel, p Period) (Counts, error) {
	var rows []struct {
		DepartmentID *uint
		N            int
	}
	err := s.db.WithContext(ctx).Model(&Alert{}).Select("department_id, COUNT(*) AS n").
		Where("subject_kind = ? AND level = ? AND first_sent_at >= ? AND first_sent_at < ?", SubjectTicket, level, p.Start, p.End).
		Group("department_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: count urged tickets: %w", err)
	}
	out := make(Counts, len(rows))
	for _, r := range rows {
		out[idKey(r.DepartmentID)] += r.N
	}
	return out, nil
}
