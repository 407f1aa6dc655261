package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"yanzhen/models"
)

func TestRegisterReadsTheItem(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		// Refusals change nothing.
		for _, c := range []struct{ from, text, want string }{
			{"zhangsan", "立项 @住建局 楼道堆物", "仅区领导、督导专班可以立项"},
			{"zhoujiu", "立项 楼道堆物 即知即改", "请@承办单位，如：立项 @住建局 楼道堆物 即知即改"},
			{"zhoujiu", "立项 @规划局 楼道堆物", "未找到单位“规划局”，请@承办单位，如：立项 @住建局 楼道堆物 即知即改"},
			{"zhoujiu", "立项 @住建局 @城管局 楼道堆物", "一项整改只交办一个单位，请分别立项"},
			{"zhoujiu", "立项 @住建局 楼道堆物 限时整改", "限时整改请写明期限，如：立项 @住建局 楼道堆物 限时整改 12月31日前"},
			{"zhoujiu", "立项 @住建局 加装电梯 无法整改", "无法整改请说明理由，如：立项 @住建局 加装电梯 无法整改 涉及规划调整需市级审批"},
			{"zhoujiu", "立项 @住建局 即知即改", "请写明整改问题。用法：立项 @单位 [工单号|D12] <问题> [即知即改|限时整改|无法整改] [期限或理由]"},
			{"zhoujiu", "立项 @住建局 楼道堆物 限时整改 昨天下班前", "截止时间已过：昨天下班前（11月19日 18:00），未立项。请修改期限后重新发送"},
		} {
			if got := x.say(c.from, c.text).only(); !strings.Contains(got, c.want) {
				t.Errorf("%s: %q, want %q", c.text, got, c.want)
			}
		}
		if n := x.count(&models.Rectification{}); n != 0 {
			t.Fatalf("%d items registered by refusals", n)
		}
		// Without a class: a date makes it 限时整改, none 即知即改 within a working day.
		contains(t, "dated", x.say("zhoujiu", "立项 住建局 背街小巷积水点整治 12月4日前").reply(), "已立项整改事项 Z1（限时整改），交办住建局（张三），时限：12月4日（周五）18:00前。")
		contains(t, "undated", x.say("zhoujiu", "立项 @城管局：路灯不亮").reply(), "已立项整改事项 Z2（即知即改），交办城管局（陈一），时限：11月23日（周一）10:00前。")
		if it := x.item(2); it.Problem != "路灯不亮" || it.Class != models.RectifyQuick {
			t.Errorf("undated item %q %s", it.Problem, it.Class)
		}
		// From a dispatch with one unit, which gives the unit.
		x.say("wangwu", "调度 @教育局 明天下班前核实校外培训退费情况")
		contains(t, "from a dispatch", x.say("wangwu", "立项 D1 培训机构退费不及时 限时整改 12月10日前").reply(), "已立项整改事项 Z3（限时整改），交办教育局（钱七）")
		if it := x.item(3); it.DispatchID == nil || *it.DispatchID != 1 || it.Problem != "培训机构退费不及时" {
			t.Errorf("item from a dispatch: %+v", it)
		}
		x.say("wangwu", "调度 @住建局 @城管局 联合整治占道")
		if got := x.say("wangwu", "立项 D2 占道经营 即知即改").only(); got != "调度 D2 涉及多个单位，请@其中一个单位立项" {
			t.Errorf("a dispatch of two units: %q", got)
		}
		// A leader's own 无法整改 stands at once.
		got := x.say("wangwu", "立项 @住建局 海景花园加装电梯 无法整改 涉及规划调整需市级审批")
		contains(t, "leader's 无法整改", got.reply(), "已立项整改事项 Z4（无法整改），住建局。", "已批准为无法整改，按月报上级。")
		contains(t, "head hears", got.app()["zhangsan"], "【整改事项 Z4】王五（区领导）将住建局的问题列为无法整改")
		if it := x.item(4); it.State != models.RectifyDeferred {
			t.Errorf("a leader's 无法整改: %s", it.State)
		}
	})
}

