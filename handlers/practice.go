package handlers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/report"
)

// The lists and tracks of the practice in chat: 清单 (the rectification list),
// 查 Z12, 重点件 (the daily track of a key ticket), 问责 (a unit's
// accountability ladder) and 约谈 (entering an interview).

// rectifyList is 清单 [单位] [类别] [本季度|本年度 …]: the open items, or with
// a period the items registered in it, whatever became of them.
func (h *Handler) rectifyList(r *request) error {
	q := models.RectifyQuery{}
	scope, period := "全区", ""
	for _, w := range strings.Fields(r.cmd.Word) {
		if c, ok := classWords[w]; ok {
			q.Class = c
			continue
		}
		if p, ok := periods[w]; ok && w != "" {
			pp := h.period(p.kind, p.back, r.now)
			q.Issued, period = pp, report.PeriodText(pp)
			q.States = append(slices.Clone(models.OpenRectifyStates), models.RectifyClosed)
			continue
		}
		dept, err := department(r.dir, w)
		if err != nil {
			return err
		}
		q.DepartmentID, scope = dept.ID, dept.Name
	}
	total, err := r.tx.CountRectifications(r.ctx, q)
	if err != nil {
		return err
	}
	what := "未销号的整改事项"
	if period != "" {
		what = period + "立项的整改事项"
	}
	if q.Class != "" {
		what = strings.Replace(what, "整改事项", string(q.Class)+"事项", 1)
	}
	if total == 0 {
		r.reply(scope + "暂无" + what + "。")
		return nil
	}
	q.Limit = listCap
	list, err := r.tx.ListRectifications(r.ctx, q)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "【整改清单】%s%s %d 件", scope, what, total)
	counts := map[models.RectifyClass]int{}
	states := map[models.RectifyState]int{}
	overdue := 0
	for _, it := range list {
		counts[it.Class]++
		states[it.State]++
		if it.Overdue(r.now) {
			overdue++
		}
	}
	if total <= len(list) {
		var parts []string
		for _, c := range models.RectifyClasses {
			if counts[c] > 0 {
				parts = append(parts, fmt.Sprintf("%s%d", c, counts[c]))
			}
		}
		b.WriteString("（" + strings.Join(parts, "、") + "）")
		if overdue > 0 {
			fmt.Fprintf(&b, "，其中超期 %d 件", overdue)
		}
	}
	for _, it := range list {
		b.WriteString("\n" + itemLine(h, &it, q.DepartmentID == 0, r.now))
	}
	if total > len(list) {
		fmt.Fprintf(&b, "\n（仅列出最早的%d件）", len(list))
	}
	r.reply(b.String())
	return nil
}

// itemLine writes one item on a line: Z3 住建局 即知即改 整改中 11月23日（周一）10:00前 楼道堆物.
func itemLine(h *Handler, it *models.Rectification, withUnit bool, now time.Time) string {
	s := it.Code()
	if withUnit && it.Department != nil {
		s += " " + it.Department.Name
	}
	s += " " + string(it.Class) + " " + string(it.State)
	switch {
	case it.Overdue(now):
		s += "（" + report.Lateness(h.cal, *it.Deadline, now) + "）"
	case it.Owed() && it.Deadline != nil:
		s += " " + deadlineText(*it.Deadline, now) + "前"
	}
	return s + " " + models.ClipRunes(models.OneLine(it.Problem), 25)
}

// itemSteps are what the steps of an item are called in a reply.
var itemSteps = map[models.RectifyStepKind]string{
	models.RectifyIssue: "立项交办", models.RectifyTake: "签收落实", models.RectifyReport: "反馈整改情况",
	models.RectifyPass: "核查通过", models.RectifyFail: "核查不通过", models.RectifyPublish: "公示销号",
	models.RectifyAsk: "申请无法整改", models.RectifyDefer: "批准无法整改", models.RectifyRefuse: "驳回无法整改",
}

