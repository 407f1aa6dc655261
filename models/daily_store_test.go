package models_test

import (
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
		if err := s.WithdrawReport(ctx, zjj.ID, "2026-11-20", "zhangsan"); err != nil {
			t.Fatal(err)
		}
		if err := s.WithdrawReport(ctx, zjj.ID, "2026-11-20", "zhangsan"); models.ErrorCode(err) != models.ENOTFOUND {
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
