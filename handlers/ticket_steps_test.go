package handlers_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
)

// fire records a ladder level fired for a ticket at the harness's now.
func (x *harness) fire(id uint, level models.AlertLevel) {
	x.t.Helper()
	x.fireOn(models.SubjectTicket, id, level)
}

// fireOn records that a level fired for one part of a ticket: the
// responsible unit's (SubjectTicket) or the grid street's (SubjectGrid).
func (x *harness) fireOn(subject models.AlertSubject, id uint, level models.AlertLevel) {
	x.t.Helper()
	now := x.clock.Now()
	if ok, err := x.store.FireAlert(ctx, &models.Alert{SubjectKind: subject, SubjectID: id, Level: level, FirstSentAt: now, LastSentAt: now}); err != nil || !ok {
		x.t.Fatalf("fire %s %s: %v %v", subject, level, ok, err)
	}
}

// alerts returns a ticket's alert levels and whether each is acknowledged.
func (x *harness) alerts(id uint) map[models.AlertLevel]bool {
	x.t.Helper()
	return x.alertsOf(models.SubjectTicket, id)
}

// alertsOf is alerts of one part of a ticket.
func (x *harness) alertsOf(subject models.AlertSubject, id uint) map[models.AlertLevel]bool {
	x.t.Helper()
	got, err := x.store.AlertsOf(ctx, subject, []uint{id})
	if err != nil {
		x.t.Fatal(err)
	}
	out := map[models.AlertLevel]bool{}
	for _, a := range got[id] {
		out[a.Level] = a.AckedAt != nil
	}
	return out
}

// ticket returns a stored ticket.
func (x *harness) ticket(number string) *models.Ticket {
	x.t.Helper()
	tk, _, err := x.store.TicketByNumber(ctx, number)
	if err != nil {
		x.t.Fatal(err)
	}
	return tk
}

