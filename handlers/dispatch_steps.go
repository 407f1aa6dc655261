package handlers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// dispatch issues a leader's point-to-point dispatch: each target hears of it
// by app message, the group by one message @-mentioning them all.
func (h *Handler) dispatch(r *request) error {
	text, verify := cutVerify(r.cmd.Word)
	dr, err := h.draftDispatch(r.dir, text, r.now)
	if err != nil {
		return err
	}
	tickets, err := r.tx.TicketsByNumber(r.ctx, dr.tickets)
	if err != nil {
		return err
	}
	// Without a deadline phrase, a dispatch about tickets is due when the first of them is.
	var dueTicket *models.Ticket
	if dr.deadline == nil {
		if dueTicket = firstDue(tickets, r.now); dueTicket != nil {
			dr.deadline = dueTicket.Deadline
		}
	}
	d := &models.Dispatch{
		IssuerID: r.me.ID, Instruction: r.cmd.original(dr.instruction), Raw: r.in.Text, TicketNumbers: dr.tickets,
		Deadline: dr.deadline, Route: r.in.Route, ChatID: r.in.ChatID, Source: source(r.in), IssuedAt: r.now, Verify: verify,
	}
	for _, t := range dr.targets {
		var dt models.DispatchTarget
		if t.dept != nil {
			dt.DepartmentID = &t.dept.ID
		} else {
			dt.MemberID = &t.member.ID
		}
		d.Targets = append(d.Targets, dt)
	}
	created, err := r.tx.CreateDispatch(r.ctx, d)
	if err != nil || !created {
		return err // not created: this message was handled before
	}
	if d, err = r.tx.Dispatch(r.ctx, d.ID); err != nil { // with its targets' names
		return err
	}
	issuer := memberText(r.dir, r.me)
	details := dispatchDetails(d, tickets, r.now)
	var notified, missing, labels []string
	var everyone []*models.Member
	for i, t := range dr.targets {
		to := recipients(r.dir, t)
		labels = append(labels, t.label())
		if len(to) == 0 {
			missing = append(missing, t.label())
			continue
		}
		everyone = append(everyone, to...)
		if t.dept != nil {
			notified = append(notified, t.label()+"（"+names(to)+"）")
		} else {
			notified = append(notified, memberText(r.dir, t.member))
		}
		card, err := targetCard(r.ctx, r.tx, r.dir, d, d.Targets[i], r.now)
		if err != nil {
			return err
		}
		r.sendCard(card, to...)
	}
	r.announce(fmt.Sprintf("【点对点调度 %s】\n%s交办：%s\n要求：%s\n%s请及时签收办理。",
		d.Code(), issuer, strings.Join(labels, "、"), d.Instruction, details), everyone)

	reply := "已下达调度 " + d.Code()
	if len(notified) > 0 {
		reply += "，已点对点通知：" + strings.Join(notified, "、")
	}
	reply += "。"
	switch {
	case dueTicket != nil:
		reply += "\n时限：" + deadlineText(*d.Deadline, r.now) + "前（工单 " + dueTicket.Number + " 的办理期限）"
	case d.Deadline != nil:
		reply += "\n时限：" + deadlineText(*d.Deadline, r.now) + "前"
		if dr.offDay {
			reply += "（该日为休息日）"
		}
	case len(tickets) > 0:
		reply += "\n所涉工单已过办理期限或未定期限，本调度未设时限；如需限时请在要求中写明，如“明天下班前”。"
	default:
		reply += "\n未写明时限，如需限时请在要求中写明，如“明天下班前”。"
	}
	if len(missing) > 0 {
		reply += "\n" + strings.Join(missing, "、") + "未登记负责人，未能点对点通知，请在群内督促。"
	}
	if verify {
		reply += "\n" + verifyNote(d)
	}
	r.reply(reply)
	return nil
}

// firstDue returns the open ticket of tickets whose deadline comes first
// after now, or nil.
func firstDue(tickets map[string]*models.Ticket, now time.Time) *models.Ticket {
	var first *models.Ticket
	for _, t := range tickets {
		if !t.Open() || t.Deadline == nil || !t.Deadline.After(now) {
			continue
		}
		if first == nil || t.Deadline.Before(*first.Deadline) || (t.Deadline.Equal(*first.Deadline) && t.Number < first.Number) {
			first = t
		}
	}
	return first
}

