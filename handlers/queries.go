package handlers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/report"
)

// listCap is how many tickets a list in a reply shows.
const listCap = 20

// lookup shows a dispatch (查 D12), an item of the rectification list (查
// Z12) or a ticket (查 2024112700123).
func (h *Handler) lookup(r *request) error {
	switch {
	case r.cmd.Code != 0:
		return h.lookupDispatch(r)
	case r.cmd.Item != 0:
		return h.lookupItem(r)
	}
	return h.lookupTicket(r)
}

// lookupDispatch shows a dispatch with the progress of each target.
func (h *Handler) lookupDispatch(r *request) error {
	d, err := r.tx.Dispatch(r.ctx, r.cmd.Code)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "【%s】%s\n", d.Title(), d.Status)
	issuer := "—"
	if d.Issuer != nil {
		issuer = d.Issuer.Name
	}
	fmt.Fprintf(&b, "发起：%s %s\n要求：%s\n", issuer, timeText(d.IssuedAt, r.now), d.Instruction)
	if len(d.TicketNumbers) > 0 {
		b.WriteString("工单：" + strings.Join(d.TicketNumbers, "、") + "\n")
	}
	if d.Deadline != nil {
		b.WriteString("时限：" + deadlineText(*d.Deadline, r.now) + "前")
		if d.Overdue(r.now) {
			b.WriteString("（" + report.Lateness(h.cal, *d.Deadline, r.now) + "）")
		}
		b.WriteString("\n")
	}
	for _, t := range d.Targets {
		b.WriteString("· " + t.Label() + "：" + string(t.Status))
		switch {
		case t.Finished():
			b.WriteString("（" + timeText(*t.DoneAt, r.now) + "）" + models.ClipRunes(models.OneLine(t.Result), 41))
		case t.Status == models.TargetFeedback:
			b.WriteString("（" + timeText(*t.FeedbackAt, r.now) + "）" + models.ClipRunes(models.OneLine(t.Feedback), 41))
		case t.SignedAt != nil:
			b.WriteString("（" + timeText(*t.SignedAt, r.now) + "签收）")
		}
		b.WriteString("\n")
	}
	if d.ClosedAt != nil {
		b.WriteString(string(d.Status) + "：" + timeText(*d.ClosedAt, r.now))
	}
	r.reply(strings.TrimSuffix(b.String(), "\n"))
	return nil
}

// eventNames are what the changes of ticket events are called in a reply.
var eventNames = map[models.TicketChange]string{
	models.EventCreated: "受理", models.EventStatus: "状态", models.EventDeadline: "期限",
	models.EventDepartment: "承办单位", models.EventSatisfaction: "回访", models.EventReopen: "重办",
	models.EventExtension: "延期", models.EventReturnRequested: "申请退办",
	models.EventReturnReviewed: "部门同意退办", models.EventReturnRejected: "驳回退办",
	models.EventExtensionRequested: "申请延期", models.EventExtensionReviewed: "部门同意延期", models.EventExtensionRejected: "驳回延期",
	models.EventExclusionRequested: "申请剔除", models.EventExclusionReviewed: "热线办同意剔除", models.EventExclusionRejected: "驳回剔除", models.EventExcluded: "剔除（不计入考核）",
	models.EventSigned: "签收", models.EventFeedback: "反馈", models.EventClaimed: "报办结",
	models.EventClaimConfirmed: "平台确认办结", models.EventClaimReverted: "平台未办结，撤销报办结",
	models.EventGridSigned: "属地签收", models.EventGridFeedback: "属地反馈", models.EventRaised: "提级",
}

// recentEvents is how many of a ticket's events 查 shows.
const recentEvents = 5

