package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// Usage lines of the ticket and calendar commands.
const (
	importTicketsUsage = "import tickets FILE -c FILE"
	holidayUsage       = "holiday add DATE off|work [NAME] | list YEAR | del DATE -c FILE"
	genUsage           = "gen tickets N [--out FILE] [--format xlsx|csv] [--style beijing|wuhan] [--days 30] [--seed 1] [--gbk] [-c FILE]"
)

// cmdImportTickets is `yanzhen import tickets FILE -c FILE`: import an xlsx or
// csv export of the hotline platform. Refused rows and the unknown unit names
// go to stderr, the summary line to stdout; refused rows, a file that breaks
// off and an interruption (Ctrl-C) make the exit status 1, the last two with
// how many rows were written.
func cmdImportTickets(ctx context.Context, c *cli, args []string) int {
	pos, cfg, code := configCommand(c, "import tickets", importTicketsUsage, 1, args, nil)
	if code != exitOK {
		return code
	}
	f, err := os.Open(pos[0])
	if err != nil {
		c.errorf("打开工单文件：%v", err)
		return exitFail
	}
	defer f.Close()
	// A one-shot import trades memory for less time in the collector, within
	// a ceiling well under the 300 MB an import may take.
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(importMemoryLimit)
	return withMain(ctx, c, cfg, func(m *Main) int {
		sum, err := m.Tickets.ImportFile(ctx, f, tickets.Origin{Route: models.ImportCLI, Actor: "import", Name: filepath.Base(pos[0])})
		if sum == nil {
			c.errorf("%s", cliText(err))
			return exitFail
		}
		for _, e := range sum.Errors {
			fmt.Fprintln(c.stderr, e.Error())
		}
		if more := sum.Failed - len(sum.Errors); more > 0 {
			fmt.Fprintf(c.stderr, "……另有 %d 行错误未列出\n", more)
		}
		for _, u := range sum.Unknown {
			fmt.Fprintln(c.stderr, u.String())
		}
		c.printf("%s\n", sum)
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			c.errorf("导入已中断：已写入 %d 行（%s），其余行未导入；再次导入同一文件即可补齐", sum.Landed(), sum)
			return exitFail
		case err != nil:
			c.errorf("%s（此前已写入 %d 行）", cliText(err), sum.Landed())
			return exitFail
		case sum.Failed > 0:
			return exitFail
		}
		return exitOK
	})
}

// importMemoryLimit is the Go heap the import command tunes its collector to.
const importMemoryLimit = 200 << 20

// importLimits are the bounds of imported files: the configured file size,
// sheet's defaults for rows and cells.
func importLimits(cfg *config.Config) sheet.Limits {
	return sheet.Limits{FileBytes: int64(cfg.Import.MaxFileSize)}
}

// cliText is an error for an operator: the user text of an application error,
// the whole chain of anything else.
func cliText(err error) string {
	if models.ErrorCode(err) == models.EINTERNAL {
		return err.Error()
	}
	return models.UserText(err)
}

// cmdHoliday is `yanzhen holiday add|list|del`: the admins' corrections of the
// working-day calendar, kept in the store and applied over the built-in one.
func cmdHoliday(ctx context.Context, c *cli, args []string) int {
	pos, cfg, code := configCommand(c, "holiday", holidayUsage, -1, args, nil)
	if code != exitOK {
		return code
	}
	usage := func() int { c.errorf("usage: yanzhen %s", holidayUsage); return exitUsage }
	if len(pos) == 0 {
		return usage()
	}
	verb, rest := pos[0], pos[1:]
	var year int
	switch {
	case verb == "add" && (len(rest) == 2 || len(rest) == 3) && (rest[1] == "off" || rest[1] == "work"):
	case verb == "del" && len(rest) == 1:
	case verb == "list" && len(rest) == 1:
		var err error
		if year, err = strconv.Atoi(rest[0]); err != nil || year < 2000 || year > 2200 {
			c.errorf("年份 %q 有误，应为如 2027", rest[0])
			return exitUsage
		}
	default:
		return usage()
	}
	return withMain(ctx, c, cfg, func(m *Main) int { return holiday(ctx, c, m, verb, rest, year) })
}

// holiday carries out a checked holiday command on m's store.
func holiday(ctx context.Context, c *cli, m *Main, verb string, rest []string, year int) int {
	switch verb {
	case "add":
		name := ""
		if len(rest) == 3 {
			name = rest[2]
		}
		ch, err := m.Store.SetHolidayOverride(ctx, rest[0], rest[1] == "work", name)
		if err != nil {
			c.errorf("%s", cliText(err))
			return exitFail
		}
		kind := map[bool]string{true: "工作日（调休上班）", false: "休息日"}[rest[1] == "work"]
		c.printf("%s：已设为%s%s\n", rest[0], kind, map[models.Change]string{models.Unchanged: "（未变）", models.Updated: "（已更新）"}[ch])
	case "del":
		if err := m.Store.DeleteHolidayOverride(ctx, rest[0]); err != nil {
			c.errorf("%s", cliText(err))
			return exitFail
		}
		c.printf("%s：已删除调整，恢复内置日历\n", rest[0])
	case "list":
		list, err := m.Store.HolidayOverrides(ctx, year)
		if err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		printOverrides(c, year, list)
	}
	return exitOK
}