// dispatchDetails writes the ticket and deadline lines of a dispatch, each
// ending with a line break; empty when it has neither. A ticket the store
// knows is named with its title and address.
func dispatchDetails(d *models.Dispatch, tickets map[string]*models.Ticket, now time.Time) string {
	var b strings.Builder
	for _, n := range d.TicketNumbers {
		b.WriteString("工单：" + n)
		if t := tickets[n]; t != nil {
			title := t.Title
			if title == "" {
				title = t.Content
			}
			if title != "" {
				b.WriteString(" " + models.ClipRunes(models.OneLine(title), 31))
			}
			if t.Address != "" {
				b.WriteString("（地址：" + models.ClipRunes(models.OneLine(t.Address), 31) + "）")
			}
		}
		b.WriteString("\n")
	}
	if d.Deadline != nil {
		b.WriteString("时限：" + deadlineText(*d.Deadline, now) + "前\n")
	}
	return b.String()
}

// label names a target as people know it.
func (t target) label() string {
	if t.dept != nil {
		return t.dept.Name
	}
	return t.member.Name
}

// recipients returns who hears of a dispatch for a target: a department's
// heads (or, without one, its reporters), or the member.
func recipients(dir *models.Directory, t target) []*models.Member {
	if t.dept != nil {
		return dir.Responsible(t.dept.ID)
	}
	return []*models.Member{t.member}
}

// targetOf returns the department or member of a recorded target, as the
// directory knows them now (a member who left is nil).
func targetOf(dir *models.Directory, t models.DispatchTarget) target {
	switch {
	case t.DepartmentID != nil:
		if d := dir.Department(*t.DepartmentID); d != nil {
			return target{dept: d}
		}
	case t.MemberID != nil:
		if m := dir.Member(*t.MemberID); m != nil {
			return target{member: m}
		}
	}
	return target{}
}

// recipientsOf returns who hears of a dispatch for recorded targets.
func recipientsOf(dir *models.Directory, ts []models.DispatchTarget) []*models.Member {
	var out []*models.Member
	for _, t := range ts {
		if tt := targetOf(dir, t); tt.dept != nil || tt.member != nil {
			out = append(out, recipients(dir, tt)...)
		}
	}
	return out
}

// answers reports whether a member answers for a target: it is the member,
// or a department the member belongs to or covers.
func answers(t models.DispatchTarget, me *models.Member, deptIDs []uint) bool {
	if t.MemberID != nil {
		return *t.MemberID == me.ID
	}
	return t.DepartmentID != nil && slices.Contains(deptIDs, *t.DepartmentID)
}

// myDispatch finds the dispatch a target step is for, and the targets of it
// the sender answers for. Without a code it is the sender's only dispatch
// that can take the step.
func (h *Handler) myDispatch(r *request, step models.StepKind) (*models.Dispatch, []uint, error) {
	deptIDs := departmentIDs(reportDepartments(r.dir, r.me))
	mine := func(d *models.Dispatch, usable bool) []uint {
		var ids []uint
		for _, t := range d.Targets {
			if answers(t, r.me, deptIDs) && (!usable || t.CanTake(step)) {
				ids = append(ids, t.ID)
			}
		}
		return ids
	}
	if r.cmd.Code != 0 {
		d, err := r.tx.Dispatch(r.ctx, r.cmd.Code)
		if err != nil {
			return nil, nil, err
		}
		ids := mine(d, false)
		if len(ids) == 0 {
			return nil, nil, models.Errorf(models.EFORBIDDEN, "您不是调度 %s 的办理对象", d.Code())
		}
		return d, ids, nil
	}
	open, err := r.tx.DispatchesFor(r.ctx, r.me.ID, deptIDs)
	if err != nil {
		return nil, nil, err
	}
	var fit []*models.Dispatch
	for i := range open {
		if len(mine(&open[i], true)) > 0 {
			fit = append(fit, &open[i])
		}
	}
	switch len(fit) {
	case 0:
		if step == models.StepSign {
			return nil, nil, models.Errorf(models.ENOTFOUND, "您没有待签收的调度")
		}
		return nil, nil, models.Errorf(models.ENOTFOUND, "您没有办理中的调度")
	case 1:
		return fit[0], mine(fit[0], false), nil
	}
	codes := make([]string, len(fit))
	for i, d := range fit {
		codes[i] = d.Code()
	}
	return nil, nil, models.Errorf(models.EINVALID, "您有%d件调度待办：%s。请写明编号，如：%s %s",
		len(fit), strings.Join(codes, "、"), r.cmd.Name, codes[0])
}

