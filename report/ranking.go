package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// redBlack returns the sections of a 红黑榜: the title, the summary lines
// and the ranking rules, then per tier of unit the red list (红榜) and the black list (黑榜)
// with their 综合评分 and 三率, and the units too small to rank (样本不足).
func redBlack(title, subtitle string, groups []RankGroup, minSample int, summary ...msg.Line) []msg.Section {
	head := msg.S(append(append([]msg.Line{msg.H(msg.Text(title)), msg.L(msg.Strong(subtitle))}, summary...), msg.L(msg.Muted(TieBreak(minSample))))...)
	if len(groups) == 0 {
		head.Lines = append(head.Lines, text("本期暂无有效回访工单，不排名。"))
	}
	sections := []msg.Section{head}
	for _, g := range groups {
		ranked := "（" + itoa(g.Ranked) + "个单位参与排名）"
		if g.Ranked == 0 {
			ranked = "（无单位参与排名）"
		}
		lines := []msg.Line{msg.L(msg.Strong(g.Tier.Heading()), msg.Text(ranked))}
		if len(g.Top) > 0 {
			lines = append(lines, msg.L(msg.Good("红榜")))
			for _, s := range g.Top {
				lines = append(lines, text(ScoreLine(s)))
			}
		}
		if len(g.Bottom) > 0 {
			lines = append(lines, msg.L(msg.Bad("黑榜")))
			for _, s := range g.Bottom {
				lines = append(lines, text(ScoreLine(s)))
			}
		}
		if len(g.Small) > 0 {
			lines = append(lines, msg.L(msg.Muted("样本不足（有效回访不足"+itoa(minSample)+"件，不排名）："), msg.Text(smallNames(g.Small))))
		}
		sections = append(sections, msg.S(lines...))
	}
	return sections
}

// ScoreLine renders a ranked unit: 1. 住建局 评分92.35｜响应100.00%（12/12） ….
func ScoreLine(s Standing) string {
	return itoa(s.Rank) + ". " + s.Department.Name + " 评分" + s.Rates.ScoreText() + "｜" + RatesText(s.DepartmentScore)
}

// RatesText renders a unit's 三率 with their denominators, the valid return
// visits: 响应100.00%（12/12） 解决91.67%（11/12） 满意90.83%（11/12，含基本满意1）.
// 满意 counts the answers 满意 and 基本满意; 满意率 weighs the latter as configured.
func RatesText(s models.DepartmentScore) string {
	r, c := s.Rates, s.Counts
	if r.Empty() {
		return "暂无有效回访"
	}
	of := func(n int) string { return "（" + itoa(n) + "/" + itoa(c.Valid) }
	satisfied := of(c.Satisfied + c.BasicSatisfied)
	if c.BasicSatisfied > 0 {
		satisfied += "，含基本满意" + itoa(c.BasicSatisfied)
	}
	return "响应" + r.Percent(r.Response) + of(c.Contacted) + "） 解决" + r.Percent(r.Resolution) + of(c.Resolved) +
		"） 满意" + r.Percent(r.Satisfaction) + satisfied + "）"
}

// Monthly is the monthly report: the month's 三率 and 综合评分 of every
// department, ranked, with the 红黑榜.
type Monthly struct {
	District string
	// Group is the code of the work group it goes to.
	Group   string
	Month   models.Period
	Board   *Ranking
	Ranking []RankGroup
	// Practice is the units at each rung of the accountability ladder, the
	// 剔除件 and 无法整改 items; Lists the rectification list's counts and Now
	// when they were taken (practice.go).
	Practice MonthlyPractice
	Lists    []models.RectifyTally
	Now      time.Time
}

// Monthly builds the report of the builder's group (For) of the last
// assessment month that ended at or before day: its units' ranking.
func (b *Builder) Monthly(ctx context.Context, day time.Time) (*Monthly, error) {
	a, err := b.area(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	month := models.MonthOf(day, b.loc, b.cfg.Rules.Scores.PeriodStartDay).Prev()
	board, err := b.scoreBoard(ctx, a, month)
	if err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	r := Rank(board, b.cfg.Rules.Scores.MinSample)
	m := &Monthly{District: a.Name, Group: a.Group.Code, Month: month, Board: r, Ranking: rankGroups(r, b.cfg.Rules.RankTop), Now: day}
	if m.Practice, err = b.monthlyPractice(ctx, month, day); err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	if m.Lists, err = b.store.TallyRectifications(ctx, 0, day); err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	return m, nil
}

// Message returns the month's 红黑榜, then the whole ranking of each tier,
// then the units without a valid return visit, as one group message.
func (m *Monthly) Message() msg.Message {
	title := m.District + "接诉即办月度通报"
	all := redBlack(title, m.Month.Label()+" 三率及综合评分", m.Ranking, m.Board.MinSample,
		text("全区评分"+m.Board.District.Rates.ScoreText()+"｜"+RatesText(m.Board.District)))
	for _, t := range m.Board.Tiers {
		if len(t.Ranked) == 0 {
			continue
		}
		lines := []msg.Line{msg.L(msg.Strong(t.Tier.Heading() + "排名"))}
		for _, s := range t.Ranked {
			lines = append(lines, text(ScoreLine(s)))
		}
		all = append(all, msg.S(lines...))
	}
	var empty []string
	for _, d := range m.Board.Empty {
		empty = append(empty, d.Name)
	}
	if len(empty) > 0 {
		all = append(all, msg.S(msg.L(msg.Muted("本月无有效回访工单、未参与排名（"+itoa(len(empty))+"个）："), msg.Text(strings.Join(empty, "、")))))
	}
	all = append(all, m.Practice.sections(m.Now)...)
	if s, ok := listSection(m.Lists); ok {
		all = append(all, s)
	}
	return toGroup(m.Group, title, groupKey("monthly-report", m.Group, DayKey(m.Month.Start, m.Month.Start.Location())), all...)
}
