package report

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Quarterly is the quarter's report, posted on the first working day of the
// next: the 三率 ranking of the quarter and the district's figure for the
// year to date, the dispatch ledger, the rectification list, the steps on the
// accountability ladder and the 剔除件 of the quarter.
type Quarterly struct {
	District string
	Quarter  models.Period
	Board    *Ranking
	Ranking  []RankGroup
	// Year is the assessment year up to the quarter's end, YearBoard its ranking.
	Year      models.Period
	YearBoard *Ranking
	// Dispatches counts the quarter's dispatches: issued, closed, and closed
	// or still open after their deadline.
	Dispatches struct{ Issued, Closed, Late int }
	// Registered and Closed count the items of the rectification list
	// registered in the quarter by class, and of them the ones closed.
	Registered, Closed map[models.RectifyClass]int
	Steps              []PracticeStep
	Exclusions         int
}

// Quarterly builds the report of the last quarter that ended at or before day.
func (b *Builder) Quarterly(ctx context.Context, day time.Time) (*Quarterly, error) {
	start := b.cfg.Rules.Scores.PeriodStartDay
	q := &Quarterly{District: b.cfg.District.Name, Quarter: models.QuarterOf(day, b.loc, start).Prev(),
		Registered: map[models.RectifyClass]int{}, Closed: map[models.RectifyClass]int{}}
	q.Year = RankPeriod(b.cfg, models.PeriodYear, q.Quarter.End.Add(-time.Nanosecond))
	w := Weights(b.cfg.Rules.Scores)
	for _, p := range []struct {
		period models.Period
		out    **Ranking
	}{{q.Quarter, &q.Board}, {q.Year, &q.YearBoard}} {
		board, err := b.store.ScoreBoard(ctx, p.period, w)
		if err != nil {
			return nil, fmt.Errorf("report: quarterly: %w", err)
		}
		*p.out = Rank(board, b.cfg.Rules.Scores.MinSample)
	}
	q.Ranking = rankGroups(q.Board, b.cfg.Rules.RankTop)
	last := uint(0)
	err := b.store.EachDispatchRecord(ctx, models.DispatchQuery{Period: q.Quarter}, func(r *models.DispatchRecord) error {
		if r.DispatchID == last {
			return nil
		}
		last = r.DispatchID
		q.Dispatches.Issued++
		if r.DispatchStatus == models.DispatchClosed {
			q.Dispatches.Closed++
		}
		end := q.Quarter.End
		if r.ClosedAt != nil {
			end = *r.ClosedAt
		}
		if r.DispatchStatus != models.DispatchCancelled && models.Overdue(r.Deadline, end) {
			q.Dispatches.Late++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("report: quarterly: %w", err)
	}
	items, err := b.store.ListRectifications(ctx, models.RectifyQuery{Issued: q.Quarter,
		States: models.RectifyStates})
	if err != nil {
		return nil, fmt.Errorf("report: quarterly: %w", err)
	}
	for _, it := range items {
		q.Registered[it.Class]++
		if it.State == models.RectifyClosed {
			q.Closed[it.Class]++
		}
	}
	p, err := b.practice(ctx, q.Quarter, q.Quarter.End)
	if err != nil {
		return nil, fmt.Errorf("report: quarterly: %w", err)
	}
	q.Steps = p.Steps
	excluded, err := b.store.ApprovedRequests(ctx, models.RequestKindExclusion, q.Quarter)
	if err != nil {
		return nil, fmt.Errorf("report: quarterly: %w", err)
	}
	q.Exclusions = len(excluded)
	return q, nil
}

// Message returns the report as one group message.
func (q *Quarterly) Message() msg.Message {
	title := q.District + "接诉即办季度通报"
	all := redBlack(title, q.Quarter.Label()+" 三率及综合评分", q.Ranking, q.Board.MinSample,
		text("全区本季度评分"+q.Board.District.Rates.ScoreText()+"｜"+RatesText(q.Board.District)),
		text(PeriodText(q.Year)+"全区评分"+q.YearBoard.District.Rates.ScoreText()+"（有效回访"+itoa(q.YearBoard.District.Rates.Valid)+"件）"))
	d := q.Dispatches
	lines := []msg.Line{msg.L(msg.Strong("【调度台账】")),
		msg.L(msg.Text(fmt.Sprintf("本季度下达调度 %d 件，已办结 %d 件，", d.Issued, d.Closed)), msg.Text("超时限 "), count(d.Late), msg.Text(" 件。"))}
	all = append(all, msg.S(lines...))
	total := 0
	for _, n := range q.Registered {
		total += n
	}
	if total > 0 {
		lines := []msg.Line{msg.L(msg.Strong("【整改清单】"), msg.Text("本季度立项 "+itoa(total)+" 件"))}
		for _, c := range models.RectifyClasses {
			if n := q.Registered[c]; n > 0 {
				lines = append(lines, text(fmt.Sprintf("· %s %d 件，已销号 %d 件", c, n, q.Closed[c])))
			}
		}
		all = append(all, msg.S(lines...))
	}
	p := Practice{Steps: q.Steps}
	all = append(all, p.sections("本季度")...)
	if q.Exclusions > 0 {
		all = append(all, msg.S(text("本季度批准剔除件 "+itoa(q.Exclusions)+" 件，不计入三率。")))
	}
	return toGroup("", title, "quarterly-report/"+DayKey(q.Quarter.Start, q.Quarter.Start.Location()), all...)
}
