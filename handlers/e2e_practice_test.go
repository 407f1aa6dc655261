package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"yanzhen/jobs"
	"yanzhen/models"
)

// runJob runs a job as the scheduler would at when (the clock moves there),
// sends what it enqueued through the bot and returns what WeCom received.
func (w *wire) runJob(job, when string) delivered {
	w.t.Helper()
	w.clock.Set(at(when))
	run := jobs.NewRunner(jobs.NewEnv(w.store, w.bot.Outbox(), w.cfg.Domain(), w.cal, zap.NewNop()))
	if res, err := run.RunAt(ctx, job, at(when)); err != nil || !res.Ran {
		w.t.Fatalf("%s at %s: %+v %v", job, when, res, err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.bot.Flush(fctx); err != nil {
		w.t.Fatalf("flush: %v", err)
	}
	all := w.wecom.Messages()
	d := delivered{t: w.t, calls: all[w.seenCalls:]}
	w.seenCalls = len(all)
	return d
}

// posted returns the messages posted to the group, joined.
func (d delivered) posted() string {
	var parts []string
	for _, c := range d.robot() {
		parts = append(parts, c.Content)
	}
	return strings.Join(parts, "\n---\n")
}

// item returns a stored item of the rectification list.
func (x *harness) item(id uint) *models.Rectification {
	x.t.Helper()
	it, err := x.store.Rectification(ctx, id)
	if err != nil {
		x.t.Fatal(err)
	}
	return it
}

// visit records a ticket of a unit visited (回访) on day, resolved and
// satisfied or neither.
func (x *harness) visit(number, dept, day string, good bool) {
	x.t.Helper()
	yes, no := true, false
	tk := &models.Ticket{Number: number, Title: "已回访的诉求", Category: "求助", Status: models.TicketResolved,
		ReceivedAt: at(day + " 09:00").Add(-72 * time.Hour), DepartmentID: &x.dept[dept].ID,
		Assessed: true, VisitedAt: ptr(at(day + " 10:00")), Contacted: &yes, Resolved: &yes, Satisfaction: models.Satisfied}
	if !good {
		tk.Resolved, tk.Satisfaction = &no, models.Unsatisfied
	}
	if err := x.store.DB(ctx).Create(tk).Error; err != nil {
		x.t.Fatal(err)
	}
}

func TestEndToEndRectificationClasses(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		// 即知即改, registered by the supervision team: a failed 核查 reopens it.
		got := w.group("zhoujiu", "立项 @住建局 海景花园3栋楼道堆放杂物 即知即改")
		if c := got.robot(); len(c) != 1 || c[0].Content != "已立项整改事项 Z1（即知即改），交办住建局（张三），时限：11月23日（周一）10:00前。" {
			t.Errorf("立项 reply %+v", c)
		}
		contains(t, "assignment", got.to("zhangsan"), "【整改交办 Z1】周九（督导专班）交办住建局：海景花园3栋楼道堆放杂物", "类别：即知即改｜时限：11月23日（周一）10:00前", "请回复“签收 Z1”落实")
		contains(t, "take", w.private("zhangsan", "签收 Z1").to("zhoujiu"), "【整改事项 Z1】住建局（张三）已签收，落实整改。")
		contains(t, "report", w.private("sunba", "反馈 Z1 已清理楼道杂物").to("zhoujiu"), "【整改事项 Z1 待核查】住建局（孙八）反馈：\n已清理楼道杂物", "“核查 Z1 通过”")
		if c := w.private("zhangsan", "核查 Z1 通过").to("zhangsan"); c != "仅区领导、督导专班、12345热线办可以核查" {
			t.Errorf("the unit verifying itself: %q", c)
		}
		got = w.private("zhoujiu", "核查 Z1 不通过 三楼仍有堆物")
		contains(t, "failed verification", got.to("zhangsan"), "【整改事项 Z1 核查不通过】周九（督导专班）核查未通过：三楼仍有堆物", "请重新整改")
		if it := w.item(1); it.State != models.RectifyWorking || it.Reopened != 1 {
			t.Errorf("after the failed 核查: %s, reopened %d", it.State, it.Reopened)
		}
		w.private("sunba", "反馈 Z1 三楼堆物已全部清理")
		contains(t, "passed", w.private("zhoujiu", "核查 Z1 通过").to("zhoujiu"), "整改事项 Z1 核查通过，将在本周整改公示后销号。")

		// 限时整改 from a ticket, its unit taken from the ticket, verified by the 12345 office.
		w.addTicket("2024112700123", "cgj", "", at("2026-11-25 18:00"))
		got = w.group("wangwu", "立项 工单2024112700123 滨江路占道经营反复出现 限时整改 12月4日前")
		contains(t, "timed", got.posted(), "已立项整改事项 Z2（限时整改），交办城管局（陈一），时限：12月4日（周五）18:00前。")
		contains(t, "timed assignment", got.to("chenyi"), "【整改交办 Z2】王五（区领导）交办城管局：滨江路占道经营反复出现", "来源：工单 2024112700123")
		w.private("chenyi", "签收 Z2")
		contains(t, "timed report", w.private("chenyi", "反馈 Z2 已设置临时疏导点并安排每日巡查").to("wangwu"), "【整改事项 Z2 待核查】城管局（陈一）反馈")
		w.private("liuyi", "核查 Z2 通过")

		// 无法整改, asked by the supervision team, approved by a leader through
		// the approval chain, reported up; fixed later after all.
		got = w.group("zhoujiu", "立项 @住建局 海景花园加装电梯 无法整改 涉及规划调整需市级审批")
		contains(t, "unfixable", got.posted(), "已立项整改事项 Z3（无法整改），住建局。", "已提交整改事项 Z3 的无法整改申请，待区领导批准。")
		contains(t, "leaders asked", got.to("wangwu", "zhaosi"), "【无法整改审批】周九（督导专班）申请整改事项 Z3 无法整改。\n理由：涉及规划调整需市级审批", "“批准无法整改 Z3”")
		got = w.private("wangwu", "批准无法整改 Z3")
		contains(t, "approval", got.to("wangwu"), "已批准整改事项 Z3 无法整改，列为无法整改，按月报上级。")
		contains(t, "approval heard", got.to("zhoujiu", "zhangsan", "liuyi"), "【无法整改批准】整改事项 Z3 的无法整改申请已经王五（区领导）批准")
		if it := w.item(3); it.State != models.RectifyDeferred {
			t.Errorf("approved 无法整改: %s", it.State)
		}
		contains(t, "list", w.private("wangwu", "清单 住建局").to("wangwu"), "【整改清单】住建局未销号的整改事项 2 件（即知即改1、无法整改1）", "Z3 无法整改 已报备 海景花园加装电梯")
		w.private("zhangsan", "反馈 Z3 规划调整已获批，电梯已加装并通过验收")
		w.private("zhoujiu", "核查 Z3 通过")

		// The weekly 整改公示 publishes the three and closes them (销号).
		got = w.runJob(jobs.Publicity, "2026-11-20 17:00")
		contains(t, "整改公示", got.posted(), "高新区整改公示", "本周销号整改事项 3 件",
			"Z1 住建局 即知即改：海景花园3栋楼道堆放杂物（周九核查）", "Z2 城管局 限时整改：滨江路占道经营反复出现（刘一核查）", "Z3 住建局 无法整改：海景花园加装电梯（周九核查）")
		for id := uint(1); id <= 3; id++ {
			if it := w.item(id); it.State != models.RectifyClosed || it.ClosedAt == nil {
				t.Errorf("Z%d after 公示: %s", id, it.State)
			}
		}
		if c := w.private("wangwu", "清单").to("wangwu"); c != "全区暂无未销号的整改事项。" {
			t.Errorf("the list after 销号: %q", c)
		}
		contains(t, "查 Z1", w.private("wangwu", "查 Z1").to("wangwu"), "【整改事项 Z1】已销号（即知即改）", "核查不通过（三楼仍有堆物） 周九", "公示销号")
	})
}