func printOverrides(c *cli, year int, list []models.HolidayOverride) {
	if year > calendar.LastBuiltInYear {
		c.printf("内置日历只含 %d 年及以前的节假日；%d 年的安排请按国务院办公厅通知用 holiday add 录入。\n", calendar.LastBuiltInYear, year)
	}
	if len(list) == 0 {
		c.printf("%d 年没有调整记录\n", year)
		return
	}
	c.printf("%d 年的调整（%d 条）：\n", year, len(list))
	for _, o := range list {
		kind := "休息"
		if o.Work {
			kind = "上班"
		}
		c.printf("%s %s %s\n", o.Date, kind, o.Name)
	}
}

// defaultGenUnits are the departments and streets of a generated export when
// no config names a store: those of the demo district.
var (
	defaultGenDepartments = []string{"住建局", "城管局", "教育局", "卫健委", "人社局", "民政局", "交通局", "市场监管局", "生态环境分局"}
	defaultGenGrids       = []string{"环海街道", "滨江街道", "科创街道"}
)

// cmdGen is `yanzhen gen tickets N`: write a realistic synthetic export of the
// hotline platform (for benchmarks, demos and trying an import). With -c the
// departments and streets come from the store, else from the demo district.
func cmdGen(ctx context.Context, c *cli, args []string) int {
	var out, format, style, cfgPath string
	var days int
	var seed uint64
	var gbk bool
	fs := newFlags(c, "gen", genUsage)
	fs.StringVar(&out, "out", "-", "output file; - is stdout")
	fs.StringVar(&format, "format", "", "xlsx or csv (default: by --out, else xlsx)")
	fs.StringVar(&style, "style", string(tickets.StyleBeijing), "header style: beijing or wuhan")
	fs.IntVar(&days, "days", 30, "receipt times spread over this many days before now")
	fs.Uint64Var(&seed, "seed", 1, "random seed; the same seed writes the same file")
	fs.BoolVar(&gbk, "gbk", false, "write csv in GBK instead of UTF-8")
	fs.StringVar(&cfgPath, "c", "", "config file: take departments from its store")
	pos, err := fs.parse(args)
	if err != nil {
		return exitUsage
	}
	n := 0
	if len(pos) == 2 {
		n, err = strconv.Atoi(pos[1])
	}
	if len(pos) != 2 || pos[0] != "tickets" || err != nil || n < 0 {
		c.errorf("usage: yanzhen %s", genUsage)
		return exitUsage
	}
	if format == "" {
		format = string(sheet.XLSX)
		if strings.EqualFold(filepath.Ext(out), ".csv") {
			format = string(sheet.CSV)
		}
	}
	if (format != string(sheet.XLSX) && format != string(sheet.CSV)) || (style != string(tickets.StyleBeijing) && style != string(tickets.StyleWuhan)) {
		c.errorf("usage: yanzhen %s", genUsage)
		return exitUsage
	}
	o := tickets.GenOptions{N: n, Days: days, Seed: seed, Format: sheet.Format(format), Style: tickets.Style(style), GBK: gbk,
		Departments: defaultGenDepartments, Grids: defaultGenGrids}
	cfg := config.Default()
	if cfgPath != "" {
		var code int
		if cfg, code = loadConfig(c, cfgPath); code != exitOK {
			return code
		}
		if code := genUnitsFromStore(ctx, c, cfg, &o); code != exitOK {
			return code
		}
	}
	o.Now, o.Rules = time.Now().In(cfg.Location()).Truncate(time.Second), &cfg.Rules
	return writeGenerated(c, out, o)
}

// genUnitsFromStore takes the export's departments (those that report) and
// grids (the streets) from the configured store.
func genUnitsFromStore(ctx context.Context, c *cli, cfg *config.Config, o *tickets.GenOptions) int {
	return withMain(ctx, c, cfg, func(m *Main) int {
		depts, err := m.Store.Departments(ctx)
		if err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		o.Departments, o.Grids = nil, nil
		for _, d := range depts {
			if d.ReportRequired || d.Tier == models.TierDepartment {
				o.Departments = append(o.Departments, d.Name)
			}
			if d.Tier == models.TierStreet {
				o.Grids = append(o.Grids, d.Name)
			}
		}
		if len(o.Departments) == 0 {
			c.errorf("库中还没有部门：请先 yanzhen import org")
			return exitFail
		}
		o.Calendar = m.Calendar
		return exitOK
	})
}

func writeGenerated(c *cli, out string, o tickets.GenOptions) int {
	if out == "-" {
		if err := tickets.Generate(c.stdout, o); err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		return exitOK
	}
	f, err := os.Create(out)
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	err = tickets.Generate(f, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	fmt.Fprintf(c.stderr, "已生成 %d 条工单：%s\n", o.N, out)
	return exitOK
}
