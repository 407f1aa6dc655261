package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// The practice in the weekly and monthly reports: the steps units took on
// the accountability ladder, the rectification list counted by class and
// age, and in the monthly report the units at each rung, the 剔除件 approved
// and the 无法整改 items reported up. A section shows only when it has
// something to say.

// Practice is what the weekly and monthly reports tell of the practice.
type Practice struct {
	// Steps are the steps taken on the ladder in the period (the
	// evaluation's own climbs among them, see With).
	Steps []PracticeStep
	// Lists counts the open items of the rectification list by class and age.
	Lists []models.RectifyTally
	// Now is when the counts were taken.
	Now time.Time
}

// PracticeStep is a unit's step on the ladder as a report lists it.
type PracticeStep struct {
	Unit    string
	Step    models.AccountStep
	Trigger string
}

// practice reads the steps taken in p and the counts of the list at now.
func (b *Builder) practice(ctx context.Context, p models.Period, now time.Time) (Practice, error) {
	out := Practice{Now: now}
	recs, err := b.store.AccountabilityIn(ctx, p)
	if err != nil {
		return out, err
	}
	for _, r := range recs {
		name := ""
		if r.Department != nil {
			name = r.Department.Name
		}
		out.Steps = append(out.Steps, PracticeStep{Unit: name, Step: r.Step, Trigger: r.Trigger})
	}
	out.Lists, err = b.store.TallyRectifications(ctx, 0, now)
	return out, err
}

// With adds an evaluation's climbs, which its job records with the report.
func (p *Practice) With(e *Evaluation) {
	for _, c := range e.Climbs {
		p.Steps = append(p.Steps, PracticeStep{Unit: c.Department.Name, Step: c.To, Trigger: c.Trigger()})
	}
}

// sections renders the steps and the counts, each when it has something.
func (p *Practice) sections(period string) []msg.Section {
	var out []msg.Section
	if len(p.Steps) > 0 {
		lines := []msg.Line{msg.L(msg.Strong("【问责】"), msg.Text(period+"提醒、约谈、责令检视"))}
		for _, s := range p.Steps {
			line := "· " + s.Unit + " " + s.Step.Ordinal()
			if s.Trigger != "" {
				line += "（" + s.Trigger + "）"
			}
			lines = append(lines, msg.L(msg.Bad(line)))
		}
		out = append(out, msg.S(lines...))
	}
	if s, ok := listSection(p.Lists); ok {
		out = append(out, s)
	}
	return out
}

// listSection counts the open items of the list by class and age: one line
// a class; false when there is none.
func listSection(tallies []models.RectifyTally) (msg.Section, bool) {
	total := 0
	for _, t := range tallies {
		total += t.Total()
	}
	if total == 0 {
		return msg.Section{}, false
	}
	lines := []msg.Line{msg.L(msg.Strong("【整改清单】"), msg.Text("未销号 "+itoa(total)+" 件"))}
	for _, t := range tallies {
		if t.Total() == 0 {
			continue
		}
		var ages []string
		for _, a := range models.RectifyAges {
			if n := t.ByAge[a]; n > 0 {
				ages = append(ages, a.Chinese()+itoa(n))
			}
		}
		spans := []msg.Span{msg.Text("· " + string(t.Class) + " " + itoa(t.Total()) + " 件（" + strings.Join(ages, "、") + "）")}
		if t.Overdue > 0 {
			spans = append(spans, msg.Text("，"), msg.Bad("超期 "+itoa(t.Overdue)+" 件"))
		}
		lines = append(lines, msg.L(spans...))
	}
	return msg.S(lines...), true
}

// MonthlyPractice is what only the monthly report tells: the units at each
// rung of the ladder, the 剔除件 approved in the month and the 无法整改 items
// reported up.
type MonthlyPractice struct {
	// Rungs holds, per rung in order, the units standing at it.
	Rungs [][]string
	// Exclusions are the 剔除 requests approved in the month.
	Exclusions []models.TicketRequest
	// Deferred are the items standing as 无法整改.
	Deferred []models.Rectification
}