func TestEndToEndVerifiedDispatch(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		got := w.group("wangwu", "调度 @住建局 明天下班前清理海景花园楼道杂物 需核查")
		contains(t, "reply", got.posted(), "已下达调度 D1", "办结后需核查")
		contains(t, "notice", got.to("zhangsan"), "交办住建局：清理海景花园楼道杂物")
		contains(t, "done", w.private("zhangsan", "办结 D1 已清理").to("wangwu"), "“核查 D1 通过”")
		if c := w.private("wangwu", "确认 D1").to("wangwu"); !strings.HasPrefix(c, "调度 D1 需核查") {
			t.Errorf("确认 of a dispatch to verify: %q", c)
		}
		contains(t, "failed", w.private("zhoujiu", "核查 D1 不通过 仍有杂物").to("zhangsan", "wangwu"), "【调度 D1 核查不通过】周九（督导专班）：仍有杂物")
		w.private("zhangsan", "办结 D1 已全部清理")
		contains(t, "verified", w.private("liuyi", "核查 D1 通过").to("liuyi"), "调度 D1 核查通过，已销号")
		got = w.runJob(jobs.Publicity, "2026-11-20 17:00")
		contains(t, "公示", got.posted(), "核查办结调度 1 件", "D1 住建局：清理海景花园楼道杂物（刘一核查）")
	})
}

