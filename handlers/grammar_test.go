package handlers

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/report"
)

func testGrammar(t testing.TB) *Grammar {
	t.Helper()
	g, err := NewGrammar("雁阵", config.Default().Rules.TicketNumber)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParse(t *testing.T) {
	g := testGrammar(t)
	cases := []struct {
		text string
		want Command // Name, Code, Ticket, Word, Body, Period, Malformed are compared
	}{
		// Normalisation: the bot mention, full width, blanks, colons and commas.
		{"@雁阵 帮助", Command{Name: "帮助"}},
		{"@雁阵\u2005@雁阵 帮助", Command{Name: "帮助"}},
		{"  帮助  ", Command{Name: "帮助"}},
		{"Help", Command{Name: "帮助"}},
		{"？", Command{Name: "帮助"}},
		{"helpme", Command{}},
		{"帮助 签收", Command{Name: "帮助", Word: "签收"}},
		{"签收 Ｄ１２", Command{Name: "签收", Code: 12}},
		{"签收：d12", Command{Name: "签收", Code: 12}},
		{"签收D12", Command{Name: "签收", Code: 12}},
		{"收到", Command{Name: "签收"}},
		{"收到，马上办理", Command{Name: "签收"}},
		{"确认收到 D3", Command{Name: "签收", Code: 3}},
		{"签收 D12x", Command{Name: "签收"}},
		{"签收 D0", Command{Name: "签收"}},
		{"签收 D99999999999", Command{Name: "签收", Ticket: "D99999999999"}}, // a ticket number by the pattern
		{"\u200b签收\u3000D7", Command{Name: "签收", Code: 7}},
		// An everyday alias is a command only when it stands apart; a
		// question reports nothing.
		{"完成了吗？", Command{}},
		{"收到了", Command{}},
		{"取消吧", Command{}},
		{"完成 D3 已整改到位", Command{Name: "办结", Code: 3, Body: "已整改到位"}},
		{"完成：已整改到位", Command{Name: "办结", Body: "已整改到位"}},
		{"办结了吗？", Command{Name: "办结", Body: "了吗？", Malformed: true}},
		{"办结 D3 今天能完成吗？", Command{Name: "办结", Code: 3, Body: "今天能完成吗？"}},
		// Reports keep the sender's own writing.
		{"日报 今日受理工单１２件，办结１０件。\n二、老旧小区改造完成３个",
			Command{Name: "日报", Body: "今日受理工单１２件，办结１０件。\n二、老旧小区改造完成３个"}},
		{"日报：住建局：今日受理5件", Command{Name: "日报", Body: "住建局：今日受理5件"}},
		{"日报今日无新增工单", Command{Name: "日报", Body: "今日无新增工单"}},
		{"报送日报 今日无新增", Command{Name: "日报", Body: "今日无新增"}},
		{"日报", Command{Name: "日报", Malformed: true}},
		{"日报   ", Command{Name: "日报", Malformed: true}},
		{"补充日报 另：完成巡查2次", Command{Name: "补充日报", Body: "另：完成巡查2次"}},
		{"撤回日报", Command{Name: "撤回日报"}},
		{"撤销日报 住建局", Command{Name: "撤回日报", Word: "住建局"}},
		{"预览日报", Command{Name: "预览日报"}},
		{"查看日报", Command{Name: "预览日报"}},
		{"未报", Command{Name: "未报"}},
		{"谁没报？", Command{Name: "未报"}},
		// Dispatch: the arguments are read against the directory later.
		{"调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众",
			Command{Name: "调度", Word: "@住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众"}},
		{"交办＠住建局　明天下班前反馈", Command{Name: "调度", Word: "@住建局 明天下班前反馈"}},
		{"督办", Command{Name: "督办"}},
		{"反馈 D12 已联系群众，正在处理", Command{Name: "反馈", Code: 12, Body: "已联系群众，正在处理"}},
		{"反馈 已联系群众", Command{Name: "反馈", Body: "已联系群众"}},
		{"反馈 D12", Command{Name: "反馈", Code: 12, Malformed: true}},
		{"办结 D5：已清理完毕，群众满意", Command{Name: "办结", Code: 5, Body: "已清理完毕，群众满意"}},
		{"已办结 D5 已清理", Command{Name: "办结", Code: 5, Body: "已清理"}},
		{"确认 D12", Command{Name: "确认", Code: 12}},
		{"销号 D12", Command{Name: "确认", Code: 12}},
		{"确认", Command{Name: "确认", Malformed: true}},
		{"退回 D12 请补充现场照片", Command{Name: "退回", Code: 12, Body: "请补充现场照片"}},
		{"退回 D12", Command{Name: "退回", Code: 12, Malformed: true}},
		{"撤销 D12", Command{Name: "撤销", Code: 12}},
		{"撤销 D12 已另行安排", Command{Name: "撤销", Code: 12, Body: "已另行安排"}},
		{"取消 d4", Command{Name: "撤销", Code: 4}},
		// Queries.
		{"查 2024112700123", Command{Name: "查", Ticket: "2024112700123"}},
		{"查 ＃２０２４１１２７００１２３", Command{Name: "查", Ticket: "2024112700123"}},
		{"查询工单号：BJ2024112700123", Command{Name: "查", Ticket: "BJ2024112700123"}},
		{"查 D12", Command{Name: "查", Code: 12}},
		{"查 12345", Command{Name: "查", Malformed: true}},
		{"查", Command{Name: "查", Malformed: true}},
		{"进度 住建局", Command{Name: "进度", Word: "住建局"}},
		{"进度", Command{Name: "进度", Malformed: true}},
		{"超期", Command{Name: "超期"}},
		{"超期 城管局", Command{Name: "超期", Word: "城管局"}},
		{"排名", Command{Name: "排名", Period: models.PeriodMonth}}, // the daily report's ranking
		{"排名 今日", Command{Name: "排名", Period: models.PeriodDay}},
		{"排名 本周", Command{Name: "排名", Period: models.PeriodWeek}},
		{"排行榜 本月", Command{Name: "排名", Period: models.PeriodMonth}},
		{"排名 前年", Command{Name: "排名", Malformed: true}},
		{"排名 本年度", Command{Name: "排名", Period: models.PeriodYear}},
		{"排名 去年", Command{Name: "排名", Period: models.PeriodYear, Back: 1}},
		{"排名 上月 图", Command{Name: "排名", Period: models.PeriodMonth, Back: 1, Chart: true}},
		{"排名 本季度图表", Command{Name: "排名", Period: models.PeriodQuarter, Chart: true}},
		{"排名图", Command{Name: "排名", Period: models.PeriodMonth, Chart: true}},
		{"排名 上周", Command{Name: "排名", Period: models.PeriodWeek, Back: 1}},
		{"排名 前年图", Command{Name: "排名", Chart: true, Malformed: true}},
		{"趋势 住建局", Command{Name: "趋势", Word: "住建局"}},
		{"趋势图", Command{Name: "趋势"}},
		{"导出 台账 本月", Command{Name: "导出", Export: report.ExportLedger, Word: "本月"}},
		{"导出台账上月", Command{Name: "导出", Export: report.ExportLedger, Word: "上月"}},
		{"导出 超期", Command{Name: "导出", Export: report.ExportOverdue}},
		{"下载 日报 2026-11-01至2026-11-20", Command{Name: "导出", Export: report.ExportReports, Word: "2026-11-01至2026-11-20"}},
		{"导出 排名 ２０２６年１１月１日 到 １１月２０日", Command{Name: "导出", Export: report.ExportRanking, Word: "2026年11月1日 到 11月20日"}},
		{"导出 工单", Command{Name: "导出", Malformed: true}},
		{"导出", Command{Name: "导出", Malformed: true}},
		{"待办", Command{Name: "待办"}},
		// The 退办 chain.
		{"申请退办 2024112700123 不属于本单位职责", Command{Name: "申请退办", Ticket: "2024112700123", Body: "不属于本单位职责"}},
		{"退办 2024112700123：非本街道辖区", Command{Name: "申请退办", Ticket: "2024112700123", Body: "非本街道辖区"}},
		{"申请退办 2024112700123", Command{Name: "申请退办", Ticket: "2024112700123", Malformed: true}},
		{"申请退办 不属于本单位职责", Command{Name: "申请退办", Malformed: true}},
		{"同意退办 2024112700123", Command{Name: "同意退办", Ticket: "2024112700123"}},
		{"同意退办", Command{Name: "同意退办"}},
		{"同意退办 情况属实", Command{Name: "同意退办", Body: "情况属实"}},
		{"驳回退办 2024112700123 请继续办理", Command{Name: "驳回退办", Ticket: "2024112700123", Body: "请继续办理"}},
		{"驳回退办", Command{Name: "驳回退办", Malformed: true}},
		{"批准退办 BJ2024112700123", Command{Name: "批准退办", Ticket: "BJ2024112700123"}},
		// Steps on a ticket share their words with a dispatch's: the argument decides.
		{"签收 2024112700123", Command{Name: "签收", Ticket: "2024112700123"}},
		{"收到 工单号：2024112700123", Command{Name: "签收", Ticket: "2024112700123"}},
		{"反馈 2024112700123 已联系群众", Command{Name: "反馈", Ticket: "2024112700123", Body: "已联系群众"}},
		{"反馈 2024112700123", Command{Name: "反馈", Ticket: "2024112700123", Malformed: true}},
		{"办结 BJ2024112700123：路灯已修复", Command{Name: "办结", Ticket: "BJ2024112700123", Body: "路灯已修复"}},
		{"办结 D3 路灯已修复", Command{Name: "办结", Code: 3, Body: "路灯已修复"}},
		// The 延期 chain: the date and the reason are read by the handler.
		{"申请延期 2024112700123 12月5日 需协调供电部门", Command{Name: "申请延期", Ticket: "2024112700123", Word: "12月5日 需协调供电部门"}},
		{"延期 2024112700123：下周五前，需协调", Command{Name: "申请延期", Ticket: "2024112700123", Word: "下周五前,需协调"}},
		{"申请延期 2024112700123", Command{Name: "申请延期", Ticket: "2024112700123", Malformed: true}},
		{"申请延期 12月5日 需协调", Command{Name: "申请延期", Malformed: true}},
		{"同意延期", Command{Name: "同意延期"}},
		{"驳回延期 2024112700123 理由不充分", Command{Name: "驳回延期", Ticket: "2024112700123", Body: "理由不充分"}},
		{"不同意延期", Command{Name: "驳回延期", Malformed: true}},
		{"批准延期 2024112700123 同意", Command{Name: "批准延期", Ticket: "2024112700123", Body: "同意"}},
		// 督办 names a ticket; a leader's 督办 without one is a dispatch (the handler decides).
		{"督办 2024112700123 明天中午前答复群众", Command{Name: "督办", Ticket: "2024112700123", Word: "明天中午前答复群众"}},
		{"督办工单 2024112700123 请加快办理", Command{Name: "督办", Ticket: "2024112700123", Word: "请加快办理"}},
		{"督办 @住建局 明天办结", Command{Name: "督办", Word: "@住建局 明天办结"}},
		{"督办 2024112700123", Command{Name: "督办", Ticket: "2024112700123"}},
		// Not commands.
		{"", Command{}},
		{"@雁阵", Command{}},
		{"你好", Command{}},
		{"请住建局明天办结", Command{}},
	}
	for _, c := range cases {
		got := g.Parse(c.text)
		got.Text, got.Args, got.spec, got.src, got.at = "", "", nil, normalized{}, 0
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", c.text, got, c.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct{ in, text string }{
		{"＃１２３", "#123"},
		{"@雁阵 签收", "签收"},
		{"@雁阵签收", "签收"},
		{"@雁阵  @雁阵\n签收", "签收"},
		{"签收 @雁阵", "签收 @雁阵"},
		{"日报\n\n今日：办结　５件\t", "日报 今日:办结 5件"},
		{"\u200b\ufeff 查 ", "查"},
		{"\xff坏", "\ufffd坏"},
	}
	for _, c := range cases {
		n := normalize(c.in, "@雁阵", false)
		if n.text != c.text {
			t.Errorf("normalize(%q) = %q, want %q", c.in, n.text, c.text)
		}
		if len(n.off) != len(n.text)+1 {
			t.Errorf("normalize(%q): %d offsets for %d bytes", c.in, len(n.off), len(n.text))
		}
	}
	// In a group any leading mention goes, whatever the bot is called; later ones stay.
	for _, c := range []struct{ in, text string }{
		{"@智能助手 帮助", "帮助"},
		{"@智能助手\u2005@雁阵签收", "签收"},
		{"@李四 @智能助手 催办 D3", "催办 D3"},
		{"@智能助手", ""},
		{"签收 @智能助手", "签收 @智能助手"},
	} {
		if n := normalize(c.in, "@雁阵", true); n.text != c.text || len(n.off) != len(n.text)+1 {
			t.Errorf("normalize(%q) in a group = %q, want %q", c.in, n.text, c.text)
		}
	}
	if n := normalize("@智能助手 帮助", "@雁阵", false); n.text != "@智能助手 帮助" {
		t.Errorf("a single chat's unknown mention was dropped: %q", n.text)
	}
	n := normalize("@雁阵 日报：今日，办结５件", "@雁阵", false)
	if i := strings.Index(n.text, "今日"); n.original(i) != "今日，办结５件" {
		t.Errorf("original = %q", n.original(i))
	}
}

func TestCommandTable(t *testing.T) {
	g := testGrammar(t)
	for _, sp := range g.specs {
		if !strings.HasPrefix(sp.Usage, sp.Name) || sp.Summary == "" || sp.Group == "" || sp.run == nil {
			t.Errorf("%s: incomplete table row %+v", sp.Name, sp)
		}
		if (sp.Roles == nil) != (sp.Action == "") {
			t.Errorf("%s: roles %v need an action for the refusal and vice versa", sp.Name, sp.Roles)
		}
		for _, w := range append([]string{sp.Name}, sp.Aliases...) {
			if got := g.Parse(w); got.Name != sp.Name {
				t.Errorf("Parse(%q).Name = %q, want %q", w, got.Name, sp.Name)
			}
		}
	}
	dispatch, _ := g.lookup("调度")
	if got := dispatch.refusal(); models.UserText(got) != "仅区领导可以调度" {
		t.Errorf("refusal = %q", models.UserText(got))
	}
	if _, err := newGrammar("", `\d+`, []*spec{{Name: "甲"}, {Name: "乙", Aliases: []string{"甲"}}}); err == nil {
		t.Error("a word given to two commands was accepted")
	}
	if _, err := NewGrammar("", `[`); err == nil {
		t.Error("a bad ticket pattern was accepted")
	}
}

func FuzzParse(f *testing.F) {
	g := testGrammar(f)
	for _, s := range []string{
		"@雁阵 调度 @住建局 工单2024112700123 明天中午前办结", "签收 Ｄ１２", "日报：\n内容", "查 ＃２０２４１１２７００１２３",
		"反馈 D1 \xff\xfe", "@", "@雁阵", "退回 D12 @住建局 理由", "排名 本周", "\u200b\u3000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := g.Parse(s)
		if c.Name == "" && (c.Code != 0 || c.Ticket != "" || c.Body != "" || c.Malformed) {
			t.Errorf("no command but arguments: %+v", c)
		}
		if utf8.ValidString(s) && (!utf8.ValidString(c.Text) || !utf8.ValidString(c.Body)) {
			t.Errorf("invalid UTF-8 out of valid input %q: %+v", s, c)
		}
		if c.Body != "" && !strings.Contains(s, c.Body) {
			t.Errorf("body %q is not the sender's own text %q", c.Body, s)
		}
	})
}

var benchMessages = []string{
	"@雁阵 调度 @住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众",
	"@雁阵 日报 今日受理工单15件，办结12件，在办3件；老旧小区改造完成2个小区外立面施工。",
	"签收 D12",
	"反馈 D12 已联系群众，明天上午现场核实",
	"查 2024112700123",
	"申请退办 BJ2024112700123 该诉求属市级事权，不属于本单位职责范围",
	"你好",
	"排名 本周",
}

// BenchmarkParse parses a mix of messages; the requirement is at least
// 100,000 messages a second on one core (go test -bench Parse -cpu 1).
func BenchmarkParse(b *testing.B) {
	g := testGrammar(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g.Parse(benchMessages[i%len(benchMessages)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
