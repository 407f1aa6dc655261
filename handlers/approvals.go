package handlers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"yanzhen/handlers/timephrase"
	"yanzhen/models"
	"yanzhen/msg"
)

// The approval chains of requests, every kind alike: a member applies
// (申请退办 / 申请延期 / 申请剔除 / 申请无法整改), a reviewer checks it (the
// unit's head for 退办 and 延期, the 12345 office for 剔除: 同意… / 驳回…; a
// reviewer's own request and a 无法整改 skip it), a leader decides (批准… /
// 驳回…); only the leader's approval takes effect, and the 12345 office hears
// every decision. Approvers name a request by its ticket number (its item's
// code for 无法整改), or leave it out when exactly one awaits them.

// chain is one kind of request as chat knows it. Its commands are the kind's
// name after 申请, 同意, 驳回 and 批准.
type chain struct {
	kind models.RequestKind
}

var (
	returns    = chain{models.RequestKindReturn}
	extensions = chain{models.RequestKindExtension}
	exclusions = chain{models.RequestKindExclusion}
	deferrals  = chain{models.RequestKindUnfixable}
)

// name is the kind's name: 退办, 延期, 剔除, 无法整改.
func (c chain) name() string { return c.kind.Chinese() }

// named is the subject the command names: its ticket's number, or for a
// request about an item the item's code; "" when it names none.
func (c chain) named(r *request) string {
	if !c.kind.AboutItem() {
		return r.cmd.Ticket
	}
	if r.cmd.Item == 0 {
		return ""
	}
	return fmt.Sprintf("Z%d", r.cmd.Item)
}

// ref is how approvers name a request's subject in their commands: the
// ticket's number, the item's code.
func ref(req *models.TicketRequest) string {
	if req.Item != nil {
		return req.Item.Code()
	}
	return req.Ticket.Number
}

// asks writes what a request asks for, after 申请: 退办工单 2024112700123,
// 延期工单 2024112700123 至12月4日（周五）18:00（原期限…）, 整改事项 Z12 无法整改.
func (c chain) asks(req *models.TicketRequest, now time.Time) string {
	if c.kind.AboutItem() {
		return req.Subject() + " " + c.name()
	}
	return c.name() + req.Subject() + spaced(c.asked(req, now))
}

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

// granted says what an approved request did to its subject.
func (c chain) granted(req *models.TicketRequest, now time.Time) string {
	switch c.kind {
	case models.RequestKindExtension:
		return "期限延至" + deadlineText(*req.Ticket.Deadline, now)
	case models.RequestKindExclusion:
		return "工单不计入三率考核"
	case models.RequestKindUnfixable:
		return "列为无法整改，按月报上级"
	}
	return "工单" + string(models.TicketReturned)
}

// goOn tells the applicant what to do after a refusal.
func (c chain) goOn(req *models.TicketRequest, now time.Time) string {
	switch {
	case c.kind == models.RequestKindExtension && req.Ticket.Deadline != nil:
		return "请于原期限" + deadlineText(*req.Ticket.Deadline, now) + "前办结"
	case c.kind == models.RequestKindExclusion:
		return "工单照常计入三率考核"
	case c.kind == models.RequestKindUnfixable && req.Item.Deadline != nil:
		return "请于" + deadlineText(*req.Item.Deadline, now) + "前整改"
	}
	return "请继续办理"
}

// apply records a request and tells the next approver: the reviewer, or the
// leaders when the applicant is the reviewer or the kind has no review.
func (c chain) apply(h *Handler, r *request) error {
	a := models.TicketApplication{Kind: c.kind, Number: r.cmd.Ticket, ItemID: r.cmd.Item, By: r.me.UserID, Reason: r.cmd.Body, At: r.now}
	if c.kind == models.RequestKindExtension {
		to, reason, err := h.extensionArgs(r)
		if err != nil {
			return err
		}
		a.ExtendTo, a.Reason = &to, reason
	}
	a.DepartmentIDs = departmentIDs(reportDepartments(r.dir, r.me))
	a.Heads = headOf(r.me, a.DepartmentIDs)
	a.Office = r.me.Role == models.RoleHotline
	req, err := r.tx.SubmitRequest(r.ctx, a)
	if err != nil {
		return err
	}
	return c.submitted(r, req)
}

