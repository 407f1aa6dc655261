package models

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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

// SubmitReport records a department's report for a day as the sender's
// version of it (ReportVersion): the first submission creates the report, a
// later one replaces (or with Append extends) the text the report shows,
// whoever wrote it, and bumps the revision. A withdrawn report comes back with
// the new text. A report that was on time stays on time only if this
// submission is too. A new revision is unposted until it goes out, so a
// correction after posting is posted as well.
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
			text = r.Text + "\n" + text
		}
		if r.ID != 0 {
			if err := tx.keepVersion(&r); err != nil {
				return err
			}
		}
		r.Text, r.Withdrawn = text, false
		r.Revision++
		r.PostedAt = nil // this revision has not gone out yet
		r.SubmittedBy, r.SubmitterName, r.SubmittedAt = sub.By, sub.ByName, sub.At
		r.Late = sub.Late
		if err := tx.db.Save(&r).Error; err != nil {
			return dbError(err, "日报正在被他人提交，请稍后重试")
		}
		out = r
		return tx.saveVersion(&ReportVersion{ReportID: r.ID, SubmittedBy: sub.By, SubmitterName: sub.ByName,
			Text: text, SubmittedAt: sub.At, Late: sub.Late})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// saveVersion writes v as its author's version of its report, replacing their
// earlier one.
func (s *Store) saveVersion(v *ReportVersion) error {
	err := s.db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "report_id"}, {Name: "submitted_by"}},
		DoUpdates: clause.AssignmentColumns([]string{"submitter_name", "text", "submitted_at", "late", "withdrawn"}),
	}).Create(v).Error
	if err != nil {
		return fmt.Errorf("models: save report version: %w", err)
	}
	return nil
}

// keepVersion makes sure the text a standing report shows is its author's
// version: a report written before versions were kept has none.
func (s *Store) keepVersion(r *DailyReport) error {
	if r.Withdrawn {
		return nil
	}
	var n int64
	if err := s.db.Model(&ReportVersion{}).Where("report_id = ? AND submitted_by = ?", r.ID, r.SubmittedBy).Count(&n).Error; err != nil {
		return fmt.Errorf("models: find report version: %w", err)
	}
	if n > 0 {
		return nil
	}
	return s.saveVersion(&ReportVersion{ReportID: r.ID, SubmittedBy: r.SubmittedBy, SubmitterName: r.SubmitterName,
		Text: r.Text, SubmittedAt: r.SubmittedAt, Late: r.Late})
}

// WithdrawOutcome is what withdrawing one's version did to a report.
type WithdrawOutcome int

// The outcomes of WithdrawReport.
const (
	// WithdrawnAll: no other version stands, so the report is withdrawn.
	WithdrawnAll WithdrawOutcome = iota
	// FellBack: the report showed the sender's version and now shows the
	// latest version another person wrote; it is a new, unposted revision.
	FellBack
	// OlderVersion: the report showed another person's later version, which
	// stands; only the sender's own version was withdrawn.
	OlderVersion
)

// ReportWithdrawal is the result of WithdrawReport: the report before and
// after, and what changed.
type ReportWithdrawal struct {
	Before, After DailyReport
	Outcome       WithdrawOutcome
}

