package handlers_test

import (
	"slices"
	"strings"
	"testing"

	"yanzhen/models"
)

func TestSenderAndCommandChecks(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		cases := []struct{ from, text, want string }{
			{"stranger", "@雁阵 帮助", "您尚未登记，请联系管理员"},
			{"stranger", "调度 @住建局 明天办结", "您尚未登记，请联系管理员"},
			{"zhangsan", "@雁阵", "请发送“帮助”查看可用命令"},
			{"zhangsan", "调度 @环海街道 明天中午前办结", "仅区领导可以调度"},
			{"zhaoliu", "日报 今日无事", "仅部门主要负责人、日报联络员可以报送日报"},
			{"zhangsan", "批准退办 2024112700123", "仅区领导可以批准退办"},
			{"zhangsan", "签收 D", "您没有待签收的调度"},
			{"zhangsan", "反馈 D1", "用法：反馈 [D12|Z12|工单号] <进展>"},
			{"wangwu", "确认", "用法：确认 D12"},
			{"wangwu", "确认 D99", "未找到调度 D99"},
			{"zhangsan", "进度 不存在局", "未找到单位“不存在局”"},
		}
		for _, c := range cases {
			got := x.say(c.from, c.text)
			if body := got.only(); body != c.want {
				t.Errorf("%s: %q → %q, want %q", c.from, c.text, body, c.want)
			}
		}
		// A group reply @-mentions its registered sender.
		if r := x.say("zhangsan", "帮助").rows[0]; !slices.Equal(r.Mentions, []string{"zhangsan"}) || r.To != "http://wecom.test/cgi-bin/webhook/send?key=k1" || r.ChatID != "wrkgroup" {
			t.Errorf("group reply %+v", r)
		}
		if x.count(&models.Dispatch{}) != 0 || x.count(&models.DailyReport{}) != 0 {
			t.Error("a refused command changed something")
		}
	})
}

func TestGroupMentionOfAnyBotAndEventsAreQuiet(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		// The AI bot has a name of its own, not wecom.bot_name.
		help := x.say("zhangsan", "@智能助手\u2005帮助").only()
		contains(t, "help through the AI bot", help, "帮助 [命令]")
		// Menu clicks and card taps are stored by the bot and answered by nobody.
		for _, ev := range []string{"event/click", "event/view", "event/template_card_event"} {
			x.seq++
			got := x.handle(&models.Inbound{
				Route: models.RouteApp, MsgID: ev, ChatType: "single", FromUserID: "zhangsan", MsgType: ev, Text: "menu_key_1",
				ReceivedAt: x.clock.Now(),
			})
			if len(got.rows) != 0 {
				t.Errorf("%s was answered: %+v", ev, got.rows)
			}
		}
		// A tap on a card the bot has no record of (another installation's,
		// or one made up) is answered by nobody either.
		got := x.handle(&models.Inbound{
			Route: models.RouteApp, MsgID: "tap:foreign", ChatType: "single", FromUserID: "zhangsan", MsgType: models.MsgTypeTap,
			Text: "d/1/sign", TaskID: "yzforeign", ReceivedAt: x.clock.Now(),
		})
		if len(got.rows) != 0 {
			t.Errorf("a tap on a foreign card was answered: %+v", got.rows)
		}
	})
}

func TestHelpFollowsRoles(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		leader := x.say("wangwu", "帮助").only()
		contains(t, "leader's help", leader, "【调度】", "调度 @部门或人员… [工单号] [时限] <要求>", "批准退办 [工单号] [意见]", "帮助 [命令]")
		handler := x.say("zhaoliu", "帮助").only()
		contains(t, "handler's help", handler, "申请退办 <工单号> <理由>", "签收 [D12|Z12|工单号]")
		for _, hidden := range []string{"调度 @", "日报 [部门]", "批准退办"} {
			if strings.Contains(handler, hidden) {
				t.Errorf("a handler's help offers %q", hidden)
			}
		}
		one := x.say("zhaoliu", "帮助 交办").only()
		contains(t, "help of one command", one, "用法：调度 @部门或人员", "也可以说：交办、派单", "仅区领导可以调度")
	})
}

