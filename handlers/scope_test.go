package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"yanzhen/models"
)

// withGroups gives the harness's district the groups of issue 15: the
// district's group (qu, the harness's chat wrkgroup, 18:00) covers its
// departments and 环海街道; the street's group (hh, chat wrkHh, 17:30)
// covers the street's two communities, whose heads are hbzr and lhzr.
func (x *harness) withGroups() {
	x.t.Helper()
	street := x.dept["hhjd"]
	for _, d := range []models.Department{
		{Code: "hbsq", Name: "海滨社区", Tier: models.TierCommunity, ParentID: &street.ID, ReportRequired: true, Sort: 60},
		{Code: "lhsq", Name: "临海社区", Tier: models.TierCommunity, ParentID: &street.ID, ReportRequired: true, Sort: 61},
	} {
		if _, err := x.store.UpsertDepartment(ctx, &d); err != nil {
			x.t.Fatal(err)
		}
		x.dept[d.Code] = &d
	}
	for _, m := range []models.Member{
		{UserID: "hbzr", Name: "海滨主任", Role: models.RoleHead, DepartmentID: &x.dept["hbsq"].ID, Active: true},
		{UserID: "lhzr", Name: "临海主任", Role: models.RoleHead, DepartmentID: &x.dept["lhsq"].ID, Active: true},
	} {
		if _, err := x.store.UpsertMember(ctx, &m); err != nil {
			x.t.Fatal(err)
		}
	}
	for _, g := range []models.Group{
		{Code: "qu", Name: "区工作群", ChatID: "wrkgroup", ReportAt: "18:00", RemindAt: "17:30", Sort: 1,
			Units: []uint{x.dept["zjj"].ID, x.dept["cgj"].ID, x.dept["jyj"].ID, street.ID}},
		{Code: "hh", Name: "环海街道工作群", ChatID: "wrkHh", ReportAt: "17:30", RemindAt: "17:00", Sort: 2,
			Units: []uint{x.dept["hbsq"].ID, x.dept["lhsq"].ID}},
	} {
		if _, err := x.store.UpsertGroup(ctx, &g); err != nil {
			x.t.Fatal(err)
		}
	}
}

// sayIn sends text from a member in the group chat chat.
func (x *harness) sayIn(chat, from, text string) sent {
	x.t.Helper()
	x.seq++
	return x.handle(&models.Inbound{
		Route: models.RouteRobot, MsgID: fmt.Sprintf("msg%d", x.seq), ChatID: chat, ChatType: "group",
		FromUserID: from, MsgType: "text", Text: text, ReplyURL: "http://wecom.test/cgi-bin/webhook/send?key=k1",
		ReceivedAt: x.clock.Now(),
	})
}

// satisfied adds n assessed, satisfied tickets of a unit visited this month.
func (x *harness) satisfied(code string, n int) {
	x.t.Helper()
	for i := range n {
		x.visited(fmt.Sprintf("V%s%06d", code, i), code, "2026-11-10 10:00", true, models.Satisfied)
	}
}

// TestCommandsActWithinTheirGroup: 未报 lists, and 排名 ranks, the units of
// the group the command is said in; a street's 排名 in the district's group
// takes in its communities.
func TestCommandsActWithinTheirGroup(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.withGroups()
		x.satisfied("hbsq", 5)
		x.satisfied("zjj", 5)
		if r := x.sayIn("wrkHh", "hbzr", "未报").only(); r != "11月20日尚未报送日报的单位（2个）：海滨社区、临海社区" {
			t.Errorf("未报 in the street's group: %q", r)
		}
		if r := x.say("zhangsan", "未报").only(); r != "11月20日尚未报送日报的单位（4个）：住建局、城管局、教育局、环海街道" {
			t.Errorf("未报 in the district's group: %q", r)
		}
		street := x.sayIn("wrkHh", "hbzr", "排名").only()
		contains(t, "排名 in the street's group", street, "社区（1个单位参与排名）", "1. 海滨社区", "环海街道综合评分 100.00（有效回访5件）", "临海社区")
		if strings.Contains(street, "住建局") {
			t.Errorf("the street's ranking ranks 住建局:\n%s", street)
		}
		district := x.say("zhangsan", "排名").only()
		contains(t, "排名 in the district's group", district, "区级部门（1个单位参与排名）", "1. 住建局", "镇街（1个单位参与排名）", "1. 环海街道", "全区综合评分 100.00（有效回访10件）")
		if strings.Contains(district, "海滨社区") {
			t.Errorf("the district's ranking ranks a community of the street's group:\n%s", district)
		}
	})
}