func TestTicketSteps(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		tk := x.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-19 18:00"))
		closed := x.addTicket("2024112700999", "zjj", "", at("2026-11-25 18:00"))
		if err := x.store.DB(ctx).Model(closed).Update("status", models.TicketResolved).Error; err != nil {
			t.Fatal(err)
		}
		x.fire(tk.ID, "warn")
		x.fire(tk.ID, "alert")

		// Who may not act is told why, and nothing changes.
		for _, c := range []struct{ from, text, want string }{
			{"chenyi", "签收 2024112700123", "工单 2024112700123 由住建局承办，您不能签收"},
			{"zhoujiu", "办结 2024112700123 已办", "仅承办单位的经办人、日报联络员、部门主要负责人可以办结工单"},
			{"liuyi", "反馈 2024112700123 已督促", "仅承办单位的经办人、日报联络员、部门主要负责人可以反馈工单"},
			{"wangwu", "签收 2024112700123", "仅承办单位的经办人、日报联络员、部门主要负责人可以签收工单"},
			{"lisi", "办结 2024112700123 已配合", "工单 2024112700123 由住建局承办，办结由承办单位报告；环海街道可以签收、反馈"},
			{"sunba", "签收 2099000000000", "未找到工单 2099000000000"},
			{"sunba", "签收 2024112700999", "工单 2024112700999 已办结，无需签收"},
			{"sunba", "反馈 2024112700123", "用法：反馈 [D12|Z12|工单号] <进展>"},
		} {
			if body := x.say(c.from, c.text).only(); body != c.want {
				t.Errorf("%s: %q → %q, want %q", c.from, c.text, body, c.want)
			}
		}
		if n := x.count(&models.TicketEvent{}); n != 0 {
			t.Errorf("refusals recorded %d events", n)
		}
		if a := x.alerts(tk.ID); a["warn"] || a["alert"] {
			t.Errorf("refusals acknowledged alerts: %v", a)
		}

		// 签收 by a handler of the unit: the reply says 已签收, the ladder's repeats stop.
		if body := x.say("sunba", "签收 2024112700123").only(); body != "已签收工单 2024112700123。该工单超期1个工作日，请尽快办结，办结后回复“办结 2024112700123 结果”。" {
			t.Errorf("sign: %q", body)
		}
		if a := x.alerts(tk.ID); !a["warn"] || !a["alert"] {
			t.Errorf("alerts after 签收: %v", a)
		}
		if got := x.ticket(tk.Number); got.SignedAt == nil || !got.SignedAt.Equal(at(friday)) {
			t.Errorf("signed at %v", got.SignedAt)
		}
		x.clock.Set(at("2026-11-20 10:30"))
		if body := x.say("zhangsan", "收到 2024112700123").only(); body != "工单 2024112700123 已于11月20日 10:00签收，无需重复签收" {
			t.Errorf("second sign: %q", body)
		}
		// The grid (双派单) feeds back for its own part: its level is
		// acknowledged, the responsible unit's goes on.
		x.fire(tk.ID, "urge")
		x.fireOn(models.SubjectGrid, tk.ID, "urge")
		if body := x.say("zhaoliu", "反馈 2024112700123 已到现场，正协调物业").only(); body != "已记录工单 2024112700123 的属地反馈。" {
			t.Errorf("grid's feedback: %q", body)
		}
		if a := x.alertsOf(models.SubjectGrid, tk.ID); !a["urge"] {
			t.Errorf("the grid's urge not acknowledged by its 反馈: %v", a)
		}
		if a := x.alerts(tk.ID); a["urge"] {
			t.Errorf("the grid's 反馈 acknowledged the responsible unit's urge: %v", a)
		}
		if got := x.ticket(tk.Number); got.GridFeedback != "已到现场，正协调物业" || got.GridSignedAt == nil || !got.SignedAt.Equal(at(friday)) {
			t.Errorf("the grid's part: signed %v, feedback %q; the unit's sign %v", got.GridSignedAt, got.GridFeedback, got.SignedAt)
		}

		// 办结 by the head: 已办结（待平台确认）, out of the scan, further steps answered by the state.
		x.clock.Set(at("2026-11-20 11:00"))
		if body := x.say("zhangsan", "办结 2024112700123 已修复路灯，群众认可").only(); body != "工单 2024112700123 已报办结，标记为已办结（待平台确认），暂停超期提醒。请同时在12345平台办结，以平台数据为准。" {
			t.Errorf("claim: %q", body)
		}
		due, err := x.store.OpenTicketsDue(ctx, at("2026-11-01 00:00"), at("2026-11-30 00:00"))
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 0 {
			t.Errorf("claimed ticket still in the scan: %+v", due)
		}
		for _, text := range []string{"办结 2024112700123 再报一次", "反馈 2024112700123 补充", "签收 2024112700123"} {
			if body := x.say("sunba", text).only(); body != "工单 2024112700123 已于11月20日 11:00由张三报办结，待平台确认" {
				t.Errorf("%q after the claim: %q", text, body)
			}
		}
		view := x.say("liuyi", "查 2024112700123").only()
		contains(t, "ticket view", view, "【工单 2024112700123】已办结（待平台确认）",
			"网格：环海街道（反馈 11月20日 10:30：已到现场，正协调物业）",
			"11月20日 10:00 签收 孙八", "11月20日 10:30 属地反馈（已到现场，正协调物业） 赵六", "11月20日 11:00 报办结（已修复路灯，群众认可） 张三")
		var trail []string
		_, events, err := x.store.TicketByNumber(ctx, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			trail = append(trail, string(e.Change)+":"+e.Actor)
		}
		if want := []string{"signed:sunba", "grid_feedback:zhaoliu", "claimed:zhangsan"}; !slices.Equal(trail, want) {
			t.Errorf("events %v, want %v", trail, want)
		}
		// A dispatch's 签收 still works beside the ticket's.
		x.say("wangwu", "调度 @住建局 明天下班前报送方案")
		contains(t, "dispatch sign", x.say("zhangsan", "签收").reply(), "已签收调度 D1。")
	})
}

