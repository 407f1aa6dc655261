package models

import (
	"context"
	"slices"
)

// GroupSet is the work groups of an installation as a whole: where each
// unit's business goes (its home group) and which group a chat is. A unit
// listed in a group's units is that group's; a unit listed in none belongs
// to the first group of its district, else to the first group. An
// installation without groups (configured in wecom.robot alone) has one
// group, with Code "", covering every unit: msg.ToGroup("") reaches it.
type GroupSet struct {
	// Groups are the groups in the configured order.
	Groups []Group

	implicit bool     // no group is configured: Groups holds the one implicit group
	units    [][]uint // the units each group covers, listed or homed, in the configured order
	home     map[uint]int
	byCode   map[string]int
	byChat   map[string]int
}

// GroupSet loads the groups and the departments and resolves them.
func (s *Store) GroupSet(ctx context.Context) (*GroupSet, error) {
	groups, err := s.Groups(ctx)
	if err != nil {
		return nil, err
	}
	depts, err := s.Departments(ctx)
	if err != nil {
		return nil, err
	}
	return NewGroupSet(groups, depts), nil
}

// NewGroupSet resolves groups over the departments depts (in the configured order).
func NewGroupSet(groups []Group, depts []Department) *GroupSet {
	implicit := len(groups) == 0
	if implicit {
		groups = []Group{{}}
	}
	g := &GroupSet{Groups: groups, implicit: implicit, units: make([][]uint, len(groups)), home: map[uint]int{}, byCode: map[string]int{}, byChat: map[string]int{}}
	for i, gr := range groups {
		g.byCode[gr.Code] = i
		if gr.ChatID != "" {
			g.byChat[gr.ChatID] = i
		}
		for _, id := range gr.Units {
			g.home[id] = i
		}
	}
	firstOf := map[string]int{}
	for i := len(groups) - 1; i >= 0; i-- {
		firstOf[groups[i].District] = i
	}
	for _, d := range depts {
		i, ok := g.home[d.ID]
		if !ok {
			if i, ok = firstOf[d.District]; !ok {
				i = 0
			}
			g.home[d.ID] = i
		}
		g.units[i] = append(g.units[i], d.ID)
	}
	return g
}

// Default returns the installation's default group: the first.
func (g *GroupSet) Default() *Group { return &g.Groups[0] }

// Top reports whether gr is the first group of its district: the district's
// own, which hears what goes to the district as a whole.
func (g *GroupSet) Top(gr *Group) bool {
	for i := range g.Groups {
		if g.Groups[i].District == gr.District {
			return &g.Groups[i] == gr
		}
	}
	return false
}

// Of returns the group with a code, or nil; "" is the default group.
func (g *GroupSet) Of(code string) *Group {
	if code == "" {
		return g.Default()
	}
	if i, ok := g.byCode[code]; ok {
		return &g.Groups[i]
	}
	return nil
}

// ByChat returns the group whose chat is chatID, or nil.
func (g *GroupSet) ByChat(chatID string) *Group {
	if i, ok := g.byChat[chatID]; ok && chatID != "" {
		return &g.Groups[i]
	}
	return nil
}

// Home returns the code of the group a unit belongs to.
func (g *GroupSet) Home(deptID uint) string {
	if i, ok := g.home[deptID]; ok {
		return g.Groups[i].Code
	}
	return g.Default().Code
}

// Units returns the units the group with a code covers, listed or homed, in
// the configured order; nil for an unknown code.
func (g *GroupSet) Units(code string) []uint {
	if code == "" {
		return g.units[0]
	}
	if i, ok := g.byCode[code]; ok {
		return g.units[i]
	}
	return nil
}

// Scope returns what a command in the group covers.
func (g *GroupSet) Scope(gr *Group) Scope {
	s := NewScope(gr.Code, gr.District, g.Units(gr.Code))
	s.Whole = g.implicit
	return s
}

// Configured reports whether any group is configured (else the installation
// has the one implicit group).
func (g *GroupSet) Configured() bool { return !g.implicit }

// Scope is what a command, a report or a ledger covers: the units of a work
// group, or of a district. Units are in the configured order.
type Scope struct {
	// Group is the work group's code; "" for the default group, or for a
	// district's scope outside any group (a single chat).
	Group    string
	District string
	Units    []uint
	// Whole marks the scope of every unit of the installation (one group,
	// or one district): it also covers the tickets without a unit, and
	// queries need no filter.
	Whole bool
	set   map[uint]bool
}

// Filter returns the units a query is limited to: nil for a Whole scope.
func (s Scope) Filter() []uint {
	if s.Whole {
		return nil
	}
	return append([]uint{}, s.Units...)
}

// NewScope returns the scope of units.
func NewScope(group, district string, units []uint) Scope {
	set := make(map[uint]bool, len(units))
	for _, id := range units {
		set[id] = true
	}
	return Scope{Group: group, District: district, Units: units, set: set}
}

// DistrictScope returns the scope of every department of a district; it is
// Whole when every department is the district's.
func DistrictScope(district string, depts []Department) Scope {
	var units []uint
	for _, d := range depts {
		if d.District == district {
			units = append(units, d.ID)
		}
	}
	s := NewScope("", district, units)
	s.Whole = len(units) == len(depts)
	return s
}

// Within returns the directory of one district: its departments, and the
// members who belong to it (DistrictOf). Names resolve within it only.
func (d *Directory) Within(district string) *Directory {
	var depts []Department
	for _, dep := range d.Departments {
		if dep.District == district {
			depts = append(depts, dep)
		}
	}
	if len(depts) == len(d.Departments) {
		return d
	}
	var members []Member
	for i := range d.Members {
		if d.DistrictOf(&d.Members[i]) == district {
			members = append(members, d.Members[i])
		}
	}
	return NewDirectory(depts, members)
}

// Has reports whether the scope covers a unit.
func (s Scope) Has(deptID uint) bool { return s.set[deptID] }

// Departments returns the departments of depts the scope covers, in their order.
func (s Scope) Departments(depts []Department) []Department {
	return slices.DeleteFunc(slices.Clone(depts), func(d Department) bool { return !s.set[d.ID] })
}

// DistrictOf returns the district a member belongs to: their own, else their
// department's ("" for the configured district).
func (d *Directory) DistrictOf(m *Member) string {
	if m.District != "" || m.DepartmentID == nil {
		return m.District
	}
	if dep := d.Department(*m.DepartmentID); dep != nil {
		return dep.District
	}
	return ""
}

// CommonParent returns the unit that every one of units has as its parent
// (the street whose communities make up a street's group), or nil when they
// do not all share one.
func (d *Directory) CommonParent(units []uint) *Department {
	var parent *uint
	for i, id := range units {
		u := d.Department(id)
		if u == nil || u.ParentID == nil || (i > 0 && *u.ParentID != *parent) {
			return nil
		}
		parent = u.ParentID
	}
	if parent == nil {
		return nil
	}
	return d.Department(*parent)
}