// WithdrawReport withdraws by's version of a department's report of a day
// (撤回日报). A member withdraws only their own version: when the report
// stands on another person's version and by has none standing, it is an
// EFORBIDDEN error naming who wrote it. When by's version is the one the
// report shows, the report falls back to the latest version another person
// wrote, or is withdrawn when there is none; either is a new revision. No
// standing report at all is ENOTFOUND.
func (s *Store) WithdrawReport(ctx context.Context, deptID uint, day, by string) (*ReportWithdrawal, error) {
	var out ReportWithdrawal
	err := s.Tx(ctx, func(tx *Store) error {
		var r DailyReport
		err := tx.db.Where("department_id = ? AND day = ?", deptID, day).Take(&r).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && r.Withdrawn):
			return Errorf(ENOTFOUND, "今日没有可撤回的日报")
		case err != nil:
			return fmt.Errorf("models: find daily report: %w", err)
		}
		if err := tx.keepVersion(&r); err != nil {
			return err
		}
		res := tx.db.Model(&ReportVersion{}).Where("report_id = ? AND submitted_by = ? AND withdrawn = ?", r.ID, by, false).
			Update("withdrawn", true)
		switch {
		case res.Error != nil:
			return fmt.Errorf("models: withdraw report version: %w", res.Error)
		case res.RowsAffected == 0:
			return Errorf(EFORBIDDEN, "今日日报由%s报送，您只能撤回自己报送的版本", r.SubmitterName)
		}
		out.Before = r
		if r.SubmittedBy != by {
			out.Outcome, out.After = OlderVersion, r
			return nil
		}
		var prev ReportVersion
		err = tx.db.Where("report_id = ? AND withdrawn = ?", r.ID, false).Order("submitted_at DESC, id DESC").Take(&prev).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			out.Outcome, r.Withdrawn = WithdrawnAll, true
			r.SubmittedBy = by
		case err != nil:
			return fmt.Errorf("models: find report version: %w", err)
		default:
			out.Outcome = FellBack
			r.Text, r.SubmittedBy, r.SubmitterName, r.SubmittedAt, r.Late = prev.Text, prev.SubmittedBy, prev.SubmitterName, prev.SubmittedAt, prev.Late
			r.PostedAt = nil // the version it falls back to goes out as a correction
		}
		r.Revision++
		if err := tx.db.Save(&r).Error; err != nil {
			return fmt.Errorf("models: withdraw daily report: %w", err)
		}
		out.After = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DailyReports returns the day's reports that stand (not withdrawn), by department ID.
func (s *Store) DailyReports(ctx context.Context, day string) (map[uint]DailyReport, error) {
	return s.DailyReportsIn(ctx, day, nil)
}

// DailyReportsIn is DailyReports of the departments units only (a work
// group's); nil means every department.
func (s *Store) DailyReportsIn(ctx context.Context, day string, units []uint) (map[uint]DailyReport, error) {
	q := s.db.WithContext(ctx).Where("day = ? AND withdrawn = ?", day, false)
	if units != nil {
		q = q.Where("department_id IN ?", append([]uint{0}, units...))
	}
	var rows []DailyReport
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: list daily reports: %w", err)
	}
	out := make(map[uint]DailyReport, len(rows))
	for _, r := range rows {
		out[r.DepartmentID] = r
	}
	return out, nil
}

// ReportRevision is one revision of a daily report, as a message carried it.
type ReportRevision struct {
	ID       uint
	Revision int
}

// RevisionOf returns the report's current revision.
func (r *DailyReport) RevisionOf() ReportRevision {
	return ReportRevision{ID: r.ID, Revision: r.Revision}
}

// MarkReportsPosted records that revisions of reports went out (in the 18:00
// report, or as 补报 or 更正). A report revised since it was read for the
// message stays unposted, so that its new text goes out as 更正 rather than
// being taken for posted; the revision that went out is recorded all the same.
func (s *Store) MarkReportsPosted(ctx context.Context, revs []ReportRevision, at time.Time) error {
	byRev := map[int][]uint{}
	for _, r := range revs {
		byRev[r.Revision] = append(byRev[r.Revision], r.ID)
	}
	for _, rev := range slices.Sorted(maps.Keys(byRev)) {
		err := s.db.WithContext(ctx).Model(&DailyReport{}).Where("id IN ? AND posted_revision <= ?", byRev[rev], rev).
			Updates(map[string]any{"posted_revision": rev,
				"posted_at": gorm.Expr("CASE WHEN revision = ? THEN ? ELSE posted_at END", rev, at)}).Error
		if err != nil {
			return fmt.Errorf("models: mark reports posted: %w", err)
		}
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
