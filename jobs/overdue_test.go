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
	return since(t, d.store, func() { mustRun(t, d.runner, jobs.OverdueScan, when) })
}

// since runs f and returns the outbox rows it added.
func since(t *testing.T, s *models.Store, f func()) []models.OutboxMessage {
	t.Helper()
	var last models.OutboxMessage
	must(t, s.DB(ctx).Order("id DESC").Limit(1).Find(&last).Error)
	f()
	var rows []models.OutboxMessage
	must(t, s.DB(ctx).Where("id > ?", last.ID).Order("id").Find(&rows).Error)
	return rows
}

// destinations lists rows as channel:to, in order.
func destinations(rows []models.OutboxMessage) string {
	var got []string
	for _, r := range rows {
		got = append(got, r.Channel+":"+r.To)
	}
	return strings.Join(got, " ")
}

// expectScan runs the scan at when and fails unless it sent to exactly want
// (channel:to, in order); it returns the rows.
func (d *district) expectScan(t *testing.T, when string, want ...string) []models.OutboxMessage {
	t.Helper()
	rows := scanned(t, d, when)
	if got := destinations(rows); got != strings.Join(want, " ") {
		t.Fatalf("scan at %s sent %q, want %q", when, got, strings.Join(want, " "))
	}
	return rows
}

func TestOverdueLadderFiresOncePerLevel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		tk := models.Ticket{Number: "2026111300001", Title: "外墙脱落", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 10:00"), Deadline: ptr(at("2026-11-20 10:00"))}
		create(t, s, &tk)
		// One working day before: the warning goes to the handler.
		rows := d.expectScan(t, "2026-11-19 10:00", "app:xiaoli")
		if !strings.Contains(rows[0].Body, "【到期预警】") || !strings.Contains(rows[0].Body, tk.Number) {
			t.Errorf("warning: %s", rows[0].Body)
		}
		d.expectScan(t, "2026-11-19 10:15")
		// At the deadline: the group hears that 住建局 crossed 超期, once, @ the
		// head; the head gets the list.
		rows = d.expectScan(t, "2026-11-20 10:00", "robot:", "app:zhangsan")
		if !strings.Contains(rows[0].Body, "<@zhangsan>") || !strings.Contains(rows[0].Body, "超期") || !strings.Contains(rows[1].Body, tk.Number) {
			t.Errorf("alert: %s / %s", rows[0].Body, rows[1].Body)
		}
		d.expectScan(t, "2026-11-20 10:15")
		d.expectScan(t, "2026-11-20 10:30")
		// After the repeat interval: one reminder, to the head alone.
		rows = d.expectScan(t, "2026-11-20 14:00", "app:zhangsan")
		if !strings.Contains(rows[0].Body, "第2次提醒") {
			t.Errorf("repeat: %s", rows[0].Body)
		}
		d.expectScan(t, "2026-11-20 14:15")
		// Outside working hours: nothing, and nothing recorded.
		d.expectScan(t, "2026-11-20 22:00")
		// One working day after (Monday): 催办, a new level for the group, and
		// the list to the leaders.
		rows = d.expectScan(t, "2026-11-23 10:00", "robot:", "app:wangwu|sunqi")
		if !strings.Contains(rows[0].Body, "已报区领导") || !strings.Contains(rows[1].Body, "【催办】") || !strings.Contains(rows[1].Body, tk.Number) {
			t.Errorf("urge: %s / %s", rows[0].Body, rows[1].Body)
		}
		// 签收 stops the repeats of the current level.
		must(t, s.DB(ctx).Model(&models.Alert{}).Where("subject_id = ? AND level = ?", tk.ID, "urge").Update("acked_at", at("2026-11-23 11:00")).Error)
		d.expectScan(t, "2026-11-23 14:30")
		// Five working days after: 通报 in the group, acknowledged or not, and to the head.
		rows = d.expectScan(t, "2026-11-27 10:00", "robot:", "app:zhangsan")
		if !strings.Contains(rows[0].Body, "通报") || !strings.Contains(rows[1].Body, "通报") {
			t.Errorf("blacklist: %s / %s", rows[0].Body, rows[1].Body)
		}
		// Resolved: it drops out.
		must(t, s.DB(ctx).Model(&tk).Update("status", models.TicketResolved).Error)
		d.expectScan(t, "2026-11-27 14:30")
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
		rows := d.expectScan(t, "2026-11-20 09:00", "robot:", "app:lisi")
		if !strings.Contains(rows[0].Body, "通报") || strings.Contains(rows[0].Body, "催办") || !strings.Contains(rows[0].Body, "<@lisi>") {
			t.Fatalf("first scan: %s", rows[0].Body)
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
		// One digest names both units; each head gets the list.
		rows := d.expectScan(t, "2026-11-20 12:00", "robot:", "app:zhangsan", "app:lisi")
		if digest := rows[0].Body; !strings.Contains(digest, "住建局") || !strings.Contains(digest, "城管局") || !strings.Contains(digest, "调度D") {
			t.Errorf("digest: %s", digest)
		}
		for _, r := range rows {
			if strings.Contains(r.Body, "xiaoli") || strings.Contains(r.To, "xiaoli") {
				t.Errorf("the target that answered is told: %+v", r)
			}
		}
		d.expectScan(t, "2026-11-20 12:15")
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

// TestOverdueOneDigestPerScanForTheWholeGroup: units crossing levels in one
// scan make one group message between them, however many units and levels.
func TestOverdueOneDigestPerScanForTheWholeGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		for i, c := range []struct {
			dept     *models.Department
			deadline string
		}{
			{&d.zjj, "2026-11-20 09:00"}, {&d.zjj, "2026-11-19 09:00"}, {&d.zjj, "2026-11-10 09:00"},
			{&d.cgj, "2026-11-20 09:30"}, {&d.cgj, "2026-11-12 09:00"},
		} {
			create(t, s, &models.Ticket{Number: "20261101000" + string(rune('1'+i)), Title: "工单", DepartmentID: &c.dept.ID,
				Status: models.TicketInProgress, ReceivedAt: at("2026-11-01 09:00"), Deadline: ptr(at(c.deadline))})
		}
		rows := d.expectScan(t, "2026-11-20 10:00", "robot:", "app:zhangsan", "app:lisi", "app:wangwu|sunqi")
		digest := rows[0].Body
		for _, want := range []string{"住建局", "城管局", "超期", "催办", "通报", "<@zhangsan>", "<@lisi>"} {
			if !strings.Contains(digest, want) {
				t.Errorf("the digest does not name %s:\n%s", want, digest)
			}
		}
		if rows[0].Priority != -1 {
			t.Errorf("digest priority %d, want msg.Bulk", rows[0].Priority)
		}
	})
}