func TestDailyReport(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		got := x.say("zhangsan", "@雁阵 日报 今日受理工单12件，办结10件。\n二、老旧小区改造完成3个")
		if body := got.only(); body != "已收到住建局11月20日日报（第1版，29字）。" {
			t.Errorf("first report: %q", body)
		}
		if body := x.say("zhangsan", "补充日报：另完成巡查2次").only(); body != "已更新住建局11月20日日报（第2版，37字）。" {
			t.Errorf("append: %q", body)
		}
		reports, err := x.store.DailyReports(ctx, "2026-11-20")
		if err != nil {
			t.Fatal(err)
		}
		zjj := reports[x.dept["zjj"].ID]
		if zjj.Text != "今日受理工单12件，办结10件。\n二、老旧小区改造完成3个\n另完成巡查2次" || zjj.SubmittedBy != "zhangsan" || zjj.Late {
			t.Errorf("stored report %+v", zjj)
		}
		// A reporter covering two units must say which.
		contains(t, "reporter without unit", x.say("qianqi", "日报 今日无新增工单").only(), "您负责城管局、教育局的日报，请写明部门")
		if body := x.say("qianqi", "日报 教育局：今日无新增工单").only(); body != "已收到教育局11月20日日报（第1版，7字）。" {
			t.Errorf("reporter naming the unit: %q", body)
		}
		contains(t, "reporter naming another's unit", x.say("qianqi", "日报 住建局 代报").only(), "您不能代住建局报送日报")
		if body := x.say("wangwu", "未报").only(); body != "11月20日尚未报送日报的单位（2个）：城管局、环海街道" {
			t.Errorf("unreported: %q", body)
		}
		if body := x.say("qianqi", "撤回日报 教育局").only(); body != "已撤回教育局11月20日日报。如需重新报送，请发送“日报 正文”。" {
			t.Errorf("withdraw: %q", body)
		}
		contains(t, "unreported after withdrawal", x.say("wangwu", "未报").only(), "（3个）", "教育局")

		// The preview is the daily report as it stands, in markdown, to the
		// asker alone: the group gets one line, and nobody is mentioned.
		preview := x.say("wangwu", "预览日报")
		if body := preview.reply(); body != "今日日报预览已通过应用消息单独发给您。" {
			t.Errorf("preview's line in the group: %q", body)
		}
		for _, row := range preview.rows {
			if row.Channel == "reply" && (len(row.Mentions) != 1 || row.Mentions[0] != "wangwu") {
				t.Errorf("the preview's line mentions %v", row.Mentions)
			}
		}
		app := preview.app()["wangwu"]
		if len(preview.rows) != 2 || len(preview.group()) != 0 || app == "" {
			t.Fatalf("preview %+v", preview.rows)
		}
		contains(t, "preview", app, "接诉即办工作日报", "预览（11月20日10:00，尚未发布）", "住建局", "老旧小区改造完成3个", "未报</font> 3 个：城管局、教育局、环海街道")
		if strings.Contains(app, "<@") {
			t.Errorf("the preview mentions someone:\n%s", app)
		}
		// Asked privately, the preview is the reply.
		single := x.handle(&models.Inbound{Route: models.RouteApp, MsgID: "preview-1", ChatType: "single", FromUserID: "wangwu", MsgType: "text", Text: "预览日报"})
		if len(single.rows) != 1 || single.rows[0].To != "wangwu" || !strings.Contains(single.rows[0].Body, "老旧小区改造完成3个") || strings.Contains(single.rows[0].Body, "<@") {
			t.Errorf("private preview %+v", single.rows)
		}

		// After the report has gone out, a late report goes out as 补报.
		x.clock.Set(at("2026-11-20 18:00"))
		x.postDaily()
		x.clock.Set(at("2026-11-20 18:40"))
		late := x.say("lisi", "日报 今日办结工单8件")
		if body := late.reply(); body != "已收到环海街道11月20日日报（第1版，8字）。已过18:00报送时间，记为迟报，已作为补报发至工作群。" {
			t.Errorf("late report: %q", body)
		}
		if g := late.group(); len(g) != 1 || !strings.Contains(g[0].Body, "【补报】环海街道") || !strings.Contains(g[0].Body, "今日办结工单8件") {
			t.Errorf("补报 %+v", g)
		}
		if reports, err = x.store.DailyReports(ctx, "2026-11-20"); err != nil {
			t.Fatal(err)
		}
		if r := reports[x.dept["hhjd"].ID]; !r.Late || r.PostedAt == nil {
			t.Errorf("late report stored %+v", r)
		}

		// A correction of a report that went out goes out too, as 更正.
		x.clock.Set(at("2026-11-20 19:05"))
		fix := x.say("lisi", "日报 今日办结工单9件")
		if body := fix.reply(); body != "已更新环海街道11月20日日报（第2版，8字）。今日日报已发布，本次更新已作为更正发至工作群。" {
			t.Errorf("correction reply: %q", body)
		}
		if g := fix.group(); len(g) != 1 || !strings.Contains(g[0].Body, "【更正】环海街道") || !strings.Contains(g[0].Body, "今日办结工单9件") {
			t.Errorf("更正 %+v", g)
		}
		// Saying the same twice sends one correction per revision, not one per message.
		if g := x.say("wangwu", "未报").group(); len(g) != 0 {
			t.Errorf("an unrelated command re-posted the report: %+v", g)
		}

		// Withdrawing a report the group has seen tells the group.
		x.clock.Set(at("2026-11-20 19:30"))
		back := x.say("lisi", "撤回日报")
		contains(t, "withdrawal after posting", back.reply(), "已撤回环海街道11月20日日报。该日报已随今日日报发布，撤回情况已告知工作群。")
		if g := back.group(); len(g) != 1 || !strings.Contains(g[0].Body, "【撤回】环海街道 11月20日工作日报") ||
			!strings.Contains(g[0].Body, "已由李四于19:30撤回，此前发布的该单位日报内容作废。") {
			t.Errorf("withdrawal in the group %+v", g)
		}
		// Sent again, it goes out as a correction.
		if g := x.say("lisi", "日报 今日办结工单9件，另核查积水点3处").group(); len(g) != 1 || !strings.Contains(g[0].Body, "【更正】环海街道") {
			t.Errorf("report after withdrawal %+v", g)
		}
	})
}