// lookupTicket shows a ticket: where it stands, its deadline, its last events
// and any return request.
func (h *Handler) lookupTicket(r *request) error {
	t, events, err := r.tx.TicketByNumber(r.ctx, r.cmd.Ticket)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "【工单 %s】%s\n", t.Number, t.StatusText())
	if title := t.Title; title != "" || t.Content != "" {
		if title == "" {
			title = t.Content
		}
		b.WriteString("诉求：" + models.ClipRunes(models.OneLine(title), 61) + "\n")
	}
	var facts []string
	for _, f := range [][2]string{{"类别", t.Category}, {"来源", string(t.Source)}} {
		if f[1] != "" {
			facts = append(facts, f[0]+"："+f[1])
		}
	}
	if len(facts) > 0 {
		b.WriteString(strings.Join(facts, "｜") + "\n")
	}
	if t.Department != nil {
		b.WriteString("承办：" + t.Department.Name)
		if t.GridDepartment != nil {
			b.WriteString("；网格：" + t.GridDepartment.Name + "（" + gridPart(t, r.now) + "）")
		}
		b.WriteString("\n")
	}
	if t.RaisedLevel != "" && t.RaisedAt != nil {
		to := string(t.RaisedLevel)
		if t.RaisedTo != nil {
			to = t.RaisedTo.Name
		}
		b.WriteString("提级：" + timeText(*t.RaisedAt, r.now) + "提级至" + to + "\n")
	}
	b.WriteString("受理：" + timeText(t.ReceivedAt, r.now) + "\n")
	if t.Deadline != nil {
		b.WriteString("期限：" + deadlineText(*t.Deadline, r.now))
		if t.Overdue(r.now) {
			b.WriteString("（" + report.Lateness(h.cal, *t.Deadline, r.now) + "）")
		}
		b.WriteString("\n")
	}
	if t.Satisfaction != "" {
		b.WriteString("回访：" + string(t.Satisfaction) + "\n")
	}
	if t.ReopenCount > 0 {
		fmt.Fprintf(&b, "重办：%d次\n", t.ReopenCount)
	}
	for _, kind := range models.RequestKinds {
		if kind.AboutItem() {
			continue
		}
		req, err := r.tx.PendingRequest(r.ctx, kind, t.Number)
		switch {
		case err == nil:
			fmt.Fprintf(&b, "%s申请：%s（%s申请）\n", kind.Chinese(), req.State, personText(r.dir, req.RequestedBy))
		case models.ErrorCode(err) != models.ENOTFOUND:
			return err
		}
	}
	if len(events) > recentEvents {
		events = events[len(events)-recentEvents:]
	}
	if len(events) > 0 {
		b.WriteString("最近记录：")
		for _, e := range events {
			b.WriteString("\n" + timeText(e.At, r.now) + " " + eventText(r.dir, e))
		}
	}
	r.reply(strings.TrimSuffix(b.String(), "\n"))
	return nil
}

// gridPart says where the grid street's part of a 双派单 ticket stands: 未签收,
// 已签收（11月20日 10:05）, or its latest 反馈.
func gridPart(t *models.Ticket, now time.Time) string {
	switch {
	case t.GridFeedbackAt != nil:
		return "反馈 " + timeText(*t.GridFeedbackAt, now) + "：" + models.ClipRunes(models.OneLine(t.GridFeedback), 31)
	case t.GridSignedAt != nil:
		return "已签收 " + timeText(*t.GridSignedAt, now)
	}
	return "未签收"
}

// eventText writes one ticket event: 状态 待签收→办理中（理由）, and who
// took it when it was a member: 反馈（已联系群众）张三.
func eventText(dir *models.Directory, e models.TicketEvent) string {
	s := eventNames[e.Change]
	if s == "" {
		s = string(e.Change)
	}
	switch {
	case e.From != "" && e.To != "":
		s += " " + e.From + "→" + e.To
	case e.To != "":
		s += " " + e.To
	}
	if e.Reason != "" {
		s += "（" + models.ClipRunes(models.OneLine(e.Reason), 31) + "）"
	}
	if m := dir.MemberByUserID(e.Actor); m != nil {
		s += " " + m.Name
	}
	return s
}

// department resolves a department named in a command.
func department(dir *models.Directory, name string) (*models.Department, error) {
	found := dir.FindDepartments(name)
	switch len(found) {
	case 0:
		return nil, models.Errorf(models.ENOTFOUND, "未找到单位“%s”", name)
	case 1:
		return found[0], nil
	}
	cands := make([]target, len(found))
	for i, d := range found {
		cands[i] = target{dept: d}
	}
	return nil, ambiguity(dir, name, cands)
}