// lookupItem shows an item of the rectification list and its steps.
func (h *Handler) lookupItem(r *request) error {
	it, err := r.tx.Rectification(r.ctx, r.cmd.Item)
	if err != nil {
		return err
	}
	events, err := r.tx.RectifyEvents(r.ctx, it.ID)
	if err != nil {
		return err
	}
	lines := []string{
		fmt.Sprintf("【整改事项 %s】%s（%s）", it.Code(), it.State, it.Class),
		"单位：" + it.Department.Name,
		"问题：" + models.ClipRunes(models.OneLine(it.Problem), 61),
	}
	if it.Reason != "" {
		lines = append(lines, "无法整改理由："+models.ClipRunes(models.OneLine(it.Reason), 61))
	}
	if it.Deadline != nil && it.Class != models.RectifyUnfixable {
		line := "时限：" + deadlineText(*it.Deadline, r.now) + "前"
		if it.Overdue(r.now) {
			line += "（" + report.Lateness(h.cal, *it.Deadline, r.now) + "）"
		}
		lines = append(lines, line)
	}
	if src := itemSource(it); src != "" {
		lines = append(lines, strings.TrimSuffix(src, "\n"))
	}
	if it.Evidence != "" {
		line := "整改情况：" + models.ClipRunes(models.OneLine(it.Evidence), 61)
		if n := len(it.EvidenceRefs); n > 0 {
			line += fmt.Sprintf("（附件%d个）", n)
		}
		lines = append(lines, line)
	}
	if it.Reopened > 0 {
		lines = append(lines, fmt.Sprintf("核查未通过：%d次", it.Reopened))
	}
	lines = append(lines, "记录：")
	for _, e := range events {
		line := timeText(e.At, r.now) + " " + itemSteps[e.Step]
		if e.Step != models.RectifyIssue && e.Text != "" {
			line += "（" + models.ClipRunes(models.OneLine(e.Text), 31) + "）"
		}
		if m := r.dir.MemberByUserID(e.Actor); m != nil {
			line += " " + m.Name
		}
		lines = append(lines, line)
	}
	r.reply(strings.Join(lines, "\n"))
	return nil
}

// keyTicket is 重点件 工单号: the ticket is on the daily 重点件 track of the
// 18:00 report until it is closed; its unit's heads hear of it.
func (h *Handler) keyTicket(r *request) error {
	t, err := r.tx.MarkKeyTicket(r.ctx, r.cmd.Ticket, r.me.UserID, r.now)
	if err != nil {
		return err
	}
	reply := fmt.Sprintf("已将工单 %s 列为重点件，每日%s日报跟踪至办结。", t.Number, h.cfg.Schedule.ReportAt)
	if t.DepartmentID != nil {
		dept := departmentLabel(r.dir, *t.DepartmentID)
		heads := r.dir.Responsible(*t.DepartmentID)
		r.notify(fmt.Sprintf("【重点件】工单 %s（%s）已由%s列为重点件，每日日报跟踪，请加快办理并及时反馈。", t.Number, ticketAbout(t), memberText(r.dir, r.me)), heads...)
		if len(heads) > 0 {
			reply += "已通知" + dept + "（" + names(heads) + "）。"
		}
	}
	r.reply(reply)
	return nil
}

