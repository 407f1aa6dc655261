package handlers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"yanzhen/handlers/timephrase"
	"yanzhen/models"
)

// The approval chains of requests about a ticket, 退办 and 延期 alike: a
// member of the unit applies (申请退办 / 申请延期), the unit's head reviews
// (同意… / 驳回…), a leader decides (批准… / 驳回…); only the leader's
// approval takes effect, and the 12345 office hears every decision.
// Approvers name a request by its ticket number, or leave it out when exactly
// one awaits them.

// chain is one kind of request as chat knows it. Its commands are the kind's
// name after 申请, 同意, 驳回 and 批准.
type chain struct {
	kind models.RequestKind
}

var (
	returns    = chain{models.RequestKindReturn}
	extensions = chain{models.RequestKindExtension}
)

// name is the kind's name: 退办, 延期.
func (c chain) name() string { return c.kind.Chinese() }

// asked writes what a request asks beyond its kind: for a 延期 the deadline
// asked for and the one it replaces.
func (c chain) asked(req *models.TicketRequest, now time.Time) string {
	if c.kind != models.RequestKindExtension || req.ExtendTo == nil {
		return ""
	}
	s := "至" + deadlineText(*req.ExtendTo, now)
	if req.Ticket != nil && req.Ticket.Deadline != nil {
		s += "（原期限" + deadlineText(*req.Ticket.Deadline, now) + "）"
	}
	return s
}

// granted says what an approved request did to its ticket.
func (c chain) granted(req *models.TicketRequest, now time.Time) string {
	if c.kind == models.RequestKindExtension {
		return "期限延至" + deadlineText(*req.Ticket.Deadline, now)
	}
	return "工单" + string(models.TicketReturned)
}

// goOn tells the applicant what to do after a refusal.
func (c chain) goOn(req *models.TicketRequest, now time.Time) string {
	if c.kind == models.RequestKindExtension && req.Ticket.Deadline != nil {
		return "请于原期限" + deadlineText(*req.Ticket.Deadline, now) + "前办结"
	}
	return "请继续办理"
}

// apply records a request and tells the next approver: the unit's head, or
// the leaders when the applicant is the head.
func (c chain) apply(h *Handler, r *request) error {
	a := models.TicketApplication{Kind: c.kind, Number: r.cmd.Ticket, By: r.me.UserID, Reason: r.cmd.Body, At: r.now}
	if c.kind == models.RequestKindExtension {
		to, reason, err := h.extensionArgs(r)
		if err != nil {
			return err
		}
		a.ExtendTo, a.Reason = &to, reason
	}
	a.DepartmentIDs = departmentIDs(reportDepartments(r.dir, r.me))
	a.Heads = headOf(r.me, a.DepartmentIDs)
	req, err := r.tx.SubmitRequest(r.ctx, a)
	if err != nil {
		return err
	}
	number, name, asked := req.Ticket.Number, c.name(), c.asked(req, r.now)
	if req.State == models.RequestPendingLeader {
		if err := c.askLeaders(r, req); err != nil {
			return err
		}
		r.reply(fmt.Sprintf("已提交工单 %s 的%s申请%s，待区领导批准。", number, name, asked))
		return nil
	}
	dept := departmentLabel(r.dir, req.DepartmentID)
	heads := r.dir.MembersOf(req.DepartmentID, models.RoleHead)
	if len(heads) == 0 {
		return models.Errorf(models.EINVALID, "%s未登记主要负责人，无法审核%s，请联系管理员", dept, name)
	}
	r.notify(fmt.Sprintf("【%s审核】%s申请%s工单 %s%s\n理由：%s\n请回复“同意%s %s”报区领导批准，或“驳回%s %s 理由”。",
		name, memberText(r.dir, r.me), name, number, spaced(asked), req.Reason, name, number, name, number), heads...)
	r.reply(fmt.Sprintf("已提交工单 %s 的%s申请%s，待%s主要负责人（%s）审核。", number, name, asked, dept, names(heads)))
	return nil
}