func TestItemStepsAndVerification(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.say("zhoujiu", "立项 @住建局 楼道堆物 即知即改")
		x.drain()
		for _, c := range []struct{ from, text, want string }{
			{"chenyi", "签收 Z1", "整改事项 Z1 交办住建局，您不能办理"},
			{"zhangsan", "签收 Z9", "未找到整改事项 Z9"},
			{"zhangsan", "反馈 Z1", "用法：反馈 [D12|Z12|工单号] <进展>"},
			{"zhoujiu", "核查 Z1 通过", "整改事项 Z1 已交办，尚不能核查"},
		} {
			if got := x.say(c.from, c.text).only(); got != c.want {
				t.Errorf("%s %s: %q, want %q", c.from, c.text, got, c.want)
			}
		}
		x.say("zhangsan", "反馈 Z1 已清理")
		for _, c := range []struct{ from, text, want string }{
			{"zhoujiu", "核查 Z1", "用法：核查 <编号> <通过|不通过> [说明]"},
			{"zhoujiu", "核查 Z1 好的", "请写明核查结果“通过”或“不通过”。用法：核查 <编号> <通过|不通过> [说明]"},
			{"zhoujiu", "核查 Z1 不通过", "核查不通过请说明原因，如：核查 Z1 不通过 现场仍有堆物"},
			{"zhaosi", "核查 Z1 通过", "整改事项 Z1由发起人、督导专班或12345热线办核查"},
		} {
			if got := x.say(c.from, c.text).only(); got != c.want {
				t.Errorf("%s %s: %q, want %q", c.from, c.text, got, c.want)
			}
		}
		if it := x.item(1); it.State != models.RectifyReported {
			t.Fatalf("refused verifications changed the item: %s", it.State)
		}
		contains(t, "查", x.say("wangwu", "查 Z1").reply(), "【整改事项 Z1】待核查（即知即改）", "单位：住建局", "整改情况：已清理", "立项交办 周九", "反馈整改情况（已清理） 张三")
	})
}

func TestUnfixableRefusedBecomesTimed(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.say("zhoujiu", "立项 @住建局 海景花园加装电梯 无法整改 涉及规划调整")
		if got := x.say("zhangsan", "批准无法整改 Z1").only(); got != "仅区领导可以批准无法整改" {
			t.Errorf("a head approving: %q", got)
		}
		got := x.say("zhaosi", "驳回无法整改 Z1 可先行开展前期工作")
		contains(t, "reply", got.reply(), "已驳回整改事项 Z1 的无法整改申请。")
		contains(t, "notice", got.app()["zhoujiu|zhangsan|liuyi"], "【无法整改驳回】整改事项 Z1 的无法整改申请已被赵四（区领导）驳回，请于12月4日（周五）10:00前整改。")
		it := x.item(1)
		if it.Class != models.RectifyTimed || it.State != models.RectifyAssigned || !it.Deadline.Equal(at("2026-12-04 10:00")) {
			t.Errorf("after the refusal: %s %s %v", it.Class, it.State, it.Deadline)
		}
		// The unit may still ask, with its own reason.
		contains(t, "the unit asks", x.say("sunba", "申请无法整改 Z1 市级规划未批复").reply(), "已提交整改事项 Z1 的无法整改申请，待区领导批准。")
	})
}

