package handlers

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"yanzhen/handlers/timephrase"
	"yanzhen/models"
)

// The rectification list (整改清单) in chat: a leader or the supervision team
// registers a problem and assigns it to a unit (立项), on its own or from a
// ticket or a dispatch; the unit takes it up (签收 Z12) and reports it fixed
// with evidence (反馈 Z12); someone other than the doer verifies it (核查,
// verify.go); the weekly 整改公示 publishes and closes it. 无法整改 goes
// through the approval chain (approvals.go).

// itemDraft is an item of the rectification list read from 立项's text.
type itemDraft struct {
	dept     *models.Department
	class    models.RectifyClass
	problem  string
	reason   string
	deadline *time.Time
	ticket   *models.Ticket
	dispatch *models.Dispatch
}

// register is 立项: it records the item and assigns it to the unit, whose
// heads (or reporters) hear of it; a 无法整改 is asked of the leaders, or
// approved at once when a leader registers it.
func (h *Handler) register(r *request) error {
	d, err := h.draftItem(r)
	if err != nil {
		return err
	}
	item := &models.Rectification{
		DepartmentID: d.dept.ID, Class: d.class, Problem: d.problem, Reason: d.reason, Deadline: d.deadline,
		IssuerID: r.me.ID, Source: source(r.in), IssuedAt: r.now,
	}
	if d.ticket != nil {
		item.TicketNumber = d.ticket.Number
	}
	if d.dispatch != nil {
		item.DispatchID = &d.dispatch.ID
	}
	created, err := r.tx.CreateRectification(r.ctx, item)
	if err != nil || !created {
		return err // not created: this message was handled before
	}
	heads := r.dir.Responsible(d.dept.ID)
	if d.class == models.RectifyUnfixable {
		return h.registerUnfixable(r, item, heads)
	}
	code := item.Code()
	r.notify(fmt.Sprintf("【整改交办 %s】%s交办%s：%s\n%s请回复“签收 %s”落实；整改完成后回复“反馈 %s 整改情况”（可附照片），经核查、公示后销号。",
		code, memberText(r.dir, r.me), d.dept.Name, item.Problem, itemDetails(item, r.now), code, code), heads...)
	reply := fmt.Sprintf("已立项整改事项 %s（%s），交办%s", code, item.Class, d.dept.Name)
	if len(heads) > 0 {
		reply += "（" + names(heads) + "）"
	}
	reply += "，时限：" + deadlineText(*item.Deadline, r.now) + "前。"
	if len(heads) == 0 {
		reply += "\n" + d.dept.Name + "未登记负责人，未能通知，请在群内督促。"
	}
	r.reply(reply)
	return nil
}

// registerUnfixable asks the leaders to let a new item stand as 无法整改, or
// approves it at once when a leader registered it, through the approval chain.
func (h *Handler) registerUnfixable(r *request, item *models.Rectification, heads []*models.Member) error {
	req, err := r.tx.SubmitRequest(r.ctx, models.TicketApplication{
		Kind: models.RequestKindUnfixable, ItemID: item.ID, By: r.me.UserID, Reason: item.Reason, At: r.now,
	})
	if err != nil {
		return err
	}
	r.reply(fmt.Sprintf("已立项整改事项 %s（无法整改），%s。", item.Code(), departmentLabel(r.dir, item.DepartmentID)))
	if r.me.Role != models.RoleLeader {
		return deferrals.submitted(r, req)
	}
	if _, err := r.tx.DecideRequest(r.ctx, models.RequestDecision{ID: req.ID, State: models.RequestPendingLeader, Approve: true,
		By: r.me.UserID, Note: "立项时批准", At: r.now}); err != nil {
		return err
	}
	r.reply("已批准为无法整改，按月报上级。")
	r.notify(fmt.Sprintf("【整改事项 %s】%s将%s的问题列为无法整改：%s\n理由：%s\n按月报上级，无需整改反馈。",
		item.Code(), memberText(r.dir, r.me), departmentLabel(r.dir, item.DepartmentID), item.Problem, item.Reason), heads...)
	return nil
}

// itemDetails writes the class and deadline line of an item, and its source
// line, each ending with a line break.
func itemDetails(item *models.Rectification, now time.Time) string {
	s := "类别：" + string(item.Class)
	if item.Deadline != nil {
		s += "｜时限：" + deadlineText(*item.Deadline, now) + "前"
	}
	return s + "\n" + itemSource(item)
}

// itemSource writes the line of the ticket or dispatch an item was found in,
// ending with a line break; "" when neither.
func itemSource(item *models.Rectification) string {
	switch {
	case item.TicketNumber != "":
		return "来源：工单 " + item.TicketNumber + "\n"
	case item.DispatchID != nil:
		return fmt.Sprintf("来源：调度 D%d\n", *item.DispatchID)
	}
	return ""
}

// classWords are how 立项 names the classes.
var classWords = map[string]models.RectifyClass{
	"即知即改": models.RectifyQuick, "立行立改": models.RectifyQuick,
	"限时整改": models.RectifyTimed, "限期整改": models.RectifyTimed,
	"无法整改": models.RectifyUnfixable, "暂无法整改": models.RectifyUnfixable,
}

