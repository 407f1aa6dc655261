package jobs

import (
	"context"
	"sort"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/report"
)

// The escalation ladder of rules.escalation (DESIGN §5) as it stands at a
// time: every open ticket and dispatch with the highest step whose time
// (deadline + step.at) has come. The overdue scan tells of the steps reached
// since it last looked; the morning roll-up tells the group what stands.

// InHours reports whether t's wall clock is within the working hours of rules.
func InHours(t time.Time, rules config.Rules) bool {
	m := t.Hour()*60 + t.Minute()
	return rules.WorkStart.Minutes() <= m && m < rules.WorkEnd.Minutes()
}

// stepTime returns when a step of the ladder comes for a deadline.
func stepTime(cal *calendar.Calendar, s config.Step, deadline time.Time) time.Time {
	return addSpan(cal, deadline, s.At)
}

// addSpan returns t moved by a span on the calendar.
func addSpan(cal *calendar.Calendar, t time.Time, s config.Span) time.Time {
	switch s.Unit {
	case config.Workdays:
		return cal.AddWorkdays(t, s.N)
	case config.Days:
		return t.AddDate(0, 0, s.N)
	}
	return t.Add(time.Duration(s.N) * time.Hour)
}

// Reached returns the index of the highest step of the ladder whose time has
// come at now for deadline, or -1 when none has.
func Reached(cal *calendar.Calendar, ladder []config.Step, deadline, now time.Time) int {
	level := -1
	for i, s := range ladder {
		if !stepTime(cal, s, deadline).After(now) {
			level = i
		}
	}
	return level
}

// ReachedOn returns Reached on a calendar and a ladder, as a function of the
// deadline and the time (what handlers.Options.Reached takes).
func ReachedOn(cal *calendar.Calendar, ladder []config.Step) func(deadline, now time.Time) int {
	return func(deadline, now time.Time) int { return Reached(cal, ladder, deadline, now) }
}

// horizon returns a time no earlier than the latest deadline for which the
// first step of the ladder can have come at now: subjects due later need no look.
func horizon(cal *calendar.Calendar, ladder []config.Step, now time.Time) time.Time {
	h := now
	for _, s := range ladder {
		if s.At.N >= 0 {
			continue
		}
		// The step's offset turned forward from now, with a day's slack for
		// working days, which do not count back exactly as they count on.
		ahead := s
		ahead.At.N = -s.At.N
		t := stepTime(cal, ahead, now)
		if s.At.Unit == config.Workdays {
			t = t.Add(24 * time.Hour)
		}
		if t.After(h) {
			h = t
		}
	}
	return h
}

// unitRef places an item in a unit (dept 0: members addressed without
// one), with the people to @ and to warn for this subject.
type unitRef struct {
	dept            uint
	heads, handlers []*models.Member
}

// standing is one open subject at the level of the ladder it has reached,
// as the view visits it: alerts are only valid during the visit.
type standing struct {
	subject models.AlertSubject
	id      uint
	level   int  // index in the ladder
	dept    uint // a ticket's department, recorded on its alerts; 0 for none
	item    report.Item
	targets []unitRef // the units that answer for it
	alerts  []models.Alert
}

// ladderView is the ladder at one time: what stands open at each level the
// group hears of, and the overdue tickets nobody answers for. It holds no
// list of the subjects: viewLadder shows each to a visitor in turn.
type ladderView struct {
	dir    *models.Directory
	groups *models.GroupSet
	ladder []config.Step
	now    time.Time
	cal    *calendar.Calendar
	visit  func(*standing)
	// open holds each unit's open items at each level the group hears of:
	// their count and the most overdue (report.UnitLevel.Add).
	open map[unitLevel]*report.UnitLevel
	// orphans counts the overdue tickets without a department: nobody
	// answers for them, and the nightly digest counts them.
	orphans int
	// units caches the unitRef of each unit, the target of its tickets.
	units map[uint][]unitRef
	// own and grid hold the alerts of the ticket being visited.
	own, grid []models.Alert
}

