package handlers

import (
	"fmt"
	"slices"
	"strings"

	"yanzhen/models"
)

// The 退办 chain: a handler applies (申请退办), the head of the applicant's
// department reviews (同意退办 / 驳回退办), a leader decides (批准退办 /
// 驳回退办); only the leader's approval returns the ticket. Approvers name a
// request by its ticket number, or leave it out when exactly one awaits them.

// requestReturn records a request to return a ticket and tells the next approver.
func (h *Handler) requestReturn(r *request) error {
	depts := departmentIDs(reportDepartments(r.dir, r.me))
	req, err := r.tx.RequestReturn(r.ctx, models.ReturnApplication{
		Number: r.cmd.Ticket, DepartmentIDs: depts, By: r.me.UserID, Reason: r.cmd.Body, At: r.now,
		Heads: headOf(r.me, depts),
	})
	if err != nil {
		return err
	}
	dept := departmentLabel(r.dir, req.DepartmentID)
	if req.State == models.ReturnPendingLeader {
		if err := h.askLeaders(r, req); err != nil {
			return err
		}
		r.reply(fmt.Sprintf("已提交工单 %s 的退办申请，待区领导批准。", r.cmd.Ticket))
		return nil
	}
	heads := r.dir.MembersOf(req.DepartmentID, models.RoleHead)
	if len(heads) == 0 {
		return models.Errorf(models.EINVALID, "%s未登记主要负责人，无法审核退办，请联系管理员", dept)
	}
	r.notify(fmt.Sprintf("【退办审核】%s申请退办工单 %s\n理由：%s\n请回复“同意退办 %s”报区领导批准，或“驳回退办 %s 理由”。",
		memberText(r.dir, r.me), r.cmd.Ticket, req.Reason, r.cmd.Ticket, r.cmd.Ticket), heads...)
	r.reply(fmt.Sprintf("已提交工单 %s 的退办申请，待%s主要负责人（%s）审核。", r.cmd.Ticket, dept, names(heads)))
	return nil
}

// askLeaders tells the leaders a request awaits their decision.
func (h *Handler) askLeaders(r *request, req *models.ReturnRequest) error {
	leaders := r.dir.WithRole(models.RoleLeader)
	if len(leaders) == 0 {
		return models.Errorf(models.EINVALID, "未登记区领导，无法审批退办，请联系管理员")
	}
	number := req.Ticket.Number
	// A head's own request was reviewed by the head: say who once.
	reviewed := "，" + personText(r.dir, req.HeadBy) + "已审核同意。"
	if req.HeadBy == req.RequestedBy {
		reviewed = "，并已作为主要负责人审核同意。"
	}
	r.notify(fmt.Sprintf("【退办审批】%s申请退办工单 %s%s\n理由：%s\n请回复“批准退办 %s”，或“驳回退办 %s 理由”。",
		personText(r.dir, req.RequestedBy), number, reviewed, req.Reason, number, number), leaders...)
	return nil
}

// agreeReturn is the head's approval: the request goes to the leaders.
func (h *Handler) agreeReturn(r *request) error {
	req, err := h.decide(r, models.ReturnPendingHead, true)
	if err != nil {
		return err
	}
	if err := h.askLeaders(r, req); err != nil {
		return err
	}
	r.reply(fmt.Sprintf("已同意工单 %s 的退办申请，已报区领导批准。", req.Ticket.Number))
	return nil
}

// approveReturn is a leader's approval: the ticket is returned.
func (h *Handler) approveReturn(r *request) error {
	req, err := h.decide(r, models.ReturnPendingLeader, true)
	if err != nil {
		return err
	}
	number := req.Ticket.Number
	r.notify(fmt.Sprintf("【退办批准】工单 %s 的退办申请已经%s批准，工单已退办。", number, memberText(r.dir, r.me)), h.returnParties(r, req)...)
	r.reply(fmt.Sprintf("已批准工单 %s 退办，工单已标记为%s。", number, models.TicketReturned))
	return nil
}

