package handlers_test

import (
	"testing"

	"yanzhen/models"
)

// A dispatch keeps the leader's words: a deadline phrase inside a sentence
// stays in it, a past one is refused, and a dispatch about a ticket without a
// deadline phrase is due when the ticket is, its notice naming the ticket.
func TestDispatchTextsALeaderRecognises(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		// Two milestones: the first is the deadline, both stay in the text.
		got := x.say("wangwu", "调度 @住建局 学府路拥堵问题于12月10日前拿出方案，12月20日前完成整治")
		contains(t, "milestones reply", got.reply(), "已下达调度 D1", "时限：12月10日（周四）18:00前")
		contains(t, "milestones notice", got.app()["zhangsan"], "交办住建局：学府路拥堵问题于12月10日前拿出方案，12月20日前完成整治\n时限：12月10日（周四）18:00前")
		d, err := x.store.Dispatch(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if d.Instruction != "学府路拥堵问题于12月10日前拿出方案，12月20日前完成整治" || !d.Deadline.Equal(at("2026-12-10 18:00")) {
			t.Errorf("dispatch %q due %v", d.Instruction, d.Deadline)
		}

		// A deadline gone by is refused, and nothing is dispatched.
		for text, want := range map[string]string{
			"调度 @住建局 昨天下班前报送整改方案": "截止时间已过：昨天下班前（11月19日 18:00），调度未下达。请修改时限后重新发送",
			"调度 @住建局 请于前天前反馈":     "截止时间已过：前天前（11月18日 18:00），调度未下达。请修改时限后重新发送",
		} {
			if body := x.say("wangwu", text).only(); body != want {
				t.Errorf("%q → %q, want %q", text, body, want)
			}
		}
		// A day gone by that sets no deadline is part of the instruction.
		contains(t, "yesterday mentioned", x.say("wangwu", "调度 @住建局 核实昨天下午的投诉，明天中午前反馈").reply(), "已下达调度 D2", "时限：11月21日（周六）12:00前")
		if n := x.count(&models.Dispatch{}); n != 2 {
			t.Errorf("%d dispatches, want 2", n)
		}

		// About a ticket, without a deadline phrase: the ticket's deadline, its title and address.
		tk := x.addTicket("2024112700123", "zjj", "", at("2026-11-25 18:00"))
		if err := x.store.DB(ctx).Model(tk).Update("address", "学府路18号").Error; err != nil {
			t.Fatal(err)
		}
		got = x.say("wangwu", "调度 @住建局 工单2024112700123 尽快处置并回复群众")
		contains(t, "ticket reply", got.reply(), "已下达调度 D3", "时限：11月25日（周三）18:00前（工单 2024112700123 的办理期限）")
		contains(t, "ticket notice", got.app()["zhangsan"], "交办住建局：尽快处置并回复群众\n工单：2024112700123 小区路灯不亮（地址：学府路18号）\n时限：11月25日（周三）18:00前")
		if g := got.group(); len(g) != 1 {
			t.Fatalf("group %+v", g)
		} else {
			contains(t, "ticket announcement", g[0].Body, "工单：2024112700123 小区路灯不亮（地址：学府路18号）")
		}
		if d, err = x.store.Dispatch(ctx, 3); err != nil || !d.Deadline.Equal(at("2026-11-25 18:00")) {
			t.Errorf("dispatch about a ticket due %v (%v)", d.Deadline, err)
		}
		// A ticket already overdue gives no deadline, and the reply says so.
		x.addTicket("2024112700456", "zjj", "", at("2026-11-18 18:00"))
		contains(t, "overdue ticket", x.say("wangwu", "调度 @住建局 工单2024112700456 加快办理").reply(),
			"所涉工单已过办理期限或未定期限，本调度未设时限")
	})
}