// progress shows a department's day: tickets received and resolved, open and
// overdue, the 三率 and place of the month to date (the ranking of 排名 and
// of the daily report), its daily report and its open dispatches.
func (h *Handler) progress(r *request) error {
	dept, err := department(r.dir, r.cmd.Word)
	if err != nil {
		return err
	}
	loc := h.cfg.Location()
	ledger, err := r.tx.Ledger(r.ctx, models.DayOf(r.now, loc), r.now, h.cfg.Rules.WarnWithin.D())
	if err != nil {
		return err
	}
	ranking, err := h.rank(r, h.period(models.PeriodMonth, 0, r.now))
	if err != nil {
		return err
	}
	day := r.now.Format(time.DateOnly)
	reports, err := r.tx.DailyReports(r.ctx, day)
	if err != nil {
		return err
	}
	open, err := r.tx.DispatchesFor(r.ctx, 0, []uint{dept.ID})
	if err != nil {
		return err
	}
	f := ledger[dept.ID]
	var b strings.Builder
	fmt.Fprintf(&b, "【%s】%s办理进度\n", dept.Name, dayText(day))
	fmt.Fprintf(&b, "今日受理 %d 件，办结 %d 件\n在办 %d 件，其中超期 %d 件、即将到期 %d 件\n", f.Received, f.Resolved, f.InProgress, f.Overdue, f.DueSoon)
	b.WriteString("三率（" + report.PeriodText(ranking.Period) + "）：")
	if s, _, ok := ranking.Of(dept.ID); ok {
		b.WriteString(report.RatesText(s.DepartmentScore) + "，综合评分 " + s.Rates.ScoreText() + "，")
	}
	b.WriteString(ranking.Place(dept.ID) + "\n")
	if rep, ok := reports[dept.ID]; ok {
		b.WriteString("今日日报：已报送（" + rep.SubmittedAt.In(loc).Format("15:04") + "）")
	} else if dept.ReportRequired {
		b.WriteString("今日日报：未报送")
	}
	if len(open) > 0 {
		var codes []string
		for _, d := range open {
			for _, t := range d.Targets {
				if t.DepartmentID != nil && *t.DepartmentID == dept.ID {
					codes = append(codes, d.Code()+"（"+string(t.Status)+"）")
				}
			}
		}
		b.WriteString("\n办理中的调度：" + strings.Join(codes, "、"))
	}
	r.reply(strings.TrimSuffix(b.String(), "\n"))
	return nil
}

// rank returns the ranking of period p (see period) of the request's scope
// (report.ScopeBoard): the month to date is the daily report's ranking.
func (h *Handler) rank(r *request, p models.Period) (*report.Ranking, error) {
	w := report.Weights(h.cfg.Rules.Scores)
	board, err := r.tx.ScoreBoard(r.ctx, p, w)
	if err != nil {
		return nil, err
	}
	board = report.ScopeBoard(board, r.dir, r.scope, r.group != nil && r.group == r.groups.Default() && r.groups.Configured(), w)
	return report.Rank(board, h.cfg.Rules.Scores.MinSample), nil
}

// overdue lists the open tickets past their deadline, of the request's
// scope (the group's units, or the district's) or of a department.
func (h *Handler) overdue(r *request) error {
	q := models.TicketQuery{Set: models.SetOverdue, Now: r.now, Units: r.scope.Filter()}
	scope := r.scopeName()
	if r.cmd.Word != "" {
		dept, err := department(r.dir, r.cmd.Word)
		if err != nil {
			return err
		}
		q.DepartmentID, q.Units, scope = dept.ID, nil, dept.Name
	}
	counts, err := r.tx.CountTickets(r.ctx, q)
	if err != nil {
		return err
	}
	total := counts.Total()
	if total == 0 {
		r.reply(scope + "目前没有超期未办结的工单。")
		return nil
	}
	q.Limit = listCap
	list, err := r.tx.ListTickets(r.ctx, q)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s超期未办结工单 %d 件", scope, total)
	if q.DepartmentID == 0 {
		var parts []string
		for _, d := range r.scopeDepartments() {
			if n := counts[d.ID]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", d.Name, n))
			}
		}
		if n := counts[0]; n > 0 {
			parts = append(parts, fmt.Sprintf("未分派 %d", n))
		}
		b.WriteString("：" + strings.Join(parts, "、"))
	}
	for _, t := range list {
		b.WriteString("\n" + t.Number)
		if q.DepartmentID == 0 && t.Department != nil {
			b.WriteString(" " + t.Department.Name)
		}
		b.WriteString(" " + report.Lateness(h.cal, *t.Deadline, r.now))
	}
	if total > len(list) {
		fmt.Fprintf(&b, "\n（仅列出超期最久的%d件）", len(list))
	}
	r.reply(b.String())
	return nil
}

// rankShown bounds the ranking in a reply: all of it up to rankAll lines,
// else the first rankHead and the last rankTail.
const (
	rankAll  = 20
	rankHead = 10
	rankTail = 5
)

// ranking shows the 三率 ranking of today, this or last week, month or
// quarter (the month to date by default, as the daily report ranks), each
// tier on its own by the ranking rules of report.Rank, as text or as charts.
func (h *Handler) ranking(r *request) error {
	p := h.period(r.cmd.Period, r.cmd.Back, r.now)
	if r.cmd.Chart {
		return h.rankingChart(r, p)
	}
	return h.rankingText(r, p)
}

