package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/models"
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
	// MainLeaders receive the ticket lists: the main leaders, else all leaders.
	MainLeaders []*models.Member
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
	w.Ranking = rankGroups(board, b.cfg.Rules.RankTop)
	return w, nil
}

// RenderTickets renders the week's unsatisfied and reopened tickets by
// department, in the configured order, as app markdown of at most AppLimit bytes each.
func (w *Weekly) RenderTickets() []string {
	lines := []string{"**【本周不满意及重办工单】**" + w.Week.Label() + "\n" +
		"全区不满意 " + count(len(w.Unsatisfied)) + " 件，重办 " + count(len(w.Reopened)) + " 件。"}
	type entry struct{ kind, number, title string }
	byDept := map[uint][]entry{}
	var none []entry
	add := func(kind string, tks []models.Ticket) {
		for _, t := range tks {
			e := entry{kind, t.Number, t.Title}
			if t.DepartmentID == nil {
				none = append(none, e)
				continue
			}
			byDept[*t.DepartmentID] = append(byDept[*t.DepartmentID], e)
		}
	}
	add("不满意", w.Unsatisfied)
	add("重办", w.Reopened)
	block := func(name string, es []entry) string {
		un := 0
		for _, e := range es {
			if e.kind == "不满意" {
				un++
			}
		}
		return "**" + name + "** 不满意" + itoa(un) + " 重办" + itoa(len(es)-un) + "\n" +
			capped(es, func(e entry) string { return "· " + e.kind + " " + e.number + " " + oneLine(e.title, 24) }, "件")
	}
	for _, d := range w.Departments {
		if es := byDept[d.ID]; len(es) > 0 {
			lines = append(lines, block(d.Name, es))
		}
	}
	if len(none) > 0 {
		lines = append(lines, block("未明确承办单位", none))
	}
	return packLines(lines, AppLimit, continued("本周不满意及重办工单"))
}

// RenderBoard renders the week's 红黑榜 for the group.
func (w *Weekly) RenderBoard() []string {
	title := w.District + "接诉即办红黑榜"
	return pack(redBlack(title, w.Week.Label()+" 综合评分", w.Ranking), GroupLimit, continued(title))
}

// Messages returns the ticket lists to the main leaders and the 红黑榜 to the group.
func (w *Weekly) Messages() []models.Outgoing {
	key := "weekly-report/" + DayKey(w.Week.Start, w.Week.Start.Location())
	_, ids := mentions(w.MainLeaders)
	out := appMessages(ids, models.KindMarkdown, w.RenderTickets(), key+"/leader")
	return append(out, groupMessages(w.RenderBoard(), key+"/board")...)
}

// redBlack returns the sections of a 红黑榜: the title, then per kind of
// department the top (红榜) and the bottom (黑榜) with their 综合评分 and 三率.
func redBlack(title, subtitle string, groups []RankGroup) []string {
	sections := []string{"# " + title + "\n**" + subtitle + "**"}
	if len(groups) == 0 {
		sections[0] += "\n本期暂无有效回访工单，不排名。"
	}
	for _, g := range groups {
		var b strings.Builder
		b.WriteString("**" + models.KindHeading(g.Kind) + "**（" + itoa(g.Ranked) + "个单位参与排名）\n" + info("红榜"))
		for _, s := range g.Top {
			b.WriteString("\n" + scoreLine(s))
		}
		if len(g.Bottom) > 0 {
			b.WriteString("\n" + warning("黑榜"))
			for _, s := range g.Bottom {
				b.WriteString("\n" + scoreLine(s))
			}
		}
		sections = append(sections, b.String())
	}
	return sections
}

// scoreLine renders a ranked department: 1. 住建局 评分92.35｜响应… 解决… 满意…（有效回访12件）.
func scoreLine(s models.DepartmentScore) string {
	r := s.Rates
	return fmt.Sprintf("%d. %s 评分%s｜响应%s 解决%s 满意%s（有效回访%d件）",
		s.Rank, s.Department.Name, r.ScoreText(), r.Percent(r.Response), r.Percent(r.Resolution), r.Percent(r.Satisfaction), r.Valid)
}

// Monthly is the monthly report: the month's 三率 and 综合评分 of every
// department, ranked, with the 红黑榜.
type Monthly struct {
	District string
	Month    models.Period
	Board    *models.ScoreBoard
	Ranking  []RankGroup
}

// Monthly builds the report of the last assessment month that ended at or before day.
func (b *Builder) Monthly(ctx context.Context, day time.Time) (*Monthly, error) {
	month := models.MonthOf(day, b.loc, b.cfg.Rules.Scores.PeriodStartDay).Prev()
	board, err := b.store.ScoreBoard(ctx, month, Weights(b.cfg.Rules.Scores))
	if err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	return &Monthly{District: b.cfg.District.Name, Month: month, Board: board, Ranking: rankGroups(board, b.cfg.Rules.RankTop)}, nil
}

// Render renders the month's 红黑榜, then the whole ranking by kind, then the
// departments without a valid ticket, as group markdown.
func (m *Monthly) Render() []string {
	title := m.District + "接诉即办月度通报"
	d := m.Board.District.Rates
	all := redBlack(title, m.Month.Label()+" 三率及综合评分", m.Ranking)
	all[0] += "\n全区评分" + d.ScoreText() + "｜响应" + d.Percent(d.Response) + " 解决" + d.Percent(d.Resolution) +
		" 满意" + d.Percent(d.Satisfaction) + "（有效回访" + itoa(d.Valid) + "件）"
	var unranked []string
	for _, list := range m.Board.ByKind() {
		lines := []string{"**" + models.KindHeading(list[0].Department.Kind) + "排名**"}
		for _, s := range list {
			lines = append(lines, scoreLine(s))
		}
		all = append(all, strings.Join(lines, "\n"))
	}
	for _, s := range m.Board.Departments {
		if s.Rates.Empty() {
			unranked = append(unranked, s.Department.Name)
		}
	}
	if len(unranked) > 0 {
		all = append(all, comment("本月无有效回访工单、未参与排名（"+itoa(len(unranked))+"个）：")+strings.Join(unranked, "、"))
	}
	return pack(all, GroupLimit, continued(title))
}

// Messages returns the report as group messages.
func (m *Monthly) Messages() []models.Outgoing {
	return groupMessages(m.Render(), "monthly-report/"+DayKey(m.Month.Start, m.Month.Start.Location()))
}