func TestDispatchFlow(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-25 18:00"))
		got := x.say("wangwu", "@雁阵 调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众")
		contains(t, "issuer's reply", got.reply(), "已下达调度 D1，已点对点通知：住建局（张三）、环海街道（李四）。",
			"时限：11月21日（周六）12:00前（该日为休息日）")
		app := got.app()
		if k := keys(app); !slices.Equal(k, []string{"lisi", "zhangsan"}) {
			t.Fatalf("app messages to %v", k)
		}
		contains(t, "住建局's message", app["zhangsan"], "【点对点调度 D1】", "王五（区领导）交办住建局：办结并回复群众",
			"工单：2024112700123", "时限：11月21日（周六）12:00前", "请回复“签收 D1”")
		contains(t, "环海街道's message", app["lisi"], "交办环海街道：办结并回复群众")
		group := got.group()
		if len(group) != 1 || !slices.Equal(group[0].Mentions, []string{"zhangsan", "lisi"}) || group[0].To != "" {
			t.Fatalf("group message %+v", group)
		}
		contains(t, "group message", group[0].Body, "王五（区领导）交办：住建局、环海街道", "要求：办结并回复群众", "时限：11月21日（周六）12:00前")
		d, err := x.store.Dispatch(ctx, 1)
		if err != nil || d.Instruction != "办结并回复群众" || !slices.Equal(d.TicketNumbers, []string{"2024112700123"}) ||
			!d.Deadline.Equal(at("2026-11-21 12:00")) || d.Route != models.RouteRobot || d.ChatID != "wrkgroup" {
			t.Fatalf("dispatch %+v %v", d, err)
		}

		// 签收 without a code: the only dispatch pending for 住建局.
		x.clock.Set(at("2026-11-20 10:05"))
		got = x.say("zhangsan", "收到")
		contains(t, "sign reply", got.reply(), "已签收调度 D1。请于11月21日（周六）12:00前办结")
		if app := got.app(); len(app) != 1 || !strings.Contains(app["wangwu"], "【调度 D1】住建局（张三）已签收。\n签收进度：1/2") {
			t.Errorf("issuer's sign notice %v", app)
		}
		if body := x.say("zhangsan", "签收 D1").only(); body != "调度 D1 已签收，无需重复签收" {
			t.Errorf("second sign: %q", body)
		}
		// A handler of the department may feed back; a stranger to it may not.
		got = x.say("sunba", "反馈 D1 已联系群众，明天上午现场核实")
		if body := got.reply(); body != "已反馈调度 D1 的办理进展。" {
			t.Errorf("feedback reply %q", body)
		}
		contains(t, "feedback notice", got.app()["wangwu"], "【调度 D1】住建局（孙八）反馈：\n已联系群众，明天上午现场核实")
		if body := x.say("chenyi", "反馈 D1 与我无关").only(); body != "您不是调度 D1 的办理对象" {
			t.Errorf("stranger's feedback: %q", body)
		}
		if body := x.say("zhangsan", "确认 D1").only(); body != "仅区领导、督导专班可以确认办结" {
			t.Errorf("target confirming: %q", body)
		}
		if body := x.say("zhaosi", "确认 D1").only(); body != "仅调度发起人王五可以确认 D1" {
			t.Errorf("another leader confirming: %q", body)
		}

		got = x.say("zhangsan", "办结 D1 已修复路灯，群众满意")
		contains(t, "done notice", got.app()["wangwu"], "住建局（张三）报办结：\n已修复路灯，群众满意", "办结进度：1/2")
		contains(t, "early confirmation", x.say("wangwu", "确认 D1").only(), "调度 D1 尚有单位未办结：环海街道（待签收）")
		got = x.say("lisi", "办结 D1 已配合完成")
		contains(t, "last done notice", got.app()["wangwu"], "全部单位已报办结", "住建局：已修复路灯，群众满意", "请核查后回复“确认 D1”销号，或“退回 D1 理由”。")

		// The issuer sends one back, then confirms.
		got = x.say("wangwu", "退回 D1 环海街道 请补充现场照片")
		if body := got.reply(); body != "已退回调度 D1：环海街道。" {
			t.Errorf("return reply %q", body)
		}
		if app := got.app(); len(app) != 1 || !strings.Contains(app["lisi"], "理由：请补充现场照片") {
			t.Errorf("return notice %v", app)
		}
		x.say("lisi", "办结 已补充照片")
		got = x.say("wangwu", "确认 D1")
		if body := got.reply(); body != "调度 D1 已确认办结、销号。" {
			t.Errorf("confirm reply %q", body)
		}
		if app := got.app(); len(app) != 1 || !strings.Contains(app["zhangsan|lisi"], "【调度 D1】王五（区领导）已确认办结、销号。") {
			t.Errorf("confirm notice %v", app)
		}
		contains(t, "lookup", x.say("zhoujiu", "查 D1").only(), "【调度 D1】已办结", "· 住建局：已办结", "已修复路灯", "· 环海街道：已办结")

		events, err := x.store.DispatchEvents(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		var trail []string
		for _, e := range events {
			trail = append(trail, string(e.Step)+":"+e.Actor)
		}
		want := []string{"issue:wangwu", "sign:zhangsan", "feedback:sunba", "done:zhangsan", "done:lisi", "return:wangwu", "done:lisi", "confirm:wangwu"}
		if !slices.Equal(trail, want) {
			t.Errorf("events %v, want %v", trail, want)
		}
	})
}

