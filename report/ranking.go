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
	w.Ranking = rankGroups(Rank(board), b.cfg.Rules.RankTop)
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
	key := "weekly-report/" + DayKey(w.Week.Start, w.Week.Start.Location())
	_, ids := mentions(w.MainLeaders)
	out := toMembers(ids, "本周不满意及重办工单", key+"/leader", w.tickets())
	title := w.District + "接诉即办红黑榜"
	return append(out, toGroup(title, key+"/board", redBlack(title, w.Week.Label()+" 综合评分", w.Ranking)...))
}

// redBlack returns the sections of a 红黑榜: the title, then per tier of
// department the top (红榜) and the bottom (黑榜) with their 综合评分 and 三率.
func redBlack(title, subtitle string, groups []RankGroup) []msg.Section {
	head := msg.S(msg.H(msg.Text(title)), msg.L(msg.Strong(subtitle)))
	if len(groups) == 0 {
		head.Lines = append(head.Lines, text("本期暂无有效回访工单，不排名。"))
	}
	sections := []msg.Section{head}
	for _, g := range groups {
		lines := []msg.Line{
			msg.L(msg.Strong(g.Tier.Heading()), msg.Text("（"+itoa(g.Ranked)+"个单位参与排名）")),
			msg.L(msg.Good("红榜")),
		}
		for _, s := range g.Top {
			lines = append(lines, text(scoreLine(s)))
		}
		if len(g.Bottom) > 0 {
			lines = append(lines, msg.L(msg.Bad("黑榜")))
			for _, s := range g.Bottom {
				lines = append(lines, text(scoreLine(s)))
			}
		}
		sections = append(sections, msg.S(lines...))
	}
	return sections
}

// scoreLine renders a ranked department: 1. 住建局 评分92.35｜响应… 解决… 满意…（有效回访12件）.
func scoreLine(s Standing) string {
	r := s.Rates
	return fmt.Sprintf("%d. %s 评分%s｜响应%s 解决%s 满意%s（有效回访%d件）",
		s.Rank, s.Department.Name, r.ScoreText(), r.Percent(r.Response), r.Percent(r.Resolution), r.Percent(r.Satisfaction), r.Valid)
}

// Monthly is the monthly report: the month's 三率 and 综合评分 of every
// department, ranked, with the 红黑榜.
type Monthly struct {
	District string
	Month    models.Period
	Board    *Ranking
	Ranking  []RankGroup
}

// Monthly builds the report of the last assessment month that ended at or before day.
func (b *Builder) Monthly(ctx context.Context, day time.Time) (*Monthly, error) {
	month := models.MonthOf(day, b.loc, b.cfg.Rules.Scores.PeriodStartDay).Prev()
	board, err := b.store.ScoreBoard(ctx, month, Weights(b.cfg.Rules.Scores))
	if err != nil {
		return nil, fmt.Errorf("report: monthly: %w", err)
	}
	r := Rank(board)
	return &Monthly{District: b.cfg.District.Name, Month: month, Board: r, Ranking: rankGroups(r, b.cfg.Rules.RankTop)}, nil
}

// Message returns the month's 红黑榜, then the whole ranking by tier, then
// the departments without a valid ticket, as one group message.
func (m *Monthly) Message() msg.Message {
	title := m.District + "接诉即办月度通报"
	d := m.Board.District.Rates
	all := redBlack(title, m.Month.Label()+" 三率及综合评分", m.Ranking)
	all[0].Lines = append(all[0].Lines, text("全区评分"+d.ScoreText()+"｜响应"+d.Percent(d.Response)+" 解决"+d.Percent(d.Resolution)+
		" 满意"+d.Percent(d.Satisfaction)+"（有效回访"+itoa(d.Valid)+"件）"))
	for _, list := range m.Board.ByTier() {
		lines := []msg.Line{msg.L(msg.Strong(list[0].Department.Tier.Heading() + "排名"))}
		for _, s := range list {
			lines = append(lines, text(scoreLine(s)))
		}
		all = append(all, msg.S(lines...))
	}
	var unranked []string
	for _, d := range m.Board.Unranked() {
		unranked = append(unranked, d.Name)
	}
	if len(unranked) > 0 {
		all = append(all, msg.S(msg.L(msg.Muted("本月无有效回访工单、未参与排名（"+itoa(len(unranked))+"个）："), msg.Text(strings.Join(unranked, "、")))))
	}
	return toGroup(title, "monthly-report/"+DayKey(m.Month.Start, m.Month.Start.Location()), all...)
}