// accountability is 问责 单位: where the unit stands on the accountability
// ladder and every step it took, with who and when.
func (h *Handler) accountability(r *request) error {
	dept, err := department(r.dir, r.cmd.Word)
	if err != nil {
		return err
	}
	records, err := r.tx.AccountabilityOf(r.ctx, dept.ID)
	if err != nil {
		return err
	}
	if len(records) == 0 {
		r.reply(dept.Name + "暂无问责记录。")
		return nil
	}
	var b strings.Builder
	latest := records[len(records)-1]
	b.WriteString("【问责记录】" + dept.Name + "\n当前：")
	if level := report.AccountLevel(&latest, r.now, h.cfg.Rules.Accountability, h.cal); level == 0 {
		b.WriteString("已满" + h.cfg.Rules.Accountability.ResetAfter.Chinese() + "无新的问责，再次触发时从提醒开始")
	} else {
		b.WriteString(report.AccountState(&latest))
	}
	for _, rec := range records {
		b.WriteString("\n" + timeText(rec.At, r.now) + " " + rec.Step.Ordinal())
		if rec.Trigger != "" {
			b.WriteString("（" + rec.Trigger + "）")
		}
		switch {
		case rec.Step == models.AccountInterview && rec.MeetingOn != nil:
			fmt.Fprintf(&b, "：%s %s；纪要：%s（%s录入）", rec.MeetingOn.Format("1月2日"), rec.Attendees,
				models.ClipRunes(models.OneLine(rec.Minutes), 61), personName(r.dir, rec.RecordedBy))
		case rec.Step == models.AccountInterview:
			b.WriteString("：待约谈")
		case rec.Step == models.AccountReview && rec.DispatchID != nil:
			if d, err := r.tx.Dispatch(r.ctx, *rec.DispatchID); err == nil {
				b.WriteString("：检视报告 " + d.Code() + " " + reviewState(d, r.now))
			} else if models.ErrorCode(err) != models.ENOTFOUND {
				return err
			}
		}
	}
	r.reply(b.String())
	return nil
}

// reviewState says where the dispatch of a 责令检视 stands: 已提交检视报告,
// 待提交（时限…）.
func reviewState(d *models.Dispatch, now time.Time) string {
	switch {
	case d.Status == models.DispatchClosed:
		return "检视报告已确认"
	case progressDone(d):
		return "已提交检视报告，待确认"
	case d.Deadline != nil:
		return "待提交，时限" + deadlineText(*d.Deadline, now)
	}
	return "待提交"
}

// interview is 约谈 单位 日期 纪要, by the supervision team or a leader: it
// completes the 约谈 the ladder called for, or records one of its own.
func (h *Handler) interview(r *request) error {
	words := strings.Fields(r.cmd.Word)
	usage := models.Errorf(models.EINVALID, "用法：%s，如：约谈 住建局 11月20日 王五约谈张三，要求两周内完成积案清理", r.cmd.Usage())
	if len(words) < 3 {
		return usage
	}
	dept, err := department(r.dir, words[0])
	if err != nil {
		return err
	}
	on, ok := h.dayWord(words[1], r.now)
	if !ok {
		return models.Errorf(models.EINVALID, "无法识别约谈日期“%s”，可写今天、昨天、11月20日或2026-11-20", words[1])
	}
	minutes := r.cmd.original(strings.Join(words[2:], " "))
	heads := r.dir.MembersOf(dept.ID, models.RoleHead)
	attendees := memberText(r.dir, r.me) + "约谈" + dept.Name
	if len(heads) > 0 {
		attendees += names(heads)
	}
	rec, called, err := r.tx.RecordInterview(r.ctx, models.Interview{DepartmentID: dept.ID, On: on, Attendees: attendees, Minutes: minutes, By: r.me.UserID, At: r.now})
	if err != nil {
		return err
	}
	reply := fmt.Sprintf("已记录%s%s约谈（%s）。", dept.Name, on.Format("1月2日"), rec.Step.Ordinal())
	if !called {
		reply = fmt.Sprintf("已记录%s%s约谈，该单位列入问责第二级（约谈）。", dept.Name, on.Format("1月2日"))
	}
	r.reply(reply)
	r.notify(fmt.Sprintf("【问责约谈】%s %s\n纪要：%s", on.Format("1月2日"), attendees, minutes), heads...)
	return nil
}

// dayWord reads a day as a 约谈 names it: 今天, 昨天, 前天, or a date (day).
func (h *Handler) dayWord(w string, now time.Time) (time.Time, bool) {
	back := map[string]int{"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
	if n, ok := back[w]; ok {
		return models.DayOf(now, h.cfg.Location()).Start.AddDate(0, 0, -n), true
	}
	return h.day(w, now)
}