func TestDispatchRefusals(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		cases := []struct{ text, want string }{
			{"调度 @住建局 @不存在局 明天办结", "未找到调度对象：@不存在局。请核对名称后重新发送"},
			{"调度 @张伟 明天下班前反馈", "“张伟”对应多个对象，请指明：@zhangwei1（张伟，住建局）、@zhangwei2（张伟，城管局）"},
			{"调度 @住建局 今天9点前办结", "截止时间已过：今天9点前（11月20日 09:00），调度未下达。请修改时限后重新发送"},
			{"调度 @住建局 13月5日前办结", "无法识别的时间：13月5日前，调度未下达。请修改时限后重新发送"},
			{"调度 明天中午前办结", "请指明调度对象，如：调度 @住建局 明天下班前反馈"},
			{"调度 @住建局 明天中午前", "请写明调度要求，如：调度 @住建局 明天中午前办结并回复群众"},
		}
		for _, c := range cases {
			if body := x.say("wangwu", c.text).only(); body != c.want {
				t.Errorf("%q → %q, want %q", c.text, body, c.want)
			}
		}
		if n := x.count(&models.Dispatch{}); n != 0 {
			t.Errorf("%d dispatches created by refused messages", n)
		}
		// The sender may name the member by userid; a head-less unit's reporter hears of it.
		got := x.say("wangwu", "派单 @zhangwei2 教育局 周一下班前报送整改方案")
		contains(t, "reply", got.reply(), "已下达调度 D1，已点对点通知：张伟（城管局）、教育局（钱七）", "11月23日（周一）18:00前")
		if k := keys(got.app()); !slices.Equal(k, []string{"qianqi", "zhangwei2"}) {
			t.Errorf("app messages to %v", k)
		}
	})
}