func TestExtensionChain(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		tk := x.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-19 18:00"))
		x.addTicket("2024112700456", "zjj", "", at("2026-11-25 18:00"))
		x.fire(tk.ID, "warn")
		x.fire(tk.ID, "alert")
		for _, c := range []struct{ from, text, want string }{
			{"sunba", "申请延期 2024112700123 需协调供电公司", "请写明延期后的期限，如：申请延期 2024112700123 12月5日 需协调供电部门"},
			{"sunba", "申请延期 2024112700123 今天下班前", "请说明延期理由，如：申请延期 2024112700123 12月5日 需协调供电部门"},
			{"sunba", "申请延期 2024112700123 今天9点前 需协调", "截止时间已过：今天9点前（11月20日 09:00），延期申请未提交。请修改期限后重新发送"},
			{"sunba", "申请延期 2024112700456 11月24日 需协调", "延期后的期限须晚于原期限 2026-11-25 18:00"},
			{"zhaoliu", "申请延期 2024112700123 今天下班前 需协调", "工单 2024112700123 不是本单位承办的工单，不能申请延期"},
			{"zhoujiu", "申请延期 2024112700123 今天下班前 需协调", "仅经办人、日报联络员、部门主要负责人可以申请延期"},
			{"zhangsan", "同意延期", "没有待您审批的延期申请"},
		} {
			if body := x.say(c.from, c.text).only(); body != c.want {
				t.Errorf("%s: %q → %q, want %q", c.from, c.text, body, c.want)
			}
		}
		if n := x.count(&models.TicketRequest{}); n != 0 {
			t.Errorf("refusals recorded %d requests", n)
		}

		got := x.say("sunba", "申请延期 2024112700123 今天下班前，需协调供电公司停电检修")
		if body := got.reply(); body != "已提交工单 2024112700123 的延期申请至11月20日（周五）18:00（原期限11月19日（周四）18:00），待住建局主要负责人（张三）审核。" {
			t.Errorf("apply: %q", body)
		}
		contains(t, "head's notice", got.app()["zhangsan"], "【延期审核】孙八（住建局）申请延期工单 2024112700123 至11月20日（周五）18:00（原期限11月19日（周四）18:00）",
			"理由：需协调供电公司停电检修", "请回复“同意延期 2024112700123”报区领导批准，或“驳回延期 2024112700123 理由”。")
		if body := x.say("wangwu", "批准延期 2024112700123").only(); body != "工单 2024112700123 的延期申请尚待住建局主要负责人审核" {
			t.Errorf("leader before head: %q", body)
		}
		if body := x.say("lisi", "同意延期 2024112700123").only(); body != "仅住建局主要负责人可以审核工单 2024112700123 的延期申请" {
			t.Errorf("another unit's head: %q", body)
		}
		contains(t, "view while pending", x.say("liuyi", "查 2024112700123").only(), "延期申请：待部门审核（孙八（住建局）申请）")

		got = x.say("zhangsan", "同意延期")
		if body := got.reply(); body != "已同意工单 2024112700123 的延期申请，已报区领导批准。" {
			t.Errorf("head's approval: %q", body)
		}
		contains(t, "leaders' notice", got.app()["wangwu|zhaosi"],
			"【延期审批】孙八（住建局）申请延期工单 2024112700123 至11月20日（周五）18:00（原期限11月19日（周四）18:00），张三（住建局）已审核同意。",
			"请回复“批准延期 2024112700123”")
		contains(t, "leader's todo", x.say("zhaosi", "待办").only(), "【待审批申请】\n工单 2024112700123 延期（孙八（住建局）申请）")
		if got := x.ticket(tk.Number); !got.Deadline.Equal(at("2026-11-19 18:00")) {
			t.Fatalf("deadline moved before the leader approved: %v", got.Deadline)
		}

		got = x.say("zhaosi", "批准延期")
		if body := got.reply(); body != "已批准工单 2024112700123 延期，期限延至11月20日（周五）18:00。" {
			t.Errorf("leader's approval: %q", body)
		}
		contains(t, "decision", got.app()["sunba|zhangsan|liuyi"], "【延期批准】工单 2024112700123 的延期申请已经赵四（区领导）批准，期限延至11月20日（周五）18:00。")
		stored := x.ticket(tk.Number)
		if !stored.Deadline.Equal(at("2026-11-20 18:00")) || stored.DeadlineSource != models.DeadlineExtension {
			t.Errorf("ticket after approval: %v %s", stored.Deadline, stored.DeadlineSource)
		}
		// Under the new deadline 预警 has come (one working day before) and 超期 has not: the ladder restarts from 超期.
		if a := x.alerts(tk.ID); len(a) != 1 || !slices.Contains(keysOf(a), "warn") {
			t.Errorf("alerts after the extension: %v, want warn only", a)
		}
		contains(t, "view after", x.say("liuyi", "查 2024112700123").only(), "期限：11月20日（周五）18:00\n",
			"申请延期 2026-11-19 18:00→2026-11-20 18:00（需协调供电公司停电检修） 孙八", "部门同意延期 张三", "延期 2026-11-19 18:00→2026-11-20 18:00（需协调供电公司停电检修） 赵四")

		// A head's own request goes to the leaders, naming the head once; a refusal keeps the deadline.
		got = x.say("zhangsan", "申请延期 2024112700456 12月4日 需市级部门会商")
		if body := got.reply(); body != "已提交工单 2024112700456 的延期申请至12月4日（周五）18:00（原期限11月25日（周三）18:00），待区领导批准。" {
			t.Errorf("head's request: %q", body)
		}
		if n := got.app()["wangwu|zhaosi"]; !strings.HasPrefix(n, "【延期审批】住建局主要负责人张三申请延期工单 2024112700456 至12月4日（周五）18:00（原期限11月25日（周三）18:00）。") {
			t.Errorf("leaders' notice: %q", n)
		}
		got = x.say("wangwu", "驳回延期 2024112700456 请按期办结")
		contains(t, "refusal", got.app()["zhangsan|liuyi"], "【延期驳回】工单 2024112700456 的延期申请已被王五（区领导）驳回，请于原期限11月25日（周三）18:00前办结。\n理由：请按期办结")
		if got := x.ticket("2024112700456"); !got.Deadline.Equal(at("2026-11-25 18:00")) {
			t.Errorf("refused extension moved the deadline: %v", got.Deadline)
		}
	})
}

