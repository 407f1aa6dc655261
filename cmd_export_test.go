package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"yanzhen/models"
)

// TestExportCommand imports an org and a generated month of tickets and
// exports the overdue tickets and the ranking: each file opens in Excel's
// format and holds the rows the store has.
func TestExportCommand(t *testing.T) {
	eachDatabase(t, func(t *testing.T, cfg string, environ []string) {
		dir := filepath.Dir(cfg)
		runCLI(t, environ, "import", "org", "orgimport/testdata/org.yaml", "-c", cfg)
		gen := filepath.Join(dir, "tickets.xlsx")
		if code, _, stderr := runCLI(t, environ, "gen", "tickets", "400", "--out", gen, "-c", cfg); code != exitOK {
			t.Fatalf("gen: %d %s", code, stderr)
		}
		if code, _, stderr := runCLI(t, environ, "import", "tickets", gen, "-c", cfg); code != exitOK {
			t.Fatalf("import: %d %s", code, stderr)
		}

		out := filepath.Join(dir, "超期.xlsx")
		code, stdout, stderr := runCLI(t, environ, "export", "overdue", "--out", out, "-c", cfg)
		if code != exitOK || !strings.HasPrefix(stdout, "已导出高新区超期工单（截至") || !strings.Contains(stdout, out) {
			t.Fatalf("export overdue: %d %q %s", code, stdout, stderr)
		}
		rows := readSheet(t, out)
		var overdue int64
		err := withStore(t, cfg, environ, func(s *models.Store) error {
			return s.DB(context.Background()).Model(&models.Ticket{}).
				Where("status IN ? AND deadline < ?", models.OpenTicketStatuses, time.Now()).Count(&overdue).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if overdue == 0 || int64(len(rows)-2) != overdue || rows[1][1] != "工单编号" {
			t.Errorf("%d overdue tickets in the store, %d rows in the file (header %v)", overdue, len(rows)-2, rows[1])
		}

		today := time.Now().Format(time.DateOnly)
		monthAgo := time.Now().AddDate(0, 0, -40).Format(time.DateOnly)
		out = filepath.Join(dir, "排名.xlsx")
		if code, stdout, stderr := runCLI(t, environ, "export", "ranking", "--from", monthAgo, "--to", today, "--out", out, "-c", cfg); code != exitOK {
			t.Fatalf("export ranking: %d %q %s", code, stdout, stderr)
		}
		rows = readSheet(t, out)
		last := rows[len(rows)-1]
		if rows[1][0] != "排名" || last[1] != "全区" || len(rows) != 2+3+1 { // 住建局, 海景社区, 环海街道 imported; 城管局 is refused
			t.Errorf("ranking rows: %q", rows)
		}

		for _, args := range [][]string{
			{"export", "nope", "-c", cfg},
			{"export", "ledger", "--from", today, "-c", cfg},
			{"export", "ledger", "--from", "2026/11/01", "--to", today, "-c", cfg},
			{"export", "ledger", "--from", today, "--to", monthAgo, "-c", cfg},
		} {
			if code, _, stderr := runCLI(t, environ, args...); code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("%v: code %d, stderr %q", args, code, stderr)
			}
		}
	})
}

// readSheet returns every row of the first sheet of an .xlsx file.
func readSheet(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// withStore opens the store of a config file and runs fn on it.
func withStore(t *testing.T, cfg string, environ []string, fn func(*models.Store) error) error {
	t.Helper()
	c, code := loadConfig(&cli{stdout: os.Stdout, stderr: os.Stderr, environ: environ}, cfg)
	if code != exitOK {
		t.Fatalf("config %s", cfg)
	}
	s, err := models.Open(context.Background(), models.Options{Driver: c.Database.Driver, DSN: c.Database.DSN.Reveal(), Location: c.Location()})
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}