// targetStep signs, feeds back on or finishes a dispatch for the targets the
// sender answers for, and tells the issuer.
func (h *Handler) targetStep(r *request, step models.StepKind) error {
	d, ids, err := h.myDispatch(r, step)
	if err != nil {
		return err
	}
	d, changed, err := r.tx.StepDispatch(r.ctx, models.DispatchStep{
		DispatchID: d.ID, Step: step, TargetIDs: ids, Actor: r.me.UserID, Text: r.cmd.Body, At: r.now,
	})
	if err != nil {
		return err
	}
	who := actorText(changed, r.me)
	code := d.Code()
	var notice string
	switch step {
	case models.StepSign:
		// Once every target has signed, the alert level under way stops repeating.
		if !slices.ContainsFunc(d.Targets, func(t models.DispatchTarget) bool { return t.CanTake(models.StepSign) }) {
			if _, err := r.tx.AckAlerts(r.ctx, models.SubjectDispatch, d.ID, r.now); err != nil {
				return err
			}
		}
		reply := fmt.Sprintf("已签收调度 %s。", code)
		if d.Deadline != nil {
			reply += "请于" + deadlineText(*d.Deadline, r.now) + "前办结，办结后回复“办结 " + code + " 结果”。"
		}
		r.reply(reply)
		notice = fmt.Sprintf("【%s】%s已签收。\n签收进度：%s", d.Title(), who, tally(d, models.StepSign))
	case models.StepFeedback:
		r.reply(fmt.Sprintf("已反馈调度 %s 的办理进展。", code))
		notice = fmt.Sprintf("【%s】%s反馈：\n%s", d.Title(), who, r.cmd.Body)
	case models.StepDone:
		r.reply(fmt.Sprintf("已报办结调度 %s，待发起人确认。", code))
		notice = fmt.Sprintf("【%s】%s报办结：\n%s\n", d.Title(), who, r.cmd.Body)
		switch {
		case progressDone(d) && d.Verify:
			notice += fmt.Sprintf("全部单位已报办结，请核查后回复“核查 %s 通过”销号，或“核查 %s 不通过 说明”。", code, code)
		case progressDone(d):
			// The card to the issuer carries every result and the buttons to close it.
			r.sendCard(issuerCard(r.dir, d, r.now), r.dir.Member(d.IssuerID))
			return nil
		default:
			notice += "办结进度：" + tally(d, models.StepDone)
		}
	}
	r.notify(notice, r.dir.Member(d.IssuerID))
	return nil
}

// actorText names who took a step: the targets changed, and the sender
// when the targets are departments: 住建局（张三）.
func actorText(changed []models.DispatchTarget, me *models.Member) string {
	var labels []string
	for _, t := range changed {
		labels = append(labels, t.Label())
	}
	s := strings.Join(labels, "、")
	if !slices.Contains(labels, me.Name) {
		s += "（" + me.Name + "）"
	}
	return s
}