// extensionArgs reads 申请延期's arguments after the ticket number: the
// deadline asked for, in the words of a dispatch's deadline (12月5日,
// 下周五下班前, 3个工作日内), and the reason, as the sender wrote it.
func (h *Handler) extensionArgs(r *request) (time.Time, string, error) {
	res, err := h.phrases.Find(r.cmd.Word, r.now)
	var perr *timephrase.Error
	switch {
	case errors.As(err, &perr):
		return time.Time{}, "", models.Errorf(models.EINVALID, "%s，延期申请未提交。请修改期限后重新发送", perr.Error())
	case err != nil:
		return time.Time{}, "", fmt.Errorf("handlers: read extension date: %w", err)
	case !res.Found:
		return time.Time{}, "", models.Errorf(models.EINVALID, "请写明延期后的期限，如：申请延期 %s 12月5日 需协调供电部门", r.cmd.Ticket)
	}
	reason := strings.Trim(res.Rest, " ,.;:、。")
	if reason == "" {
		return time.Time{}, "", models.Errorf(models.EINVALID, "请说明延期理由，如：申请延期 %s 12月5日 需协调供电部门", r.cmd.Ticket)
	}
	return res.Deadline, r.cmd.original(reason), nil
}

// askLeaders tells the leaders a request awaits their decision.
func (c chain) askLeaders(r *request, req *models.TicketRequest) error {
	name := c.name()
	leaders := r.dir.WithRole(models.RoleLeader)
	if len(leaders) == 0 {
		return models.Errorf(models.EINVALID, "未登记区领导，无法审批%s，请联系管理员", name)
	}
	number, asked := req.Ticket.Number, spaced(c.asked(req, r.now))
	var who string
	if req.HeadBy == req.RequestedBy {
		who = fmt.Sprintf("%s主要负责人%s申请%s工单 %s%s", departmentLabel(r.dir, req.DepartmentID), personName(r.dir, req.RequestedBy), name, number, asked)
	} else {
		who = fmt.Sprintf("%s申请%s工单 %s%s，%s已审核同意", personText(r.dir, req.RequestedBy), name, number, asked, personText(r.dir, req.HeadBy))
	}
	r.notify(fmt.Sprintf("【%s审批】%s。\n理由：%s\n请回复“批准%s %s”，或“驳回%s %s 理由”。", name, who, req.Reason, name, number, name, number), leaders...)
	return nil
}

// agree is the head's approval: the request goes to the leaders.
func (c chain) agree(h *Handler, r *request) error {
	req, err := c.decide(r, models.RequestPendingHead, true)
	if err != nil {
		return err
	}
	if err := c.askLeaders(r, req); err != nil {
		return err
	}
	r.reply(fmt.Sprintf("已同意工单 %s 的%s申请，已报区领导批准。", req.Ticket.Number, c.name()))
	return nil
}

// approve is a leader's approval: the request takes effect. An extension
// also clears the ticket's alerts of the ladder's steps the new deadline has
// not reached, so that the ladder starts again from it.
func (c chain) approve(h *Handler, r *request) error {
	req, err := c.decide(r, models.RequestPendingLeader, true)
	if err != nil {
		return err
	}
	if c.kind == models.RequestKindExtension {
		if _, err := r.tx.ClearAlerts(r.ctx, models.SubjectTicket, req.TicketID, h.unreached(*req.Ticket.Deadline, r.now)); err != nil {
			return err
		}
	}
	number, name, granted := req.Ticket.Number, c.name(), c.granted(req, r.now)
	r.notify(fmt.Sprintf("【%s批准】工单 %s 的%s申请已经%s批准，%s。", name, number, name, memberText(r.dir, r.me), granted), c.parties(r, req)...)
	r.reply(fmt.Sprintf("已批准工单 %s %s，%s。", number, name, granted))
	return nil
}

// reject refuses a request: at the head's review or at a leader's decision.
func (c chain) reject(h *Handler, r *request) error {
	state := models.RequestPendingHead
	if r.me.Role == models.RoleLeader {
		state = models.RequestPendingLeader
	}
	req, err := c.decide(r, state, false)
	if err != nil {
		return err
	}
	number, name := req.Ticket.Number, c.name()
	r.notify(fmt.Sprintf("【%s驳回】工单 %s 的%s申请已被%s驳回，%s。\n理由：%s", name, number, name, memberText(r.dir, r.me), c.goOn(req, r.now), r.cmd.Body),
		c.parties(r, req)...)
	r.reply(fmt.Sprintf("已驳回工单 %s 的%s申请。", number, name))
	return nil
}

