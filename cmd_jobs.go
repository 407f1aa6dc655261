package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"yanzhen/bot"
	"yanzhen/jobs"
	"yanzhen/report"
)

// atLayout is how --at and --date are written, in the configured zone.
const (
	atLayout   = "2006-01-02 15:04"
	dateLayout = "2006-01-02"
)

// runFlush is how long `yanzhen run` goes on sending the outbox before it
// exits: what can be sent by then is, and what waits longer (a robot's next
// rate window, a backoff) is left queued for the service.
const runFlush = 30 * time.Second

// jobRunner returns a runner of the scheduled jobs on Main's store, config and calendar.
func (m *Main) jobRunner() *jobs.Runner {
	env := jobs.NewEnv(m.Store, m.Bot.Outbox(), m.Config.Domain(), m.Calendar, m.Log.Named("jobs"))
	env.Metrics = m.JobMetrics
	env.Tickets = m.Tickets
	return jobs.NewRunner(env)
}

// startScheduler starts the scheduled jobs; the returned stop waits for a
// running check to end. Serve calls it when schedule.enabled is set.
func (m *Main) startScheduler(ctx context.Context) (stop func(), err error) {
	s, err := jobs.NewScheduler(m.jobRunner(), m.Now)
	if err != nil {
		return nil, err
	}
	s.Start(ctx)
	return s.Stop, nil
}

// jobNames lists the jobs for usage lines.
func jobNames() string {
	var names []string
	for _, j := range jobs.All() {
		names = append(names, j.Name)
	}
	return strings.Join(names, ", ")
}

// cmdRun is `yanzhen run JOB [--at TIME] -c FILE`: run one job now, or as if it
// were that time, even on a day off; flush the outbox before exiting, for up
// to runFlush, and say how many messages are left to the service.
func cmdRun(ctx context.Context, c *cli, args []string) int {
	const use = `run JOB [--at "2006-01-02 15:04"] -c FILE`
	var atText string
	pos, cfg, code := configCommand(c, "run", use, 1, args, func(f *flags) {
		f.StringVar(&atText, "at", "", "run as if it were this time (2006-01-02 15:04, in the configured zone)")
	})
	if code != exitOK {
		return code
	}
	job := jobs.Find(pos[0])
	if job == nil {
		c.errorf("unknown job %q; jobs: %s", pos[0], jobNames())
		return exitUsage
	}
	var at time.Time
	if atText != "" {
		var err error
		if at, err = time.ParseInLocation(atLayout, atText, cfg.Location()); err != nil {
			c.errorf("--at %q: want %q", atText, atLayout)
			return exitUsage
		}
	}
	return withMain(ctx, c, cfg, func(m *Main) int {
		if at.IsZero() {
			at = m.Now().In(cfg.Location())
		}
		res, err := m.jobRunner().RunAt(ctx, job.Name, at)
		if err != nil {
			c.errorf("%s: %v", job.Name, err)
			return exitFail
		}
		err = m.Bot.Flush(horizon{Context: ctx, until: time.Now().Add(runFlush)})
		var pending *bot.PendingError
		if err != nil && !errors.As(err, &pending) {
			c.errorf("%s: messages queued but not all sent: %v", job.Name, err)
			return exitFail
		}
		c.printf("%s（%s）：%s；入队%d条消息\n", job.Name, at.Format(atLayout), res.Summary, res.Messages)
		if pending != nil {
			c.printf("发送队列中还有%d条消息待发送，将由服务（yanzhen serve）继续发送\n", pending.Pending)
		}
		return exitOK
	})
}

// horizon is a context whose deadline plans and does not cancel: Bot.Flush
// waits for a rate window or a backoff only when it opens before the
// deadline, and a send under way when the deadline passes is finished, not
// cut off (a cut send may have reached WeCom and be sent again). The
// parent's cancellation (Ctrl-C) still ends it.
type horizon struct {
	context.Context
	until time.Time
}

// Deadline returns the horizon, or the parent's deadline when sooner.
func (h horizon) Deadline() (time.Time, bool) {
	if d, ok := h.Context.Deadline(); ok && d.Before(h.until) {
		return d, true
	}
	return h.until, true
}

// cmdReport is `yanzhen report daily [--date DATE] [--group CODE] -c FILE`:
// print a work group's daily report of a day, sending nothing. A past day's report carries that day's
// reports, receipts and ranking (the month up to that day) and says that its
// open figures (在办, 超期, 临期) are current, not the day's; a day after
// today is refused.
func cmdReport(ctx context.Context, c *cli, args []string) int {
	const use = "report daily [--date 2006-01-02] [--group CODE] -c FILE"
	var dateText, group string
	pos, cfg, code := configCommand(c, "report", use, 1, args, func(f *flags) {
		f.StringVar(&dateText, "date", "", "the day (2006-01-02); today when empty")
		f.StringVar(&group, "group", "", "the work group's code (groups of the org file); the first when empty")
	})
	if code != exitOK {
		return code
	}
	if pos[0] != "daily" {
		c.errorf("usage: yanzhen %s", use)
		return exitUsage
	}
	var day time.Time
	if dateText != "" {
		var err error
		if day, err = time.ParseInLocation(dateLayout, dateText, cfg.Location()); err != nil {
			c.errorf("--date %q: want %q", dateText, dateLayout)
			return exitUsage
		}
	}
	return withMain(ctx, c, cfg, func(m *Main) int {
		now := m.Now().In(cfg.Location())
		switch {
		case day.IsZero():
			day = now
		case day.Format(dateLayout) > now.Format(dateLayout):
			c.errorf("--date %s is after today (%s)", dateText, now.Format(dateLayout))
			return exitUsage
		}
		d, err := report.New(m.Store, cfg.Domain(), m.Calendar).For(group).Daily(ctx, day, now)
		if err != nil {
			c.errorf("%v", err)
			return exitFail
		}
		rows := m.Bot.Outbox().Render(d.Message())
		for i, row := range rows {
			if len(rows) > 1 {
				c.printf("----- %d/%d（%d字节）-----\n", i+1, len(rows), len(row.Body))
			}
			c.printf("%s\n", row.Body)
		}
		return exitOK
	})
}
