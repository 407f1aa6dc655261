package jobs_test

import (
	"fmt"
	"strings"
	"testing"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

func TestQuarterlyReportOnTheFirstWorkingDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		job := jobs.Find(jobs.QuarterlyReport)
		var posted []string
		// October 2026 starts with the National Day holiday: its first working day is the 8th.
		for day := 1; day <= 10; day++ {
			slot := at(fmt.Sprintf("2026-10-%02d 09:00", day))
			res, err := d.runner.Run(ctx, job, jobs.Run{Slot: slot, SlotKey: slot.Format(jobs.SlotLayout), Now: slot})
			if err != nil || !res.Ran {
				t.Fatalf("slot %d: %+v %v", day, res, err)
			}
			if res.Messages > 0 {
				posted = append(posted, fmt.Sprint(day))
			}
		}
		if strings.Join(posted, ",") != "8" {
			t.Errorf("posted on %v, want the 8th alone", posted)
		}
		rows := outbox(t, s, "quarterly-report/")
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "2026年第三季度 三率及综合评分") {
			t.Fatalf("quarterly report %+v", rows)
		}
		// By hand it runs whatever the day, and says nothing twice.
		if res := mustRun(t, d.runner, jobs.QuarterlyReport, "2026-10-09 10:00"); res.Messages != 0 || res.Repeated != 1 {
			t.Errorf("by hand: %+v", res)
		}
	})
}

func TestOverdueScanWatchesTheList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		var leader models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		item := &models.Rectification{DepartmentID: d.zjj.ID, Class: models.RectifyQuick, Problem: "楼道堆放杂物", Deadline: ptr(at("2026-11-19 10:00")),
			IssuerID: leader.ID, IssuedAt: at("2026-11-18 10:00")}
		if ok, err := s.CreateRectification(ctx, item); !ok || err != nil {
			t.Fatal(ok, err)
		}
		// At the deadline: the group's digest names the unit, its head gets the list.
		rows := scanned(t, d, "2026-11-19 10:00")
		if len(rows) != 2 || rows[0].Channel != "robot" || !strings.Contains(rows[0].Body, "整改Z1 楼道堆放杂物") || !strings.Contains(rows[0].Body, "<@zhangsan>") ||
			rows[1].To != "zhangsan" || !strings.Contains(rows[1].Body, "整改Z1 楼道堆放杂物") {
			t.Fatalf("at the deadline: %+v", rows)
		}
		alerts, err := s.AlertsOf(ctx, models.SubjectRectification, []uint{item.ID})
		if err != nil || len(alerts[item.ID]) != 1 || *alerts[item.ID][0].DepartmentID != d.zjj.ID {
			t.Fatalf("alerts %+v %v", alerts, err)
		}
		// Reported fixed, it awaits 核查 and drops off the ladder.
		if _, err := s.StepRectification(ctx, models.RectifyStep{ID: item.ID, Step: models.RectifyReport, Actor: "xiaoli", Text: "已清理", At: at("2026-11-19 11:00")}); err != nil {
			t.Fatal(err)
		}
		if rows := scanned(t, d, "2026-11-20 14:00"); len(rows) != 0 {
			t.Errorf("an item awaiting 核查 is still chased: %+v", rows)
		}
	})
}

func TestPublicityPublishesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		var leader models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		item := &models.Rectification{DepartmentID: d.zjj.ID, Class: models.RectifyTimed, Problem: "背街小巷环境整治", Deadline: ptr(at("2026-11-30 18:00")),
			IssuerID: leader.ID, IssuedAt: at("2026-11-16 10:00")}
		if ok, err := s.CreateRectification(ctx, item); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if res := mustRun(t, d.runner, jobs.Publicity, "2026-11-20 17:00"); res.Messages != 0 || !strings.Contains(res.Summary, "未公示") {
			t.Errorf("nothing verified: %+v", res)
		}
		for _, st := range []models.RectifyStep{
			{ID: item.ID, Step: models.RectifyReport, Actor: "xiaoli", Text: "已整治", At: at("2026-11-26 10:00")},
			{ID: item.ID, Step: models.RectifyPass, Actor: "wangwu", At: at("2026-11-26 15:00")},
		} {
			if _, err := s.StepRectification(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		res := mustRun(t, d.runner, jobs.Publicity, "2026-11-27 17:00")
		if res.Messages != 1 || res.Summary != "公示并销号整改事项1件，公示调度0件" {
			t.Errorf("publicity: %+v", res)
		}
		got, err := s.Rectification(ctx, item.ID)
		if err != nil || got.State != models.RectifyClosed {
			t.Errorf("after 公示: %+v %v", got, err)
		}
		if res := mustRun(t, d.runner, jobs.Publicity, "2026-11-27 17:05"); res.Messages != 0 {
			t.Errorf("published twice: %+v", res)
		}
	})
}
