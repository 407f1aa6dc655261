package handlers_test

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"yanzhen/models"
)

// visited adds an assessed ticket of a unit visited at when.
func (x *harness) visited(number, dept, when string, resolved bool, satisfaction models.Satisfaction) {
	x.t.Helper()
	v := at(when)
	tk := &models.Ticket{Number: number, Title: "噪音扰民", Status: models.TicketResolved, DepartmentID: &x.dept[dept].ID,
		ReceivedAt: v.AddDate(0, 0, -3), VisitedAt: &v, Assessed: true, Contacted: ptr(true), Resolved: ptr(resolved), Satisfaction: satisfaction}
	if err := x.store.DB(ctx).Create(tk).Error; err != nil {
		x.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// attachments returns the image and file rows s enqueued.
func (s sent) attachments() []models.OutboxMessage {
	var out []models.OutboxMessage
	for _, r := range s.rows {
		if r.Media != "" {
			out = append(out, r)
		}
	}
	return out
}

// media reads an attachment's payload back from the store.
func (x *harness) media(r models.OutboxMessage) []byte {
	x.t.Helper()
	data, err := x.store.MediaData(ctx, r.Media)
	if err != nil {
		x.t.Fatal(err)
	}
	return data
}

func TestRankingAndTrendCharts(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		// Enough visits in October to rank 住建局 and 城管局; 环海街道 is 样本不足.
		for i := range 5 {
			x.visited(fmt.Sprintf("Z%d", i), "zjj", "2026-10-10 10:00", true, models.Satisfied)
			x.visited(fmt.Sprintf("C%d", i), "cgj", "2026-10-11 10:00", i < 3, models.Unsatisfied)
		}
		x.visited("H1", "hhjd", "2026-10-12 10:00", true, models.BasicSatisfied)
		got := x.say("zhoujiu", "排名 上月 图")
		if reply := got.reply(); reply != "高新区2026年10月综合评分排名" {
			t.Errorf("reply %q", reply)
		}
		atts := got.attachments()
		if len(atts) != 1 || atts[0].Kind != "image" || atts[0].Channel != "reply" || atts[0].Body != "高新区2026年10月综合评分排名.png" {
			t.Fatalf("attachments %+v", atts)
		}
		img, err := png.Decode(bytes.NewReader(x.media(atts[0])))
		if err != nil || img.Bounds().Dx() != 720 {
			t.Fatalf("the chart does not decode as a 720 px PNG: %v", err)
		}
		// This month has no visit, and this quarter too few: said in words, no chart.
		if got := x.say("zhoujiu", "排名 本月 图"); len(got.attachments()) != 0 || !strings.Contains(got.only(), "暂无有效回访，无法排名。") {
			t.Errorf("an empty month: %+v", got.rows)
		}
		x.visited("H2", "hhjd", "2026-11-02 10:00", true, models.Satisfied)
		if got := x.say("zhoujiu", "排名 本季度 图"); len(got.attachments()) != 1 {
			t.Errorf("the quarter to date ranks October's visits: %+v", got.rows)
		}
		if got := x.say("zhoujiu", "排名 图"); len(got.attachments()) != 0 || !strings.Contains(got.only(), "样本不足：环海街道（回访1）") {
			t.Errorf("a month with too few visits: %+v", got.rows)
		}
		// The text ranking of last month ranks by kind as before.
		contains(t, "text ranking", x.say("zhoujiu", "排名 上月").only(), "【三率排名】2026年10月", "1. 住建局")

		got = x.say("sunba", "趋势 住建")
		if atts := got.attachments(); got.reply() != "住建局三率趋势（近6个月）" || len(atts) != 1 || atts[0].Body != "住建局三率趋势.png" {
			t.Errorf("trend: %q %+v", got.reply(), atts)
		}
		if got := x.say("sunba", "趋势"); len(got.attachments()) != 1 || got.reply() != "高新区三率趋势（近6个月）" {
			t.Errorf("district trend: %+v", got.rows)
		}
		if got := x.say("sunba", "趋势 水务局"); got.only() != "未找到单位“水务局”" {
			t.Errorf("unknown unit: %q", got.only())
		}
	})
}

// sheetRows reads the rows of a workbook's first sheet after its title and header.
func sheetRows(t *testing.T, data []byte) (string, [][]string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows[0][0], rows[2:]
}

func TestExportsInTheChat(t *testing.T) {
	each(t, func(t *testing.T, x *harness) {
		x.say("wangwu", "调度 @住建局 @环海街道 今天下班前排查外墙隐患")
		x.say("wangwu", "调度 @城管局 明天中午前清理占道")
		x.say("zhangsan", "签收")
		x.drain()

		got := x.say("wangwu", "导出 台账 本月")
		atts := got.attachments()
		if len(atts) != 1 || atts[0].Kind != "file" || atts[0].Channel != "reply" || atts[0].Body != "高新区调度台账_2026年11月.xlsx" {
			t.Fatalf("attachments %+v", atts)
		}
		contains(t, "reply", got.reply(), "高新区调度台账（2026年11月）已生成")
		title, rows := sheetRows(t, x.media(atts[0]))
		var targets []string
		for _, r := range rows {
			targets = append(targets, r[1]+" "+r[7]+" "+r[8])
		}
		if !strings.HasPrefix(title, "高新区调度台账（2026年11月）") || fmt.Sprint(targets) != "[D1 住建局 已签收 D1 环海街道 待签收 D2 城管局 待签收]" {
			t.Errorf("the ledger: %q %v", title, targets)
		}

		// A head exports its own unit.
		got = x.say("zhangsan", "导出台账")
		title, rows = sheetRows(t, x.media(got.attachments()[0]))
		if !strings.HasPrefix(title, "高新区住建局调度台账") || len(rows) != 1 || rows[0][7] != "住建局" {
			t.Errorf("住建局's ledger: %q %v", title, rows)
		}
		// Others may not; bad periods are said so; nothing is attached.
		for _, c := range []struct{ who, text, want string }{
			{"sunba", "导出 台账", "仅区领导、管理员、12345热线办、部门主要负责人可以导出表格"},
			{"wangwu", "导出 台账 2026-11-20至2026-11-01", "结束日期早于开始日期：2026-11-20至2026-11-01"},
			{"wangwu", "导出 台账 明年", "无法识别时间“明年”，可写本月、上月、本季度、本年度或 2026-11-01至2026-11-20"},
			{"wangwu", "导出 工单", "用法：导出 <台账|超期|排名|日报> [本月|上月|日期范围]"},
		} {
			if got := x.say(c.who, c.text).only(); got != c.want {
				t.Errorf("%s %q: %q, want %q", c.who, c.text, got, c.want)
			}
		}

		// Through the AI bot the file goes to the asker by app message, and
		// the reply says so.
		x.seq++
		got = x.handle(&models.Inbound{Route: models.RouteAIBot, MsgID: "ai1", ChatID: "wrkgroup", ChatType: "group", FromUserID: "wangwu",
			MsgType: "text", Text: "导出 超期", ReplyURL: "http://wecom.test/cgi-bin/aibot/response?response_code=c1", ReceivedAt: x.clock.Now()})
		contains(t, "AI bot reply", got.reply(), "高新区超期工单", "文件已通过应用消息发送给您")
		if atts := got.attachments(); len(atts) != 1 || atts[0].Channel != "app" || atts[0].To != "wangwu" || !strings.HasPrefix(atts[0].Body, "高新区超期工单_截至") {
			t.Errorf("the AI bot's file: %+v", atts)
		}
	})
}
