// Package jobs is the bot's scheduled work: the 17:30 reminder, the 18:00
// daily report, the overdue scan with its escalation ladder and the morning
// roll-up of what stands overdue, the nightly digest and the weekly and
// monthly reports.
//
// Every run claims its (job, slot) in the store first, so that with several
// replicas on one database exactly one runs a slot. The claim's short lease is
// renewed while the run lasts, so a replica that dies holding a slot delays it
// by a minute at most. A run's messages are enqueued in one transaction with
// the claim marked done, so that a slot's messages are sent entirely or not
// at all, and never twice. A panic in a job fails its run and nothing else.
// Jobs take the time as an argument: tests call them at pinned times and never
// through cron. The Scheduler decides which slot is due with a pure function
// (Due) and leaves to robfig/cron only the minute tick.
package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
	"yanzhen/tickets"
)

// Names of the jobs, as `yanzhen run JOB` takes them.
const (
	Remind        = "remind"
	DailyReport   = "daily-report"
	OverdueScan   = "overdue-scan"
	NightlyDigest = "nightly-digest"
	WeeklyReport  = "weekly-report"
	MonthlyReport = "monthly-report"
	MorningRollup = "morning-rollup"
	WatchImport   = "watch-import"
	Raise         = "raise"
)

// Reach says for whom a job runs: once for the installation, or for each
// work group (each district's own group) at the group's own time, its slots
// claimed per (job, group, slot).
type Reach int

// Reaches.
const (
	// Once runs the job once per slot, for every group (group "").
	Once Reach = iota
	// EachGroup runs it for each work group at the group's time.
	EachGroup
	// EachDistrict runs it for the first group of each district (the
	// district's own group), for the district.
	EachDistrict
)

// Enqueuer puts messages in the outbox on st (the store, or a transaction of
// it, with which they commit) and returns how many were new; bot.Outbox is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, st *models.Store, msgs ...msg.Message) (int, error)
}

// Env is what jobs work with.
type Env struct {
	Store    *models.Store
	Outbox   Enqueuer
	Config   config.Domain
	Calendar *calendar.Calendar
	Reports  *report.Builder
	Log      *zap.Logger
	// Metrics counts what the jobs decide; nil counts nothing.
	Metrics *Metrics
	// Tickets imports the watched folder's files (tickets.watch_dir); nil
	// leaves the folder alone.
	Tickets *tickets.Service
}

// NewEnv returns the Env of a store, outbox, config and calendar, with a
// report builder on them; log may be nil.
func NewEnv(store *models.Store, out Enqueuer, cfg config.Domain, cal *calendar.Calendar, log *zap.Logger) Env {
	if log == nil {
		log = zap.NewNop()
	}
	return Env{Store: store, Outbox: out, Config: cfg, Calendar: cal, Reports: report.New(store, cfg, cal), Log: log}
}

// Run is one run of a job: its slot (the scheduled time it stands for), the
// key of the slot in the store, the time it runs at, whether it is made up
// after its time (补发), and whether it is run by hand (`yanzhen run`, on a
// slot of its own that no check retries).
type Run struct {
	// Group is the code of the work group the run is for ("" for a job
	// run once, or for the group of a single-group installation).
	Group   string
	Slot    time.Time
	SlotKey string
	Now     time.Time
	Late    bool
	ByHand  bool
}

// Plan is a prepared run. Commit writes in the run's transaction and returns
// the messages to enqueue with it and a one-line summary; Then, when set, runs
// after the transaction committed (work that is safe to repeat).
type Plan struct {
	Commit func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error)
	// Stream, set instead of Commit by a run with too many messages to hold
	// at once, writes in the run's transaction and hands its messages to
	// emit as it makes them, which enqueues them in that transaction.
	Stream func(ctx context.Context, tx *models.Store, emit func(...msg.Message) error) (string, error)
	Then   func(ctx context.Context) error
}

// Job is one kind of scheduled work.
type Job struct {
	Name string
	// Summary describes the job for `yanzhen help`.
	Summary string
	// Workdays limits the scheduler to working days; `yanzhen run` ignores it.
	Workdays bool
	// Reach says for whom it runs.
	Reach Reach
	// GroupPost says the job posts to the work group below msg.Report: the
	// group's daily budget keeps room for it (budget.go).
	GroupPost bool
	// Off, when set and true under the config, keeps the job out of the
	// scheduler (a feature left unconfigured); `yanzhen run` still runs it.
	Off func(c config.Domain) bool
	// Spec returns the cron spec of the job's slots under a schedule: the
	// configured one, or a group's (report.Schedule).
	Spec func(s config.Schedule) string
	// Grace returns how late a missed slot may still run; nil means schedule.grace.
	Grace func(s config.Schedule) time.Duration
	// Prepare reads what the run needs, outside any transaction.
	Prepare func(ctx context.Context, e *Env, r Run) (Plan, error)
}

