package handlers

import (
	"fmt"
	"slices"
	"strings"

	"yanzhen/models"
)

// The unit's steps on an item of the rectification list (签收 Z12 to take it
// up, 反馈 or 办结 Z12 to report it fixed with evidence), and 核查 of an item or
// a dispatch by someone other than the doer: the item's or dispatch's
// issuer, the supervision team or the 12345 office.

// itemStep takes the unit's step on the command's item and tells the issuer.
func (h *Handler) itemStep(r *request, step models.StepKind) error {
	item, err := r.tx.Rectification(r.ctx, r.cmd.Item)
	if err != nil {
		return err
	}
	code := item.Code()
	if !slices.Contains(unitRoles, r.me.Role) || !slices.Contains(departmentIDs(reportDepartments(r.dir, r.me)), item.DepartmentID) {
		return models.Errorf(models.EFORBIDDEN, "整改事项 %s 交办%s，您不能办理", code, item.Department.Name)
	}
	st := models.RectifyStep{ID: item.ID, Step: models.RectifyReport, Actor: r.me.UserID, Text: r.cmd.Body, Refs: r.in.Media, At: r.now}
	if step == models.StepSign {
		st.Step = models.RectifyTake
	}
	if item, err = r.tx.StepRectification(r.ctx, st); err != nil {
		return err
	}
	who := item.Department.Name + "（" + r.me.Name + "）"
	issuer := r.dir.Member(item.IssuerID)
	if st.Step == models.RectifyTake {
		r.reply(fmt.Sprintf("已签收整改事项 %s，请于%s前整改，完成后回复“反馈 %s 整改情况”并附照片。", code, deadlineText(*item.Deadline, r.now), code))
		r.notify(fmt.Sprintf("【整改事项 %s】%s已签收，落实整改。", code, who), issuer)
		return nil
	}
	reply := fmt.Sprintf("已反馈整改事项 %s 的整改情况，待核查。", code)
	if n := len(item.EvidenceRefs); n > 0 {
		reply = fmt.Sprintf("已反馈整改事项 %s 的整改情况（附件%d个），待核查。", code, n)
	} else {
		reply += fmt.Sprintf("可在%d分钟内单独发送现场照片作为证据。", int(evidenceWindow.Minutes()))
	}
	r.reply(reply)
	r.notify(fmt.Sprintf("【整改事项 %s 待核查】%s反馈：\n%s\n请核查后回复“核查 %s 通过”或“核查 %s 不通过 说明”。", code, who, item.Evidence, code, code), issuer)
	return nil
}

// verdict reads 核查's verdict at the start of its text: passed, and the
// note after it; ok is false when the text starts with neither.
func verdict(body string) (passed bool, note string, ok bool) {
	body = strings.TrimSpace(body)
	for _, w := range []struct {
		word string
		pass bool
	}{{"不通过", false}, {"未通过", false}, {"不合格", false}, {"通过", true}, {"合格", true}} {
		if rest, found := strings.CutPrefix(body, w.word); found {
			return w.pass, strings.Trim(rest, " ,.;:、。，：；"), true
		}
	}
	return false, "", false
}

// verify is 核查 Z12|D12 通过|不通过 [说明].
func (h *Handler) verify(r *request) error {
	passed, note, ok := verdict(r.cmd.Body)
	switch {
	case !ok:
		return models.Errorf(models.EINVALID, "请写明核查结果“通过”或“不通过”。用法：%s", r.cmd.Usage())
	case !passed && note == "":
		code := fmt.Sprintf("D%d", r.cmd.Code)
		if r.cmd.Item != 0 {
			code = fmt.Sprintf("Z%d", r.cmd.Item)
		}
		return models.Errorf(models.EINVALID, "核查不通过请说明原因，如：核查 %s 不通过 现场仍有堆物", code)
	case r.cmd.Item != 0:
		return h.verifyItem(r, passed, note)
	}
	return h.verifyDispatch(r, passed, note)
}

// mayVerify refuses a verifier who did the work or, being a leader, did not
// issue it: a leader verifies what they issued; the supervision team and the
// 12345 office verify anything but their own unit's work.
func mayVerify(r *request, what string, issuerID uint, units []uint) error {
	mine := departmentIDs(reportDepartments(r.dir, r.me))
	for _, u := range units {
		if slices.Contains(mine, u) {
			return models.Errorf(models.EFORBIDDEN, "%s由本单位办理，须由他人核查", what)
		}
	}
	if r.me.Role == models.RoleLeader && issuerID != r.me.ID {
		return models.Errorf(models.EFORBIDDEN, "%s由发起人、督导专班或12345热线办核查", what)
	}
	return nil
}

