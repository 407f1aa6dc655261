package models_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// TestDispatchLedgerStreamsTargetsAndSteps issues two dispatches in November
// and one in October, works the first, and reads November's ledger: one
// record per target with every time and name, and every step in order; a
// department sees its own targets only.
func TestDispatchLedgerStreamsTargetsAndSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		f := newDispatchFixture(t, s)
		at := storetest.At("2026-11-20 10:00")
		d := f.issue(t, s, at, "")
		f.issue(t, s, storetest.At("2026-11-21 09:00"), "")
		f.issue(t, s, storetest.At("2026-10-31 23:00"), "") // outside November
		step := func(kind models.StepKind, target uint, text string, minutes int) {
			t.Helper()
			var ids []uint
			if target != 0 {
				ids = []uint{target}
			}
			if _, _, err := s.StepDispatch(ctx, models.DispatchStep{DispatchID: d.ID, Step: kind, TargetIDs: ids,
				Actor: "zhangsan", Text: text, At: at.Add(time.Duration(minutes) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		step(models.StepSign, d.Targets[0].ID, "", 5)
		step(models.StepFeedback, d.Targets[0].ID, "已联系群众", 60)
		step(models.StepDone, d.Targets[0].ID, "已办结", 120)

		nov := models.MonthOf(at, storetest.Shanghai, 1)
		var lines []string
		err := s.EachDispatchRecord(ctx, models.DispatchQuery{Period: nov}, func(r *models.DispatchRecord) error {
			when := func(t *time.Time) string {
				if t == nil {
					return "-"
				}
				return t.Format("01-02 15:04")
			}
			lines = append(lines, fmt.Sprintf("%s %s %s %s %v %s|%s %s|%s %s|%s %s|%s %s", r.Code(), r.IssuedAt.Format("01-02 15:04"), r.Issuer,
				r.Instruction, []string(r.TicketNumbers), when(r.Deadline), r.Target, r.TargetStatus, when(r.SignedAt), r.SignedBy,
				when(r.FeedbackAt), r.Feedback, when(r.DoneAt), r.Result))
			if r.IssuedAt.Location() != storetest.Shanghai {
				t.Errorf("times come in %v", r.IssuedAt.Location())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		first := fmt.Sprintf("D%d", d.ID)
		second := fmt.Sprintf("D%d", d.ID+1)
		want := []string{
			first + " 11-20 10:00 王五 办结并回复群众 [2024112700123] 11-21 12:00|住建局 已办结|11-20 10:05 张三|11-20 11:00 已联系群众|11-20 12:00 已办结",
			first + " 11-20 10:00 王五 办结并回复群众 [2024112700123] 11-21 12:00|环海街道 待签收|- |- |- ",
			second + " 11-21 09:00 王五 办结并回复群众 [2024112700123] 11-22 11:00|住建局 待签收|- |- |- ",
			second + " 11-21 09:00 王五 办结并回复群众 [2024112700123] 11-22 11:00|环海街道 待签收|- |- |- ",
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("ledger:\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
		}
		var steps []string
		err = s.EachDispatchStep(ctx, models.DispatchQuery{Period: nov, DepartmentID: f.hh.ID}, func(r *models.DispatchStepRecord) error {
			steps = append(steps, fmt.Sprintf("D%d %s %s %s %s", r.DispatchID, r.At.Format("15:04"), r.Step, r.Target, r.Actor))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// 环海街道 sees the issues, not 住建局's steps.
		if got := strings.Join(steps, "\n"); got != first+" 10:00 issue  王五\n"+second+" 09:00 issue  王五" {
			t.Errorf("环海街道's steps:\n%s", got)
		}
		steps = nil
		err = s.EachDispatchStep(ctx, models.DispatchQuery{Period: nov}, func(r *models.DispatchStepRecord) error {
			steps = append(steps, fmt.Sprintf("%s %s %s %s", r.Step, r.Target, r.Actor, r.Text))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(steps, "|"); got != "issue  王五 办结并回复群众|sign 住建局 张三 |feedback 住建局 张三 已联系群众|done 住建局 张三 已办结|issue  王五 办结并回复群众" {
			t.Errorf("steps: %s", got)
		}
		var n int
		err = s.EachDispatchRecord(ctx, models.DispatchQuery{Period: nov, DepartmentID: f.zjj.ID}, func(r *models.DispatchRecord) error {
			if r.Target != "住建局" || r.TargetDept == nil || *r.TargetDept != f.zjj.ID {
				t.Errorf("住建局's ledger lists %s", r.Target)
			}
			n++
			return nil
		})
		if err != nil || n != 2 {
			t.Errorf("住建局 has %d records (%v), want 2", n, err)
		}
		stop := fmt.Errorf("enough")
		if err := s.EachDispatchRecord(ctx, models.DispatchQuery{Period: nov}, func(*models.DispatchRecord) error { return stop }); err != stop {
			t.Errorf("fn's error is not returned: %v", err)
		}
	})
}

func TestDailyReportsBetween(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		a, b := dept(t, s, "a", "甲局", 1), dept(t, s, "b", "乙局", 2)
		for _, r := range []struct {
			d   *models.Department
			day string
		}{{a, "2026-11-02"}, {b, "2026-11-02"}, {a, "2026-11-03"}, {a, "2026-10-31"}, {b, "2026-12-01"}} {
			if _, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: r.d.ID, Day: r.day, Text: "日报" + r.day, By: "x", At: sh(11, 2, 17, 0)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.WithdrawReport(ctx, b.ID, "2026-11-02", "x"); err != nil {
			t.Fatal(err)
		}
		got, err := s.DailyReportsBetween(ctx, "2026-11-01", "2026-11-30", 0)
		if err != nil {
			t.Fatal(err)
		}
		var days []string
		for _, r := range got {
			days = append(days, fmt.Sprintf("%s/%d", r.Day, r.DepartmentID))
		}
		if want := fmt.Sprintf("[2026-11-02/%d 2026-11-03/%d]", a.ID, a.ID); fmt.Sprint(days) != want {
			t.Errorf("November's standing reports %v, want %s", days, want)
		}
		if only, err := s.DailyReportsBetween(ctx, "2026-10-01", "2026-12-31", b.ID); err != nil || len(only) != 1 || only[0].Day != "2026-12-01" {
			t.Errorf("乙局's reports: %+v %v", only, err)
		}
	})
}
