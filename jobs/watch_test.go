package jobs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/tickets"
)

const watchedExport = "工单编号,受理时间,工单状态,承办单位,标题\n" +
	"2026112100001,2026-11-21 08:00,办理中,住建局,路灯不亮\n" +
	"2026112100002,2026-11-21 08:10,办理中,城管局,占道经营\n"

// TestWatchedFolder drops exports on a watched folder, on an injected clock:
// each new .xlsx or .csv is imported once, when it has been left alone for a
// minute; the 12345 office is told each outcome by app message, a file that
// cannot be read included, which is not tried again; an export written anew
// under the same name is a new file; other files are left alone.
func TestWatchedFolder(t *testing.T) {
	now := at("2026-11-21 09:00") // a Saturday: exports are imported any day
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		newDistrict(t, s)
		create(t, s, &models.Member{UserID: "liuyi", Name: "刘一", Role: models.RoleHotline, Active: true})
		dir := t.TempDir()
		cfg := config.Default()
		cfg.Tickets.WatchDir = dir
		cal := calendar.New(cfg.Location(), nil)
		out := bot.NewOutbox(cfg.WeCom)
		env := jobs.NewEnv(s, out, cfg.Domain(), cal, nil)
		env.Tickets = &tickets.Service{Store: s, Calendar: cal, Rules: cfg.Rules, Outbox: out}
		r := jobs.NewRunner(env)
		write := func(name, text string, mod time.Time) {
			t.Helper()
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(path, mod, mod); err != nil {
				t.Fatal(err)
			}
		}
		told := 0
		tell := func() []string {
			t.Helper()
			rows := outbox(t, s, "ticket-import/")
			var bodies []string
			for _, row := range rows[told:] {
				if row.Channel != "app" || row.To != "liuyi" {
					t.Errorf("an outcome went to %s %s", row.Channel, row.To)
				}
				bodies = append(bodies, row.Body)
			}
			told = len(rows)
			return bodies
		}
		run := func(when time.Time) string {
			t.Helper()
			now = when
			return mustRun(t, r, jobs.WatchImport, when.Format("2006-01-02 15:04")).Summary
		}

		settled := now.Add(-10 * time.Minute)
		write("12345工单明细.csv", watchedExport, settled)
		write("坏文件.xlsx", "这不是工作簿", settled.Add(time.Second))
		write("说明.txt", "每日导出", settled)
		write("~$12345工单明细.xlsx", "lock", settled)
		write(".隐藏.csv", watchedExport, settled)
		write("正在复制.csv", watchedExport, now.Add(-10*time.Second))

		if got := run(now); got != "共享目录：12345工单明细.csv已导入、坏文件.xlsx未能导入" {
			t.Errorf("first run: %q", got)
		}
		bodies := tell()
		if len(bodies) != 2 || !strings.Contains(bodies[0], "新增 2，更新 0，未变 0，错误 0") ||
			!strings.Contains(bodies[1], "【工单导入】坏文件.xlsx") || !strings.Contains(bodies[1], "未能导入：") {
			t.Fatalf("told %q", bodies)
		}
		// Five minutes on, the file being copied has settled; the others are not imported again.
		if got := run(now.Add(5 * time.Minute)); got != "共享目录：正在复制.csv已导入" {
			t.Errorf("second run: %q", got)
		}
		if bodies := tell(); len(bodies) != 1 || !strings.Contains(bodies[0], "新增 0，更新 0，未变 2，错误 0") {
			t.Errorf("told %q", bodies)
		}
		if got := run(now.Add(5 * time.Minute)); got != "共享目录无新文件" || len(tell()) != 0 {
			t.Errorf("third run: %q", got)
		}
		// The next export, under the same name, is a new file.
		write("12345工单明细.csv", watchedExport+"2026112100003,2026-11-21 09:20,办理中,住建局,井盖缺失\n", now.Add(-2*time.Minute))
		if got := run(now.Add(5 * time.Minute)); got != "共享目录：12345工单明细.csv已导入" {
			t.Errorf("run after a new export: %q", got)
		}
		if bodies := tell(); len(bodies) != 1 || !strings.Contains(bodies[0], "新增 1，更新 0，未变 2，错误 0") {
			t.Errorf("told %q", bodies)
		}
		imports, err := s.LatestImports(ctx, 10)
		must(t, err)
		if len(imports) != 4 {
			t.Fatalf("%d imports recorded, want 4", len(imports))
		}
		for _, imp := range imports {
			if imp.Route != models.ImportWatch || imp.Key == nil || imp.FinishedAt == nil {
				t.Errorf("import record %+v", imp)
			}
		}
		// The watch is off without a folder: the scheduler leaves it out.
		if !jobs.Find(jobs.WatchImport).Off(config.Default().Domain()) || jobs.Find(jobs.WatchImport).Off(cfg.Domain()) {
			t.Error("the watch is on without a folder, or off with one")
		}
	})
}