// keysOf returns the levels of an alert map as strings.
func keysOf(m map[models.AlertLevel]bool) []string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	return out
}

func TestSupervise(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		tk := x.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-25 18:00"))
		if err := x.store.DB(ctx).Model(tk).Update("address", "学府路12号").Error; err != nil {
			t.Fatal(err)
		}
		x.addTicket("2024112700456", "cgj", "", at("2026-11-19 18:00"))
		closed := x.addTicket("2024112700999", "zjj", "", at("2026-11-25 18:00"))
		if err := x.store.DB(ctx).Model(closed).Update("status", models.TicketResolved).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ from, text, want string }{
			{"zhangsan", "督办 2024112700123 请加快", "仅区领导、督导专班可以督办"},
			{"liuyi", "督办 2024112700123 请加快", "仅区领导、督导专班可以督办"},
			{"zhoujiu", "督办 @住建局 明天办结", "用法：督办 <工单号> [时限] [要求]"},
			{"zhoujiu", "督办 2024112700999 请加快", "工单 2024112700999 已办结，无需督办"},
			{"zhoujiu", "督办 2024112700123 今天9点前答复", "截止时间已过：今天9点前（11月20日 09:00），督办未下达。请修改时限后重新发送"},
		} {
			if body := x.say(c.from, c.text).only(); body != c.want {
				t.Errorf("%s: %q → %q, want %q", c.from, c.text, body, c.want)
			}
		}
		if n := x.count(&models.Dispatch{}); n != 0 {
			t.Errorf("refusals issued %d dispatches", n)
		}

		got := x.say("zhoujiu", "督办 2024112700123 明天中午前答复群众")
		if body := got.reply(); body != "已督办工单 2024112700123（D1），已通知：住建局（张三）、环海街道（李四）。\n诉求：小区路灯不亮，学府路12号\n要求：答复群众\n时限：11月21日（周六）12:00前" {
			t.Errorf("reply: %q", body)
		}
		app := got.app()
		if k := keys(app); !slices.Equal(k, []string{"lisi", "zhangsan"}) || len(got.group()) != 0 {
			t.Fatalf("notices to %v, group %d", k, len(got.group()))
		}
		contains(t, "head's notice", app["zhangsan"], "【督办 D1】周九（督导专班）督办住建局办理工单 2024112700123\n诉求：小区路灯不亮，学府路12号\n要求：答复群众\n时限：11月21日（周六）12:00前\n请回复“签收 D1”")
		contains(t, "grid's notice", app["lisi"], "督办环海街道办理工单 2024112700123")
		d, err := x.store.Dispatch(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind != models.DispatchSupervision || !slices.Equal(d.TicketNumbers, []string{tk.Number}) || !d.Deadline.Equal(at("2026-11-21 12:00")) || len(d.Targets) != 2 {
			t.Errorf("督办 stored as %+v", d)
		}
		// Tracked like a dispatch: the unit signs it, the supervisor hears, the ladder sees it.
		got = x.say("zhangsan", "签收 D1")
		contains(t, "sign", got.reply(), "已签收调度 D1。")
		contains(t, "issuer's notice", got.app()["zhoujiu"], "【督办 D1】住建局（张三）已签收。")
		due, err := x.store.OpenDispatchesDue(ctx, at("2026-11-21 12:00"))
		if err != nil || len(due) != 1 || due[0].ID != 1 {
			t.Errorf("督办 not in the scan: %+v %v", due, err)
		}
		contains(t, "lookup", x.say("liuyi", "查 D1").only(), "【督办 D1】办理中", "工单：2024112700123")

		// Without a phrase it is due by the ticket's deadline; a leader may 督办 too.
		got = x.say("wangwu", "督办 2024112700456")
		contains(t, "leader's 督办", got.reply(), "已督办工单 2024112700456（D2），已通知：城管局（陈一）。", "要求：请加快办理并及时反馈",
			"时限：11月19日（周四）18:00前（工单已超期1个工作日）")
		if d, err := x.store.Dispatch(ctx, 2); err != nil || !d.Deadline.Equal(at("2026-11-19 18:00")) {
			t.Errorf("D2 = %+v %v", d, err)
		}
		// A leader's 督办 naming no ticket is a dispatch.
		contains(t, "leader's dispatch", x.say("wangwu", "督办 @住建局 明天下班前报送方案").reply(), "已下达调度 D3")
		if d, err := x.store.Dispatch(ctx, 3); err != nil || d.Kind != models.DispatchDirect {
			t.Errorf("D3 = %+v %v", d, err)
		}
		// The supervisor closes what they issued.
		x.say("zhangsan", "办结 D1 已答复")
		x.say("lisi", "办结 D1 已配合")
		contains(t, "confirm", x.say("zhoujiu", "确认 D1").reply(), "调度 D1 已确认办结、销号。")
	})
}