// TestOverdueUnitAnnouncedOnceWhileItHasOpenItemsAtTheLevel: a unit the group
// was told of at a level is not announced again there while it has open
// items at it, acknowledged or not; when it has none, a new crossing is news.
func TestOverdueUnitAnnouncedOnceWhileItHasOpenItemsAtTheLevel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		ticket := func(number string, dept *models.Department, deadline string) *models.Ticket {
			tk := &models.Ticket{Number: number, Title: "路灯不亮", DepartmentID: &dept.ID, Status: models.TicketInProgress,
				ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at(deadline))}
			create(t, s, tk)
			return tk
		}
		a := ticket("2026111300101", &d.zjj, "2026-11-20 10:00")
		b := ticket("2026111300102", &d.zjj, "2026-11-20 11:00")
		ticket("2026111300103", &d.cgj, "2026-11-20 11:00")
		// The others are a working day from their deadlines: warnings.
		d.expectScan(t, "2026-11-20 10:00", "robot:", "app:xiaoli", "app:zhangsan", "app:lisi")
		// 签收 of the first acknowledges its alert; it is still open at 超期.
		must(t, s.DB(ctx).Model(&models.Alert{}).Where("subject_id = ?", a.ID).Update("acked_at", at("2026-11-20 10:30")).Error)
		rows := d.expectScan(t, "2026-11-20 11:00", "robot:", "app:zhangsan", "app:lisi")
		if strings.Contains(rows[0].Body, "住建局") || !strings.Contains(rows[0].Body, "城管局") {
			t.Errorf("住建局 announced again at 超期 while its first item is open:\n%s", rows[0].Body)
		}
		if !strings.Contains(rows[1].Body, b.Number) {
			t.Errorf("the head's list lacks the new item: %s", rows[1].Body)
		}
		// Both of 住建局's items are settled: the announcement lapses quietly.
		must(t, s.DB(ctx).Model(&models.Ticket{}).Where("id IN ?", []uint{a.ID, b.ID}).Update("status", models.TicketResolved).Error)
		d.expectScan(t, "2026-11-20 11:15")
		var live []models.Announcement
		must(t, s.DB(ctx).Order("id").Find(&live).Error)
		if len(live) != 1 || live[0].DepartmentID != d.cgj.ID {
			t.Errorf("announcements after 住建局's items were settled: %+v", live)
		}
		// A later crossing is news again.
		c := ticket("2026111300104", &d.zjj, "2026-11-20 12:00")
		rows = d.expectScan(t, "2026-11-20 12:00", "robot:", "app:zhangsan")
		if !strings.Contains(rows[0].Body, "住建局") || !strings.Contains(rows[0].Body, c.Number) {
			t.Errorf("a new crossing after the lapse is not announced:\n%s", rows[0].Body)
		}
	})
}

