package handlers_test

import (
	"strings"
	"testing"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
)

// only returns the content of the one call WeCom received, failing otherwise.
func (d delivered) only() wecomtest.Request {
	d.t.Helper()
	if len(d.calls) != 1 {
		d.t.Fatalf("%d messages delivered, want 1: %+v", len(d.calls), d.calls)
	}
	return d.calls[0]
}

func TestEndToEndTicketSteps(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		tk := w.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-19 18:00"))
		w.fire(tk.ID, "alert")

		// In the group: the sign is answered there, to the sender.
		reply := w.group("sunba", "签收 2024112700123").only()
		if reply.Route != wecomtest.RouteWebhook || !strings.HasPrefix(reply.Content, "已签收工单 2024112700123。") || len(reply.Mentions) != 1 || reply.Mentions[0] != "sunba" {
			t.Errorf("sign in the group: %+v", reply)
		}
		if a := w.alerts(tk.ID); !a["alert"] {
			t.Errorf("the alert goes on after 签收: %v", a)
		}
		if c := w.group("chenyi", "签收 2024112700123").only().Content; c != "工单 2024112700123 由住建局承办，您不能签收" {
			t.Errorf("another unit: %q", c)
		}
		if c := w.group("sunba", "签收 2024112700123").only().Content; c != "工单 2024112700123 已于11月20日 10:00签收，无需重复签收" {
			t.Errorf("second sign: %q", c)
		}
		// Privately: the grid feeds back, the head claims it done.
		if c := w.private("zhaoliu", "反馈 2024112700123 已到现场").to("zhaoliu"); c != "已记录工单 2024112700123 的属地反馈。" {
			t.Errorf("feedback: %q", c)
		}
		if c := w.private("liuyi", "办结 2024112700123 已办").to("liuyi"); c != "仅承办单位的经办人、日报联络员、部门主要负责人可以办结工单" {
			t.Errorf("the 12345 office claiming: %q", c)
		}
		if c := w.private("zhangsan", "办结 2024112700123 已修复").to("zhangsan"); !strings.Contains(c, "标记为已办结（待平台确认）") {
			t.Errorf("claim: %q", c)
		}
		if c := w.assistant("sunba", "办结 2024112700123 已修复").only().Content; c != "工单 2024112700123 已于11月20日 10:00由张三报办结，待平台确认" {
			t.Errorf("second claim: %q", c)
		}
		due, err := w.store.OpenTicketsDue(ctx, at("2026-11-01 00:00"), at("2026-11-30 00:00"))
		if err != nil || len(due) != 0 {
			t.Errorf("claimed ticket in the scan: %+v %v", due, err)
		}
	})
}

func TestEndToEndExtension(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		tk := w.addTicket("2024112700123", "zjj", "", at("2026-11-19 18:00"))
		w.fire(tk.ID, "warn")
		w.fire(tk.ID, "alert")
		got := w.private("sunba", "申请延期 2024112700123 12月4日 需协调供电公司")
		contains(t, "reply", got.to("sunba"), "已提交工单 2024112700123 的延期申请至12月4日（周五）18:00")
		contains(t, "head's notice", got.to("zhangsan"), "【延期审核】孙八（住建局）申请延期工单 2024112700123 至12月4日（周五）18:00")
		if c := w.private("zhangsan", "批准延期").to("zhangsan"); c != "仅区领导可以批准延期" {
			t.Errorf("head approving: %q", c)
		}
		got = w.group("zhangsan", "同意延期 2024112700123 情况属实")
		contains(t, "leaders' notice", got.to("wangwu", "zhaosi"), "【延期审批】孙八（住建局）申请延期工单 2024112700123 至12月4日（周五）18:00")
		got = w.private("wangwu", "批准延期")
		contains(t, "decision", got.to("sunba", "zhangsan", "liuyi"), "【延期批准】工单 2024112700123 的延期申请已经王五（区领导）批准，期限延至12月4日（周五）18:00。")
		if c := w.private("wangwu", "批准延期").to("wangwu"); c != "没有待您审批的延期申请" {
			t.Errorf("approving twice: %q", c)
		}
		stored := w.ticket(tk.Number)
		if !stored.Deadline.Equal(at("2026-12-04 18:00")) || stored.DeadlineSource != models.DeadlineExtension {
			t.Errorf("ticket after approval: %v %s", stored.Deadline, stored.DeadlineSource)
		}
		// No level has come under the new deadline: every alert is cleared.
		if a := w.alerts(tk.ID); len(a) != 0 {
			t.Errorf("alerts after the extension: %v", a)
		}
	})
}

func TestEndToEndSupervise(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		w.addTicket("2024112700123", "zjj", "hhjd", at("2026-11-25 18:00"))
		if c := w.group("zhangsan", "督办 2024112700123 请加快").only().Content; c != "仅区领导、督导专班可以督办" {
			t.Errorf("a head's 督办: %q", c)
		}
		got := w.group("zhoujiu", "督办 2024112700123 明天中午前答复群众")
		robot := got.robot()
		if len(robot) != 1 || !strings.HasPrefix(robot[0].Content, "已督办工单 2024112700123（D1），已通知：住建局（张三）、环海街道（李四）。") {
			t.Errorf("supervisor's reply %+v", robot)
		}
		contains(t, "head's notice", got.to("zhangsan"), "【督办 D1】周九（督导专班）督办住建局办理工单 2024112700123", "时限：11月21日（周六）12:00前")
		contains(t, "grid's notice", got.to("lisi"), "【督办 D1】周九（督导专班）督办环海街道办理工单 2024112700123")
		got = w.private("lisi", "反馈 D1 已安排网格员上门")
		contains(t, "supervisor hears", got.to("zhoujiu"), "【督办 D1】环海街道（李四）反馈：\n已安排网格员上门")
	})
}
