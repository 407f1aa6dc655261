package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// appFile sends a file to the self-built app, as from sends it.
func (w *wire) appFile(from, name string, data []byte) delivered {
	w.t.Helper()
	w.msg++
	id := fmt.Sprint(7000 + w.msg)
	cb, err := w.app.AppFile(wecomtest.AppFileMessage{FromUserName: from, MediaID: w.wecom.MemberFile(name, data), MsgID: id, AgentID: agentID})
	return w.deliver("app", id, cb, err)
}

// assistantFile sends a file to the AI bot in a single chat, on its callback
// route; the callback arrives wait after the file's link was made.
func (w *wire) assistantFile(from, name string, data []byte, wait time.Duration) delivered {
	w.t.Helper()
	key, err := wecomtest.KeyOf(w.cfg.WeCom.AIBot.AESKey.Reveal())
	if err != nil {
		w.t.Fatal(err)
	}
	link, err := w.wecom.AIBotFileLink(name, data, key)
	if err != nil {
		w.t.Fatal(err)
	}
	w.clock.Advance(wait)
	w.msg++
	id := fmt.Sprintf("aibot-%d", w.msg)
	cb, err := w.aibot.AIBotFile(wecomtest.AIBotFileMessage{MsgID: id, AIBotID: "aib1", UserID: from, ResponseURL: w.wecom.ResponseURL(""), URL: link})
	return w.deliver("aibot", id, cb, err)
}

// downloads counts the files the bot fetched from WeCom.
func downloads(s *wecomtest.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Route == wecomtest.RouteMediaGet || r.Route == wecomtest.RouteFileDownload {
			n++
		}
	}
	return n
}

// responses returns the contents of the AI bot's replies by response URL.
func (d delivered) responses() string {
	var out []string
	for _, c := range d.calls {
		if c.Route == wecomtest.RouteResponse {
			out = append(out, c.Content)
		}
	}
	return strings.Join(out, "\n")
}

// firstExport is the 12345 office's export of the morning: an open ticket
// past its deadline, a 双否件, another open one, and a row of an unknown unit.
const firstExport = "工单编号,受理时间,工单状态,承办单位,标题,办理时限,是否满意,是否解决,重办次数\n" +
	"2026112000101,2026-11-18 09:00,办理中,住建局,路灯不亮,2026-11-19 18:00,,,0\n" +
	"2026112000102,2026-11-16 09:00,已办结,城管局,占道经营,2026-11-18 18:00,不满意,否,0\n" +
	"2026112000103,2026-11-20 09:00,办理中,不存在的局,无此单位,,,,\n" +
	"2026112000104,2026-11-20 09:00,待签收,教育局,校外培训退费,2026-11-27 18:00,,,0\n"