func TestReplayedMessageActsOnce(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		in := &models.Inbound{Route: models.RouteApp, MsgID: "7001", ChatType: "single", FromUserID: "wangwu", MsgType: "text",
			Text: "调度 @住建局 明天下班前报送整改方案"}
		first := x.handle(in)
		if len(first.rows) != 3 || first.rows[0].Channel != "app" || first.rows[0].To != "wangwu" {
			t.Fatalf("first handling %+v", first.rows)
		}
		again := x.handle(in)
		if len(again.rows) != 0 || x.count(&models.Dispatch{}) != 1 {
			t.Errorf("second handling sent %d messages; %d dispatches", len(again.rows), x.count(&models.Dispatch{}))
		}
	})
}

func TestReturnChain(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-25 18:00"))
		x.addTicket("2024112700456", "cgj", "", at("2026-11-25 18:00"))
		if body := x.say("zhaoliu", "申请退办 2024112700456 不是本街道的").only(); body != "工单 2024112700456 不是本单位承办的工单，不能申请退办" {
			t.Errorf("other unit's ticket: %q", body)
		}
		// The grid's handler applies; the grid's head hears of it.
		got := x.say("zhaoliu", "申请退办 2024112700123 该点位属于开发区管辖，不属于本街道")
		if body := got.reply(); body != "已提交工单 2024112700123 的退办申请，待环海街道主要负责人（李四）审核。" {
			t.Errorf("apply reply %q", body)
		}
		contains(t, "head's notice", got.app()["lisi"], "【退办审核】赵六（环海街道）申请退办工单 2024112700123",
			"理由：该点位属于开发区管辖，不属于本街道", "请回复“同意退办 2024112700123”")
		if body := x.say("zhaoliu", "申请退办 2024112700123 再次申请").only(); body != "工单 2024112700123 已有退办申请在审批中" {
			t.Errorf("second application %q", body)
		}
		// Neither the leader nor another unit's head may skip the grid's head.
		if body := x.say("wangwu", "批准退办 2024112700123").only(); body != "工单 2024112700123 的退办申请尚待环海街道主要负责人审核" {
			t.Errorf("leader first: %q", body)
		}
		if body := x.say("zhangsan", "同意退办 2024112700123").only(); body != "仅环海街道主要负责人可以审核工单 2024112700123 的退办申请" {
			t.Errorf("another head: %q", body)
		}
		contains(t, "ticket before", x.say("zhoujiu", "查 2024112700123").only(), "【工单 2024112700123】办理中", "退办申请：待部门审核（赵六（环海街道）申请）")

		got = x.say("lisi", "同意退办 情况属实")
		if body := got.reply(); body != "已同意工单 2024112700123 的退办申请，已报区领导批准。" {
			t.Errorf("head's approval reply %q", body)
		}
		notice := got.app()["wangwu|zhaosi"]
		contains(t, "leaders' notice", notice, "【退办审批】赵六（环海街道）申请退办工单 2024112700123，李四（环海街道）已审核同意。", "请回复“批准退办 2024112700123”")
		if tk, _, err := x.store.TicketByNumber(ctx, "2024112700123"); err != nil {
			t.Fatal(err)
		} else if tk.Status != models.TicketInProgress {
			t.Fatalf("ticket returned after one approval: %s", tk.Status)
		}

		got = x.say("wangwu", "批准退办")
		if body := got.reply(); body != "已批准工单 2024112700123 退办，工单已退办。" {
			t.Errorf("leader's approval reply %q", body)
		}
		contains(t, "parties' notice", got.app()["zhaoliu|lisi|liuyi"], "【退办批准】工单 2024112700123 的退办申请已经王五（区领导）批准，工单已退办。")
		tk, events, err := x.store.TicketByNumber(ctx, "2024112700123")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Status != models.TicketReturned || events[len(events)-1].Change != models.EventStatus || events[len(events)-1].Actor != "wangwu" {
			t.Errorf("ticket after approval %s, events %+v", tk.Status, events)
		}

		// A head's own request goes to the leaders, who may refuse it.
		x.addTicket("2024112700789", "zjj", "", at("2026-11-25 18:00"))
		got = x.say("zhangsan", "退办 2024112700789 非本部门职责")
		if body := got.reply(); body != "已提交工单 2024112700789 的退办申请，待区领导批准。" {
			t.Errorf("head's request %q", body)
		}
		// The head applied and so reviewed it: the leaders read the head's name once.
		if n := got.app()["wangwu|zhaosi"]; !strings.HasPrefix(n, "【退办审批】住建局主要负责人张三申请退办工单 2024112700789。\n理由：非本部门职责") || strings.Count(n, "张三") != 1 {
			t.Errorf("leaders' notice of a head's own request: %q", n)
		}
		got = x.say("zhaosi", "驳回退办 2024112700789 请继续办理")
		contains(t, "refusal notice", got.app()["zhangsan|liuyi"], "【退办驳回】工单 2024112700789 的退办申请已被赵四（区领导）驳回，请继续办理。\n理由：请继续办理")
		if body := x.say("wangwu", "批准退办").only(); body != "没有待您审批的退办申请" {
			t.Errorf("nothing left: %q", body)
		}
	})
}

