package tickets_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/tickets"
)

// Every import is recorded with its route and counts; it tells its sender
// the outcome, and the supervision team and the 12345 office the tickets it
// made 重办 or 双否件, once.
func TestImportRecordAndNotices(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		for _, m := range []models.Member{
			{UserID: "zhoujiu", Name: "周九", Role: models.RoleSupervisor, Active: true},
			{UserID: "liuyi", Name: "刘一", Role: models.RoleHotline, Active: true},
		} {
			if _, err := s.UpsertMember(ctx, &m); err != nil {
				t.Fatal(err)
			}
		}
		out := &outbox{}
		svc.Outbox = out
		in := &models.Inbound{Route: models.RouteApp, MsgID: "f1", FromUserID: "liuyi", ChatType: "single"}
		tell := msg.ReplyTo(in)
		origin := tickets.Origin{Route: models.ImportChat, Actor: "liuyi", Name: "导出.csv", Tell: &tell}
		header := "工单编号,受理时间,工单状态,承办单位,标题,是否满意,是否解决,重办次数\n"
		first := header +
			"P1,2026-11-20 09:00,已办结,住建局,路灯不亮,不满意,否,0\n" + // 双否 on arrival
			"P2,2026-11-20 09:00,办理中,城管局,占道经营,,,0\n" +
			"P3,2026-11-20 09:00,办理中,某某局,无此单位,,,0\n"
		sum, err := svc.ImportFile(ctx, strings.NewReader(first), origin)
		if err != nil || sum.String() != "新增 2, 更新 0, 未变 0, 错误 1" {
			t.Fatalf("first import: %v %v", sum, err)
		}
		if len(out.sent) != 2 {
			t.Fatalf("%d messages, want the outcome and the notice: %+v", len(out.sent), out.sent)
		}
		reply, notice := out.sent[0], out.sent[1]
		if reply.To.ReplyTo != in || reply.Priority != msg.Reply {
			t.Errorf("the outcome goes to %+v", reply.To)
		}
		body := reply.PlainText()
		for _, want := range []string{"【工单导入】导出.csv", "新增 2，更新 0，未变 0，错误 1", "第 4 行 承办单位：", "承办单位“某某局”未找到对应单位"} {
			if !strings.Contains(body, want) {
				t.Errorf("outcome lacks %q:\n%s", want, body)
			}
		}
		if got := strings.Join(notice.To.Members, "|"); got != "zhoujiu|liuyi" {
			t.Errorf("the notice goes to %s", got)
		}
		for _, want := range []string{"本次导入（导出.csv，聊天发送文件）新增重办 0 件、双否件 1 件", "· 双否 P1 住建局 路灯不亮"} {
			if !strings.Contains(notice.PlainText(), want) {
				t.Errorf("notice lacks %q:\n%s", want, notice.PlainText())
			}
		}

		// The same file again: nothing new, so no notice.
		out.sent = nil
		if sum, err := svc.ImportFile(ctx, strings.NewReader(first), origin); err != nil || sum.Unchanged != 2 {
			t.Fatalf("second import: %v %v", sum, err)
		}
		if len(out.sent) != 1 || !strings.Contains(out.sent[0].PlainText(), "未变 2") {
			t.Errorf("second import sent %+v", out.sent)
		}

		// P2 is reopened and P1 answered 满意 on a second visit: one 重办.
		out.sent = nil
		cli := tickets.Origin{Route: models.ImportCLI, Actor: "import", Name: "第二批.csv"}
		second := header + "P1,,已办结,,,满意,是,0\nP2,,办理中,,,,,1\n"
		if _, err := svc.ImportFile(ctx, strings.NewReader(second), cli); err != nil {
			t.Fatal(err)
		}
		if len(out.sent) != 1 || !strings.Contains(out.sent[0].PlainText(), "新增重办 1 件、双否件 0 件") ||
			!strings.Contains(out.sent[0].PlainText(), "· 重办 P2 城管局 占道经营") || strings.Contains(out.sent[0].PlainText(), "P1") {
			t.Errorf("reopening notice: %+v", out.sent)
		}

		// A file that is no export at all is recorded with why, and its
		// sender told.
		out.sent = nil
		if _, err := svc.ImportFile(ctx, strings.NewReader("序号,备注\n1,x\n"), origin); models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("a file without 工单编号: %v", err)
		}
		if len(out.sent) != 1 || !strings.Contains(out.sent[0].PlainText(), "未能导入：") {
			t.Errorf("refused file: %+v", out.sent)
		}

		list, err := s.LatestImports(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range list {
			got = append(got, fmt.Sprintf("%s %s %s %d/%d/%d/%d %q", r.Route, r.Name, r.By, r.Created, r.Updated, r.Unchanged, r.Failed, r.Error))
			if r.FinishedAt == nil {
				t.Errorf("import %d not finished", r.ID)
			}
		}
		want := []string{
			`chat 导出.csv liuyi 0/0/0/0 "缺少必需的列：工单编号（或 诉求编号、受理编号、办件编号、工单号、编号）"`,
			`cli 第二批.csv  0/2/0/0 ""`,
			`chat 导出.csv liuyi 0/0/2/1 ""`,
			`chat 导出.csv liuyi 2/0/0/1 ""`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// A watched file is imported once: its key taken, the next import of it is
// refused before anything is read.
func TestWatchKeyImportsOnce(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		key := tickets.WatchKey("导出.csv", 120, now)
		if key == tickets.WatchKey("导出.csv", 121, now) || key == tickets.WatchKey("导出.csv", 120, now.Add(1)) {
			t.Error("a file written anew has the same key")
		}
		o := tickets.Origin{Route: models.ImportWatch, Actor: "watch", Name: "导出.csv", Key: key}
		text := "工单编号,受理时间,工单状态,承办单位\nW1,2026-11-20 09:00,办理中,住建局\n"
		if _, err := svc.ImportFile(ctx, strings.NewReader(text), o); err != nil {
			t.Fatal(err)
		}
		if sum, err := svc.ImportFile(ctx, strings.NewReader(text), o); models.ErrorCode(err) != models.ECONFLICT || sum != nil {
			t.Errorf("the same key again: %v %v", sum, err)
		}
	})
}

