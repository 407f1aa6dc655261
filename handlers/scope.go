package handlers

import (
	"yanzhen/models"
)

// A command acts within the scope of where it was said: in a work group,
// that group's units (未报 lists them, 排名 ranks them, 超期 and 台账 keep to
// them); in a single chat, the sender's district. Names resolve within the
// district alone, so that a district's people, its admin included, see
// only their district. An installation without groups has one group
// covering everything, wherever a command is said.

// place resolves where the request was said: its work group (nil in a
// single chat of an installation with groups), its scope, the group its
// posts go to, and the directory of its district.
func (h *Handler) place(r *request) error {
	groups, err := r.tx.Groups(r.ctx)
	if err != nil {
		return err
	}
	set := models.NewGroupSet(groups, r.dir.Departments)
	district := r.dir.DistrictOf(r.me)
	r.groups = set
	g := set.ByChat(r.in.ChatID)
	switch {
	case g != nil && r.in.InGroup():
	case !set.Configured():
		// One group for the installation: the sender's district (all of
		// it, in a single district's installation).
		r.group, r.scope, r.post = set.Default(), models.DistrictScope(district, r.dir.Departments), ""
		r.dir = r.dir.Within(district)
		return nil
	default:
		g = nil
	}
	if g != nil {
		r.group, r.scope, r.post = g, set.Scope(g), g.Code
		district = g.District
	} else {
		r.scope = models.DistrictScope(district, r.dir.Departments)
		r.post = set.Default().Code
		for i := range set.Groups {
			if gr := &set.Groups[i]; gr.District == district && set.Top(gr) {
				r.post = gr.Code
			}
		}
	}
	r.dir = r.dir.Within(district)
	return nil
}

// scopeDepartments returns the departments of the request's scope, in the configured order.
func (r *request) scopeDepartments() []models.Department {
	return r.scope.Departments(r.dir.Departments)
}

// scopeName names the request's scope in replies: 全区, or the street whose
// communities the group covers (环海街道).
func (r *request) scopeName() string {
	if p := r.dir.CommonParent(r.scope.Units); p != nil {
		return p.Name
	}
	return "全区"
}
