package jobs_test

import (
	"strings"
	"testing"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// scanned runs the overdue scan at when and returns the new outbox rows.
func scanned(t *testing.T, d *district, when string) []models.OutboxMessage {
	t.Helper()
	var last models.OutboxMessage
	must(t, d.store.DB(ctx).Order("id DESC").Limit(1).Find(&last).Error)
	mustRun(t, d.runner, jobs.OverdueScan, when)
	var rows []models.OutboxMessage
	if err := d.store.DB(ctx).Where("id > ?", last.ID).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestOverdueLadderFiresOncePerLevel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		tk := models.Ticket{Number: "2026111300001", Title: "外墙脱落", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 10:00"), Deadline: ptr(at("2026-11-20 10:00"))}
		create(t, s, &tk)
		expect := func(when string, want ...string) []models.OutboxMessage {
			t.Helper()
			rows := scanned(t, d, when)
			var got []string
			for _, r := range rows {
				got = append(got, r.Channel+":"+r.To)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("scan at %s sent %v, want %v", when, got, want)
			}
			return rows
		}
		// One working day before: the warning goes to the handler.
		rows := expect("2026-11-19 10:00", "app:xiaoli")
		if !strings.Contains(rows[0].Body, "【到期预警】") {
			t.Errorf("warning: %s", rows[0].Body)
		}
		expect("2026-11-19 10:15")
		// At the deadline: the alert, once, to the group @ the head.
		rows = expect("2026-11-20 10:00", "robot:")
		if !strings.Contains(rows[0].Body, "<@zhangsan>") || !strings.Contains(rows[0].Body, "超期") {
			t.Errorf("alert: %s", rows[0].Body)
		}
		expect("2026-11-20 10:15")
		expect("2026-11-20 10:30")
		// After the repeat interval: one reminder.
		rows = expect("2026-11-20 14:00", "robot:")
		if !strings.Contains(rows[0].Body, "第2次提醒") {
			t.Errorf("repeat: %s", rows[0].Body)
		}
		expect("2026-11-20 14:15")
		// Outside working hours: nothing, and nothing recorded.
		expect("2026-11-20 22:00")
		// One working day after (Monday): 催办 to the group and the leaders.
		rows = expect("2026-11-23 10:00", "robot:", "app:wangwu|sunqi")
		if !strings.Contains(rows[0].Body, "已报区领导") || !strings.Contains(rows[1].Body, "【催办】") {
			t.Errorf("urge: %s / %s", rows[0].Body, rows[1].Body)
		}
		// 签收 stops the repeats of the current level.
		must(t, s.DB(ctx).Model(&models.Alert{}).Where("subject_id = ? AND level = ?", tk.ID, "urge").Update("acked_at", at("2026-11-23 11:00")).Error)
		expect("2026-11-23 14:30")
		// Five working days after: 通报 in the group, acknowledged or not.
		rows = expect("2026-11-27 10:00", "robot:")
		if !strings.Contains(rows[0].Body, "通报") {
			t.Errorf("blacklist: %s", rows[0].Body)
		}
		// Resolved: it drops out.
		must(t, s.DB(ctx).Model(&tk).Update("status", models.TicketResolved).Error)
		expect("2026-11-27 14:30")
		var alerts []models.Alert
		must(t, s.DB(ctx).Order("id").Find(&alerts).Error)
		if len(alerts) != 4 || alerts[1].Count != 2 {
			t.Errorf("alerts: %+v", alerts)
		}
	})
}

func TestOverdueFirstSeenLateGoesStraightToItsLevel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		create(t, s, &models.Ticket{Number: "2026110200002", Title: "违建", DepartmentID: &d.cgj.ID, Status: models.TicketPending,
			ReceivedAt: at("2026-11-02 10:00"), Deadline: ptr(at("2026-11-09 10:00"))})
		rows := scanned(t, d, "2026-11-20 09:00")
		if len(rows) != 1 || !strings.Contains(rows[0].Body, "通报") || strings.Contains(rows[0].Body, "催办") || !strings.Contains(rows[0].Body, "<@lisi>") {
			t.Fatalf("first scan: %+v", rows)
		}
		var n int64
		must(t, s.DB(ctx).Model(&models.Alert{}).Count(&n).Error)
		if n != 1 {
			t.Errorf("%d alerts recorded, want only the level reached", n)
		}
	})
}

func TestOverdueDispatchGoesToTargetsThatHaveNotAnswered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		var leader, handler models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		must(t, s.DB(ctx).Where("userid = ?", "xiaoli").Take(&handler).Error)
		create(t, s, &models.Dispatch{
			IssuerID: leader.ID, Instruction: "占道经营整治，今日反馈", Status: models.DispatchOpen,
			Deadline: ptr(at("2026-11-20 12:00")), IssuedAt: at("2026-11-20 09:00"),
			Targets: []models.DispatchTarget{
				{DepartmentID: &d.cgj.ID, Status: models.TargetSigned},
				{MemberID: &handler.ID, Status: models.TargetFeedback},
				// Sent back by the issuer to be done again: it has work to answer for.
				{DepartmentID: &d.zjj.ID, Status: models.TargetReturned},
			},
		})
		rows := scanned(t, d, "2026-11-20 12:00")
		var bodies []string
		for _, r := range rows {
			bodies = append(bodies, r.Body)
		}
		all := strings.Join(bodies, "\n")
		if len(rows) != 2 || !strings.Contains(all, "【超期督办】城管局") || !strings.Contains(all, "【超期督办】住建局") ||
			!strings.Contains(all, "调度D") || strings.Contains(all, "xiaoli") {
			t.Fatalf("dispatch scan: %+v", rows)
		}
		if rows := scanned(t, d, "2026-11-20 12:15"); len(rows) != 0 {
			t.Errorf("second scan sent %d", len(rows))
		}
	})
}

func TestOverdueScanCountsOverdueTicketsWithoutADepartment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		// Nobody answers for these: the scan sends nothing and says how many are overdue.
		create(t, s, &models.Ticket{Number: "2026111300010", Title: "无主工单", Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 10:00"), Deadline: ptr(at("2026-11-20 09:00"))})
		create(t, s, &models.Ticket{Number: "2026111300011", Title: "临期无主工单", Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 10:00"), Deadline: ptr(at("2026-11-20 12:00"))}) // 预警 reached, not overdue
		res := mustRun(t, d.runner, jobs.OverdueScan, "2026-11-20 10:00")
		if !res.Ran || res.Messages != 0 || !strings.HasSuffix(res.Summary, "；1件超期工单无承办单位，未提醒") {
			t.Errorf("scan: %+v", res)
		}
	})
}