// rankingText answers 排名 in words.
func (h *Handler) rankingText(r *request, p models.Period) error {
	ranking, err := h.rank(r, p)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("【三率排名】" + report.PeriodText(ranking.Period))
	if len(ranking.Tiers) == 0 {
		b.WriteString("\n暂无有效回访，无法排名。")
		r.reply(b.String())
		return nil
	}
	for _, t := range ranking.Tiers {
		if len(t.Ranked) == 0 {
			fmt.Fprintf(&b, "\n%s（无单位参与排名）：", t.Tier.Heading())
		} else {
			fmt.Fprintf(&b, "\n%s（%d个单位参与排名）：", t.Tier.Heading(), len(t.Ranked))
		}
		for i, s := range t.Ranked {
			if len(t.Ranked) > rankAll && i == rankHead {
				fmt.Fprintf(&b, "\n……（中间%d个单位略）", len(t.Ranked)-rankHead-rankTail)
			}
			if len(t.Ranked) > rankAll && i >= rankHead && i < len(t.Ranked)-rankTail {
				continue
			}
			b.WriteString("\n" + report.ScoreLine(s))
		}
		if len(t.Small) > 0 {
			names := make([]string, len(t.Small))
			for i, s := range t.Small {
				names[i] = s.Department.Name + "（回访" + strconv.Itoa(s.Rates.Valid) + "）"
			}
			b.WriteString("\n样本不足：" + models.ClipRunes(strings.Join(names, "、"), 101))
		}
	}
	fmt.Fprintf(&b, "\n%s综合评分 %s（有效回访%d件）", r.scopeName(), ranking.District.Rates.ScoreText(), ranking.District.Rates.Valid)
	if len(ranking.Empty) > 0 {
		empty := make([]string, len(ranking.Empty))
		for i, d := range ranking.Empty {
			empty[i] = d.Name
		}
		fmt.Fprintf(&b, "\n暂无有效回访（%d个）：%s", len(empty), models.ClipRunes(strings.Join(empty, "、"), 101))
	}
	b.WriteString("\n" + report.TieBreak(ranking.MinSample))
	r.reply(b.String())
	return nil
}

// todo lists what awaits the sender: dispatches to work on, dispatches they
// issued, and return requests to decide.
func (h *Handler) todo(r *request) error {
	depts := departmentIDs(reportDepartments(r.dir, r.me))
	var sections []string
	mine, err := r.tx.DispatchesFor(r.ctx, r.me.ID, depts)
	if err != nil {
		return err
	}
	if lines := targetLines(r, mine, depts); len(lines) > 0 {
		sections = append(sections, "【待办调度】\n"+strings.Join(lines, "\n"))
	}
	issued, err := r.tx.DispatchesBy(r.ctx, r.me.ID)
	if err != nil {
		return err
	}
	if len(issued) > 0 {
		lines := make([]string, len(issued))
		for i := range issued {
			d := &issued[i]
			lines[i] = fmt.Sprintf("%s %s：办结 %s", d.Code(), models.ClipRunes(models.OneLine(d.Instruction), 21), tally(d, models.StepDone))
			if progressDone(d) {
				lines[i] += "，待您确认"
			}
		}
		sections = append(sections, "【我发起的调度】\n"+strings.Join(lines, "\n"))
	}
	var reviews []models.TicketRequest
	if heads := headOf(r.me, depts); len(heads) > 0 {
		if reviews, err = r.tx.PendingRequests(r.ctx, "", models.RequestPendingHead, heads...); err != nil {
			return err
		}
	}
	switch r.me.Role {
	case models.RoleLeader:
		if reviews, err = r.tx.PendingRequests(r.ctx, "", models.RequestPendingLeader); err != nil {
			return err
		}
	case models.RoleHotline:
		if reviews, err = r.tx.PendingRequests(r.ctx, "", models.RequestPendingOffice); err != nil {
			return err
		}
	}
	if len(reviews) > 0 {
		lines := make([]string, len(reviews))
		for i, q := range reviews {
			lines[i] = fmt.Sprintf("%s %s（%s申请）：%s", q.Subject(), q.Kind.Chinese(), personText(r.dir, q.RequestedBy), models.ClipRunes(models.OneLine(q.Reason), 31))
		}
		sections = append(sections, "【待审批申请】\n"+strings.Join(lines, "\n"))
	}
	if len(sections) == 0 {
		r.reply("您目前没有待办事项。")
		return nil
	}
	r.reply(strings.Join(sections, "\n"))
	return nil
}

// targetLines writes one line per open dispatch target the sender answers for.
func targetLines(r *request, ds []models.Dispatch, depts []uint) []string {
	var lines []string
	for _, d := range ds {
		for _, t := range d.Targets {
			if !answers(t, r.me, depts) || t.Finished() {
				continue
			}
			line := fmt.Sprintf("%s %s：%s（%s", d.Code(), d.Issuer.Name, models.ClipRunes(models.OneLine(d.Instruction), 21), t.Status)
			if d.Deadline != nil {
				line += "，时限" + deadlineText(*d.Deadline, r.now)
			}
			lines = append(lines, line+"）")
		}
	}
	return lines
}
