package jobs

import (
	"context"
	"fmt"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// send is a Plan that enqueues msgs with a summary and writes nothing else.
func send(msgs []msg.Message, summary string) Plan {
	return Plan{Commit: func(context.Context, *models.Store) ([]msg.Message, string, error) {
		return msgs, summary, nil
	}}
}

// prepareRemind reminds the departments that have not reported on the slot's day.
func prepareRemind(ctx context.Context, e *Env, r Run) (Plan, error) {
	rem, err := e.Reports.For(r.Group).Remind(ctx, r.Slot)
	if err != nil {
		return Plan{}, err
	}
	if len(rem.Missing) == 0 {
		return send(nil, "各单位均已报送日报，无需提醒"), nil
	}
	return send(rem.Messages(), fmt.Sprintf("提醒%d个未报单位", len(rem.Missing))), nil
}

// prepareDaily posts the group's daily report of the slot's day, marked 补发
// when late, and marks the reports it carries posted in the same transaction.
// A report that raced it is posted right after as 补报.
func prepareDaily(ctx context.Context, e *Env, r Run) (Plan, error) {
	day := report.DayKey(r.Slot, e.Config.Location())
	d, err := e.Reports.For(r.Group).Daily(ctx, r.Slot, r.Now)
	if err != nil {
		return Plan{}, err
	}
	posted, err := report.DailyPosted(ctx, e.Store, d.Group, day)
	if err != nil {
		return Plan{}, err
	}
	if posted {
		return send(nil, day+"日报此前已发布，未重复发布"), nil
	}
	d.Late = r.Late
	m, ids := d.Message(), d.Revisions()
	return Plan{
		Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
			if err := tx.MarkReportsPosted(ctx, ids, tx.Now()); err != nil {
				return nil, "", err
			}
			return []msg.Message{m}, fmt.Sprintf("发布%s日报，已报%d个单位", day, len(ids)), nil
		},
		Then: func(ctx context.Context) error {
			_, err := e.Reports.PostLateOf(ctx, e.Store, e.Outbox, d)
			return err
		},
	}, nil
}

// prepareNightly sends the leaders the digest of the slot's day.
func prepareNightly(ctx context.Context, e *Env, r Run) (Plan, error) {
	n, err := e.Reports.For(r.Group).Nightly(ctx, r.Slot, r.Now)
	if err != nil {
		return Plan{}, err
	}
	msgs := n.Messages()
	if len(msgs) == 0 {
		return send(nil, "未登记区领导，未发送简报"), nil
	}
	return send(msgs, fmt.Sprintf("向%d位区领导发送今日简报", len(n.Leaders))), nil
}

// prepareWeekly sends the week's tickets to the main leader and the 红黑榜 to
// the group, and evaluates the ladder's weekly triggers, whose climbs the
// 红黑榜 lists and the commit records (practice.go).
func prepareWeekly(ctx context.Context, e *Env, r Run) (Plan, error) {
	w, err := e.Reports.For(r.Group).Weekly(ctx, r.Slot)
	if err != nil {
		return Plan{}, err
	}
	ev, err := e.Reports.EvaluateWeek(ctx, r.Slot)
	if err != nil {
		return Plan{}, err
	}
	w.Practice.With(ev)
	chart, err := w.ChartMessage()
	if err != nil {
		return Plan{}, err
	}
	return withClimbs(withChart(w.Messages(), chart), ev, fmt.Sprintf("%s：不满意%d件、重办%d件报主要领导，发布红黑榜",
		w.Week.Label(), len(w.Unsatisfied), len(w.Reopened))), nil
}

// withClimbs is a Plan that records an evaluation's climbs and enqueues
// msgs with the climbs' own messages.
func withClimbs(msgs []msg.Message, ev *report.Evaluation, summary string) Plan {
	return Plan{Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
		more, n, err := recordClimbs(ctx, tx, ev)
		if err != nil {
			return nil, "", err
		}
		return append(msgs, more...), summary + climbSummary(n), nil
	}}
}

// prepareMonthly posts the ranking of the last complete assessment month and
// evaluates the ladder's monthly trigger (its 黑榜), whose climbs the report
// places on their rungs and the commit records.
func prepareMonthly(ctx context.Context, e *Env, r Run) (Plan, error) {
	m, err := e.Reports.For(r.Group).Monthly(ctx, r.Slot)
	if err != nil {
		return Plan{}, err
	}
	ev, err := e.Reports.EvaluateMonth(ctx, m, r.Slot)
	if err != nil {
		return Plan{}, err
	}
	m.Practice.With(ev)
	chart, err := m.ChartMessage()
	if err != nil {
		return Plan{}, err
	}
	return withClimbs(withChart([]msg.Message{m.Message()}, chart), ev, "发布"+m.Month.Label()+"三率及综合评分排名"), nil
}

// withChart appends a report's chart, when it has one, after its text.
func withChart(msgs []msg.Message, chart *msg.Message) []msg.Message {
	if chart == nil {
		return msgs
	}
	return append(msgs, *chart)
}