func TestEndToEndAccountabilityLadder(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		// November's ranking: 住建局 the worst of three ranked departments,
		// visited early in the month, before the weeks the ladder looks at.
		for i := range 5 {
			w.visit(fmt.Sprintf("202611020%02d", i), "zjj", "2026-11-03", i == 0)
			w.visit(fmt.Sprintf("202611021%02d", i), "cgj", "2026-11-04", true)
			w.visit(fmt.Sprintf("202611022%02d", i), "jyj", "2026-11-05", true)
		}
		// Week 47: three of 住建局's tickets reach 催办 (a working day overdue).
		for i := range 3 {
			w.addTicket(fmt.Sprintf("20261116%03d", i), "zjj", "", at("2026-11-18 18:00"))
		}
		w.runJob(jobs.OverdueScan, "2026-11-20 10:00")
		got := w.runJob(jobs.WeeklyReport, "2026-11-20 17:00")
		contains(t, "提醒 to the head", got.to("zhangsan"), "【问责提醒】住建局因本周催办工单3件，2026年第47周（11月16日至11月22日）被第一次提醒")
		contains(t, "weekly report", got.posted(), "**【问责】**本周提醒、约谈、责令检视", "住建局 第一次提醒（本周催办工单3件）")
		if again := w.runJob(jobs.WeeklyReport, "2026-11-20 17:00"); len(again.calls) != 0 {
			t.Errorf("the week evaluated again: %+v", again.calls)
		}

		// Week 48: three more; the unit is to be interviewed.
		for i := range 3 {
			w.addTicket(fmt.Sprintf("20261123%03d", i), "zjj", "", at("2026-11-25 18:00"))
		}
		w.runJob(jobs.OverdueScan, "2026-11-27 10:00")
		got = w.runJob(jobs.WeeklyReport, "2026-11-27 17:00")
		contains(t, "约谈 to the head", got.to("zhangsan"), "【问责约谈】住建局因本周催办工单3件，2026年第48周（11月23日至11月29日）再次触发问责，将被约谈")
		contains(t, "约谈 to the team", got.to("zhoujiu", "wangwu", "zhaosi"), "住建局（本周催办工单3件）：请安排约谈，并发送“约谈 住建局 日期 纪要”记录")
		if c := w.private("zhangsan", "约谈 住建局 今天 已谈").to("zhangsan"); c != "仅区领导、督导专班可以记录约谈" {
			t.Errorf("a head entering a 约谈: %q", c)
		}
		got = w.private("zhoujiu", "约谈 住建局 今天 王五约谈张三，要求两周内清理超期积案")
		if c := got.to("zhoujiu"); c != "已记录住建局11月27日约谈（第二次约谈）。" {
			t.Errorf("约谈 reply %q", c)
		}

		// December's monthly report: 住建局 on November's 黑榜, the third step.
		got = w.runJob(jobs.MonthlyReport, "2026-12-01 09:00")
		contains(t, "责令检视", got.to("zhangsan"), "【责令检视】住建局因2026年11月区级部门黑榜", "请于12月8日09:00前提交检视报告：回复“办结 D1 检视报告”。")
		contains(t, "monthly report", got.posted(), "**【问责台账】**各级问责单位", "· 第三次责令检视：<font color=\"warning\">住建局</font>")
		d, err := w.store.Dispatch(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != models.DispatchReview || d.Issuer.UserID != "wangwu" || !d.Deadline.Equal(at("2026-12-08 09:00")) {
			t.Errorf("the 检视 dispatch: %s by %s due %v", d.Kind, d.Issuer.UserID, d.Deadline)
		}
		// The 检视报告, tracked as a dispatch, and the leader's 确认.
		contains(t, "检视报告", w.private("zhangsan", "办结 D1 检视报告：积案源于物业维修资金审批慢，已建立周调度机制").to("wangwu"), "【责令检视 D1】全部单位已报办结", "住建局：检视报告：积案源于物业维修资金审批慢")
		w.private("wangwu", "确认 D1")

		// 问责 shows every step, with who and when.
		c := w.private("zhaosi", "问责 住建局").to("zhaosi")
		contains(t, "问责", c, "【问责记录】住建局\n当前：第三次责令检视",
			"11月20日 17:00 第一次提醒（本周催办工单3件）",
			"11月27日 17:00 第二次约谈（本周催办工单3件）：11月27日 周九（督导专班）约谈住建局张三；纪要：王五约谈张三，要求两周内清理超期积案（周九录入）",
			"12月1日 09:00 第三次责令检视（2026年11月区级部门黑榜）：检视报告 D1 检视报告已确认")
	})
}

