package report

import (
	"context"

	"yanzhen/config"
	"yanzhen/models"
)

// A work group's reports cover its units (models.GroupSet): a district's
// group its departments and streets, a street's group its communities. A
// unit whose communities are in another group answers for them in its own
// line: its figures and 三率 take theirs in (a street's line in the
// district's report sums up its communities), and the line says how many of
// them reported. An installation without groups has one group covering
// every unit, and its reports are what they always were.

// For returns the builder of a work group's reports (its code; "" for the
// default group): the daily report, the reminder, the weekly and monthly
// 红黑榜 of its units.
func (b *Builder) For(group string) *Builder {
	c := *b
	c.group = group
	return &c
}

// area is what a group's reports cover.
type area struct {
	// Group is the group; Default marks the installation's default group,
	// which also counts the tickets without a unit.
	Group   *models.Group
	Default bool
	// Top marks the first group of its district: the district's own, whose
	// reports also go to the district's leaders.
	Top   bool
	Scope models.Scope
	Dir   *models.Directory
	// Name is what the reports call the area: the street whose
	// communities the group covers, else the district.
	Name string
	// Depts are the covered units in the configured order.
	Depts []models.Department
	// under maps a covered unit to its children outside the group, whose
	// figures it answers for.
	under map[uint][]uint
}

// area loads the directory and the groups and resolves b's group.
func (b *Builder) area(ctx context.Context) (*area, error) {
	dir, groups, err := b.org(ctx)
	if err != nil {
		return nil, err
	}
	set := models.NewGroupSet(groups, dir.Departments)
	g := set.Of(b.group)
	if g == nil {
		return nil, models.Errorf(models.ENOTFOUND, "没有编码为 %s 的工作群", b.group)
	}
	a := &area{Group: g, Default: g == set.Default(), Top: set.Top(g), Scope: set.Scope(g), Dir: dir}
	a.Depts, a.under = a.Scope.Departments(dir.Departments), underOf(dir, a.Scope)
	a.Name = b.districtName(g.District)
	if p := dir.CommonParent(g.Units); p != nil {
		a.Name = p.Name
	}
	return a, nil
}

// districtName names a district: the configured one for "".
func (b *Builder) districtName(district string) string {
	if district == "" {
		return b.cfg.District.Name
	}
	return district
}

// Wide names the whole area in a summary: 全区, or 全街道 for a street's group.
func (a *area) Wide() string {
	if a.Street() {
		return "全街道"
	}
	return "全区"
}

// Street reports whether the group covers a street's communities.
func (a *area) Street() bool { return a.Dir.CommonParent(a.Group.Units) != nil }

// Covers reports whether a ticket of a unit (nil: none) counts in the
// area: a covered unit's, or one it answers for; the default group's also
// those without a unit.
func (a *area) Covers(dept *uint) bool {
	if dept == nil || a.Dir.Department(*dept) == nil {
		return a.Default
	}
	if a.Scope.Has(*dept) {
		return true
	}
	d := a.Dir.Department(*dept)
	return d.ParentID != nil && a.Scope.Has(*d.ParentID)
}

// Leaders returns the leaders of the area's district.
func (a *area) Leaders() []*models.Member {
	var out []*models.Member
	for _, m := range a.Dir.WithRole(models.RoleLeader) {
		if a.Dir.DistrictOf(m) == a.Group.District {
			out = append(out, m)
		}
	}
	return out
}

// filter returns the units whose tickets the area's figures count — its
// units and the communities they answer for — for the store's queries to
// count those only; the default group's also the tickets without a unit
// (models.NoUnit); nil for a group that covers every unit.
func (a *area) filter() []uint {
	if a.Scope.Whole {
		return nil
	}
	units := append([]uint{}, a.Scope.Units...)
	for _, ids := range a.under {
		units = append(units, ids...)
	}
	if a.Default {
		units = append(units, models.NoUnit)
	}
	return units
}

