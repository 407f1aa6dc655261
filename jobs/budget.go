package jobs

import (
	"context"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// A work group keeps on a bot that speaks little: rules.group_daily_budget
// bounds the messages the bot posts to a group in a day, replies and the
// daily report (msg.Report and above) aside. The store counts what went to
// the group today (models.Store.GroupPosts over the outbox); the overdue
// digest is the one message that gives way: when it would leave no room for
// the scheduled posts still to come today (the reminder, the weekly list …),
// it folds into the next morning roll-up, with a log line and a metric.

// budgetCheck is a group's daily budget as a scan found it.
type budgetCheck struct {
	budget   int // rules.group_daily_budget
	spent    int // posts to the group today, below msg.Report
	reserved int // posts of scheduled jobs still to come today
}

// spentUp reports whether one more post would overrun the budget, keeping
// room for the scheduled posts still to come.
func (b budgetCheck) spentUp() bool { return b.spent+b.reserved+1 > b.budget }

// checkBudget reads a group's budget on st at now.
func checkBudget(ctx context.Context, e *Env, st *models.Store, g *models.Group, now time.Time) (budgetCheck, error) {
	from, to := dayBounds(now, e.Config.Location())
	spent, err := st.GroupPosts(ctx, g.Code, from, to, int(msg.Report))
	if err != nil {
		return budgetCheck{}, err
	}
	return budgetCheck{budget: e.Config.Rules.GroupDailyBudget, spent: spent, reserved: reserved(e, g, now, to)}, nil
}

// dayBounds returns the start of t's day in loc and the start of the next.
func dayBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	y, m, d := t.In(loc).Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1)
}

// reserved counts the jobs that post to group g (Job.GroupPost) with a
// slot after now and before end that the scheduler will run, at the group's
// own times.
func reserved(e *Env, g *models.Group, now, end time.Time) int {
	n := 0
	for _, j := range All() {
		if !j.GroupPost {
			continue
		}
		sched, err := j.ScheduleOf(report.Schedule(e.Config.Schedule, g), e.Config.Location())
		if err != nil {
			continue // a bad spec never runs: the scheduler refuses to start
		}
		if next := sched.Next(now); next.Before(end) && (!j.Workdays || e.Calendar.IsWorkday(next)) {
			n++
		}
	}
	return n
}