// tally counts the targets that have signed (StepSign) or finished: 1/2.
func tally(d *models.Dispatch, step models.StepKind) string {
	n := 0
	for _, t := range d.Targets {
		if (step == models.StepSign && t.Status != models.TargetPending) || t.Finished() {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(d.Targets))
}

// progressDone reports whether every target has finished.
func progressDone(d *models.Dispatch) bool {
	return !slices.ContainsFunc(d.Targets, func(t models.DispatchTarget) bool { return !t.Finished() })
}

// issuerDispatch returns the dispatch of the command's code if the sender issued it.
func (h *Handler) issuerDispatch(r *request, action string) (*models.Dispatch, error) {
	d, err := r.tx.Dispatch(r.ctx, r.cmd.Code)
	if err != nil {
		return nil, err
	}
	if d.IssuerID != r.me.ID {
		name := "发起人"
		if d.Issuer != nil {
			name += d.Issuer.Name
		}
		return nil, models.Errorf(models.EFORBIDDEN, "仅调度%s可以%s %s", name, action, d.Code())
	}
	return d, nil
}

// confirm closes a dispatch whose targets have all finished (销号).
func (h *Handler) confirm(r *request) error {
	d, err := h.issuerDispatch(r, "确认")
	if err != nil {
		return err
	}
	if d, _, err = r.tx.StepDispatch(r.ctx, models.DispatchStep{DispatchID: d.ID, Step: models.StepConfirm, Actor: r.me.UserID, At: r.now}); err != nil {
		return err
	}
	r.reply(fmt.Sprintf("调度 %s 已确认办结、销号。", d.Code()))
	r.notify(fmt.Sprintf("【%s】%s已确认办结、销号。", d.Title(), memberText(r.dir, r.me)), recipientsOf(r.dir, d.Targets)...)
	return nil
}

// sendBack returns the finished targets (or those named first) to work.
func (h *Handler) sendBack(r *request) error {
	d, err := h.issuerDispatch(r, "退回")
	if err != nil {
		return err
	}
	ids, reason := pickTargets(d, r.cmd.Body)
	if reason == "" {
		return models.Errorf(models.EINVALID, "请写明退回理由。用法：%s", r.cmd.Usage())
	}
	d, changed, err := r.tx.StepDispatch(r.ctx, models.DispatchStep{
		DispatchID: d.ID, Step: models.StepReturn, TargetIDs: ids, Actor: r.me.UserID, Text: reason, At: r.now,
	})
	if err != nil {
		return err
	}
	var labels []string
	for _, t := range changed {
		labels = append(labels, t.Label())
		to := recipientsOf(r.dir, []models.DispatchTarget{t})
		card, err := targetCard(r.ctx, r.tx, r.dir, d, t, r.now)
		if err != nil {
			return err
		}
		card.Sections = []msg.Section{msg.S(msg.Lines(fmt.Sprintf("【%s】%s退回%s的办结结果，请重新办理。\n理由：%s\n办结后回复“办结 %s 结果”。",
			d.Title(), memberText(r.dir, r.me), t.Label(), reason, d.Code()))...)}
		r.sendCard(card, to...)
	}
	r.reply(fmt.Sprintf("已退回调度 %s：%s。", d.Code(), strings.Join(labels, "、")))
	return nil
}

// pickTargets reads the names of targets at the start of text (退回 D12
// 住建局 理由): their IDs, and the rest of the text.
func pickTargets(d *models.Dispatch, text string) ([]uint, string) {
	var ids []uint
	for {
		text = strings.TrimLeftFunc(text, isSep)
		rest := strings.TrimPrefix(strings.TrimPrefix(text, "@"), "＠")
		id, n := uint(0), 0
		for _, t := range d.Targets {
			for _, name := range targetNames(t) {
				if len(name) > n && strings.HasPrefix(rest, name) {
					id, n = t.ID, len(name)
				}
			}
		}
		if n == 0 {
			return ids, strings.TrimSpace(text)
		}
		ids, text = append(ids, id), rest[n:]
	}
}

// targetNames returns the names a recorded target goes by.
func targetNames(t models.DispatchTarget) []string {
	switch {
	case t.Department != nil:
		return append([]string{t.Department.Name}, t.Department.Aliases...)
	case t.Member != nil:
		return append([]string{t.Member.Name}, t.Member.Aliases...)
	}
	return nil
}

// cancel withdraws a dispatch (撤销) and tells its targets.
func (h *Handler) cancel(r *request) error {
	d, err := h.issuerDispatch(r, "撤销")
	if err != nil {
		return err
	}
	if d, _, err = r.tx.StepDispatch(r.ctx, models.DispatchStep{DispatchID: d.ID, Step: models.StepCancel, Actor: r.me.UserID, Text: r.cmd.Body, At: r.now}); err != nil {
		return err
	}
	notice := fmt.Sprintf("【%s】%s已撤销，无需继续办理。", d.Title(), memberText(r.dir, r.me))
	if r.cmd.Body != "" {
		notice += "\n理由：" + r.cmd.Body
	}
	r.reply(fmt.Sprintf("已撤销调度 %s。", d.Code()))
	r.notify(notice, recipientsOf(r.dir, d.Targets)...)
	return nil
}
