package jobs_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// streets is the district of issue 15 in small: the district's group (qu,
// 18:00, reminder 17:30) covers 住建局 and 环海街道; the street's group (hh,
// 17:30, reminder 17:00) covers its two communities.
type streets struct {
	*district
	street, hb, lh models.Department
}

func newStreets(t *testing.T, s *models.Store) *streets {
	t.Helper()
	x := &streets{district: newDistrict(t, s)}
	x.street = models.Department{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet, ReportRequired: true, Sort: 50}
	create(t, s, &x.street)
	x.hb = models.Department{Code: "hbsq", Name: "海滨社区", Tier: models.TierCommunity, ParentID: &x.street.ID, ReportRequired: true, Sort: 60}
	x.lh = models.Department{Code: "lhsq", Name: "临海社区", Tier: models.TierCommunity, ParentID: &x.street.ID, ReportRequired: true, Sort: 61}
	create(t, s, &x.hb)
	create(t, s, &x.lh)
	for _, m := range []models.Member{
		{UserID: "lin", Name: "林建军", Role: models.RoleHead, DepartmentID: &x.street.ID},
		{UserID: "hbzr", Name: "海滨主任", Role: models.RoleHead, DepartmentID: &x.hb.ID},
		{UserID: "lhzr", Name: "临海主任", Role: models.RoleHead, DepartmentID: &x.lh.ID},
	} {
		m.Active = true
		create(t, s, &m)
	}
	for _, g := range []models.Group{
		{Code: "qu", Name: "区工作群", ChatID: "wrkQu", Units: []uint{x.zjj.ID, x.cgj.ID, x.street.ID}, ReportAt: "18:00", RemindAt: "17:30", Sort: 1},
		{Code: "hh", Name: "环海街道工作群", ChatID: "wrkHh", Units: []uint{x.hb.ID, x.lh.ID}, ReportAt: "17:30", RemindAt: "17:00", Sort: 2},
	} {
		if _, err := s.UpsertGroup(ctx, &g); err != nil {
			t.Fatal(err)
		}
	}
	// A ticket of each community today, and one of the street itself.
	for i, dep := range []models.Department{x.hb, x.lh, x.street} {
		create(t, s, &models.Ticket{Number: fmt.Sprintf("20261119%05d", i+1), Title: "路灯不亮", DepartmentID: &dep.ID,
			Status: models.TicketInProgress, ReceivedAt: at("2026-11-19 09:00"), Deadline: ptr(at("2026-11-27 18:00"))})
	}
	return x
}

// TestEachGroupReportsAtItsOwnTime: the street's group is reminded at 17:00
// and gets its report at 17:30, with its communities' reports; the
// district's at 17:30 and 18:00, where the street's line sums up its
// communities; each (job, group, slot) runs once.
func TestEachGroupReportsAtItsOwnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		x := newStreets(t, s)
		x.report(t, &x.hb, "2026-11-19", "2026-11-19 16:30")
		x.report(t, &x.zjj, "2026-11-19", "2026-11-19 16:40")
		x.report(t, &x.street, "2026-11-19", "2026-11-19 17:40")
		sched := newScheduler(t, x.runner)
		check := func(when string) []models.OutboxMessage {
			t.Helper()
			return since(t, s, func() { sched.Check(ctx, at(when)) })
		}
		groupPosts := func(rows []models.OutboxMessage) map[string]string {
			out := map[string]string{}
			for _, r := range rows {
				if r.GroupPost {
					out[r.Group] += r.Body
				}
			}
			return out
		}
		at17 := groupPosts(check("2026-11-19 17:00"))
		if len(at17) != 1 || !strings.Contains(at17["hh"], "【日报提醒】") || !strings.Contains(at17["hh"], "临海社区") || strings.Contains(at17["hh"], "海滨社区") {
			t.Errorf("at 17:00: %q", at17)
		}
		at1730 := groupPosts(check("2026-11-19 17:30"))
		street, district := at1730["hh"], at1730["qu"]
		for _, want := range []string{"环海街道接诉即办工作日报", "全街道概况", "今日受理 2 件", "海滨社区今日工作正常。", "临海社区", "未报"} {
			if !strings.Contains(street, want) {
				t.Errorf("the street's 17:30 report lacks %q:\n%s", want, street)
			}
		}
		if !strings.Contains(district, "【日报提醒】") || !strings.Contains(district, "城管局 <@lisi>") || strings.Contains(district, "临海社区") {
			t.Errorf("the district's 17:30 reminder: %q", district)
		}
		report := groupPosts(check("2026-11-19 18:00"))["qu"]
		for _, want := range []string{"高新区接诉即办工作日报", "全区概况", "今日受理 3 件", "住建局今日工作正常。",
			"环海街道**　收3 结0 在办3 超期0 临期0 · 三率 —<font color=\"comment\">（含2个社区，社区日报1/2）", "环海街道今日工作正常。"} {
			if !strings.Contains(report, want) {
				t.Errorf("the district's 18:00 report lacks %q:\n%s", want, report)
			}
		}
		if strings.Contains(report, "海滨社区") {
			t.Errorf("the district's report lists the communities of the street's group:\n%s", report)
		}
		var runs []models.JobRun
		must(t, s.DB(ctx).Where("job IN ? AND status <> ?", []string{jobs.Remind, jobs.DailyReport}, models.JobSkipped).Order("id").Find(&runs).Error)
		var got []string
		for _, r := range runs {
			got = append(got, r.Job+"/"+r.Group+"@"+r.Slot[11:])
		}
		if want := "remind/hh@17:00 remind/qu@17:30 daily-report/hh@17:30 daily-report/qu@18:00"; strings.Join(got, " ") != want {
			t.Errorf("runs %q, want %q", strings.Join(got, " "), want)
		}
	})
}