// Under returns the units a covered unit answers for besides itself.
func (a *area) Under(id uint) []uint { return a.under[id] }

// groupKey is the dedupe key of a group's message of a day: prefix/day for
// the group of a single-group installation (as always), prefix/code/day
// otherwise.
func groupKey(prefix, group, day string) string {
	if group == "" {
		return prefix + "/" + day
	}
	return prefix + "/" + group + "/" + day
}

// ledger returns the figures of the covered units, each with its children
// outside the group taken in; the default group keeps the tickets without
// a unit (key 0).
func (a *area) ledger(all models.Ledger) models.Ledger {
	out := make(models.Ledger, len(a.Depts)+1)
	for _, d := range a.Depts {
		r := all[d.ID]
		for _, c := range a.under[d.ID] {
			r = r.Add(all[c])
		}
		if r != (models.LedgerRow{}) {
			out[d.ID] = r
		}
	}
	if a.Default {
		for id, r := range all {
			if id == 0 || a.Dir.Department(id) == nil {
				out[0] = out[0].Add(r)
			}
		}
	}
	return out
}

// underOf maps each unit of a scope to its children outside it, whose
// figures it answers for.
func underOf(dir *models.Directory, scope models.Scope) map[uint][]uint {
	out := map[uint][]uint{}
	for _, d := range dir.Departments {
		if d.ParentID != nil && scope.Has(*d.ParentID) && !scope.Has(d.ID) {
			out[*d.ParentID] = append(out[*d.ParentID], d.ID)
		}
	}
	return out
}

// scoreBoard returns the score board of period of the area's units
// (ScopeBoard), read of the units it counts (filter).
func (b *Builder) scoreBoard(ctx context.Context, a *area, period models.Period) (*models.ScoreBoard, error) {
	w := Weights(b.cfg.Rules.Scores)
	all, err := b.store.ScoreBoardIn(ctx, a.filter(), period, w)
	if err != nil {
		return nil, err
	}
	return ScopeBoard(all, a.Dir, a.Scope, a.Default, w), nil
}

// ScopeBoard returns the score board of a scope's units, in the configured
// order, each with its children outside the scope taken in (a street's
// communities when the scope is the district's group); its district line
// sums them, and with orphans the tickets without a unit too (the default
// group's, or a Whole scope's). The daily report, the 红黑榜 and the chat's
// 排名 in a group rank it.
func ScopeBoard(all *models.ScoreBoard, dir *models.Directory, scope models.Scope, orphans bool, w models.Weights) *models.ScoreBoard {
	under := underOf(dir, scope)
	counts := make(map[uint]models.ScoreCounts, len(all.Departments))
	var units models.ScoreCounts
	for _, s := range all.Departments {
		counts[s.Department.ID] = s.Counts
		units = units.Add(s.Counts)
	}
	out := &models.ScoreBoard{Period: all.Period}
	var sum models.ScoreCounts
	for _, d := range scope.Departments(dir.Departments) {
		c := counts[d.ID]
		for _, id := range under[d.ID] {
			c = c.Add(counts[id])
		}
		sum = sum.Add(c)
		out.Departments = append(out.Departments, models.DepartmentScore{Department: d, Counts: c, Rates: c.Rates(w)})
	}
	if orphans || scope.Whole {
		sum = sum.Add(all.District.Counts.Sub(units))
	}
	out.District = models.DepartmentScore{Counts: sum, Rates: sum.Rates(w)}
	return out
}

// Schedule returns a work group's schedule: the configured one with the
// group's own report and reminder times (Group.ReportAt, RemindAt) where it
// has them. Times that do not read as HH:MM were refused at import; they
// leave the configured time.
func Schedule(s config.Schedule, g *models.Group) config.Schedule {
	if g == nil {
		return s
	}
	if c, err := config.ParseClock(g.ReportAt); err == nil {
		s.ReportAt = c
	}
	if c, err := config.ParseClock(g.RemindAt); err == nil {
		s.RemindAt = c
	}
	return s
}
