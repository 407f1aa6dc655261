// Command yanzhen is 雁阵, a WeCom bot for the work groups of a district's
// 接诉即办 system: daily reports at 18:00, point-to-point dispatch, and overdue
// alerts up an escalation ladder. This file is wiring only: the command table,
// flags and exit codes. The application itself is Main (app.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"yanzhen/config"
)

// Version is the build's version, set with -ldflags "-X main.Version=…".
var Version = "dev"

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and failed, or some rows were refused
	exitUsage = 2 // bad arguments or a bad config file
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cli{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()})
	stop()
	os.Exit(code)
}

// cli is what a command may touch of the process: its output and environment.
type cli struct {
	stdout, stderr io.Writer
	environ        []string
	// now is the clock of the commands; time.Now when nil. Tests pin it.
	now func() time.Time
}

func (c *cli) printf(format string, args ...any) { fmt.Fprintf(c.stdout, format, args...) }

func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "yanzhen: "+format+"\n", args...)
}

// command is one subcommand. Usage is its synopsis, Summary its one-line description.
type command struct {
	Name    string
	Usage   string
	Summary string
	Run     func(ctx context.Context, c *cli, args []string) int
}

// commands is the command table; `yanzhen help` prints it.
func commands() []command {
	return []command{
		{"demo", demoUsage, "本机演示：内置企业微信模拟器、网页群聊与演示数据", cmdDemo},
		{"serve", "serve -c FILE", "运行服务：回调、发送队列、定时任务", cmdServe},
		{"migrate", "migrate -c FILE", "创建或升级数据库表", cmdMigrate},
		{"import", "import org|tickets FILE -c FILE", "导入组织架构（YAML/xlsx）或工单（xlsx/csv）", cmdImport},
		{"holiday", "holiday add|list|del … -c FILE", "节假日与调休：add DATE off|work 名称，list YEAR，del DATE", cmdHoliday},
		{"gen", "gen tickets N [--out FILE] [--format xlsx|csv]", "生成模拟的 12345 工单导出文件（演示与压测）", cmdGen},
		{"run", `run JOB [--at "2006-01-02 15:04"] -c FILE`, "立即（或按指定时间）运行一个定时任务：" + jobNames(), cmdRun},
		{"report", "report daily [--date 2006-01-02] [--group CODE] -c FILE", "打印某日工作日报（某工作群的），不发送", cmdReport},
		{"export", exportUsage, "导出 Excel：调度台账、超期工单、三率排名、工作日报", cmdExport},
		{"version", "version", "显示版本", cmdVersion},
	}
}

func run(ctx context.Context, args []string, c *cli) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(c.stdout)
		return exitOK
	}
	for _, cmd := range commands() {
		if cmd.Name == args[0] {
			return cmd.Run(ctx, c, args[1:])
		}
	}
	c.errorf("unknown command %q; run `yanzhen help`", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "雁阵 yanzhen — 接诉即办工作群机器人\n\nUsage:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  yanzhen %-44s %s\n", cmd.Usage, cmd.Summary)
	}
}

// flags is a flag set that accepts flags anywhere among the arguments
// (`import org FILE -c FILE`) and knows the command's usage line.
type flags struct {
	*flag.FlagSet
	usage string
}

func newFlags(c *cli, name, usage string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() { fmt.Fprintf(c.stderr, "usage: yanzhen %s\n", usage); fs.PrintDefaults() }
	return &flags{FlagSet: fs, usage: usage}
}

// parse reads flags wherever they stand and returns the positional arguments.
func (f *flags) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, err
		}
		args = f.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// loadConfig reads -c FILE; a missing or broken file is one line and exit status 2.
func loadConfig(c *cli, path string) (*config.Config, int) {
	if path == "" {
		c.errorf("config: -c FILE is required")
		return nil, exitUsage
	}
	cfg, err := config.Load(path, c.environ)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintln(c.stderr, err.Error())
		} else {
			c.errorf("%v", err)
		}
		return nil, exitUsage
	}
	return cfg, exitOK
}

// configCommand parses args for a command that takes -c FILE and wants exactly
// npos positional arguments, and loads the config.
func configCommand(c *cli, name, usage string, npos int, args []string, extra func(*flags)) ([]string, *config.Config, int) {
	fs := newFlags(c, name, usage)
	path := fs.String("c", "", "config file (YAML)")
	if extra != nil {
		extra(fs)
	}
	pos, err := fs.parse(args)
	if err != nil {
		return nil, nil, exitUsage
	}
	if npos >= 0 && len(pos) != npos {
		c.errorf("usage: yanzhen %s", usage)
		return nil, nil, exitUsage
	}
	cfg, code := loadConfig(c, *path)
	return pos, cfg, code
}

// withMain opens Main for a one-shot command (console logs on stderr), runs
// fn and closes it. A failure to open is one line and exit status 1.
func withMain(ctx context.Context, c *cli, cfg *config.Config, fn func(m *Main) int) int {
	m, err := Open(ctx, cfg, Options{LogFormat: "console", LogOutput: c.stderr, Now: c.now})
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	defer m.Close()
	return fn(m)
}

func cmdVersion(_ context.Context, c *cli, _ []string) int {
	c.printf("yanzhen %s\n", Version)
	return exitOK
}

func cmdMigrate(ctx context.Context, c *cli, args []string) int {
	_, cfg, code := configCommand(c, "migrate", "migrate -c FILE", 0, args, nil)
	if code != exitOK {
		return code
	}
	return withMain(ctx, c, cfg, func(*Main) int {
		c.printf("数据库已是最新结构（%s）\n", cfg.Database.Driver)
		return exitOK
	})
}

func cmdServe(ctx context.Context, c *cli, args []string) int {
	_, cfg, code := configCommand(c, "serve", "serve -c FILE", 0, args, nil)
	if code != exitOK {
		return code
	}
	m, err := Open(ctx, cfg, Options{LogFormat: "json", LogOutput: c.stderr})
	if err != nil {
		c.errorf("%v", err)
		return exitFail
	}
	defer m.Close()
	if err := m.Run(ctx); err != nil {
		m.Log.Error("serve stopped", errField(err))
		return exitFail
	}
	return exitOK
}

func cmdImport(ctx context.Context, c *cli, args []string) int {
	const use = "import org|tickets FILE -c FILE"
	if len(args) == 0 {
		c.errorf("usage: yanzhen %s", use)
		return exitUsage
	}
	switch args[0] {
	case "org":
		return cmdImportOrg(ctx, c, args[1:])
	case "tickets":
		return cmdImportTickets(ctx, c, args[1:])
	}
	c.errorf("usage: yanzhen %s", use)
	return exitUsage
}

func cmdImportOrg(ctx context.Context, c *cli, args []string) int {
	pos, cfg, code := configCommand(c, "import org", "import org FILE -c FILE", 1, args, nil)
	if code != exitOK {
		return code
	}
	return withMain(ctx, c, cfg, func(m *Main) int {
		res, err := importOrgFile(ctx, m.Store, pos[0], importLimits(cfg), cfg.WeCom.RobotNames())
		if err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		for _, e := range res.Errors {
			fmt.Fprintln(c.stderr, e.Error())
		}
		c.printf("%s\n", res.Summary())
		if len(res.Errors) > 0 {
			return exitFail
		}
		return exitOK
	})
}
