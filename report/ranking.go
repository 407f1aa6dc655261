package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Weekly is the weekly report: the week's unsatisfied and reopened tickets by
// department, for the main leader, and the week's 红黑榜, for the group.
type Weekly struct {
	District    string
	Week        models.Period
	Unsatisfied []models.Ticket
	Reopened    []models.Ticket
	Departments []models.Department // the configured order
	Ranking     []RankGroup
	// MinSample is the fewest valid return visits of a ranked unit.
	MinSample int
	// MainLeaders receive the ticket lists: the main leaders, else all leaders.
	MainLeaders []*models.Member
	// Practice is the week's steps on the accountability ladder and the
	// rectification list's counts (practice.go).
	Practice Practice
}

// Weekly builds the report of the week (Monday to Sunday) that contains day.
func (b *Builder) Weekly(ctx context.Context, day time.Time) (*Weekly, error) {
	w := &Weekly{District: b.cfg.District.Name, Week: models.WeekOf(day, b.loc)}
	dir, err := b.store.Directory(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	w.Departments = dir.Departments
	for _, m := range dir.WithRole(models.RoleLeader) {
		if m.Main {
			w.MainLeaders = append(w.MainLeaders, m)
		}
	}
	if len(w.MainLeaders) == 0 {
		w.MainLeaders = dir.WithRole(models.RoleLeader)
	}
	if w.Unsatisfied, err = b.store.ListTickets(ctx, models.TicketQuery{Set: models.SetUnsatisfied, Period: w.Week}); err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	if w.Reopened, err = b.store.ListTickets(ctx, models.TicketQuery{Set: models.SetReopened, Period: w.Week}); err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	board, err := b.store.ScoreBoard(ctx, w.Week, Weights(b.cfg.Rules.Scores))
	if err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	w.MinSample = b.cfg.Rules.Scores.MinSample
	w.Ranking = rankGroups(Rank(board, w.MinSample), b.cfg.Rules.RankTop)
	if w.Practice, err = b.practice(ctx, w.Week, day); err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	return w, nil
}

// tickets is the week's unsatisfied and reopened tickets by department, in
// the configured order.
func (w *Weekly) tickets() msg.Section {
	lines := []msg.Line{
		msg.L(msg.Strong("【本周不满意及重办工单】"), msg.Text(w.Week.Label())),
		msg.L(msg.Text("全区不满意 "), count(len(w.Unsatisfied)), msg.Text(" 件，重办 "), count(len(w.Reopened)), msg.Text(" 件。")),
	}
	type entry struct{ why, number, title string } // why: 不满意 or 重办
	byDept := map[uint][]entry{}
	var none []entry
	add := func(why string, tks []models.Ticket) {
		for _, t := range tks {
			e := entry{why, t.Number, t.Title}
			if t.DepartmentID == nil {
				none = append(none, e)
				continue
			}
			byDept[*t.DepartmentID] = append(byDept[*t.DepartmentID], e)
		}
	}
	add("不满意", w.Unsatisfied)
	add("重办", w.Reopened)
	block := func(name string, es []entry) []msg.Line {
		un := 0
		for _, e := range es {
			if e.why == "不满意" {
				un++
			}
		}
		head := msg.L(msg.Strong(name), msg.Text(" 不满意"+itoa(un)+" 重办"+itoa(len(es)-un)))
		return append([]msg.Line{head}, capped(es, func(e entry) msg.Line { return text("· " + e.why + " " + e.number + " " + listTitle(e.title)) }, "件")...)
	}
	for _, d := range w.Departments {
		if es := byDept[d.ID]; len(es) > 0 {
			lines = append(lines, block(d.Name, es)...)
		}
	}
	if len(none) > 0 {
		lines = append(lines, block("未明确承办单位", none)...)
	}
	return msg.S(lines...)
}

// Messages returns the ticket lists to the main leaders and the 红黑榜 to the group.
func (w *Weekly) Messages() []msg.Message {
	key := w.key()
	_, ids := mentions(w.MainLeaders)
	out := toMembers(ids, "本周不满意及重办工单", key+"/leader", w.tickets())
	title := w.District + "接诉即办红黑榜"
	board := append(redBlack(title, w.Week.Label()+" 综合评分", w.Ranking, w.MinSample), w.Practice.sections("本周")...)
	return append(out, toGroup(title, key+"/board", board...))
}

// key is the week's dedupe key.
func (w *Weekly) key() string {
	return "weekly-report/" + DayKey(w.Week.Start, w.Week.Start.Location())
}

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
	Month    models.Period
	Board    *Ranking
	Ranking  []RankGroup
	// Practice is the units at each rung of the accountability ladder, the
	// 剔除件 and 无法整改 items; Lists the rectification list's counts and Now
	// when they were taken (practice.go).
	Practice MonthlyPractice
	Lists    []models.RectifyTally
	Now      time.Time
}

// Monthly builds the report of the last assessment month that ended at or before day.
func (b *Builder) Monthly(ctx context.Context, day time.Time) (*Monthly, error) {
	month := models.MonthOf(day, b.loc, b.cfg.Rules.Scores.PeriodStartDay).Prev()
	board, err := b.store.ScoreBoard(ctx, month, Weights(b.cfg.Rules.Scores))
	if err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	r := Rank(board, b.cfg.Rules.Scores.MinSample)
	m := &Monthly{District: b.cfg.District.Name, Month: month, Board: r, Ranking: rankGroups(r, b.cfg.Rules.RankTop), Now: day}
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
	return toGroup(title, "monthly-report/"+DayKey(m.Month.Start, m.Month.Start.Location()), all...)
}