// TestRunAtRunsTheGroupsOfThatTime: `yanzhen run JOB --at T` runs the job
// for every group whose own time for it is T, and for every group when T is
// none's.
func TestRunAtRunsTheGroupsOfThatTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		x := newStreets(t, s)
		if res := mustRun(t, x.runner, jobs.DailyReport, "2026-11-19 17:30"); res.Messages != 1 || len(outbox(t, s, "daily-report/hh/")) != 1 || len(outbox(t, s, "daily-report/qu/")) != 0 {
			t.Errorf("at 17:30: %+v", res)
		}
		if res := mustRun(t, x.runner, jobs.DailyReport, "2026-11-19 18:00"); res.Messages != 1 || len(outbox(t, s, "daily-report/qu/")) != 1 {
			t.Errorf("at 18:00: %+v", res)
		}
		res := mustRun(t, x.runner, jobs.Remind, "2026-11-19 16:00")
		if res.Messages != 2+5 || !strings.Contains(res.Summary, "区工作群：") || !strings.Contains(res.Summary, "环海街道工作群：") {
			t.Errorf("at a time of no group's: %+v", res)
		}
	})
}

// TestRunnersShareGroupSlotsWithoutDoubles: two and three replicas on one
// database check the same minutes at once; every group's slot runs once.
func TestRunnersShareGroupSlotsWithoutDoubles(t *testing.T) {
	for _, n := range []int{2, 3} {
		for _, driver := range storetest.Drivers {
			t.Run(fmt.Sprintf("%d/%s", n, driver), func(t *testing.T) {
				stores := handles(t, driver, n, nil)
				x := newStreets(t, stores[0])
				x.report(t, &x.hb, "2026-11-19", "2026-11-19 16:30")
				var scheds []*jobs.Scheduler
				for _, s := range stores {
					scheds = append(scheds, newScheduler(t, runnerOn(s)))
				}
				for _, when := range []string{"2026-11-19 17:00", "2026-11-19 17:30", "2026-11-19 18:00", "2026-11-19 18:01"} {
					var wg sync.WaitGroup
					for _, sc := range scheds {
						wg.Add(1)
						go func() {
							defer wg.Done()
							sc.Check(ctx, at(when))
						}()
					}
					wg.Wait()
				}
				s := stores[n-1]
				for _, prefix := range []string{"remind/hh/", "remind/qu/", "daily-report/hh/", "daily-report/qu/"} {
					var groupRows int
					for _, r := range outbox(t, s, prefix) {
						if r.GroupPost {
							groupRows++
						}
					}
					if groupRows != 1 {
						t.Errorf("%s: %d group posts, want 1", prefix, groupRows)
					}
				}
				var runs []models.JobRun
				must(t, s.DB(ctx).Where("job IN ? AND status <> ?", []string{jobs.Remind, jobs.DailyReport}, models.JobSkipped).Find(&runs).Error)
				for _, r := range runs {
					if r.Status != models.JobDone || r.Attempts != 1 {
						t.Errorf("%s of %s at %s: %s after %d attempts", r.Job, r.Group, r.Slot, r.Status, r.Attempts)
					}
				}
				if len(runs) != 4 {
					t.Errorf("%d runs of the reminder and the report, want 4", len(runs))
				}
			})
		}
	}
}