// TestACommunitysReportIsLateAtItsGroupsTime: a community reports to its
// street's group by 17:30; a department to the district's by 18:00.
func TestACommunitysReportIsLateAtItsGroupsTime(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.withGroups()
		x.clock.Set(at("2026-11-20 17:35"))
		contains(t, "the community's report", x.sayIn("wrkHh", "hbzr", "日报 今日走访居民十二户").reply(), "已过17:30报送时间，记为迟报")
		if r := x.say("zhangsan", "日报 今日受理工单六件").reply(); strings.Contains(r, "迟报") {
			t.Errorf("a department's report before 18:00 is late: %q", r)
		}
	})
}

// TestTheLedgerOfAStreet: 台账 lists what a street answers for with its
// age: its 属地 part of a 双派单 ticket with where it stands, a ticket
// raised to it from a community, and a line per community.
func TestTheLedgerOfAStreet(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.withGroups()
		dual := x.addTicket("2026111300123", "zjj", "hhjd", at("2026-11-19 18:00"))
		raised := x.addTicket("2026111000456", "hbsq", "", at("2026-11-30 18:00"))
		x.addTicket("2026111800789", "lhsq", "", at("2026-11-30 18:00"))
		ok, err := x.store.RaiseTicket(ctx, models.Raise{TicketID: raised.ID, From: models.TierCommunity, To: models.TierStreet,
			ToID: &x.dept["hhjd"].ID, At: at("2026-11-19 10:00"), FromName: "海滨社区", ToName: "环海街道"})
		if err != nil || !ok {
			t.Fatalf("raise: %v %v", ok, err)
		}
		contains(t, "签收 by the street", x.say("zhaoliu", "签收 2026111300123").only(), "已签收工单 2026111300123（属地）")
		ledger := x.say("wangwu", "台账 环海街道").only()
		contains(t, "the street's ledger", ledger,
			"【台账】环海街道（街道级）在办事项",
			"下级提级至本级的工单 1 件：",
			"· 2026111000456 小区路灯不亮（海滨社区）｜提级1个工作日｜受理",
			"属地工单（双派单） 1 件：",
			"· 2026111300123 小区路灯不亮（住建局承办）｜已签收 11月20日 10:00｜受理",
			"所属社区：海滨社区 在办1件（最久", "临海社区 在办1件（最久2个工作日）")
		community := x.sayIn("wrkHh", "hbzr", "台账").only()
		contains(t, "the community's own ledger", community, "【台账】海滨社区（社区级）在办事项", "已提级的本级工单 1 件：", "2026111000456 小区路灯不亮（已提级至环海街道）")
		if r := x.say("zhangsan", "台账 不存在的单位").only(); r != "未找到单位“不存在的单位”" {
			t.Errorf("an unknown unit: %q", r)
		}
		_ = dual
	})
}

// TestADistrictSeesOnlyItself: in a city on one database, a district's
// people, its admin included, see their district only: names resolve in
// it, 未报 lists it.
func TestADistrictSeesOnlyItself(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		west := models.Department{Code: "xc-zjj", Name: "住建局", District: "西城区", ReportRequired: true}
		if _, err := x.store.UpsertDepartment(ctx, &west); err != nil {
			t.Fatal(err)
		}
		for _, m := range []models.Member{
			{UserID: "xcadmin", Name: "西城管理员", District: "西城区", Role: models.RoleAdmin, Active: true},
			{UserID: "xchead", Name: "西城局长", DepartmentID: &west.ID, Role: models.RoleHead, Active: true},
		} {
			if _, err := x.store.UpsertMember(ctx, &m); err != nil {
				t.Fatal(err)
			}
		}
		x.seq++
		private := x.handle(&models.Inbound{Route: models.RouteApp, MsgID: fmt.Sprintf("msg%d", x.seq), ChatType: "single",
			FromUserID: "xcadmin", MsgType: "text", Text: "未报", ReceivedAt: x.clock.Now()})
		if r := private.app()["xcadmin"]; r != "11月20日尚未报送日报的单位（1个）：住建局" {
			t.Errorf("西城's admin: %q", r)
		}
		x.seq++
		progress := x.handle(&models.Inbound{Route: models.RouteApp, MsgID: fmt.Sprintf("msg%d", x.seq), ChatType: "single",
			FromUserID: "xchead", MsgType: "text", Text: "日报 西城住建局今日正常", ReceivedAt: x.clock.Now()}).app()["xchead"]
		contains(t, "西城's head reports for 西城's 住建局", progress, "已收到住建局11月20日日报")
		reports, err := x.store.DailyReports(ctx, "2026-11-20")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := reports[west.ID]; !ok || len(reports) != 1 {
			t.Errorf("reports %+v", reports)
		}
		if r := x.say("zhangsan", "未报").only(); !strings.HasPrefix(r, "11月20日尚未报送日报的单位（4个）：") {
			t.Errorf("高新区's group sees 西城: %q", r)
		}
	})
}