// viewLadder reads the open tickets, dispatches and items of the
// rectification list (overdue_rectify.go) and where each stands on the
// ladder at now, and shows visit each that reached a step. Resolved
// tickets, tickets whose claimed 办结 awaits the platform (the store leaves
// them out), closed dispatches and dispatch targets that answered (反馈,
// 办结, 退回) are not on it. The tickets are streamed: a city's are never
// held at once. visit may be nil.
func viewLadder(ctx context.Context, e *Env, now time.Time, visit func(*standing)) (*ladderView, error) {
	v := &ladderView{ladder: e.Config.Rules.Escalation, now: now, cal: e.Calendar, visit: visit,
		open: map[unitLevel]*report.UnitLevel{}, units: map[uint][]unitRef{}}
	var err error
	if v.dir, err = e.Store.Directory(ctx); err != nil {
		return nil, err
	}
	groups, err := e.Store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	v.groups = models.NewGroupSet(groups, v.dir.Departments)
	until := horizon(e.Calendar, v.ladder, now)
	if err := e.Store.EachOpenTicketDue(ctx, until, v.ticket); err != nil {
		return nil, err
	}
	items, err := e.Store.OpenRectificationsDue(ctx, until)
	if err != nil {
		return nil, err
	}
	if err := v.rectifications(ctx, e, items); err != nil {
		return nil, err
	}
	dispatches, err := e.Store.OpenDispatchesDue(ctx, until)
	if err != nil {
		return nil, err
	}
	return v, v.dispatches(ctx, e, dispatches)
}

// add shows a subject to the visitor and counts it among the open items
// when it reached a step at its deadline.
func (v *ladderView) add(s standing, deadline time.Time) {
	level := Reached(v.cal, v.ladder, deadline, v.now)
	if level < 0 {
		return
	}
	s.level = level
	s.item.Deadline, s.item.Level, s.item.Step = deadline, level, v.ladder[level]
	v.count(&s)
	if v.visit != nil {
		v.visit(&s)
	}
}

// ticket puts a ticket on the view as its responsible unit's, and a ticket
// sent to a grid street too (双派单) also as the street's part, a subject
// of its own (SubjectGrid) that the street is alerted of and acknowledges
// on its own, until the responsible unit finishes.
func (v *ladderView) ticket(t *models.DueTicket) error {
	if t.DepartmentID == 0 {
		if models.Overdue(&t.Deadline, v.now) {
			v.orphans++
		}
		return nil
	}
	own, grid := v.own[:0], v.grid[:0]
	for _, a := range t.Alerts {
		if a.SubjectKind == models.SubjectGrid {
			grid = append(grid, a)
		} else {
			own = append(own, a)
		}
	}
	v.own, v.grid = own, grid
	v.add(standing{
		subject: models.SubjectTicket, id: t.ID, dept: t.DepartmentID, alerts: own,
		item: report.Item{Label: "工单" + t.Number, Title: t.Title}, targets: v.unitRefs(t.DepartmentID),
	}, t.Deadline)
	if t.GridDeptID != 0 && t.GridDeptID != t.DepartmentID {
		v.add(standing{
			subject: models.SubjectGrid, id: t.ID, dept: t.GridDeptID, alerts: grid,
			item: report.Item{Label: "工单" + t.Number + "（属地）", Title: t.Title}, targets: v.unitRefs(t.GridDeptID),
		}, t.Deadline)
	}
	return nil
}

// unitRefs is the one unit that answers for a subject of the unit dept,
// shared by all of them.
func (v *ladderView) unitRefs(dept uint) []unitRef {
	refs, ok := v.units[dept]
	if !ok {
		refs = []unitRef{v.unitRef(dept)}
		v.units[dept] = refs
	}
	return refs
}

// unitRef is a unit with the people who hear of its items.
func (v *ladderView) unitRef(dept uint) unitRef {
	return unitRef{dept: dept, heads: v.dir.Responsible(dept), handlers: v.dir.MembersOf(dept, models.RoleHandler)}
}

// home returns the code of the work group a unit's items are told in
// (dept 0, members addressed without a unit: the default group).
func (v *ladderView) home(dept uint) string {
	if dept == 0 {
		return v.groups.Default().Code
	}
	return v.groups.Home(dept)
}