func TestQueries(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-19 18:00"))
		x.addTicket("2024112700456", "cgj", "", at("2026-11-18 18:00"))
		x.addTicket("2024112700789", "zjj", "", at("2026-11-27 18:00"))
		// Overdue time in working days, as the overdue digests say it (report.Lateness).
		contains(t, "overdue", x.say("zhoujiu", "超期").only(), "全区超期未办结工单 2 件：住建局 1、城管局 1",
			"\n2024112700456 城管局 超期2个工作日", "\n2024112700123 住建局 超期1个工作日")
		if body := x.say("zhoujiu", "超期 住建").only(); body != "住建局超期未办结工单 1 件\n2024112700123 超期1个工作日" {
			t.Errorf("overdue of one unit: %q", body)
		}
		if body := x.say("zhoujiu", "超期 教育局").only(); body != "教育局目前没有超期未办结的工单。" {
			t.Errorf("no overdue: %q", body)
		}
		contains(t, "ticket", x.say("zhoujiu", "查 2024112700123").only(), "【工单 2024112700123】办理中", "诉求：小区路灯不亮",
			"类别：求助｜来源：市级直派", "承办：住建局；网格：环海街道", "期限：11月19日（周四）18:00（超期1个工作日）")
		if body := x.say("zhoujiu", "查 2099000000000").only(); body != "未找到工单 2099000000000" {
			t.Errorf("unknown ticket: %q", body)
		}
		// Over a weekend the calendar days are said too.
		x.clock.Set(at("2026-11-23 09:00"))
		contains(t, "overdue on Monday", x.say("zhoujiu", "超期 城管局").only(), "2024112700456 超期3个工作日（5天）")
		x.clock.Set(at(friday))
		x.say("zhangsan", "日报 今日办结5件")
		x.say("wangwu", "调度 @住建局 明天下班前报送路灯整改方案")
		progress := x.say("zhoujiu", "进度 住建局").only()
		contains(t, "progress", progress, "【住建局】11月20日办理进度", "在办 2 件，其中超期 1 件", "三率（2026年11月累计（11月1日至20日））：暂无有效回访",
			"今日日报：已报送（10:00）", "办理中的调度：D1（待签收）")
		contains(t, "ranking", x.say("zhoujiu", "排名 本月").only(), "【三率排名】2026年11月", "暂无有效回访，无法排名。")
		todo := x.say("zhangsan", "待办").only()
		contains(t, "head's todo", todo, "【待办调度】\nD1 王五：报送路灯整改方案（待签收，时限11月21日（周六）18:00）")
		contains(t, "leader's todo", x.say("wangwu", "待办").only(), "【我发起的调度】\nD1 ", "办结 0/1")
		if body := x.say("zhoujiu", "待办").only(); body != "您目前没有待办事项。" {
			t.Errorf("empty todo: %q", body)
		}
	})
}

