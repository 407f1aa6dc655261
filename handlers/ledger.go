package handlers

import (
	"fmt"
	"strings"

	"yanzhen/models"
	"yanzhen/report"
)

// 台账 单位: the open items a unit answers for at its level of the ledger
// (社区, 街道, 区), each with its age: the tickets it is responsible for
// (and where those were raised to), those raised to it from below (提级),
// its part of the tickets sent to it as the grid street (双派单, with that
// part's 签收 and 反馈), and the dispatches to it; a street's ledger ends
// with a line per community under it.

// ledgerCap is how many items of a kind the ledger lists.
const ledgerCap = 20

// unitLedger answers 台账 [单位]: the named unit's ledger, or the sender's own unit's.
func (h *Handler) unitLedger(r *request) error {
	var dept *models.Department
	if r.cmd.Word != "" {
		d, err := department(r.dir, r.cmd.Word)
		if err != nil {
			return err
		}
		dept = d
	} else if mine := reportDepartments(r.dir, r.me); len(mine) == 1 {
		dept = mine[0]
	} else {
		return models.Errorf(models.EINVALID, "请写明单位，如：%s", "台账 "+firstUnitName(r))
	}
	tickets, err := r.tx.OpenTicketsOf(r.ctx, dept.ID)
	if err != nil {
		return err
	}
	dispatches, err := r.tx.DispatchesFor(r.ctx, 0, []uint{dept.ID})
	if err != nil {
		return err
	}
	var own, raisedAway, raisedHere, grid []string
	for i := range tickets {
		t := &tickets[i]
		line := "· " + t.Number + " " + models.ClipRunes(models.OneLine(t.Title), 21)
		age := "｜受理" + report.Age(h.cal, t.ReceivedAt, r.now)
		if t.Overdue(r.now) {
			age += "，" + report.Lateness(h.cal, *t.Deadline, r.now)
		}
		switch {
		case t.DepartmentID != nil && *t.DepartmentID == dept.ID && t.RaisedLevel != "":
			raisedAway = append(raisedAway, line+"（已提级至"+raisedName(t)+"）"+age+gridNote(t, r))
		case t.DepartmentID != nil && *t.DepartmentID == dept.ID:
			own = append(own, line+age+gridNote(t, r))
		case t.RaisedToID != nil && *t.RaisedToID == dept.ID:
			raisedHere = append(raisedHere, line+"（"+unitName(t.Department)+"）｜提级"+report.Age(h.cal, *t.RaisedAt, r.now)+age)
		default:
			grid = append(grid, line+"（"+unitName(t.Department)+"承办）｜"+gridPart(t, r.now)+age)
		}
	}
	var targets []string
	for _, d := range dispatches {
		for _, t := range d.Targets {
			if t.DepartmentID == nil || *t.DepartmentID != dept.ID || t.Finished() {
				continue
			}
			line := "· " + d.Code() + " " + models.ClipRunes(models.OneLine(d.Instruction), 21) + "（" + string(t.Status) + "）｜下达" + report.Age(h.cal, d.IssuedAt, r.now)
			if d.Overdue(r.now) {
				line += "，" + report.Lateness(h.cal, *d.Deadline, r.now)
			}
			targets = append(targets, line)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "【台账】%s（%s）在办事项", dept.Name, levelOf(dept))
	total := len(own) + len(raisedAway) + len(raisedHere) + len(grid) + len(targets)
	if total == 0 {
		b.WriteString("：无")
	}
	for _, part := range []struct {
		title string
		lines []string
	}{
		{"本级工单", own}, {"已提级的本级工单", raisedAway}, {"下级提级至本级的工单", raisedHere},
		{"属地工单（双派单）", grid}, {"调度", targets},
	} {
		if len(part.lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s %d 件：", part.title, len(part.lines))
		for i, l := range part.lines {
			if i == ledgerCap {
				fmt.Fprintf(&b, "\n……等%d件", len(part.lines))
				break
			}
			b.WriteString("\n" + l)
		}
	}
	if err := h.communityLines(r, dept, &b); err != nil {
		return err
	}
	r.reply(b.String())
	return nil
}

// communityLines ends a street's ledger with a line per community under it:
// how many open tickets, and the age of the oldest.
func (h *Handler) communityLines(r *request, dept *models.Department, b *strings.Builder) error {
	var children []models.Department
	for _, d := range r.dir.Departments {
		if d.ParentID != nil && *d.ParentID == dept.ID {
			children = append(children, d)
		}
	}
	if len(children) == 0 {
		return nil
	}
	ids := make([]uint, len(children))
	for i, c := range children {
		ids[i] = c.ID
	}
	counts, err := r.tx.OpenTicketCounts(r.ctx, ids)
	if err != nil {
		return err
	}
	parts := make([]string, len(children))
	for i, c := range children {
		n := counts[c.ID]
		parts[i] = fmt.Sprintf("%s 在办%d件", c.Name, n.N)
		if n.N > 0 {
			parts[i] += "（最久" + report.Age(h.cal, n.Oldest, r.now) + "）"
		}
	}
	b.WriteString("\n所属社区：" + strings.Join(parts, "、"))
	return nil
}

// gridNote says, on a unit's own ticket sent to a grid street too, where the
// street's part stands.
func gridNote(t *models.Ticket, r *request) string {
	if t.GridDepartment == nil || t.GridDepartmentID == nil || t.DepartmentID == nil || *t.GridDepartmentID == *t.DepartmentID {
		return ""
	}
	return "｜属地" + t.GridDepartment.Name + gridPart(t, r.now)
}

// raisedName names where a ticket was raised to: its street, or 区级.
func raisedName(t *models.Ticket) string {
	if t.RaisedTo != nil {
		return t.RaisedTo.Name
	}
	return "区级"
}

// unitName names a ticket's department, or 未分派.
func unitName(d *models.Department) string {
	if d == nil {
		return "未分派"
	}
	return d.Name
}

// levelOf names a unit's level of the ledger: 社区, 街道 or 区.
func levelOf(d *models.Department) string {
	switch d.Tier {
	case models.TierCommunity:
		return "社区级"
	case models.TierStreet:
		return "街道级"
	}
	return "区级"
}

// firstUnitName is a unit's name for a usage example: the first of the scope's.
func firstUnitName(r *request) string {
	if ds := r.scopeDepartments(); len(ds) > 0 {
		return ds[0].Name
	}
	return "住建局"
}