// secondExport is the afternoon's, as a workbook: 101 closed, 102 reopened.
func secondExport(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range [][]any{
		{"工单编号", "工单状态", "办结时间", "重办次数"},
		{"2026112000101", "已办结", "2026-11-20 11:00", 0},
		{"2026112000102", "办理中", "", 1},
	} {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFileImportInChat follows the 12345 office's exports sent into the
// chat, end to end: a file to the app and a workbook to the AI bot are
// fetched from the fake WeCom, imported, and answered with the outcome; the
// supervision team and the office hear of the new 双否件 and 重办; nobody
// else may import; an expired link, another kind of file and a file over
// the bound are refused with a clear line; 导入状态 says what came last.
func TestFileImportInChat(t *testing.T) {
	eachWire(t, func(t *testing.T, w *wire) {
		got := w.appFile("liuyi", "高新区12345工单明细.csv", []byte(firstExport))
		contains(t, "outcome to the office", got.to("liuyi"), "【工单导入】高新区12345工单明细.csv", "新增 3，更新 0，未变 0，错误 1",
			`第 4 行 承办单位：未知的部门 "不存在的局"`, "承办单位“不存在的局”未找到对应单位")
		contains(t, "notice of 双否件", got.to("zhoujiu", "liuyi"), "本次导入（高新区12345工单明细.csv，聊天发送文件）新增重办", "双否件 <font color=\"warning\">1</font> 件", "· 双否 2026112000102 城管局 占道经营")
		if len(got.calls) != 2 {
			t.Errorf("%d messages, want the outcome and the notice: %+v", len(got.calls), got.calls)
		}
		if tk, _, err := w.store.TicketByNumber(ctx, "2026112000101"); err != nil || tk.Department == nil || tk.Department.Name != "住建局" {
			t.Fatalf("imported ticket %+v %v", tk, err)
		}

		// A head may not import: told so, nothing fetched, nothing imported.
		before := downloads(w.wecom)
		got = w.appFile("zhangsan", "导出.csv", []byte(firstExport))
		if c := got.to("zhangsan"); c != "您好，仅12345热线办、管理员可以导入工单文件，本文件未导入。" || len(got.calls) != 1 {
			t.Errorf("a head's file: %q (%d messages)", c, len(got.calls))
		}
		if downloads(w.wecom) != before || w.count(&models.TicketImport{}) != 1 {
			t.Errorf("a head's file was fetched or imported")
		}

		// The afternoon's workbook to the AI bot: answered by its response URL.
		w.clock.Advance(time.Hour)
		got = w.assistantFile("liuyi", "第二批.xlsx", secondExport(t), 0)
		if r := got.responses(); !strings.Contains(r, "【工单导入】第二批.xlsx") || !strings.Contains(r, "新增 0，更新 2，未变 0，错误 0") {
			t.Errorf("AI bot's outcome: %q", r)
		}
		contains(t, "notice of 重办", got.to("zhoujiu", "liuyi"), "新增重办 <font color=\"warning\">1</font> 件", "· 重办 2026112000102 城管局 占道经营")

		// An AI bot link lasts five minutes.
		got = w.assistantFile("liuyi", "第三批.csv", []byte(firstExport), 6*time.Minute)
		if r := got.responses(); r != "文件已过期或无法下载，请重新发送该文件" {
			t.Errorf("expired link: %q", r)
		}
		// Another kind of file, and a file over the bound, are not imported.
		if c := w.appFile("liuyi", "情况说明.pdf", []byte("%PDF-1.4 情况说明")).to("liuyi"); c != "仅支持导入12345平台导出的xlsx或csv文件，“情况说明.pdf”未导入" {
			t.Errorf("a pdf: %q", c)
		}
		w.tickets.Limits.FileBytes = 1 << 10
		big := firstExport + strings.Repeat("2026112000199,2026-11-20 09:00,办理中,住建局,路灯不亮,,,,0\n", 40)
		if c := w.appFile("liuyi", "大文件.csv", []byte(big)).to("liuyi"); c != "文件超过 1 KB 上限，请拆分后分批导入，本文件未导入" {
			t.Errorf("a file over the bound: %q", c)
		}
		w.tickets.Limits.FileBytes = 0
		if n := w.count(&models.TicketImport{}); n != 2 {
			t.Errorf("%d imports recorded, want 2", n)
		}

		// 导入状态: the last import, the one before, open and overdue now.
		w.clock.Advance(30 * time.Minute)
		status := w.group("wangwu", "导入状态").robot()
		if len(status) != 1 {
			t.Fatalf("导入状态: %+v", status)
		}
		contains(t, "导入状态", status[0].Content, "【导入状态】", "最近导入：11月20日 11:00（36分钟前），聊天发送文件（刘一）：第二批.xlsx",
			"新增 0，更新 2，未变 0，错误 0", "当前在办工单 2 件，其中超期 1 件。",
			"此前导入：\n· 11月20日 10:00 聊天发送文件（刘一）：高新区12345工单明细.csv：新增 3，更新 0，未变 0，错误 1")
		if c := w.group("zhangsan", "导入状态").robot(); len(c) != 1 || c[0].Content != "仅12345热线办、区领导、管理员可以查看导入状态" {
			t.Errorf("a head asking 导入状态: %+v", c)
		}
		contains(t, "how to import", w.private("liuyi", "导入工单").to("liuyi"), "直接发给我")
		contains(t, "the office's 帮助", w.private("liuyi", "帮助").to("liuyi"), "【工单导入】\n导入工单", "导入状态")
	})
}

// TestFileImportOverTheLongConnection: a file sent to the AI bot on its
// long connection carries its own aeskey; the bot fetches, decrypts and
// imports it and answers on the connection.
func TestFileImportOverTheLongConnection(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			w := newWSWire(t, driver)
			if _, err := w.wecom.PushFile(wecomtest.AIBotFile{MsgID: "wsfile-1", UserID: "liuyi", Name: "导出.csv", Data: []byte(firstExport)}); err != nil {
				t.Fatal(err)
			}
			w.waitHandled("wsfile-1")
			var in models.Inbound
			if err := w.store.DB(ctx).Where("msg_id = ?", "wsfile-1").Take(&in).Error; err != nil {
				t.Fatal(err)
			}
			if in.Attachment == "" || strings.Contains(in.Attachment, "aeskey") || strings.Contains(in.Attachment, "http") {
				t.Errorf("the frame's file is stored as it came: %q", in.Attachment)
			}
			got := w.flush()
			var replies []string
			for _, c := range got.calls {
				if c.Route == wecomtest.RouteRespond {
					replies = append(replies, c.Content)
				}
			}
			if r := strings.Join(replies, "\n"); !strings.Contains(r, "【工单导入】导出.csv") || !strings.Contains(r, "新增 3，更新 0，未变 0，错误 1") {
				t.Errorf("the outcome on the long connection: %q", r)
			}
			imports, err := w.store.LatestImports(ctx, 1)
			if err != nil || len(imports) != 1 || imports[0].Route != models.ImportChat || imports[0].By != "liuyi" || imports[0].Created != 3 {
				t.Errorf("import record %+v %v", imports, err)
			}
		})
	}
}
