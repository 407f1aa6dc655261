package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ReportSubmission is one submission of a department's daily report.
type ReportSubmission struct {
	DepartmentID uint
	Day          string // "2006-01-02" in the configured zone
	Text         string
	By, ByName   string // the submitter's userid and name
	At           time.Time
	// Late marks a submission after the report time (迟报).
	Late bool
	// Append adds Text to the day's report (补充日报) instead of replacing it.
	Append bool
}

// SubmitReport records a department's report for a day: the first submission
// creates it, a later one replaces (or with Append extends) the text and bumps
// the revision. A withdrawn report comes back with the new text. A report that
// was on time stays on time only if this submission is too. A new revision is
// unposted until it goes out, so a correction after posting is posted as well.
func (s *Store) SubmitReport(ctx context.Context, sub ReportSubmission) (*DailyReport, error) {
	text := strings.TrimSpace(sub.Text)
	if text == "" {
		return nil, Errorf(EINVALID, "日报内容不能为空")
	}
	var out DailyReport
	err := s.Tx(ctx, func(tx *Store) error {
		var r DailyReport
		err := tx.db.Where("department_id = ? AND day = ?", sub.DepartmentID, sub.Day).Take(&r).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			if sub.Append {
				return Errorf(ENOTFOUND, "今日尚未提交日报，请先发送“日报 内容”")
			}
			r = DailyReport{DepartmentID: sub.DepartmentID, Day: sub.Day, Revision: 0}
		case err != nil:
			return fmt.Errorf("models: find daily report: %w", err)
		}
		switch {
		case sub.Append && r.Withdrawn:
			return Errorf(ENOTFOUND, "今日日报已撤回，请重新发送“日报 内容”")
		case sub.Append:
			r.Text = r.Text + "\n" + text
		default:
			r.Text = text
		}
		r.Withdrawn = false
		r.Revision++
		r.PostedAt = nil // this revision has not gone out yet
		r.SubmittedBy, r.SubmitterName, r.SubmittedAt = sub.By, sub.ByName, sub.At
		r.Late = sub.Late
		if err := tx.db.Save(&r).Error; err != nil {
			return dbError(err, "日报正在被他人提交，请稍后重试")
		}
		out = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// WithdrawReport withdraws a department's report of a day (撤回日报).
func (s *Store) WithdrawReport(ctx context.Context, deptID uint, day, by string) error {
	res := s.db.WithContext(ctx).Model(&DailyReport{}).
		Where("department_id = ? AND day = ? AND withdrawn = ?", deptID, day, false).
		Updates(map[string]any{"withdrawn": true, "revision": gorm.Expr("revision + 1"), "submitted_by": by})
	if res.Error != nil {
		return fmt.Errorf("models: withdraw daily report: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Errorf(ENOTFOUND, "今日没有可撤回的日报")
	}
	return nil
}

// DailyReports returns the day's reports that stand (not withdrawn), by department ID.
func (s *Store) DailyReports(ctx context.Context, day string) (map[uint]DailyReport, error) {
	var rows []DailyReport
	if err := s.db.WithContext(ctx).Where("day = ? AND withdrawn = ?", day, false).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: list daily reports: %w", err)
	}
	out := make(map[uint]DailyReport, len(rows))
	for _, r := range rows {
		out[r.DepartmentID] = r
	}
	return out, nil
}

// MarkReportsPosted records that reports went out, at their current revision
// (in the 18:00 report, or as 补报 or 更正).
func (s *Store) MarkReportsPosted(ctx context.Context, ids []uint, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.db.WithContext(ctx).Model(&DailyReport{}).Where("id IN ?", ids).
		Updates(map[string]any{"posted_at": at, "posted_revision": gorm.Expr("revision")}).Error
	if err != nil {
		return fmt.Errorf("models: mark reports posted: %w", err)
	}
	return nil
}

// Unreported returns the departments that must report (ReportRequired) and
// have no standing report in reports, in the configured order.
func Unreported(depts []Department, reports map[uint]DailyReport) []Department {
	var out []Department
	for _, d := range depts {
		if _, ok := reports[d.ID]; d.ReportRequired && !ok {
			out = append(out, d)
		}
	}
	return out
}

// DailyReportsBetween returns the reports that stand (not withdrawn) of the
// days from and to ("2006-01-02", both included), of one department when
// deptID is not 0, by day then department.
func (s *Store) DailyReportsBetween(ctx context.Context, from, to string, deptID uint) ([]DailyReport, error) {
	q := s.db.WithContext(ctx).Where("day >= ? AND day <= ? AND withdrawn = ?", from, to, false)
	if deptID != 0 {
		q = q.Where("department_id = ?", deptID)
	}
	var out []DailyReport
	if err := q.Order("day, department_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list daily reports from %s to %s: %w", from, to, err)
	}
	return out, nil
}