// TestDualDispatchAlertsBothUnits: a ticket sent to 住建局 with 环海街道 as
// its grid (双派单) is on the ladder twice: at the deadline the district's
// group hears that both crossed 超期, each head gets the list; the street's
// 签收 stops the street's repeats only; once 住建局 reports it done, both
// leave the ladder.
func TestDualDispatchAlertsBothUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		x := newStreets(t, s)
		tk := models.Ticket{Number: "2026111300009", Title: "井盖缺失", DepartmentID: &x.zjj.ID, GridDepartmentID: &x.street.ID,
			Status: models.TicketInProgress, ReceivedAt: at("2026-11-13 10:00"), Deadline: ptr(at("2026-11-20 10:00"))}
		create(t, s, &tk)
		rows := x.expectScan(t, "2026-11-20 10:00", "robot:", "app:zhangsan", "app:lin")
		digest := rows[0].Body
		for _, want := range []string{"住建局", "<@zhangsan>", "环海街道", "<@lin>", "工单2026111300009（属地）"} {
			if !strings.Contains(digest, want) {
				t.Errorf("the digest lacks %q:\n%s", want, digest)
			}
		}
		if rows[0].Group != "qu" || !strings.Contains(rows[2].Body, "【超期督办】环海街道") || !strings.Contains(rows[2].Body, tk.Number) {
			t.Errorf("the street's list: %+v", rows[2])
		}
		// The street signs for its part: its repeats stop, 住建局's go on.
		if _, err := s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventSigned, Actor: "lin", At: at("2026-11-20 11:00"), Grid: true}); err != nil {
			t.Fatal(err)
		}
		x.expectScan(t, "2026-11-20 14:00", "app:zhangsan")
		// 住建局 reports it done: the ticket leaves the ladder for both.
		if _, err := s.StepTicket(ctx, models.TicketStep{Number: tk.Number, Change: models.EventClaimed, Actor: "zhangsan", Text: "已补装", At: at("2026-11-20 15:00")}); err != nil {
			t.Fatal(err)
		}
		x.expectScan(t, "2026-11-20 18:00")
	})
}

// TestCommunityItemsAreToldInTheStreetsGroup: a community's crossing is told
// in its street's group, not in the district's.
func TestCommunityItemsAreToldInTheStreetsGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		x := newStreets(t, s)
		create(t, s, &models.Ticket{Number: "2026111300010", Title: "楼道堆物", DepartmentID: &x.hb.ID,
			Status: models.TicketInProgress, ReceivedAt: at("2026-11-13 10:00"), Deadline: ptr(at("2026-11-20 10:00"))})
		rows := x.expectScan(t, "2026-11-20 10:00", "robot:", "app:hbzr")
		if rows[0].Group != "hh" || !strings.Contains(rows[0].Body, "海滨社区") {
			t.Errorf("the community's crossing went to %q: %s", rows[0].Group, rows[0].Body)
		}
		roll := since(t, s, func() { mustRun(t, x.runner, jobs.MorningRollup, "2026-11-23 09:00") })
		if len(roll) != 1 || roll[0].Group != "hh" || !strings.Contains(roll[0].Body, "海滨社区") {
			t.Errorf("roll-up: %+v", roll)
		}
	})
}

// TestRaiseToTheStreetThenTheDistrict: a community's ticket open past the
// community's limit (5 working days from its receipt) is raised to its
// street, once, with notices to both and to the street's group, and in its
// history; past the street's limit (10 more working days) to the district,
// whose leaders hear of it.
func TestRaiseToTheStreetThenTheDistrict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		x := newStreets(t, s)
		tk := models.Ticket{Number: "2026111200011", Title: "小区门口积水", DepartmentID: &x.hb.ID,
			Status: models.TicketInProgress, ReceivedAt: at("2026-11-12 10:00"), Deadline: ptr(at("2026-12-31 18:00"))}
		create(t, s, &tk)
		raise := func(when string) []models.OutboxMessage {
			t.Helper()
			return since(t, s, func() { mustRun(t, x.runner, jobs.Raise, when) })
		}
		if rows := raise("2026-11-19 09:59"); len(rows) != 0 {
			t.Errorf("raised before its limit: %s", destinations(rows))
		}
		rows := raise("2026-11-19 10:00")
		if got := destinations(rows); got != "app:hbzr app:lin robot:" {
			t.Fatalf("the raise sent %q", got)
		}
		for i, want := range []string{"【提级】海滨社区", "【提级】环海街道", "海滨社区→环海街道"} {
			if !strings.Contains(rows[i].Body, want) || !strings.Contains(rows[i].Body, tk.Number) {
				t.Errorf("notice %d lacks %q: %s", i, want, rows[i].Body)
			}
		}
		if rows[2].Group != "hh" || !strings.Contains(rows[0].Body, "超过社区办理时限（5个工作日）") {
			t.Errorf("group %q: %s", rows[2].Group, rows[0].Body)
		}
		if rows := raise("2026-11-19 10:15"); len(rows) != 0 {
			t.Errorf("raised twice: %s", destinations(rows))
		}
		got, events, err := s.TicketByNumber(ctx, tk.Number)
		must(t, err)
		if got.RaisedLevel != models.TierStreet || *got.RaisedToID != x.street.ID || events[len(events)-1].Change != models.EventRaised {
			t.Errorf("raised %s to %v; history %+v", got.RaisedLevel, got.RaisedToID, events)
		}
		// Ten working days after the raise (holidays aside): to the district.
		// (The street's own ticket and the communities' of the fixture are raised too.)
		var mine []models.OutboxMessage
		for _, r := range raise("2026-12-03 10:00") {
			if strings.Contains(r.Body, tk.Number) {
				mine = append(mine, r)
			}
		}
		if got := destinations(mine); got != "app:lin app:wangwu|sunqi robot:" || !strings.Contains(mine[1].Body, "【提级】高新区") || mine[2].Group != "qu" {
			t.Errorf("to the district: %q %+v", got, mine)
		}
	})
}
