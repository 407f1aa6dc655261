package models_test

import (
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestDailyReportLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局", ReportRequired: true, Sort: 1}
		cgj := models.Department{Code: "cgj", Name: "城管局", ReportRequired: true, Sort: 2}
		ban := models.Department{Code: "ban", Name: "热线办", Sort: 0}
		for _, d := range []*models.Department{&zjj, &cgj, &ban} {
			mustCreate(t, s, d)
		}
		at := time.Date(2026, 11, 20, 16, 0, 0, 0, storetest.Shanghai)
		sub := models.ReportSubmission{DepartmentID: zjj.ID, Day: "2026-11-20", Text: " 今日办结工单 12 件 ", By: "zhangsan", ByName: "张三", At: at}
		r, err := s.SubmitReport(ctx, sub)
		if err != nil || r.Revision != 1 || r.Text != "今日办结工单 12 件" || r.Late {
			t.Fatalf("first submission: %+v %v", r, err)
		}
		sub.Text, sub.Append = "另：老旧小区改造完成 3 个", true
		if r, err = s.SubmitReport(ctx, sub); err != nil || r.Revision != 2 || r.Text != "今日办结工单 12 件\n另：老旧小区改造完成 3 个" {
			t.Fatalf("append: %+v %v", r, err)
		}
		sub.Text, sub.Append, sub.Late = "更正：办结 13 件", false, true
		if r, err = s.SubmitReport(ctx, sub); err != nil || r.Revision != 3 || r.Text != "更正：办结 13 件" || !r.Late {
			t.Fatalf("replace late: %+v %v", r, err)
		}
		reports, err := s.DailyReports(ctx, "2026-11-20")
		must(t, err)
		depts, err := s.Departments(ctx)
		must(t, err)
		if un := models.Unreported(depts, reports); len(un) != 1 || un[0].Code != "cgj" {
			t.Errorf("unreported = %v", un)
		}
		if w, err := s.WithdrawReport(ctx, zjj.ID, "2026-11-20", "zhangsan"); err != nil || w.Outcome != models.WithdrawnAll || !w.After.Withdrawn {
			t.Fatalf("withdraw: %+v %v", w, err)
		}
		if _, err := s.WithdrawReport(ctx, zjj.ID, "2026-11-20", "zhangsan"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("second withdraw: %v", err)
		}
		reports, err = s.DailyReports(ctx, "2026-11-20")
		must(t, err)
		if un := models.Unreported(depts, reports); len(un) != 2 {
			t.Errorf("after withdraw unreported = %v", un)
		}
		if _, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: cgj.ID, Day: "2026-11-20", Text: "补充", Append: true, At: at}); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("append with nothing to append to: %v", err)
		}
		if _, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: cgj.ID, Day: "2026-11-20", Text: "  ", At: at}); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("empty report: %v", err)
		}
	})
}

// A head and a reporter write versions of one report of their unit: the
// report shows the latest; each withdraws only their own, and withdrawing the
// version shown falls back to the other person's latest.
func TestReportVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		jyj := models.Department{Code: "jyj", Name: "教育局", ReportRequired: true, Sort: 1}
		mustCreate(t, s, &jyj)
		day := "2026-11-20"
		at := func(h, m int) time.Time { return time.Date(2026, 11, 20, h, m, 0, 0, storetest.Shanghai) }
		submit := func(by, name, text string, when time.Time, appendText bool) *models.DailyReport {
			t.Helper()
			r, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: jyj.ID, Day: day, Text: text, By: by, ByName: name, At: when, Append: appendText})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		shown := func() models.DailyReport {
			t.Helper()
			reports, err := s.DailyReports(ctx, day)
			must(t, err)
			return reports[jyj.ID]
		}
		submit("qianqi", "钱七", "联络员：今日受理6件", at(16, 0), false)
		submit("zhangsan", "张三", "局长：今日受理6件，办结5件", at(17, 0), false)
		if r := shown(); r.SubmittedBy != "zhangsan" || r.Text != "局长：今日受理6件，办结5件" || r.Revision != 2 {
			t.Fatalf("the head's later version is not shown: %+v", r)
		}
		// The reporter withdraws their own, older version: the head's stands.
		w, err := s.WithdrawReport(ctx, jyj.ID, day, "qianqi")
		if err != nil || w.Outcome != models.OlderVersion || w.After.Revision != 2 || shown().Text != "局长：今日受理6件，办结5件" {
			t.Fatalf("reporter withdrawing an older version: %+v %v", w, err)
		}
		// Withdrawn once, it cannot be withdrawn again: the head's is not theirs.
		if _, err := s.WithdrawReport(ctx, jyj.ID, day, "qianqi"); models.ErrorCode(err) != models.EFORBIDDEN || !strings.Contains(models.UserText(err), "张三") {
			t.Errorf("reporter withdrawing the head's version: %v", err)
		}
		// The reporter writes again, and adds to it; then the head withdraws
		// theirs, which is not shown: the reporter's stands.
		submit("qianqi", "钱七", "联络员：今日受理7件", at(17, 10), false)
		r := submit("qianqi", "钱七", "另办结6件", at(17, 20), true)
		if r.Text != "联络员：今日受理7件\n另办结6件" {
			t.Fatalf("append: %q", r.Text)
		}
		// The head withdraws: the head's version was not shown, nothing changes.
		if w, err := s.WithdrawReport(ctx, jyj.ID, day, "zhangsan"); err != nil || w.Outcome != models.OlderVersion {
			t.Fatalf("head withdrawing an older version: %+v %v", w, err)
		}
		// The head writes again; withdrawing it falls back to the reporter's latest.
		submit("zhangsan", "张三", "局长：今日办结6件", at(17, 40), false)
		posted := shown() // the head's version goes out at 18:00
		if err := s.MarkReportsPosted(ctx, []models.ReportRevision{posted.RevisionOf()}, at(18, 0)); err != nil {
			t.Fatal(err)
		}
		w, err = s.WithdrawReport(ctx, jyj.ID, day, "zhangsan")
		if err != nil || w.Outcome != models.FellBack || w.Before.SubmittedBy != "zhangsan" {
			t.Fatalf("head withdrawing the version shown: %+v %v", w, err)
		}
		if got := shown(); got.SubmittedBy != "qianqi" || got.SubmitterName != "钱七" || got.Text != "联络员：今日受理7件\n另办结6件" ||
			!got.SubmittedAt.Equal(at(17, 20)) || got.PostedAt != nil || got.Revision != w.Before.Revision+1 {
			t.Errorf("after falling back: %+v", got)
		}
		// The reporter withdraws theirs too: nothing stands.
		if w, err := s.WithdrawReport(ctx, jyj.ID, day, "qianqi"); err != nil || w.Outcome != models.WithdrawnAll {
			t.Fatalf("last version withdrawn: %+v %v", w, err)
		}
		if got := shown(); got.ID != 0 {
			t.Errorf("a report stands after every version was withdrawn: %+v", got)
		}
		// A new submission brings the report back.
		if r := submit("zhangsan", "张三", "局长：重新报送", at(18, 30), false); r.Withdrawn || shown().Text != "局长：重新报送" {
			t.Errorf("resubmitted: %+v", r)
		}
	})
}