// decide takes the sender's decision, with the command's text as its note, on
// the request they decide in state (see pending).
func (c chain) decide(r *request, state models.RequestState, approve bool) (*models.TicketRequest, error) {
	req, err := c.pending(r, state)
	if err != nil {
		return nil, err
	}
	return r.tx.DecideRequest(r.ctx, models.RequestDecision{ID: req.ID, State: state, Approve: approve,
		By: r.me.UserID, Note: r.cmd.Body, At: r.now})
}

// parties are who hear of a decision: the applicant, the head who reviewed
// the request, and the 12345 office.
func (c chain) parties(r *request, req *models.TicketRequest) []*models.Member {
	return append([]*models.Member{r.dir.MemberByUserID(req.RequestedBy), r.dir.MemberByUserID(req.HeadBy)},
		r.dir.WithRole(models.RoleHotline)...)
}

// pending finds the request the sender decides in state: the one of the
// named ticket, or the only one awaiting them. A head decides only for their
// own unit.
func (c chain) pending(r *request, state models.RequestState) (*models.TicketRequest, error) {
	name := c.name()
	var depts []uint
	if state == models.RequestPendingHead {
		if depts = headOf(r.me, departmentIDs(reportDepartments(r.dir, r.me))); len(depts) == 0 {
			return nil, models.Errorf(models.EFORBIDDEN, "您不是任何单位的主要负责人，不能审核%s", name)
		}
	}
	var req *models.TicketRequest
	if r.cmd.Ticket != "" {
		found, err := r.tx.PendingRequest(r.ctx, c.kind, r.cmd.Ticket)
		if err != nil {
			return nil, err
		}
		req = found
	} else {
		list, err := r.tx.PendingRequests(r.ctx, c.kind, state, depts...)
		if err != nil {
			return nil, err
		}
		switch len(list) {
		case 0:
			return nil, models.Errorf(models.ENOTFOUND, "没有待您审批的%s申请", name)
		case 1:
			req = &list[0]
		default:
			numbers := make([]string, len(list))
			for i, q := range list {
				numbers[i] = q.Ticket.Number
			}
			return nil, models.Errorf(models.EINVALID, "有%d件%s申请待您审批：%s。请写明工单号，如：%s %s",
				len(list), name, strings.Join(numbers, "、"), r.cmd.Name, numbers[0])
		}
	}
	number := req.Ticket.Number
	switch {
	case req.State == models.RequestPendingHead && state != req.State:
		return nil, models.Errorf(models.EINVALID, "工单 %s 的%s申请尚待%s主要负责人审核", number, name, departmentLabel(r.dir, req.DepartmentID))
	case req.State == models.RequestPendingLeader && state != req.State:
		return nil, models.Errorf(models.EINVALID, "工单 %s 的%s申请已经部门审核，待区领导批准", number, name)
	case state == models.RequestPendingHead && !slices.Contains(depts, req.DepartmentID):
		return nil, models.Errorf(models.EFORBIDDEN, "仅%s主要负责人可以审核工单 %s 的%s申请", departmentLabel(r.dir, req.DepartmentID), number, name)
	}
	return req, nil
}

// unreached returns the levels of the escalation ladder whose time has not
// come at now for deadline.
func (h *Handler) unreached(deadline, now time.Time) []models.AlertLevel {
	var out []models.AlertLevel
	for _, s := range h.cfg.Rules.Escalation[h.reached(deadline, now)+1:] {
		out = append(out, models.AlertLevel(s.Level))
	}
	return out
}

// spaced puts a blank before s unless s is empty.
func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
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

// personName names a member by userid.
func personName(dir *models.Directory, userid string) string {
	if m := dir.MemberByUserID(userid); m != nil {
		return m.Name
	}
	return userid
}
