package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// Reports is the daily report as the report commands need it;
// *report.Builder provides it.
type Reports interface {
	// For returns the builder of a work group's reports (its code; "" the
	// default group), whose Daily builds the day's report as it stands at
	// now, sending nothing.
	For(group string) *report.Builder
	// PostLate posts on st through out, as 补报, the day's reports not yet
	// posted, once the day's report has gone out; it returns how many it posted.
	PostLate(ctx context.Context, st *models.Store, out report.Enqueuer, day string) (int, error)
}

// reportDay returns the report day of now ("2006-01-02" in the configured
// zone) and whether now is past the report time of a unit's work group (迟报).
func (h *Handler) reportDay(r *request, unit uint) (string, bool) {
	return r.now.Format(time.DateOnly), !r.now.Before(h.reportAt(r, unit).On(r.now))
}

// reportAt is the report time of a unit's work group.
func (h *Handler) reportAt(r *request, unit uint) config.Clock {
	return report.Schedule(h.cfg.Schedule, r.groups.Of(r.groups.Home(unit))).ReportAt
}

func (h *Handler) report(r *request) error       { return h.submit(r, false) }
func (h *Handler) appendReport(r *request) error { return h.submit(r, true) }

// submit records the sender's department's report for today, replacing it or
// appending to it; a late one also goes to the group at once as 补报. A text
// with fewer than minReportRunes letters and digits (emoji and punctuation
// alone) is refused with the usage line.
func (h *Handler) submit(r *request, appendText bool) error {
	word, rest, label := splitLabel(r.cmd.Body)
	if !label {
		word = ""
	}
	dept, named, err := reportDepartment(r, word, true)
	if err != nil {
		return err
	}
	body := r.cmd.Body
	if named {
		body = rest
	}
	if !substantial(body) {
		return models.Errorf(models.EINVALID, "日报内容过短：正文至少%d个字（表情和标点不计）。用法：%s", minReportRunes, r.cmd.Usage())
	}
	day, late := h.reportDay(r, dept.ID)
	rep, err := r.tx.SubmitReport(r.ctx, models.ReportSubmission{
		DepartmentID: dept.ID, Day: day, Text: body, By: r.me.UserID, ByName: r.me.Name,
		At: r.now, Late: late, Append: appendText,
	})
	if err != nil {
		return err
	}
	verb := "已收到"
	if rep.Revision > 1 {
		verb = "已更新"
	}
	reply := fmt.Sprintf("%s%s%s日报（第%d版，%d字）。", verb, dept.Name, dayText(day), rep.Revision, len([]rune(rep.Text)))
	posted, err := h.reports.PostLate(r.ctx, r.tx, h.out, day)
	if err != nil {
		return err
	}
	switch {
	case posted > 0 && rep.PostedRevision > 0:
		reply += "今日日报已发布，本次更新已作为更正发至工作群。"
	case posted > 0 && late:
		reply += fmt.Sprintf("已过%s报送时间，记为迟报，已作为补报发至工作群。", h.reportAt(r, dept.ID))
	case posted > 0:
		reply += "今日日报已发布，本报告已作为补报发至工作群。"
	case late:
		reply += fmt.Sprintf("已过%s报送时间，记为迟报，将随今日日报一并发布。", h.reportAt(r, dept.ID))
	}
	r.reply(reply)
	return nil
}

// withdrawReport withdraws the sender's version of today's report of their
// department (a head's and a reporter's are versions of one report). When
// their version was the one shown, the report falls back to the other
// person's latest version, if any; a report the group has seen is corrected
// (更正) or withdrawn in the group too.
func (h *Handler) withdrawReport(r *request) error {
	dept, named, err := reportDepartment(r, r.cmd.Word, false)
	if err != nil {
		return err
	}
	if r.cmd.Word != "" && !named {
		return models.Errorf(models.EINVALID, "用法：%s", r.cmd.Usage())
	}
	day, _ := h.reportDay(r, dept.ID)
	w, err := r.tx.WithdrawReport(r.ctx, dept.ID, day, r.me.UserID)
	if err != nil {
		return err
	}
	posted := w.Before.PostedRevision > 0
	switch w.Outcome {
	case models.OlderVersion:
		r.reply(fmt.Sprintf("已撤回您报送的%s%s日报版本。该单位日报以%s %s报送的版本为准，未受影响。",
			dept.Name, dayText(day), w.After.SubmitterName, w.After.SubmittedAt.In(h.cfg.Location()).Format("15:04")))
		return nil
	case models.FellBack:
		reply := fmt.Sprintf("已撤回您报送的%s%s日报版本，现以%s %s报送的版本为准。",
			dept.Name, dayText(day), w.After.SubmitterName, w.After.SubmittedAt.In(h.cfg.Location()).Format("15:04"))
		n, err := h.reports.PostLate(r.ctx, r.tx, h.out, day)
		if err != nil {
			return err
		}
		if n > 0 && posted {
			reply += "该日报已随今日日报发布，现行版本已作为更正发至工作群。"
		}
		r.reply(reply)
		return nil
	}
	reply := fmt.Sprintf("已撤回%s%s日报。", dept.Name, dayText(day))
	// A report the group has seen is withdrawn in the group too.
	if posted {
		r.notes = append(r.notes, report.Withdrawal(r.groups.Home(dept.ID), dept, &w.Before, r.me.Name, r.now, h.cfg.Location()))
		reply += "该日报已随今日日报发布，撤回情况已告知工作群。"
	}
	r.reply(reply + "如需重新报送，请发送“日报 正文”。")
	return nil
}