func TestEndToEndExclusion(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		// 住建局: five satisfied return visits and one neither resolved nor satisfied.
		for i := range 5 {
			w.visit(fmt.Sprintf("202611050%02d", i), "zjj", "2026-11-05", true)
		}
		w.visit("2026110599", "zjj", "2026-11-06", false)
		// Each asks in turn: WeCom drops an app message repeating one sent to
		// the same member shortly before (its duplicate check).
		score := func(who string) string {
			t.Helper()
			for _, l := range strings.Split(w.private(who, "排名 本月").to(who), "\n") {
				if strings.Contains(l, "住建局") {
					return l
				}
			}
			t.Fatal("住建局 is not ranked")
			return ""
		}
		before := score("wangwu")
		if !strings.Contains(before, "住建局 评分85.00") {
			t.Fatalf("before: %q", before)
		}

		// The unit asks, the 12345 office reviews, a leader refuses: the score stands.
		contains(t, "review asked", w.private("sunba", "申请剔除 2026110599 群众诉求超出政策范围").to("liuyi"), "【剔除审核】孙八（住建局）申请剔除工单 2026110599", "“同意剔除 2026110599”")
		if c := w.private("zhangsan", "同意剔除 2026110599").to("zhangsan"); c != "仅12345热线办可以审核剔除" {
			t.Errorf("a head reviewing a 剔除: %q", c)
		}
		contains(t, "leaders asked", w.private("liuyi", "同意剔除 2026110599 情况属实").to("wangwu", "zhaosi"), "【剔除审批】孙八（住建局）申请剔除工单 2026110599，刘一（12345热线办）已审核同意。")
		contains(t, "refused", w.private("zhaosi", "驳回剔除 2026110599 同类诉求已有解决先例").to("sunba", "liuyi"), "【剔除驳回】工单 2026110599 的剔除申请已被赵四（区领导）驳回，工单照常计入三率考核。")
		if after := score("zhaosi"); after != before {
			t.Errorf("a refused 剔除 moved the score: %q → %q", before, after)
		}

		// The office asks again itself and a leader approves: the ticket leaves the 三率.
		contains(t, "office asks", w.private("liuyi", "申请剔除 2026110599 经复核属无效诉求").to("wangwu", "zhaosi"), "【剔除审批】12345热线办刘一申请剔除工单 2026110599。")
		if c := w.private("wangwu", "批准剔除").to("wangwu"); c != "已批准工单 2026110599 剔除，工单不计入三率考核。" {
			t.Errorf("approval: %q", c)
		}
		if after := score("zhoujiu"); !strings.Contains(after, "住建局 评分100.00") {
			t.Errorf("after the approved 剔除: %q", after)
		}
		// The monthly report shows it.
		got := w.runJob(jobs.MonthlyReport, "2026-12-01 09:00")
		contains(t, "monthly report", got.posted(), "**【剔除件】**本月批准剔除 1 件，不计入三率", "2026110599 住建局 经复核属无效诉求")
	})
}

func TestEndToEndKeyTicket(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		w.addTicket("2024112700123", "zjj", "", at("2026-11-19 18:00"))
		if c := w.private("zhoujiu", "重点件 2024112700123").to("zhoujiu"); c != "仅区领导、12345热线办可以列重点件" {
			t.Errorf("the supervision team: %q", c)
		}
		got := w.private("liuyi", "重点件 2024112700123")
		contains(t, "reply", got.to("liuyi"), "已将工单 2024112700123 列为重点件，每日18:00日报跟踪至办结。已通知住建局（张三）。")
		contains(t, "head", got.to("zhangsan"), "【重点件】工单 2024112700123（小区路灯不亮）已由刘一（12345热线办）列为重点件")
		w.private("sunba", "反馈 2024112700123 已联系供电所")
		report := w.runJob(jobs.DailyReport, "2026-11-20 18:00").posted()
		contains(t, "daily report", report, "重点件跟踪", "工单2024112700123 住建局 小区路灯不亮｜办理中，", "最近：11月20日10:00 反馈：已联系供电所")
	})
}