// monthlyPractice reads the rungs as of now, the 剔除件 approved in p and
// the items standing as 无法整改.
func (b *Builder) monthlyPractice(ctx context.Context, p models.Period, now time.Time) (MonthlyPractice, error) {
	var out MonthlyPractice
	dir, err := b.store.Directory(ctx)
	if err != nil {
		return out, err
	}
	latest, err := b.store.LatestAccountability(ctx, now.Add(time.Nanosecond))
	if err != nil {
		return out, err
	}
	out.Rungs = make([][]string, len(models.AccountSteps))
	for _, d := range dir.Departments {
		r, ok := latest[d.ID]
		if !ok {
			continue
		}
		if level := AccountLevel(&r, now, b.cfg.Rules.Accountability, b.cal); level > 0 {
			name := d.Name
			if !r.Held() {
				name += "（待约谈）"
			}
			out.Rungs[level-1] = append(out.Rungs[level-1], name)
		}
	}
	if out.Exclusions, err = b.store.ApprovedRequests(ctx, models.RequestKindExclusion, p); err != nil {
		return out, err
	}
	out.Deferred, err = b.store.ListRectifications(ctx, models.RectifyQuery{States: []models.RectifyState{models.RectifyDeferred}})
	return out, err
}

// With places an evaluation's climbs on their rungs.
func (m *MonthlyPractice) With(e *Evaluation) {
	for _, c := range e.Climbs {
		for i := range m.Rungs {
			m.Rungs[i] = removeName(m.Rungs[i], c.Department.Name)
		}
		name := c.Department.Name
		if c.To == models.AccountInterview {
			name += "（待约谈）"
		}
		m.Rungs[c.To-1] = append(m.Rungs[c.To-1], name)
	}
}

// removeName drops a unit's name (with or without a note) from a list.
func removeName(list []string, name string) []string {
	out := list[:0]
	for _, n := range list {
		if n != name && !strings.HasPrefix(n, name+"（") {
			out = append(out, n)
		}
	}
	return out
}

// sections renders the rungs, the 剔除件 and the 无法整改 items, each when
// it has something.
func (m *MonthlyPractice) sections(now time.Time) []msg.Section {
	var out []msg.Section
	var rungs []msg.Line
	for i, units := range m.Rungs {
		if len(units) > 0 {
			rungs = append(rungs, msg.L(msg.Text("· "+models.AccountSteps[i].Ordinal()+"："), msg.Bad(strings.Join(units, "、"))))
		}
	}
	if len(rungs) > 0 {
		out = append(out, msg.S(append([]msg.Line{msg.L(msg.Strong("【问责台账】"), msg.Text("各级问责单位"))}, rungs...)...))
	}
	if len(m.Exclusions) > 0 {
		lines := []msg.Line{msg.L(msg.Strong("【剔除件】"), msg.Text("本月批准剔除 "+itoa(len(m.Exclusions))+" 件，不计入三率"))}
		lines = append(lines, capped(m.Exclusions, func(r models.TicketRequest) msg.Line {
			unit := ""
			if r.Ticket.Department != nil {
				unit = r.Ticket.Department.Name + " "
			}
			return text("· " + r.Ticket.Number + " " + unit + listTitle(r.Reason))
		}, "件")...)
		out = append(out, msg.S(lines...))
	}
	if len(m.Deferred) > 0 {
		lines := []msg.Line{msg.L(msg.Strong("【无法整改（报上级）】"), msg.Text(itoa(len(m.Deferred))+" 件"))}
		lines = append(lines, capped(m.Deferred, func(r models.Rectification) msg.Line {
			return text(fmt.Sprintf("· %s %s %s：%s（%d天）", r.Code(), r.Department.Name, listTitle(r.Problem), listTitle(r.Reason), int(now.Sub(r.IssuedAt).Hours()/24)))
		}, "件")...)
		out = append(out, msg.S(lines...))
	}
	return out
}
