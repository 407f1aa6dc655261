package handlers

import (
	"fmt"
	"slices"
	"strings"

	"yanzhen/models"
	"yanzhen/report"
)

// A unit's steps on a ticket in chat: 签收 工单号, 反馈 工单号 进展, 办结 工单号
// 结果. They share their words with the steps of a dispatch (签收 D12): the
// argument decides. The responsible unit's members take every step; under
// 双派单 the grid's members may sign and feed back, while 办结 is the
// responsible unit's to report. The store keeps the rules of state (a second
// 签收, a pending claim) and the ladder's reaction (models.Store.StepTicket).

// step runs the step of a dispatch, or of a ticket or an item of the
// rectification list when the command names one.
func step(dispatch models.StepKind, ticket models.TicketChange) func(*Handler, *request) error {
	return func(h *Handler, r *request) error {
		switch {
		case r.cmd.Ticket != "":
			return h.ticketStep(r, ticket)
		case r.cmd.Item != 0:
			return h.itemStep(r, dispatch)
		}
		return h.targetStep(r, dispatch)
	}
}

// stepVerbs name a ticket step in replies and refusals.
var stepVerbs = map[models.TicketChange]string{models.EventSigned: "签收", models.EventFeedback: "反馈", models.EventClaimed: "办结"}

// ticketStep takes a unit's step on the command's ticket and answers with
// what it did and what comes next.
func (h *Handler) ticketStep(r *request, change models.TicketChange) error {
	t, _, err := r.tx.TicketByNumber(r.ctx, r.cmd.Ticket)
	if err != nil {
		return err
	}
	grid, err := mayStep(r, t, change)
	if err != nil {
		return err
	}
	t, err = r.tx.StepTicket(r.ctx, models.TicketStep{Number: t.Number, Change: change, Actor: r.me.UserID, Text: r.cmd.Body, At: r.now, Grid: grid})
	if err != nil {
		return err
	}
	number := t.Number
	switch {
	case grid && change == models.EventSigned:
		r.reply(fmt.Sprintf("已签收工单 %s（属地）。该工单由%s承办，请配合办理，进展请回复“反馈 %s 进展”。", number, departmentLabel(r.dir, *t.DepartmentID), number))
	case grid:
		r.reply(fmt.Sprintf("已记录工单 %s 的属地反馈。", number))
	case change == models.EventSigned:
		reply := fmt.Sprintf("已签收工单 %s。", number)
		switch {
		case t.Overdue(r.now):
			reply += "该工单" + report.Lateness(h.cal, *t.Deadline, r.now) + "，请尽快办结"
		case t.Deadline != nil:
			reply += "请于" + deadlineText(*t.Deadline, r.now) + "前办结"
		default:
			reply += "请及时办结"
		}
		r.reply(reply + fmt.Sprintf("，办结后回复“办结 %s 结果”。", number))
	case change == models.EventFeedback:
		r.reply(fmt.Sprintf("已记录工单 %s 的办理进展。", number))
	case change == models.EventClaimed:
		r.reply(fmt.Sprintf("工单 %s 已报办结，标记为%s，暂停超期提醒。请同时在12345平台办结，以平台数据为准。", number, models.ClaimedStatus))
	}
	return nil
}

// mayStep refuses a step to a sender who does not work the ticket: only the
// members of its unit (of its grid, to sign and feed back) who work tickets.
// grid says the sender takes the step for the grid street (双派单), whose
// 签收 and 反馈 are kept apart from the responsible unit's.
func mayStep(r *request, t *models.Ticket, change models.TicketChange) (grid bool, err error) {
	verb := stepVerbs[change]
	if !slices.Contains(unitRoles, r.me.Role) {
		roles := make([]string, len(unitRoles))
		for i, role := range unitRoles {
			roles[i] = role.Chinese()
		}
		return false, models.Errorf(models.EFORBIDDEN, "仅承办单位的%s可以%s工单", strings.Join(roles, "、"), verb)
	}
	if t.DepartmentID == nil {
		return false, models.Errorf(models.EINVALID, "工单 %s 尚未分派承办单位，不能%s", t.Number, verb)
	}
	mine := departmentIDs(reportDepartments(r.dir, r.me))
	dept := departmentLabel(r.dir, *t.DepartmentID)
	switch {
	case slices.Contains(mine, *t.DepartmentID):
		return false, nil
	case t.GridDepartmentID != nil && slices.Contains(mine, *t.GridDepartmentID):
		if change != models.EventClaimed {
			return true, nil
		}
		return false, models.Errorf(models.EFORBIDDEN, "工单 %s 由%s承办，办结由承办单位报告；%s可以签收、反馈", t.Number, dept, departmentLabel(r.dir, *t.GridDepartmentID))
	}
	return false, models.Errorf(models.EFORBIDDEN, "工单 %s 由%s承办，您不能%s", t.Number, dept, verb)
}