// reportDepartment returns the department the sender reports for: the one
// named by word when word is one they may report for (named true), else their
// only one. A sender who reports for several must name it. A word naming a
// department the sender may not report for is refused, unless inText and the
// sender reports for one department only: then it is a word of their report
// (日报 城管局、住建局联合整治… from 住建局 is 住建局's).
func reportDepartment(r *request, word string, inText bool) (*models.Department, bool, error) {
	mine := reportDepartments(r.dir, r.me)
	if word != "" {
		found := r.dir.FindDepartments(foldString(word))
		if len(found) == 1 {
			for _, d := range mine {
				if d.ID == found[0].ID {
					return d, true, nil
				}
			}
			if len(mine) > 1 || (len(mine) == 1 && !inText) {
				return nil, false, models.Errorf(models.EFORBIDDEN, "您不能代%s报送日报，请联系管理员", found[0].Name)
			}
		}
	}
	switch len(mine) {
	case 0:
		return nil, false, models.Errorf(models.EINVALID, "您的账号未关联部门，请联系管理员")
	case 1:
		return mine[0], false, nil
	}
	list := make([]string, len(mine))
	for i, d := range mine {
		list[i] = d.Name
	}
	return nil, false, models.Errorf(models.EINVALID, "您负责%s的日报，请写明部门，如：%s %s …",
		strings.Join(list, "、"), r.cmd.Name, list[0])
}

// reportDepartments returns the departments a member answers for: their own
// and those they cover, in the configured order.
func reportDepartments(dir *models.Directory, m *models.Member) []*models.Department {
	var out []*models.Department
	for i := range dir.Departments {
		d := &dir.Departments[i]
		if (m.DepartmentID != nil && *m.DepartmentID == d.ID) || m.Covers.Contains(d.Code) {
			out = append(out, d)
		}
	}
	return out
}

// departmentIDs returns the IDs of departments.
func departmentIDs(ds []*models.Department) []uint {
	out := make([]uint, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// previewReport shows today's report of the group (from a single chat, of
// the district's own group) as it would go out now, mentioning nobody. Asked
// in a group, the whole preview goes to the asker privately and the group
// gets one line, so that nobody floods the group with it.
func (h *Handler) previewReport(r *request) error {
	d, err := h.reports.For(r.post).Daily(r.ctx, r.now, r.now)
	if err != nil {
		return err
	}
	d.Preview = true
	m := d.Message()
	if !r.in.InGroup() {
		r.replyWith(m)
		return nil
	}
	m.To, m.Priority = msg.ToMembers(r.me.UserID), msg.Reply
	r.notes = append(r.notes, m)
	r.reply("今日日报预览已通过应用消息单独发给您。")
	return nil
}

// unreported lists the units of the scope (the group's, or the district's)
// that have not reported today.
func (h *Handler) unreported(r *request) error {
	day := r.now.Format(time.DateOnly)
	reports, err := r.tx.DailyReports(r.ctx, day)
	if err != nil {
		return err
	}
	missing := models.Unreported(r.scopeDepartments(), reports)
	note := ""
	if !h.cal.IsWorkday(r.now) {
		note = "（今日为休息日）"
	}
	if len(missing) == 0 {
		r.reply(fmt.Sprintf("%s日报已全部报送%s。", dayText(day), note))
		return nil
	}
	list := make([]string, len(missing))
	for i, d := range missing {
		list[i] = d.Name
	}
	r.reply(fmt.Sprintf("%s尚未报送日报的单位（%d个）%s：%s", dayText(day), len(missing), note, strings.Join(list, "、")))
	return nil
}

// minReportRunes is the fewest letters and digits a report (or an addition to
// it) must have: 今日无事 will do, 好的 or a row of emoji will not.
const minReportRunes = 4

// substantial reports whether text has at least minReportRunes letters or
// digits (Chinese characters are letters; emoji and punctuation are not).
func substantial(text string) bool {
	n := 0
	for _, c := range text {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			n++
		}
	}
	return n >= minReportRunes
}

// splitLabel splits a report into a leading word and the rest when the word
// is followed by a blank, a colon or a comma, the way a department is named
// before the text (日报 教育局：…); label is false otherwise, e.g. when the
// word is followed by 、 and starts a list of names (城管局、住建局联合整治…).
func splitLabel(s string) (word, rest string, label bool) {
	word, rest = splitWord(s)
	if word == s {
		return word, rest, true
	}
	sep, _ := utf8.DecodeRuneInString(s[len(word):])
	switch sep {
	case ' ', ':', '：', ',', '，':
		return word, rest, true
	}
	return word, rest, unicode.IsSpace(sep)
}

// splitWord splits s at its first separator (a blank, colon or comma) into
// the first word and the rest, trimmed.
func splitWord(s string) (string, string) {
	for i, r := range s {
		if isSep(r) {
			return s[:i], strings.TrimLeftFunc(s[i:], isSep)
		}
	}
	return s, ""
}