func TestHelpOfTheOfficeAndTheSupervisors(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		sup := x.say("zhoujiu", "帮助").only()
		contains(t, "supervisor's help", sup, "督办 <工单号> [时限] [要求]", "确认 D12", "撤销 D12 [理由]", "查 <工单号|D12|Z12>")
		office := x.say("liuyi", "帮助").only()
		contains(t, "office's help", office, "查 <工单号|D12|Z12>", "超期 [部门]", "同意剔除 [工单号] [意见]", "重点件 <工单号>")
		for who, hidden := range map[string][]string{
			sup:    {"申请延期", "批准", "同意", "调度 @"},
			office: {"督办", "申请延期", "批准", "同意退办", "同意延期", "调度 @", "确认 D12"},
		} {
			for _, h := range hidden {
				if strings.Contains(who, h) {
					t.Errorf("help offers %q to whom it is not for:\n%s", h, who)
				}
			}
		}
		head := x.say("zhangsan", "帮助").only()
		contains(t, "head's help", head, "【退办、延期与剔除】", "申请延期 <工单号> <日期> <理由>", "同意延期 [工单号] [意见]", "驳回延期 [工单号] <理由>",
			"签收 [D12|Z12|工单号]", "办结 [D12|Z12|工单号] <结果>")
		contains(t, "help of 延期", x.say("sunba", "帮助 延期").only(), "用法：申请延期 <工单号> <日期> <理由>", "仅经办人、日报联络员、部门主要负责人可以申请延期")
	})
}

// A step whose handling committed is not handled again when the process dies
// before the bot writes its own mark: at the restart the sweep finds nothing
// due, so the sender never gets a second answer (无需重复签收) and the ticket
// no second event.
func TestStepCommittedIsNotHandledAgain(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.addTicket("2024112700123", "zjj", "", at("2026-11-19 18:00"))
		now := x.clock.Now()
		in := &models.Inbound{
			Route: models.RouteRobot, MsgID: "crash1", ChatID: "wrkgroup", ChatType: "group",
			FromUserID: "sunba", MsgType: "text", Text: "签收 2024112700123", ReplyURL: "http://wecom.test/cgi-bin/webhook/send?key=k1",
			ReceivedAt: now,
		}
		if _, err := x.store.StoreInbound(ctx, []*models.Inbound{in}); err != nil {
			t.Fatal(err)
		}
		if ok, err := x.store.ClaimInbound(ctx, in.ID, 0, now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		in.Attempts = 1
		contains(t, "reply", x.handle(in).only(), "已签收工单 2024112700123")

		// Killed here: the bot's batched mark was never written. The claim
		// runs out and the restarted bot sweeps.
		later := now.Add(time.Hour)
		due, err := x.store.DueInbound(ctx, later, 5, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 0 {
			t.Errorf("after a crash the sweep handles again: %+v", due)
		}
		if n := x.count(&models.TicketEvent{}); n != 1 {
			t.Errorf("%d ticket events, want 1", n)
		}
	})
}