// verifyItem verifies an item: passed, it waits for the weekly 公示; failed,
// it goes back to the unit.
func (h *Handler) verifyItem(r *request, passed bool, note string) error {
	item, err := r.tx.Rectification(r.ctx, r.cmd.Item)
	if err != nil {
		return err
	}
	code := item.Code()
	if err := mayVerify(r, "整改事项 "+code, item.IssuerID, []uint{item.DepartmentID}); err != nil {
		return err
	}
	st := models.RectifyStep{ID: item.ID, Step: models.RectifyFail, Actor: r.me.UserID, Text: note, At: r.now}
	if passed {
		st.Step = models.RectifyPass
	}
	if item, err = r.tx.StepRectification(r.ctx, st); err != nil {
		return err
	}
	heads := r.dir.Responsible(item.DepartmentID)
	if passed {
		r.reply(fmt.Sprintf("整改事项 %s 核查通过，将在本周整改公示后销号。", code))
		r.notify(fmt.Sprintf("【整改事项 %s】%s核查通过，待公示销号。", code, memberText(r.dir, r.me)), heads...)
		return nil
	}
	r.reply(fmt.Sprintf("整改事项 %s 核查不通过，已退回%s重新整改。", code, item.Department.Name))
	r.notify(fmt.Sprintf("【整改事项 %s 核查不通过】%s核查未通过：%s\n请重新整改，完成后回复“反馈 %s 整改情况”。", code, memberText(r.dir, r.me), note, code), heads...)
	return nil
}

// verifyDispatch verifies a dispatch whose targets have all finished:
// passed, it is closed (销号) and listed in the weekly 公示; failed, its
// finished targets are sent back to work with the note.
func (h *Handler) verifyDispatch(r *request, passed bool, note string) error {
	d, err := r.tx.Dispatch(r.ctx, r.cmd.Code)
	if err != nil {
		return err
	}
	var units []uint
	for _, t := range d.Targets {
		if t.DepartmentID != nil {
			units = append(units, *t.DepartmentID)
		}
		if t.MemberID != nil && *t.MemberID == r.me.ID {
			return models.Errorf(models.EFORBIDDEN, "调度 %s 由您办理，须由他人核查", d.Code())
		}
	}
	if err := mayVerify(r, "调度 "+d.Code(), d.IssuerID, units); err != nil {
		return err
	}
	st := models.DispatchStep{DispatchID: d.ID, Step: models.StepVerify, Actor: r.me.UserID, Text: note, At: r.now}
	if !passed {
		st.Step, st.Text = models.StepReturn, "核查不通过："+note
	}
	d, changed, err := r.tx.StepDispatch(r.ctx, st)
	if err != nil {
		return err
	}
	if passed {
		r.reply(fmt.Sprintf("调度 %s 核查通过，已销号，将列入本周整改公示。", d.Code()))
		r.notify(fmt.Sprintf("【%s】%s核查通过，已销号。", d.Title(), memberText(r.dir, r.me)), append(recipientsOf(r.dir, d.Targets), r.dir.Member(d.IssuerID))...)
		return nil
	}
	var labels []string
	for _, t := range changed {
		labels = append(labels, t.Label())
	}
	r.reply(fmt.Sprintf("调度 %s 核查不通过，已退回：%s。", d.Code(), strings.Join(labels, "、")))
	r.notify(fmt.Sprintf("【%s 核查不通过】%s：%s\n请重新办理，办结后回复“办结 %s 结果”。", d.Title(), memberText(r.dir, r.me), note, d.Code()),
		append(recipientsOf(r.dir, changed), r.dir.Member(d.IssuerID))...)
	return nil
}

// verifyWords mark a dispatch its issuer wants verified before 销号 (调度 …
// 需核查).
var verifyWords = []string{"需要核查", "需核查"}

// cutVerify cuts the words asking for verification out of a dispatch's text
// and reports whether there were any.
func cutVerify(text string) (string, bool) {
	found := false
	for _, w := range verifyWords {
		if strings.Contains(text, w) {
			text, found = strings.ReplaceAll(text, w, " "), true
		}
	}
	return strings.Join(strings.Fields(text), " "), found
}

// verifyNote tells the issuer of a dispatch to verify how it closes.
func verifyNote(d *models.Dispatch) string {
	code := d.Code()
	return "办结后需核查：由发起人、督导专班或12345热线办回复“核查 " + code + " 通过”销号，或“核查 " + code + " 不通过 说明”退回。"
}