// TestOverdueLadderRestartsWhenAlertsAreCleared: when a ticket's alerts are
// cleared and its deadline moved (an approved 延期), it leaves its level, the
// unit's announcement lapses, and the ladder runs again from the new deadline.
func TestOverdueLadderRestartsWhenAlertsAreCleared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		tk := models.Ticket{Number: "2026111300201", Title: "井盖缺失", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 10:00"))}
		create(t, s, &tk)
		d.expectScan(t, "2026-11-20 10:00", "robot:", "app:zhangsan")
		must(t, s.DB(ctx).Where("subject_id = ?", tk.ID).Delete(&models.Alert{}).Error)
		must(t, s.DB(ctx).Model(&tk).Update("deadline", at("2026-11-24 10:00")).Error)
		d.expectScan(t, "2026-11-20 10:15")
		d.expectScan(t, "2026-11-23 10:00", "app:xiaoli")
		rows := d.expectScan(t, "2026-11-24 10:00", "robot:", "app:zhangsan")
		if strings.Contains(rows[1].Body, "次提醒") {
			t.Errorf("the restarted ladder counts the old alert: %s", rows[1].Body)
		}
	})
}

// TestOverdueDispatchToAUnitAndItsMemberIsListedOnce: a dispatch to 住建局 and
// to one of its people is one item of 住建局, told to both.
func TestOverdueDispatchToAUnitAndItsMemberIsListedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		var leader, handler models.Member
		must(t, s.DB(ctx).Where("userid = ?", "wangwu").Take(&leader).Error)
		must(t, s.DB(ctx).Where("userid = ?", "xiaoli").Take(&handler).Error)
		dsp := models.Dispatch{IssuerID: leader.ID, Instruction: "外墙隐患排查", Status: models.DispatchOpen,
			Deadline: ptr(at("2026-11-20 12:00")), IssuedAt: at("2026-11-20 09:00"),
			Targets: []models.DispatchTarget{{DepartmentID: &d.zjj.ID, Status: models.TargetPending}, {MemberID: &handler.ID, Status: models.TargetPending}}}
		create(t, s, &dsp)
		rows := d.expectScan(t, "2026-11-20 12:00", "robot:", "app:zhangsan|xiaoli")
		for _, r := range rows {
			if n := strings.Count(r.Body, dsp.Code()+" "); n != 1 {
				t.Errorf("%s:%s lists %s %d times:\n%s", r.Channel, r.To, dsp.Code(), n, r.Body)
			}
		}
		if !strings.Contains(rows[0].Body, "住建局** <@zhangsan> <@xiaoli> 1项") {
			t.Errorf("digest: %s", rows[0].Body)
		}
	})
}

// TestOverdueClaimedDoneLeavesTheLadderAndAWithdrawnClaimRepeatsByApp: a
// ticket whose 办结 awaits the platform is left alone, its unit's
// announcement lapses; when the import withdraws the claim, the ticket's
// level repeats to the head by app message, not in the group.
func TestOverdueClaimedDoneLeavesTheLadderAndAWithdrawnClaimRepeatsByApp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		d := newDistrict(t, s)
		tk := models.Ticket{Number: "2026111300701", Title: "窨井盖破损", DepartmentID: &d.zjj.ID, Status: models.TicketInProgress,
			ReceivedAt: at("2026-11-13 09:00"), Deadline: ptr(at("2026-11-20 10:00"))}
		create(t, s, &tk)
		d.expectScan(t, "2026-11-20 10:00", "robot:", "app:zhangsan")
		must(t, s.DB(ctx).Model(&tk).Update("claimed_done_at", at("2026-11-20 11:00")).Error)
		d.expectScan(t, "2026-11-20 14:00")
		var n int64
		must(t, s.DB(ctx).Model(&models.Announcement{}).Count(&n).Error)
		if n != 0 {
			t.Errorf("%d announcements stand while the only item awaits the platform", n)
		}
		must(t, s.DB(ctx).Model(&tk).Update("claimed_done_at", nil).Error)
		rows := d.expectScan(t, "2026-11-20 15:00", "app:zhangsan")
		if !strings.Contains(rows[0].Body, "第2次提醒") {
			t.Errorf("after the withdrawn claim: %s", rows[0].Body)
		}
	})
}
