package handlers

import (
	"errors"
	"fmt"
	"strings"

	"yanzhen/handlers/timephrase"
	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// supervise is 督办 工单号 [时限] 要求, by the supervision team (督导专班) or a
// leader: a dispatch of kind 督办 to the ticket's unit (and its grid under
// 双派单) about the ticket, due by the phrase given or else the ticket's own
// deadline, so that 签收/反馈/办结 D.., 确认 and the overdue ladder track it
// like any dispatch. The heads (or, without one, the reporters) of those
// units hear of it by app message. A leader's 督办 naming no ticket (督办
// @住建局 …) is a dispatch, as it always was.
func (h *Handler) supervise(r *request) error {
	if r.cmd.Ticket == "" {
		if r.me.Role == models.RoleLeader {
			return h.dispatch(r)
		}
		return models.Errorf(models.EINVALID, "用法：%s", r.cmd.Usage())
	}
	t, _, err := r.tx.TicketByNumber(r.ctx, r.cmd.Ticket)
	if err != nil {
		return err
	}
	switch {
	case !t.Open():
		return models.Errorf(models.EINVALID, "工单 %s %s，无需督办", t.Number, t.Status)
	case t.DepartmentID == nil:
		return models.Errorf(models.EINVALID, "工单 %s 尚未分派承办单位，无法督办", t.Number)
	}
	res, err := h.phrases.Find(r.cmd.Word, r.now)
	var perr *timephrase.Error
	if errors.As(err, &perr) {
		return models.Errorf(models.EINVALID, "%s，督办未下达。请修改时限后重新发送", perr.Error())
	}
	if err != nil {
		return fmt.Errorf("handlers: read 督办 deadline: %w", err)
	}
	d := &models.Dispatch{
		Kind: models.DispatchSupervision, IssuerID: r.me.ID, Raw: r.in.Text, TicketNumbers: models.StringList{t.Number},
		Deadline: t.Deadline, Route: r.in.Route, ChatID: r.in.ChatID, Source: source(r.in), IssuedAt: r.now,
	}
	if res.Found {
		d.Deadline = &res.Deadline
	}
	d.Instruction = "请加快办理并及时反馈"
	if rest := strings.Trim(res.Rest, " ,.;:、。"); rest != "" {
		d.Instruction = r.cmd.original(rest)
	}
	units := []uint{*t.DepartmentID}
	if g := t.GridDepartmentID; g != nil && *g != *t.DepartmentID {
		units = append(units, *g)
	}
	for _, id := range units {
		d.Targets = append(d.Targets, models.DispatchTarget{DepartmentID: &id})
	}
	created, err := r.tx.CreateDispatch(r.ctx, d)
	if err != nil || !created {
		return err // not created: this message was handled before
	}

	var b strings.Builder
	if about := ticketAbout(t); about != "" {
		b.WriteString("诉求：" + about + "\n")
	}
	b.WriteString("要求：" + d.Instruction + "\n")
	if d.Deadline != nil {
		b.WriteString("时限：" + deadlineText(*d.Deadline, r.now) + "前")
		if d.Overdue(r.now) {
			b.WriteString("（工单已" + report.Lateness(h.cal, *d.Deadline, r.now) + "）")
		}
		b.WriteString("\n")
	}
	details, code := b.String(), d.Code()
	if d, err = r.tx.Dispatch(r.ctx, d.ID); err != nil { // with its targets' names
		return err
	}
	var notified, missing []string
	for i, id := range units {
		dept := departmentLabel(r.dir, id)
		to := r.dir.Responsible(id)
		if len(to) == 0 {
			missing = append(missing, dept)
			continue
		}
		notified = append(notified, dept+"（"+names(to)+"）")
		card, err := targetCard(r.ctx, r.tx, r.dir, d, d.Targets[i], r.now)
		if err != nil {
			return err
		}
		card.Sections = []msg.Section{msg.S(msg.Lines(fmt.Sprintf("【%s】%s督办%s办理工单 %s\n%s请回复“签收 %s”；办理中回复“反馈 %s 进展”，完成后回复“办结 %s 结果”。",
			d.Title(), memberText(r.dir, r.me), dept, t.Number, details, code, code, code))...)}
		r.sendCard(card, to...)
	}
	reply := fmt.Sprintf("已督办工单 %s（%s）", t.Number, code)
	if len(notified) > 0 {
		reply += "，已通知：" + strings.Join(notified, "、")
	}
	reply += "。\n" + strings.TrimSuffix(details, "\n")
	if len(missing) > 0 {
		reply += "\n" + strings.Join(missing, "、") + "未登记负责人，未能通知，请在群内督促。"
	}
	r.reply(reply)
	return nil
}

// ticketAbout describes a ticket in one line: its title (or the start of its
// content) and its address.
func ticketAbout(t *models.Ticket) string {
	about := t.Title
	if about == "" {
		about = t.Content
	}
	about = models.ClipRunes(models.OneLine(about), 61)
	if t.Address != "" {
		if about != "" {
			about += "，"
		}
		about += models.ClipRunes(models.OneLine(t.Address), 41)
	}
	return about
}