func TestSystemFailureIsRetriedThenTold(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		// A broken table makes every dispatch fail inside the system.
		if err := x.store.DB(ctx).Migrator().DropTable(&models.DispatchEvent{}); err != nil {
			t.Fatal(err)
		}
		in := &models.Inbound{Route: models.RouteApp, MsgID: "9001", ChatType: "single", FromUserID: "wangwu", MsgType: "text",
			Text: "调度 @住建局 明天下班前报送整改方案"}
		for attempt, replies := range []int{0, 1, 1} {
			in.Attempts = attempt + 1
			if err := x.h.Handle(ctx, in); err == nil || models.ErrorCode(err) != models.EINTERNAL {
				t.Fatalf("attempt %d: %v, want a system error to retry", in.Attempts, err)
			}
			var rows []models.OutboxMessage
			if err := x.store.DB(ctx).Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != replies || (replies == 1 && (rows[0].Body != "系统繁忙，请稍后再试" || rows[0].To != "wangwu")) {
				t.Errorf("after attempt %d: %+v", in.Attempts, rows)
			}
		}
		if n := x.count(&models.Dispatch{}); n != 0 {
			t.Errorf("%d dispatches left by failed attempts", n)
		}
	})
}

func TestSigningStopsTheAlertOnceAllHaveSigned(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.say("wangwu", "调度 @住建局 @环海街道 今天下午3点前报送情况")
		fired := x.clock.Now()
		alert := models.Alert{SubjectKind: models.SubjectDispatch, SubjectID: 1, Level: "alert", FirstSentAt: fired, LastSentAt: fired}
		if _, err := x.store.FireAlert(ctx, &alert); err != nil {
			t.Fatal(err)
		}
		acked := func() bool {
			got, err := x.store.AlertsOf(ctx, models.SubjectDispatch, []uint{1})
			if err != nil {
				t.Fatal(err)
			}
			return got[1][0].AckedAt != nil
		}
		x.say("zhangsan", "签收 D1")
		if acked() {
			t.Error("the alert stopped while 环海街道 has not signed")
		}
		x.clock.Set(at("2026-11-20 10:30"))
		x.say("lisi", "签收")
		if !acked() {
			t.Error("the alert goes on after every target signed")
		}
	})
}