// draftItem reads 立项's text: the unit (@单位 or a unit's name at the start;
// else the unit of the ticket or of the dispatch named), a ticket number or a
// dispatch code, the class word, and after it the deadline (即知即改,
// 限时整改) or the reason (无法整改); what is left is the problem. Without a
// class word an item with a deadline is 限时整改 and one without 即知即改,
// due within rules.rectify.quick_limit.
func (h *Handler) draftItem(r *request) (*itemDraft, error) {
	text, d := r.cmd.Word, &itemDraft{}
	var cuts [][2]int
	x := newNameIndex(r.dir)
	lead := true
	for i := 0; i < len(text); {
		c, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case c == '@':
			end := mentionToken(text, i+1)
			n, cands := x.mention(text[i+1 : end])
			var depts []target
			for _, t := range cands {
				if t.dept != nil {
					depts = append(depts, t)
				}
			}
			switch {
			case len(depts) == 0:
				return nil, models.Errorf(models.EINVALID, "未找到单位“%s”，请@承办单位，如：立项 @住建局 楼道堆物 即知即改", text[i+1:end])
			case len(depts) > 1:
				return nil, ambiguity(r.dir, text[i+1:i+1+n], depts)
			case d.dept != nil && d.dept.ID != depts[0].dept.ID:
				return nil, models.Errorf(models.EINVALID, "一项整改只交办一个单位，请分别立项")
			}
			d.dept = depts[0].dept
			cuts, i = append(cuts, [2]int{i, i + 1 + n}), i+1+n
			continue
		case lead && isSep(c):
			i += size
			continue
		case lead:
			if n := longestAt(x.deptNames, text, i); n != "" {
				dep, err := department(r.dir, n)
				if err != nil {
					return nil, err
				}
				d.dept, cuts, i = dep, append(cuts, [2]int{i, i + len(n)}), i+len(n)
				continue
			}
		}
		lead = false
		i += size
	}
	if err := h.draftSource(r, text, d, &cuts); err != nil {
		return nil, err
	}
	rest, after := cutOut(text, cuts), ""
	k, word := -1, ""
	for w := range classWords {
		if j := strings.Index(rest, w); j >= 0 && (k < 0 || j < k || (j == k && len(w) > len(word))) {
			k, word = j, w
		}
	}
	if k >= 0 {
		d.class, rest, after = classWords[word], rest[:k], rest[k+len(word):]
	}
	switch d.class {
	case models.RectifyUnfixable:
		d.reason = r.cmd.original(strings.Trim(after, instructionTrim))
		if d.reason == "" {
			return nil, models.Errorf(models.EINVALID, "无法整改请说明理由，如：立项 @住建局 加装电梯 无法整改 涉及规划调整需市级审批")
		}
	default:
		res, err := h.phrases.Find(rest+" "+after, r.now)
		var perr *timephrase.Error
		if errors.As(err, &perr) {
			return nil, models.Errorf(models.EINVALID, "%s，未立项。请修改期限后重新发送", perr.Error())
		}
		if err != nil {
			return nil, fmt.Errorf("handlers: read 立项 deadline: %w", err)
		}
		rest = res.Rest
		switch {
		case res.Found:
			t := res.Deadline
			d.deadline = &t
			if d.class == "" {
				d.class = models.RectifyTimed
			}
		case d.class == models.RectifyTimed:
			return nil, models.Errorf(models.EINVALID, "限时整改请写明期限，如：立项 @住建局 楼道堆物 限时整改 12月31日前")
		default:
			t := h.cfg.Rules.Rectify.QuickLimit.From(r.now, h.cal)
			d.class, d.deadline = models.RectifyQuick, &t
		}
	}
	d.problem = r.cmd.original(strings.Trim(strings.Join(strings.Fields(rest), " "), instructionTrim))
	if d.problem == "" && d.ticket != nil {
		d.problem = ticketAbout(d.ticket)
	}
	if d.problem == "" {
		return nil, models.Errorf(models.EINVALID, "请写明整改问题。用法：%s", r.cmd.Usage())
	}
	if d.dept == nil {
		return nil, models.Errorf(models.EINVALID, "请@承办单位，如：立项 @住建局 楼道堆物 即知即改")
	}
	return d, nil
}

// draftSource reads the ticket number or dispatch code of 立项's text, cutting
// it out, and takes the unit from it when none was named: the ticket's, or
// the dispatch's only unit.
func (h *Handler) draftSource(r *request, text string, d *itemDraft, cuts *[][2]int) error {
	if m := h.grammar.tickets.FindStringIndex(text); m != nil {
		start := m[0]
		for _, l := range ticketLead {
			if strings.HasSuffix(text[:start], l) {
				start -= len(l)
				break
			}
		}
		*cuts = append(*cuts, [2]int{start, m[1]})
		t, _, err := r.tx.TicketByNumber(r.ctx, text[m[0]:m[1]])
		if err != nil {
			return err
		}
		d.ticket = t
		if d.dept == nil && t.Department != nil {
			d.dept = t.Department
		}
		return nil
	}
	for i := 0; i < len(text); i++ {
		if i > 0 && isWordByte(text[i-1]) {
			continue
		}
		id, end, ok := dispatchCode(text, i)
		if !ok {
			continue
		}
		*cuts = append(*cuts, [2]int{i, end})
		disp, err := r.tx.Dispatch(r.ctx, id)
		if err != nil {
			return err
		}
		d.dispatch = disp
		if d.dept != nil {
			return nil
		}
		var units []*models.Department
		for _, t := range disp.Targets {
			if t.Department != nil {
				units = append(units, t.Department)
			}
		}
		if len(units) == 1 {
			d.dept = units[0]
		} else if len(units) > 1 {
			return models.Errorf(models.EINVALID, "调度 %s 涉及多个单位，请@其中一个单位立项", disp.Code())
		}
		return nil
	}
	return nil
}