// submitted tells the next approver of a new request and answers the applicant.
func (c chain) submitted(r *request, req *models.TicketRequest) error {
	name, subject, asked := c.name(), req.Subject(), c.asked(req, r.now)
	if req.State == models.RequestPendingLeader {
		if err := c.askLeaders(r, req); err != nil {
			return err
		}
		r.reply(fmt.Sprintf("已提交%s 的%s申请%s，待区领导批准。", subject, name, asked))
		return nil
	}
	reviewers, title := c.reviewers(r.dir, req)
	if len(reviewers) == 0 {
		return models.Errorf(models.EINVALID, "%s未登记，无法审核%s，请联系管理员", title, name)
	}
	r.sendCard(requestCard(r.dir, req, msg.RefReview, r.now), reviewers...)
	r.reply(fmt.Sprintf("已提交%s 的%s申请%s，待%s（%s）审核。", subject, name, asked, title, names(reviewers)))
	return nil
}

// reviewers are who in dir review a request, and their title: the unit's
// heads (住建局主要负责人), or the 12345 office.
func (c chain) reviewers(dir *models.Directory, req *models.TicketRequest) ([]*models.Member, string) {
	if c.kind.Review() == models.RequestPendingOffice {
		return dir.WithRole(models.RoleHotline), models.RoleHotline.Chinese()
	}
	return dir.MembersOf(req.DepartmentID, models.RoleHead), departmentLabel(dir, req.DepartmentID) + "主要负责人"
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
	leaders := r.dir.WithRole(models.RoleLeader)
	if len(leaders) == 0 {
		return models.Errorf(models.EINVALID, "未登记区领导，无法审批%s，请联系管理员", c.name())
	}
	r.sendCard(requestCard(r.dir, req, msg.RefDecision, r.now), leaders...)
	return nil
}

// asking says who asks the leaders for what: the applicant, and the
// reviewer who agreed.
func (c chain) asking(dir *models.Directory, req *models.TicketRequest, now time.Time) string {
	asks := c.asks(req, now)
	switch {
	case req.HeadBy == "":
		return fmt.Sprintf("%s申请%s", personText(dir, req.RequestedBy), asks)
	case req.HeadBy == req.RequestedBy:
		_, title := c.reviewers(dir, req)
		return fmt.Sprintf("%s%s申请%s", title, personName(dir, req.RequestedBy), asks)
	}
	return fmt.Sprintf("%s申请%s，%s已审核同意", personText(dir, req.RequestedBy), asks, personText(dir, req.HeadBy))
}

// agree is the reviewer's approval: the request goes to the leaders.
func (c chain) agree(h *Handler, r *request) error {
	req, err := c.decide(r, c.kind.Review(), true, nil)
	if err != nil {
		return err
	}
	if err := c.askLeaders(r, req); err != nil {
		return err
	}
	r.reply(fmt.Sprintf("已同意%s 的%s申请，已报区领导批准。", req.Subject(), c.name()))
	return nil
}

// approve is a leader's approval: the request takes effect. An extension
// also clears the ticket's alerts of the ladder's steps the new deadline has
// not reached, so that the ladder starts again from it.
func (c chain) approve(h *Handler, r *request) error {
	req, err := c.decide(r, models.RequestPendingLeader, true, nil)
	if err != nil {
		return err
	}
	if c.kind == models.RequestKindExtension {
		if _, err := r.tx.ClearAlerts(r.ctx, models.SubjectTicket, req.Ticket.ID, h.unreached(*req.Ticket.Deadline, r.now)); err != nil {
			return err
		}
	}
	subject, name, granted := req.Subject(), c.name(), c.granted(req, r.now)
	r.notify(fmt.Sprintf("【%s批准】%s 的%s申请已经%s批准，%s。", name, subject, name, memberText(r.dir, r.me), granted), c.parties(r, req)...)
	r.reply(fmt.Sprintf("已批准%s %s，%s。", subject, name, granted))
	return nil
}