func (v *ladderView) dispatches(ctx context.Context, e *Env, dispatches []models.Dispatch) error {
	ids := make([]uint, len(dispatches))
	for i, d := range dispatches {
		ids[i] = d.ID
	}
	alerts, err := e.Store.AlertsOf(ctx, models.SubjectDispatch, ids)
	if err != nil {
		return err
	}
	for _, d := range dispatches {
		var refs []unitRef
		for i := range d.Targets {
			t := &d.Targets[i]
			switch {
			case report.Answered(t):
			case t.DepartmentID != nil:
				refs = append(refs, unitRef{dept: *t.DepartmentID, heads: v.dir.Responsible(*t.DepartmentID)})
			case t.MemberID != nil && v.dir.Member(*t.MemberID) != nil:
				m := v.dir.Member(*t.MemberID)
				var dept uint
				if m.DepartmentID != nil {
					dept = *m.DepartmentID
				}
				refs = append(refs, unitRef{dept: dept, heads: []*models.Member{m}, handlers: []*models.Member{m}})
			}
		}
		if len(refs) == 0 {
			continue
		}
		item := report.Item{Label: "调度" + d.Code(), Title: d.Instruction}
		if issuer := v.dir.Member(d.IssuerID); issuer != nil {
			item.Also = []string{issuer.UserID}
		}
		v.add(standing{subject: models.SubjectDispatch, id: d.ID, alerts: alerts[d.ID], item: item, targets: refs}, *d.Deadline)
	}
	return nil
}

// unitLevel keys a unit's open items at one level of the ladder.
type unitLevel struct {
	dept  uint
	level models.AlertLevel
}

// grouped reports whether the group hears of a step: the steps that notify
// the head, the leaders or the group; the handler's warning is theirs alone.
func grouped(s config.Step) bool { return s.Notify != config.NotifyHandler }

// count counts a subject among its units' open items at its level, when
// the group hears of the level.
func (v *ladderView) count(s *standing) {
	step := v.ladder[s.level]
	if !grouped(step) {
		return
	}
	var counted map[uint]bool // a dispatch to a unit and to one of its members counts once
	if len(s.targets) > 1 {
		counted = map[uint]bool{}
	}
	for _, ref := range s.targets {
		k := unitLevel{ref.dept, models.AlertLevel(step.Level)}
		u := v.open[k]
		if u == nil {
			u = &report.UnitLevel{Key: ref.dept, Name: v.unitName(ref.dept)}
			v.open[k] = u
		}
		u.Heads = addMembers(u.Heads, ref.heads)
		if !counted[ref.dept] {
			if counted != nil {
				counted[ref.dept] = true
			}
			u.Add(s.item)
		}
	}
}

// byLevel arranges units' open items by level, the most severe level first,
// the units of a level in the configured order (members without a unit last);
// keep says which to take.
func (v *ladderView) byLevel(units map[unitLevel]*report.UnitLevel, keep func(unitLevel) bool) []report.LevelUnits {
	var out []report.LevelUnits
	for i := len(v.ladder) - 1; i >= 0; i-- {
		step := v.ladder[i]
		lv := report.LevelUnits{Step: step}
		for _, dept := range v.unitOrder() {
			k := unitLevel{dept, models.AlertLevel(step.Level)}
			if u := units[k]; u != nil && keep(k) {
				lv.Units = append(lv.Units, *u)
			}
		}
		if len(lv.Units) > 0 {
			out = append(out, lv)
		}
	}
	return out
}

// unitOrder lists the unit keys in the configured order, 0 last.
func (v *ladderView) unitOrder() []uint {
	out := make([]uint, 0, len(v.dir.Departments)+1)
	for _, d := range v.dir.Departments {
		out = append(out, d.ID)
	}
	return append(out, 0)
}

// unitName names a unit key: its department's name, or 其他.
func (v *ladderView) unitName(dept uint) string {
	if d := v.dir.Department(dept); d != nil {
		return d.Name
	}
	return "其他"
}

// addMembers appends the members of more not already in list.
func addMembers(list, more []*models.Member) []*models.Member {
	for _, m := range more {
		found := false
		for _, x := range list {
			found = found || x.ID == m.ID
		}
		if !found {
			list = append(list, m)
		}
	}
	return list
}

// keysOf returns the set of keys of units.
func keysOf(units map[unitLevel]*report.UnitLevel) map[unitLevel]bool {
	out := make(map[unitLevel]bool, len(units))
	for k := range units {
		out[k] = true
	}
	return out
}

// sortedKeys returns the keys of a set of unit levels in a fixed order.
func sortedKeys(set map[unitLevel]bool) []unitLevel {
	out := make([]unitLevel, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].dept != out[j].dept {
			return out[i].dept < out[j].dept
		}
		return out[i].level < out[j].level
	})
	return out
}