// All returns every job, in the order `yanzhen help` lists them and a
// scheduler's check runs the jobs due at once: the morning roll-up before
// the overdue scan, so that a scan at the roll-up's time does not tell the
// group again what the roll-up just told it.
func All() []*Job {
	return []*Job{
		{
			Name: Remind, Summary: "提醒未报日报的单位", Workdays: true, GroupPost: true, Reach: EachGroup,
			Spec:    func(s config.Schedule) string { return daily(s.RemindAt) },
			Grace:   remindGrace,
			Prepare: prepareRemind,
		},
		{
			Name: DailyReport, Summary: "发布工作日报", Workdays: true, Reach: EachGroup,
			Spec:    func(s config.Schedule) string { return daily(s.ReportAt) },
			Prepare: prepareDaily,
		},
		{
			Name: MorningRollup, Summary: "每个工作日向群里汇总一次未办结的超期事项", Workdays: true, GroupPost: true, Reach: EachGroup,
			Spec:    func(s config.Schedule) string { return daily(s.RollupAt) },
			Prepare: prepareRollup,
		},
		{
			Name: OverdueScan, Summary: "扫描临期、超期工单和调度并逐级提醒", Workdays: true,
			Spec:    func(s config.Schedule) string { return "@every " + s.OverdueEvery.D().String() },
			Prepare: prepareOverdue,
		},
		{
			Name: Raise, Summary: "本级未在时限内办结的工单提级至上一级（社区→街道→区）", Workdays: true,
			Spec:    func(s config.Schedule) string { return "@every " + s.OverdueEvery.D().String() },
			Prepare: prepareRaise,
		},
		{
			Name: NightlyDigest, Summary: "向区领导发送今日工作简报", Workdays: true, Reach: EachDistrict,
			Spec:    func(s config.Schedule) string { return daily(s.DigestAt) },
			Prepare: prepareNightly,
		},
		{
			Name: WeeklyReport, Summary: "每周不满意、重办工单报主要领导，发布红黑榜，评估问责", GroupPost: true, Reach: EachGroup,
			Spec:    weekly,
			Prepare: prepareWeekly,
		},
		{
			Name: MonthlyReport, Summary: "发布月度三率及综合评分排名，评估问责", GroupPost: true, Reach: EachGroup,
			Spec: func(s config.Schedule) string {
				return fmt.Sprintf("%d %d %d * *", s.MonthlyAt.Minute, s.MonthlyAt.Hour, s.MonthlyDay)
			},
			Prepare: prepareMonthly,
		},
		{
			Name: Publicity, Summary: "每周整改公示：核查通过的整改事项公示后销号", GroupPost: true,
			Spec:    weekly,
			Prepare: preparePublicity,
		},
		{
			// Its slots are the first days of a quarter's first month; it posts
			// on one of them only, so it reserves no room in the daily budget.
			Name: QuarterlyReport, Summary: "每季度首个工作日发布上季度通报", Workdays: true,
			Spec: func(s config.Schedule) string {
				return fmt.Sprintf("%d %d 1-10 1,4,7,10 *", s.MonthlyAt.Minute, s.MonthlyAt.Hour)
			},
			Prepare: prepareQuarterly,
		},
		{
			Name: WatchImport, Summary: "导入共享目录中新的工单导出文件",
			Spec:    func(config.Schedule) string { return "@every " + WatchEvery.String() },
			Off:     func(c config.Domain) bool { return c.Tickets.WatchDir == "" },
			Prepare: prepareWatch,
		},
	}
}

// Find returns the job with a name, or nil.
func Find(name string) *Job {
	for _, j := range All() {
		if j.Name == name {
			return j
		}
	}
	return nil
}

// daily is the cron spec of a job at a clock time every day.
func daily(c config.Clock) string { return fmt.Sprintf("%d %d * * *", c.Minute, c.Hour) }

// weekly is the cron spec of the weekly slot: schedule.weekly_day at schedule.weekly_at.
func weekly(s config.Schedule) string {
	return fmt.Sprintf("%d %d * * %d", s.WeeklyAt.Minute, s.WeeklyAt.Hour, s.WeeklyDay%7)
}

// remindGrace lets a missed reminder run late only until the report time:
// after it, the report itself names who did not report.
func remindGrace(s config.Schedule) time.Duration {
	gap := time.Duration(s.ReportAt.Minutes()-s.RemindAt.Minutes()) * time.Minute
	return max(0, min(s.Grace.D(), gap))
}

// ScheduleOf returns the job's schedule in loc: its cron spec parsed with the
// standard parser, or for "@every D" slots every D from midnight in loc, so
// that 15m means :00, :15, :30 and :45 whatever the server's zone.
func (j *Job) ScheduleOf(s config.Schedule, loc *time.Location) (cron.Schedule, error) {
	spec := j.Spec(s)
	if every, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(every)
		if err != nil || d < time.Minute {
			return nil, fmt.Errorf("jobs: %s: bad interval %q", j.Name, spec)
		}
		return Every{D: d, Loc: loc}, nil
	}
	sched, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("jobs: %s: spec %q: %w", j.Name, spec, err)
	}
	return sched, nil
}

// Every is a cron.Schedule of slots every D counted from midnight in Loc.
type Every struct {
	D   time.Duration
	Loc *time.Location
}

// Next returns the first slot after t.
func (e Every) Next(t time.Time) time.Time {
	t = t.In(e.Loc)
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, e.Loc)
	next := midnight.Add((t.Sub(midnight)/e.D + 1) * e.D)
	if tomorrow := midnight.AddDate(0, 0, 1); !next.Before(tomorrow) {
		return tomorrow
	}
	return next
}