// The outcome lists the first refused rows and says how many there were.
func TestImportOutcomeCapsRows(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		out := &outbox{}
		svc.Outbox = out
		tell := msg.ToMembers("liuyi")
		var b strings.Builder
		b.WriteString("工单编号,受理时间,承办单位\n")
		for i := range 15 {
			fmt.Fprintf(&b, "B%d,不是日期,住建局\n", i)
		}
		if _, err := svc.ImportFile(ctx, strings.NewReader(b.String()), tickets.Origin{Route: models.ImportWatch, Name: "坏.csv", Tell: &tell}); err != nil {
			t.Fatal(err)
		}
		body := out.sent[0].PlainText()
		if n := strings.Count(body, "受理时间："); n != 10 || !strings.Contains(body, "……等15行") || !strings.Contains(body, "错误 15") {
			t.Errorf("%d rows listed:\n%s", n, body)
		}
		if out.sent[0].Priority != msg.Notice {
			t.Errorf("an outcome by app message has priority %v", out.sent[0].Priority)
		}
	})
}

// A watched file whose import the system interrupted is tried again; one
// that cannot be read is not.
func TestImportFolderRetriesOnlyInterruptions(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		dir := t.TempDir()
		old := now.Add(-time.Hour)
		for name, text := range map[string]string{
			"a.csv":  "工单编号,受理时间,工单状态,承办单位\nW1,2026-11-20 09:00,办理中,住建局\n",
			"b.xlsx": "not a workbook",
		} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
		}
		// The service stops while a.csv is being read: its key is released.
		info, err := os.Stat(filepath.Join(dir, "a.csv"))
		if err != nil {
			t.Fatal(err)
		}
		stopped, cancel := context.WithCancel(ctx)
		o := tickets.Origin{Route: models.ImportWatch, Name: "a.csv", Key: tickets.WatchKey("a.csv", info.Size(), info.ModTime())}
		if _, err := svc.ImportFile(stopped, cancelling{cancel}, o); models.ErrorCode(err) != models.EINTERNAL {
			t.Fatalf("an interrupted import: %v", err)
		}
		files, err := svc.ImportFolder(ctx, dir, now, nil)
		if err != nil || len(files) != 2 || files[0].Name != "a.csv" || files[0].Err != nil || files[0].Summary.Created != 1 ||
			files[1].Name != "b.xlsx" || models.ErrorCode(files[1].Err) != models.EINVALID {
			t.Fatalf("after the interruption: %+v %v", files, err)
		}
		if files, err := svc.ImportFolder(ctx, dir, now, nil); err != nil || len(files) != 0 {
			t.Errorf("a third look: %+v %v", files, err)
		}
	})
}

// cancelling is a reader that stops the import reading it: it cancels the
// import's context, and then fails as a cut connection would.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) Read([]byte) (int, error) {
	c.cancel()
	return 0, context.Canceled
}