// reject refuses a request: at its review or at a leader's decision. A
// leader refusing to let an item awaiting approval stand as 无法整改 gives it
// the limit of rules.rectify.timed_limit, as 限时整改.
func (c chain) reject(h *Handler, r *request) error {
	state := c.kind.Review()
	if r.me.Role == models.RoleLeader {
		state = models.RequestPendingLeader
	}
	var until *time.Time
	if c.kind.AboutItem() {
		t := h.cfg.Rules.Rectify.TimedLimit.From(r.now, h.cal)
		until = &t
	}
	req, err := c.decide(r, state, false, until)
	if err != nil {
		return err
	}
	subject, name := req.Subject(), c.name()
	r.notify(fmt.Sprintf("【%s驳回】%s 的%s申请已被%s驳回，%s。\n理由：%s", name, subject, name, memberText(r.dir, r.me), c.goOn(req, r.now), r.cmd.Body),
		c.parties(r, req)...)
	r.reply(fmt.Sprintf("已驳回%s 的%s申请。", subject, name))
	return nil
}

// decide takes the sender's decision, with the command's text as its note, on
// the request they decide in state (see pending).
func (c chain) decide(r *request, state models.RequestState, approve bool, until *time.Time) (*models.TicketRequest, error) {
	req, err := c.pending(r, state)
	if err != nil {
		return nil, err
	}
	return r.tx.DecideRequest(r.ctx, models.RequestDecision{ID: req.ID, State: state, Approve: approve,
		By: r.me.UserID, Note: r.cmd.Body, At: r.now, Until: until})
}

// parties are who hear of a decision: the applicant, the reviewer, the
// unit's heads for a request about an item, and the 12345 office.
func (c chain) parties(r *request, req *models.TicketRequest) []*models.Member {
	out := []*models.Member{r.dir.MemberByUserID(req.RequestedBy), r.dir.MemberByUserID(req.HeadBy)}
	if c.kind.AboutItem() {
		out = append(out, r.dir.Responsible(req.DepartmentID)...)
	}
	return append(out, r.dir.WithRole(models.RoleHotline)...)
}

// pending finds the request the sender decides in state: the one of the
// named subject, or the only one awaiting them. A head reviews only for
// their own unit.
func (c chain) pending(r *request, state models.RequestState) (*models.TicketRequest, error) {
	name := c.name()
	var depts []uint
	if state == models.RequestPendingHead {
		if depts = headOf(r.me, departmentIDs(reportDepartments(r.dir, r.me))); len(depts) == 0 {
			return nil, models.Errorf(models.EFORBIDDEN, "您不是任何单位的主要负责人，不能审核%s", name)
		}
	}
	var req *models.TicketRequest
	if named := c.named(r); named != "" {
		found, err := r.tx.PendingRequest(r.ctx, c.kind, named)
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
			refs := make([]string, len(list))
			for i := range list {
				refs[i] = ref(&list[i])
			}
			return nil, models.Errorf(models.EINVALID, "有%d件%s申请待您审批：%s。请写明编号，如：%s %s",
				len(list), name, strings.Join(refs, "、"), r.cmd.Name, refs[0])
		}
	}
	subject := req.Subject()
	switch {
	case req.State == models.RequestPendingHead && state != req.State:
		return nil, models.Errorf(models.EINVALID, "%s 的%s申请尚待%s主要负责人审核", subject, name, departmentLabel(r.dir, req.DepartmentID))
	case req.State == models.RequestPendingOffice && state != req.State:
		return nil, models.Errorf(models.EINVALID, "%s 的%s申请尚待12345热线办审核", subject, name)
	case req.State == models.RequestPendingLeader && state != req.State:
		return nil, models.Errorf(models.EINVALID, "%s 的%s申请待区领导批准", subject, name)
	case state == models.RequestPendingHead && !slices.Contains(depts, req.DepartmentID):
		return nil, models.Errorf(models.EFORBIDDEN, "仅%s主要负责人可以审核%s 的%s申请", departmentLabel(r.dir, req.DepartmentID), subject, name)
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
