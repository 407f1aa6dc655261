package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Weekly is the weekly report: the week's unsatisfied and reopened tickets,
// each said to be settled since or not, by department, for the main leader
// and the supervision team (督导专班) whole and for each unit's head its own
// part; and the week's 红黑榜, for the group.
type Weekly struct {
	District string
	// Group is the code of the work group it goes to.
	Group string
	Week  models.Period
	// Unsatisfied are the tickets answered 不满意 at a return visit in the
	// week (models.Store.UnsatisfiedIn), Reopened those reopened in it.
	Unsatisfied []models.Ticket
	Reopened    []models.Ticket
	Departments []models.Department // the configured order
	Ranking     []RankGroup
	// MinSample is the fewest valid return visits of a ranked unit.
	MinSample int
	// MainLeaders receive the ticket lists: the main leaders, else all leaders.
	MainLeaders []*models.Member
	// Supervisors (督导专班) receive the whole lists too.
	Supervisors []*models.Member
	// Responsible are who answer for each department (its heads, else its
	// reporters): they receive their unit's part.
	Responsible map[uint][]*models.Member
	// Practice is the week's steps on the accountability ladder and the
	// rectification list's counts (practice.go).
	Practice Practice
}

// Weekly builds the report of the builder's group (For) of the week (Monday
// to Sunday) that contains day: its units' tickets and 红黑榜. The whole
// lists go to the main leaders and the supervisors of the district from the
// district's own group only.
func (b *Builder) Weekly(ctx context.Context, day time.Time) (*Weekly, error) {
	a, err := b.area(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	dir := a.Dir
	w := &Weekly{District: a.Name, Group: a.Group.Code, Week: models.WeekOf(day, b.loc), Departments: a.Depts, Responsible: map[uint][]*models.Member{}}
	if a.Top {
		leaders := a.Leaders()
		for _, m := range leaders {
			if m.Main {
				w.MainLeaders = append(w.MainLeaders, m)
			}
		}
		if len(w.MainLeaders) == 0 {
			w.MainLeaders = leaders
		}
		for _, m := range dir.WithRole(models.RoleSupervisor) {
			if dir.DistrictOf(m) == a.Group.District {
				w.Supervisors = append(w.Supervisors, m)
			}
		}
	}
	for _, d := range a.Depts {
		w.Responsible[d.ID] = dir.Responsible(d.ID)
	}
	if w.Unsatisfied, err = b.store.UnsatisfiedIn(ctx, w.Week); err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	if w.Reopened, err = b.store.ListTickets(ctx, models.TicketQuery{Set: models.SetReopened, Period: w.Week}); err != nil {
		return nil, fmt.Errorf("report: weekly: %w", err)
	}
	outside := func(t models.Ticket) bool { return !a.Covers(t.DepartmentID) }
	w.Unsatisfied, w.Reopened = slices.DeleteFunc(w.Unsatisfied, outside), slices.DeleteFunc(w.Reopened, outside)
	board, err := b.scoreBoard(ctx, a, w.Week)
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

// Why a ticket is on the weekly list.
const (
	whyUnsatisfied = "不满意"
	whyReopened    = "重办"
)

// weekEntry is one line of the weekly list: a ticket, why it is on it, and
// how it was settled since ("" when it was not).
type weekEntry struct {
	why     string
	ticket  *models.Ticket
	settled string
}

// settledSince says how a ticket on the weekly list for why (不满意 or 重办) has
// been settled since: satisfied (满意 or 基本满意) at a later return visit,
// or, after a reopening, closed (已办结) again. It returns the words of the
// list, 11月22日回访满意 or 11月21日重新办结, or "" when it is not settled.
func settledSince(t *models.Ticket, why string, loc *time.Location) string {
	since := t.VisitedAt
	if why == whyReopened {
		since = t.ReopenedAt
	}
	switch {
	case since == nil:
		return ""
	case t.Satisfaction != "" && t.Satisfaction != models.Unsatisfied && t.VisitedAt != nil && !t.VisitedAt.Before(*since):
		// A 不满意 ticket whose answer is now another was visited again.
		return monthDayCN(t.VisitedAt.In(loc)) + "回访" + string(t.Satisfaction)
	case why == whyReopened && t.Status == models.TicketResolved && t.ResolvedAt != nil && t.ResolvedAt.After(*since):
		return monthDayCN(t.ResolvedAt.In(loc)) + "重新办结"
	}
	return ""
}

// entries returns the week's list, by department ID (0: none), 不满意 before 重办.
func (w *Weekly) entries() map[uint][]weekEntry {
	loc := w.Week.Start.Location()
	out := map[uint][]weekEntry{}
	add := func(why string, tks []models.Ticket) {
		for i := range tks {
			t := &tks[i]
			id := uint(0)
			if t.DepartmentID != nil {
				id = *t.DepartmentID
			}
			out[id] = append(out[id], weekEntry{why: why, ticket: t, settled: settledSince(t, why, loc)})
		}
	}
	add(whyUnsatisfied, w.Unsatisfied)
	add(whyReopened, w.Reopened)
	return out
}

// block writes the list of one unit: its name and counts, then each ticket
// and whether it was settled.
func block(name string, es []weekEntry) []msg.Line {
	un, settled := 0, 0
	for _, e := range es {
		if e.why == whyUnsatisfied {
			un++
		}
		if e.settled != "" {
			settled++
		}
	}
	head := msg.L(msg.Strong(name), msg.Text(" 不满意"+itoa(un)+" 重办"+itoa(len(es)-un)+" 已解决"+itoa(settled)))
	return append([]msg.Line{head}, capped(es, func(e weekEntry) msg.Line {
		state := msg.Bad("未解决")
		if e.settled != "" {
			state = msg.Good("已解决（" + e.settled + "）")
		}
		return msg.L(msg.Text("· "+e.why+" "+e.ticket.Number+" "+listTitle(e.ticket.Title)+" "), state)
	}, "件")...)
}

// settledCount counts the entries settled since.
func settledCount(byDept map[uint][]weekEntry) int {
	n := 0
	for _, es := range byDept {
		for _, e := range es {
			if e.settled != "" {
				n++
			}
		}
	}
	return n
}

// tickets is the week's whole list, by department in the configured order.
func (w *Weekly) tickets(byDept map[uint][]weekEntry) msg.Section {
	lines := []msg.Line{
		msg.L(msg.Strong("【本周不满意及重办工单】"), msg.Text(w.Week.Label())),
		msg.L(msg.Text("全区不满意 "), count(len(w.Unsatisfied)), msg.Text(" 件，重办 "), count(len(w.Reopened)),
			msg.Text(" 件，其中已解决 "+itoa(settledCount(byDept))+" 件。")),
	}
	for _, d := range w.Departments {
		if es := byDept[d.ID]; len(es) > 0 {
			lines = append(lines, block(d.Name, es)...)
		}
	}
	if es := byDept[0]; len(es) > 0 {
		lines = append(lines, block("未明确承办单位", es)...)
	}
	return msg.S(lines...)
}

// unit is one department's part of the list, for those who answer for it.
func (w *Weekly) unit(d models.Department, es []weekEntry) msg.Section {
	lines := []msg.Line{msg.L(msg.Strong("【本周不满意及重办工单】"), msg.Text(d.Name+" "+w.Week.Label()))}
	return msg.S(append(lines, block("本单位", es)...)...)
}

// Messages returns the whole ticket list to the main leaders and the
// supervisors, each unit's part to those who answer for it, and the 红黑榜 to
// the group.
func (w *Weekly) Messages() []msg.Message {
	key := w.key()
	byDept := w.entries()
	_, ids := mentions(append(append([]*models.Member(nil), w.MainLeaders...), w.Supervisors...))
	out := toMembers(ids, "本周不满意及重办工单", key+"/leader", w.tickets(byDept))
	for _, d := range w.Departments {
		if es := byDept[d.ID]; len(es) > 0 {
			_, heads := mentions(w.Responsible[d.ID])
			out = append(out, toMembers(heads, "本单位本周不满意及重办工单", fmt.Sprintf("%s/unit/%d", key, d.ID), w.unit(d, es))...)
		}
	}
	title := w.District + "接诉即办红黑榜"
	board := append(redBlack(title, w.Week.Label()+" 综合评分", w.Ranking, w.MinSample), w.Practice.sections("本周")...)
	return append(out, toGroup(w.Group, title, key+"/board", board...))
}

// key is the week's dedupe key.
func (w *Weekly) key() string {
	return groupKey("weekly-report", w.Group, DayKey(w.Week.Start, w.Week.Start.Location()))
}