// rejectReturn refuses a request: at the head's review or at a leader's decision.
func (h *Handler) rejectReturn(r *request) error {
	state := models.ReturnPendingHead
	if r.me.Role == models.RoleLeader {
		state = models.ReturnPendingLeader
	}
	req, err := h.decide(r, state, false)
	if err != nil {
		return err
	}
	number := req.Ticket.Number
	r.notify(fmt.Sprintf("【退办驳回】工单 %s 的退办申请已被%s驳回，请继续办理。\n理由：%s", number, memberText(r.dir, r.me), r.cmd.Body),
		h.returnParties(r, req)...)
	r.reply(fmt.Sprintf("已驳回工单 %s 的退办申请。", number))
	return nil
}

// decide takes the sender's decision, with the command's text as its note, on
// the request they decide in state (see pendingReturn).
func (h *Handler) decide(r *request, state models.ReturnState, approve bool) (*models.ReturnRequest, error) {
	req, err := h.pendingReturn(r, state)
	if err != nil {
		return nil, err
	}
	return r.tx.DecideReturn(r.ctx, models.ReturnDecision{ID: req.ID, State: state, Approve: approve,
		By: r.me.UserID, Note: r.cmd.Body, At: r.now})
}

// returnParties are who hear of a decision: the applicant, and the head who
// reviewed it.
func (h *Handler) returnParties(r *request, req *models.ReturnRequest) []*models.Member {
	return []*models.Member{r.dir.MemberByUserID(req.RequestedBy), r.dir.MemberByUserID(req.HeadBy)}
}

// pendingReturn finds the request the sender decides in state: the one of
// the named ticket, or the only one awaiting them. A head decides only for
// their own department.
func (h *Handler) pendingReturn(r *request, state models.ReturnState) (*models.ReturnRequest, error) {
	var depts []uint
	if state == models.ReturnPendingHead {
		if depts = headOf(r.me, departmentIDs(reportDepartments(r.dir, r.me))); len(depts) == 0 {
			return nil, models.Errorf(models.EFORBIDDEN, "您不是任何单位的主要负责人，不能审核退办")
		}
	}
	var req *models.ReturnRequest
	if r.cmd.Ticket != "" {
		found, err := r.tx.PendingReturn(r.ctx, r.cmd.Ticket)
		if err != nil {
			return nil, err
		}
		req = found
	} else {
		list, err := r.tx.PendingReturns(r.ctx, state, depts...)
		if err != nil {
			return nil, err
		}
		switch len(list) {
		case 0:
			return nil, models.Errorf(models.ENOTFOUND, "没有待您审批的退办申请")
		case 1:
			req = &list[0]
		default:
			numbers := make([]string, len(list))
			for i, q := range list {
				numbers[i] = q.Ticket.Number
			}
			return nil, models.Errorf(models.EINVALID, "有%d件退办申请待您审批：%s。请写明工单号，如：%s %s",
				len(list), strings.Join(numbers, "、"), r.cmd.Name, numbers[0])
		}
	}
	number := req.Ticket.Number
	switch {
	case req.State == models.ReturnPendingHead && state != req.State:
		return nil, models.Errorf(models.EINVALID, "工单 %s 的退办申请尚待%s主要负责人审核", number, departmentLabel(r.dir, req.DepartmentID))
	case req.State == models.ReturnPendingLeader && state != req.State:
		return nil, models.Errorf(models.EINVALID, "工单 %s 的退办申请已经部门审核，待区领导批准", number)
	case state == models.ReturnPendingHead && !slices.Contains(depts, req.DepartmentID):
		return nil, models.Errorf(models.EFORBIDDEN, "仅%s主要负责人可以审核工单 %s 的退办申请", departmentLabel(r.dir, req.DepartmentID), number)
	}
	return req, nil
}

// headOf returns the departments a member heads: the ones they answer for
// (deptIDs, from reportDepartments) when they are a head, else none.
func headOf(m *models.Member, deptIDs []uint) []uint {
	if m.Role != models.RoleHead {
		return nil
	}
	return deptIDs
}

// departmentLabel names a department by ID.
func departmentLabel(dir *models.Directory, id uint) string {
	if d := dir.Department(id); d != nil {
		return d.Name
	}
	return "原单位"
}

// personText names a member by userid, with their department.
func personText(dir *models.Directory, userid string) string {
	if m := dir.MemberByUserID(userid); m != nil {
		return memberText(dir, m)
	}
	return userid
}
