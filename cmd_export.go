package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"yanzhen/report"
)

// exportUsage is the usage line of `yanzhen export`.
var exportUsage = "export " + strings.Join(report.ExportKinds(), "|") + " [--from 2006-01-02 --to 2006-01-02] [--out FILE.xlsx] -c FILE"

// cmdExport is `yanzhen export KIND --from D --to D --out FILE.xlsx -c FILE`:
// the workbook the chat's 导出 sends, of the whole district, written to a
// file (by default the workbook's own name in the current folder). Without
// dates it is this month's (every overdue ticket for overdue).
func cmdExport(ctx context.Context, c *cli, args []string) int {
	var from, to, out *string
	pos, cfg, code := configCommand(c, "export", exportUsage, 1, args, func(fs *flags) {
		from = fs.String("from", "", "first day, 2006-01-02")
		to = fs.String("to", "", "last day, 2006-01-02 (included)")
		out = fs.String("out", "", "the .xlsx file to write")
	})
	if code != exitOK {
		return code
	}
	kind, ok := report.ExportKindOf(pos[0])
	if !ok {
		c.errorf("usage: yanzhen %s", exportUsage)
		return exitUsage
	}
	return withMain(ctx, c, cfg, func(m *Main) int {
		now := m.Now()
		period, err := m.Reports.ExportSpan(kind, *from, *to, now)
		if err != nil {
			c.errorf("%s", cliText(err))
			return exitUsage
		}
		e, err := m.Reports.Export(ctx, report.ExportRequest{Kind: kind, Period: period, Now: now})
		if err != nil {
			c.errorf("%s", cliText(err))
			return exitFail
		}
		path := *out
		if path == "" {
			path = e.FileName
		}
		if err := writeExport(e, path); err != nil {
			c.errorf("导出失败：%v", err)
			return exitFail
		}
		info, err := os.Stat(path)
		if err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		c.printf("已导出%s到 %s（%d KB）\n", e.Workbook.Title, path, (info.Size()+1023)/1024)
		return exitOK
	})
}

// writeExport streams the workbook to path; a failed export leaves no file.
func writeExport(e *report.Export, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := e.Workbook.Write(f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