func TestListAccountabilityAndInterview(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		if got := x.say("wangwu", "清单").only(); got != "全区暂无未销号的整改事项。" {
			t.Errorf("empty list: %q", got)
		}
		x.say("zhoujiu", "立项 @住建局 楼道堆物 即知即改")
		x.say("zhoujiu", "立项 @城管局 占道经营 限时整改 12月4日前")
		x.clock.Set(at("2026-11-24 10:00"))
		contains(t, "list", x.say("wangwu", "清单").reply(), "【整改清单】全区未销号的整改事项 2 件（即知即改1、限时整改1），其中超期 1 件",
			"Z1 住建局 即知即改 已交办（超期1个工作日） 楼道堆物", "Z2 城管局 限时整改 已交办 12月4日（周五）18:00前 占道经营")
		if got := x.say("wangwu", "清单 城管局 即知即改").only(); got != "城管局暂无未销号的即知即改事项。" {
			t.Errorf("by unit and class: %q", got)
		}
		contains(t, "the quarter's", x.say("wangwu", "清单 住建局 本季度").reply(), "【整改清单】住建局2026年第四季度累计（10月1日至11月24日）立项的整改事项 1 件")
		if got := x.say("wangwu", "清单 规划局").only(); got != "未找到单位“规划局”" {
			t.Errorf("unknown unit: %q", got)
		}

		if got := x.say("wangwu", "问责 住建局").only(); got != "住建局暂无问责记录。" {
			t.Errorf("no record: %q", got)
		}
		for _, c := range []struct{ text, want string }{
			{"约谈 住建局 今天", "用法：约谈 <单位> <日期> <纪要>，如：约谈 住建局 11月20日 王五约谈张三，要求两周内完成积案清理"},
			{"约谈 住建局 下个月 谈了", "无法识别约谈日期“下个月”，可写今天、昨天、11月20日或2026-11-20"},
			{"约谈 规划局 今天 谈了", "未找到单位“规划局”"},
		} {
			if got := x.say("zhoujiu", c.text).only(); got != c.want {
				t.Errorf("%s: %q", c.text, got)
			}
		}
		got := x.say("wangwu", "约谈 住建局 昨天 约谈张三，要求本周内清理积案")
		if r := got.reply(); r != "已记录住建局11月23日约谈，该单位列入问责第二级（约谈）。" {
			t.Errorf("an own 约谈: %q", r)
		}
		contains(t, "head hears", got.app()["zhangsan"], "【问责约谈】11月23日 王五（区领导）约谈住建局张三\n纪要：约谈张三，要求本周内清理积案")
		contains(t, "问责", x.say("lisi", "问责 住建局").reply(), "【问责记录】住建局\n当前：第二次约谈（已约谈）", "11月24日 10:00 第二次约谈：11月23日 王五（区领导）约谈住建局张三；纪要：约谈张三，要求本周内清理积案（王五录入）")

		x.addTicket("2024112700123", "zjj", "", at("2026-11-25 18:00"))
		x.say("wangwu", "重点件 2024112700123")
		if got := x.say("liuyi", "重点件 2024112700123").only(); got != "工单 2024112700123 已是重点件" {
			t.Errorf("twice: %q", got)
		}
	})
}

func TestEvidencePhotos(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.say("zhoujiu", "立项 @住建局 楼道堆物 即知即改")
		photo := func(chat models.ChatType, text string, refs ...string) sent {
			x.seq++
			return x.handle(&models.Inbound{Route: models.RouteAIBot, MsgID: fmt.Sprintf("photo%d", x.seq), ChatID: "wrkgroup", ChatType: chat,
				FromUserID: "sunba", MsgType: "mixed", Text: text, Media: refs, ReplyURL: "http://wecom.test/aibot/response", ReceivedAt: x.clock.Now()})
		}
		// Before any 反馈, a photo alone is explained privately and ignored in the group.
		if got := photo(models.ChatGroup, "", "image:https://wecom.test/g"); len(got.rows) != 0 {
			t.Errorf("a photo about nothing in the group: %+v", got.rows)
		}
		if got := photo(models.ChatSingle, "", "image:https://wecom.test/0").only(); got != "如需作为整改证据，请先发送“反馈 Z12 整改情况”，再在30分钟内发送照片。" {
			t.Errorf("a photo about nothing: %q", got)
		}
		// A 反馈 with a photo in one message, then one more photo on its own.
		if got := photo(models.ChatSingle, "反馈 Z1 已清理", "image:https://wecom.test/1").reply(); got != "已反馈整改事项 Z1 的整改情况（附件1个），待核查。" {
			t.Errorf("反馈 with a photo: %q", got)
		}
		if got := photo(models.ChatSingle, "", "image:https://wecom.test/2").only(); got != "已将照片附入整改事项 Z1 的整改情况（附件2个）。" {
			t.Errorf("a photo after: %q", got)
		}
		if refs := x.item(1).EvidenceRefs; strings.Join(refs, " ") != "image:https://wecom.test/1 image:https://wecom.test/2" {
			t.Errorf("refs %v", refs)
		}
		contains(t, "查", x.say("wangwu", "查 Z1").reply(), "整改情况：已清理（附件2个）")
		// Past the window, a photo is no longer taken as evidence.
		x.clock.Set(at("2026-11-20 10:31"))
		if got := photo(models.ChatSingle, "", "image:https://wecom.test/3").only(); !strings.HasPrefix(got, "如需作为整改证据") {
			t.Errorf("a late photo: %q", got)
		}
	})
}
