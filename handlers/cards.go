package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Cards: the steps of a dispatch and of an approval chain that need no
// free text are buttons on cards (msg.Card). A tap is the typed command it
// stands for (tapCommand), taken with the same permissions, checks and
// notifications; the card then shows where its subject stands now, for
// everyone it was sent to. What a card shows is one function of its
// subject's state (cardOf), for the card first sent and for every update.

// tapNote is the reason a button that sends something back gives: 退回,
// 驳回.
const tapNote = "请补充说明"

// tapResult is the result a 已办结 button reports.
const tapResult = "已办结"

// tap handles a tap on a card's button. A tap on a card the bot did not
// send, or that names another subject, is ignored. A step refused because
// the subject has moved on (already signed, withdrawn, decided) shows the
// card's current state; one refused because the member has no right to it
// gets the refusal's one line, and changes no card.
func (h *Handler) tap(ctx context.Context, in *models.Inbound) error {
	t, err := msg.ParseTap(in.Text)
	if err != nil {
		return nil
	}
	card, err := h.store.CardByTask(ctx, in.TaskID)
	switch {
	case models.ErrorCode(err) == models.ENOTFOUND:
		return nil
	case err != nil:
		return err
	case card.RefKind != string(t.Ref.Kind) || card.RefID != t.Ref.ID:
		return nil
	}
	text, err := h.tapCommand(ctx, h.store, t)
	if err != nil || text == "" {
		return ignoreNotFound(err)
	}
	r := &request{ctx: ctx, in: in, cmd: h.grammar.Parse(text), now: h.Now().In(h.cfg.Location())}
	err = h.store.Tx(ctx, func(tx *models.Store) error {
		r.tx, r.replies, r.notes = tx, nil, nil
		if err := h.prepare(r); err != nil {
			return err
		}
		if err := h.mayTap(r, t.Ref); err != nil {
			return err
		}
		if err := r.cmd.spec.run(h, r); err != nil {
			return err
		}
		r.replies = nil // the card, updated, is the answer
		state, err := h.cardOf(ctx, tx, r.dir, t.Ref, r.now)
		if err != nil {
			return err
		}
		r.notes = append(r.notes, msg.UpdateCard(in, state))
		if err := markHandled(ctx, tx, in, r.now); err != nil {
			return err
		}
		_, err = h.out.Enqueue(ctx, tx, r.outgoing()...)
		return err
	})
	switch models.ErrorCode(err) {
	case models.EINVALID, models.ENOTFOUND, models.ECONFLICT:
		if r.me != nil {
			return ignoreNotFound(h.showCard(ctx, in, t.Ref))
		}
	}
	return h.settle(ctx, in, r.cmd.Name, err)
}

// mayTap refuses a tap on a dispatch's card by a member who does not answer
// for the card's target: the typed command would act for their own target.
func (h *Handler) mayTap(r *request, ref msg.Ref) error {
	if ref.Kind != msg.RefDispatch {
		return nil
	}
	tg, err := r.tx.DispatchTargetByID(r.ctx, ref.ID)
	if err != nil {
		return err
	}
	if !answers(*tg, r.me, departmentIDs(reportDepartments(r.dir, r.me))) {
		return models.Errorf(models.EFORBIDDEN, "您不是调度 D%d 该项的办理对象，未作处理", tg.DispatchID)
	}
	return nil
}

// showCard answers a tap that took no step with the card's current state.
func (h *Handler) showCard(ctx context.Context, in *models.Inbound, ref msg.Ref) error {
	return h.store.Tx(ctx, func(tx *models.Store) error {
		dir, err := tx.Directory(ctx)
		if err != nil {
			return err
		}
		state, err := h.cardOf(ctx, tx, dir, ref, h.Now().In(h.cfg.Location()))
		if err != nil {
			return err
		}
		m := msg.UpdateCard(in, state)
		m.DedupeKey = dedupeKey(in, "card")
		_, err = h.out.Enqueue(ctx, tx, m)
		return err
	})
}

// ignoreNotFound is nil for an error that says the subject is gone.
func ignoreNotFound(err error) error {
	if models.ErrorCode(err) == models.ENOTFOUND {
		return nil
	}
	return err
}

// tapCommand returns the typed command a tap stands for; "" when the verb
// is not one of the card's.
func (h *Handler) tapCommand(ctx context.Context, st *models.Store, t msg.Tap) (string, error) {
	switch t.Ref.Kind {
	case msg.RefDispatch:
		tg, err := st.DispatchTargetByID(ctx, t.Ref.ID)
		if err != nil {
			return "", err
		}
		switch t.Verb {
		case msg.VerbSign:
			return fmt.Sprintf("签收 D%d", tg.DispatchID), nil
		case msg.VerbDone:
			return fmt.Sprintf("办结 D%d %s", tg.DispatchID, tapResult), nil
		}
	case msg.RefDispatchIssuer:
		switch t.Verb {
		case msg.VerbConfirm:
			return fmt.Sprintf("确认 D%d", t.Ref.ID), nil
		case msg.VerbSendBack:
			return fmt.Sprintf("退回 D%d %s", t.Ref.ID, tapNote), nil
		}
	case msg.RefReview, msg.RefDecision:
		req, err := st.Request(ctx, t.Ref.ID)
		if err != nil {
			return "", err
		}
		name, n := req.Kind.Chinese(), ref(req)
		switch {
		case t.Verb == msg.VerbAgree && t.Ref.Kind == msg.RefReview:
			return "同意" + name + " " + n, nil
		case t.Verb == msg.VerbApprove && t.Ref.Kind == msg.RefDecision:
			return "批准" + name + " " + n, nil
		case t.Verb == msg.VerbReject:
			return "驳回" + name + " " + n + " " + tapNote, nil
		}
	}
	return "", nil
}

// cardOf returns the card of a subject as it stands at now.
func (h *Handler) cardOf(ctx context.Context, st *models.Store, dir *models.Directory, ref msg.Ref, now time.Time) (msg.Message, error) {
	switch ref.Kind {
	case msg.RefDispatch:
		tg, err := st.DispatchTargetByID(ctx, ref.ID)
		if err != nil {
			return msg.Message{}, err
		}
		d, err := st.Dispatch(ctx, tg.DispatchID)
		if err != nil {
			return msg.Message{}, err
		}
		for _, t := range d.Targets {
			if t.ID == ref.ID {
				return targetCard(ctx, st, dir, d, t, now)
			}
		}
	case msg.RefDispatchIssuer:
		d, err := st.Dispatch(ctx, ref.ID)
		if err != nil {
			return msg.Message{}, err
		}
		return issuerCard(dir, d, now), nil
	case msg.RefReview, msg.RefDecision:
		req, err := st.Request(ctx, ref.ID)
		if err != nil {
			return msg.Message{}, err
		}
		return requestCard(dir, req, ref.Kind, now), nil
	}
	return msg.Message{}, fmt.Errorf("handlers: no card of %s/%d", ref.Kind, ref.ID)
}

// sendCard sends a card to members, once each, leaving out the sender.
func (r *request) sendCard(m msg.Message, to ...*models.Member) {
	ids := userIDs(to, r.me.UserID)
	if len(ids) == 0 {
		return
	}
	m.To = msg.ToMembers(ids...)
	r.notes = append(r.notes, m)
}

// stamp writes who took a step and when: 王建华 12:03.
func stamp(dir *models.Directory, userid string, at *time.Time, now time.Time) string {
	s := personName(dir, userid)
	if at != nil {
		if clock := at.In(now.Location()); clock.YearDay() == now.YearDay() && clock.Year() == now.Year() {
			s += " " + clock.Format("15:04")
		} else {
			s += " " + timeText(clock, now)
		}
	}
	return strings.TrimSpace(s)
}

// dispatchHeading is the title of a dispatch's cards: 【点对点调度 D12】.
func dispatchHeading(d *models.Dispatch) string {
	if d.Kind == models.DispatchSupervision {
		return "【" + d.Title() + "】"
	}
	return "【点对点调度 " + d.Code() + "】"
}

// targetCard is the card of a dispatch to one of its targets: the
// instruction, the deadline highlighted, the tickets; 签收 and 已办结 while
// they can be taken.
func targetCard(ctx context.Context, st *models.Store, dir *models.Directory, d *models.Dispatch, t models.DispatchTarget, now time.Time) (msg.Message, error) {
	tickets, err := st.TicketsByNumber(ctx, d.TicketNumbers)
	if err != nil {
		return msg.Message{}, err
	}
	issuer := "发起人"
	if m := dir.Member(d.IssuerID); m != nil {
		issuer = memberText(dir, m)
	}
	code := d.Code()
	lines := msg.Lines(fmt.Sprintf("%s\n%s交办%s：%s\n%s请回复“签收 %s”；办理中回复“反馈 %s 进展”，完成后回复“办结 %s 结果”。",
		dispatchHeading(d), issuer, t.Label(), d.Instruction, dispatchDetails(d, tickets, now), code, code, code))
	card := &msg.Card{Ref: msg.Ref{Kind: msg.RefDispatch, ID: t.ID}, Fields: []msg.Field{{Label: "交办", Value: t.Label()}}}
	if d.Deadline != nil {
		card.Emphasis = msg.Emphasis{Value: deadlineText(*d.Deadline, now) + "前", Label: "办结时限"}
	}
	sign := msg.Action{Label: "签收", Verb: msg.VerbSign}
	done := msg.Action{Label: "已办结", Verb: msg.VerbDone}
	switch {
	case d.Status == models.DispatchCancelled:
		card.Status = "已撤销"
	case d.Status == models.DispatchClosed:
		card.Status = "已确认办结"
	case t.Status == models.TargetPending:
		card.Actions = []msg.Action{sign, done}
	case t.Status == models.TargetReturned:
		card.Status, card.Actions = "已退回，"+tapNote, []msg.Action{done}
	case t.Finished():
		card.Status = "已报办结 · " + stamp(dir, "", t.DoneAt, now) + "，待确认"
	default:
		card.Status, card.Actions = "已签收 · "+stamp(dir, t.SignedBy, t.SignedAt, now), []msg.Action{done}
	}
	return msg.Message{Title: dispatchHeading(d), Sections: []msg.Section{msg.S(lines...)}, Card: card}, nil
}

// issuerCard is the card of a dispatch to its issuer once every target has
// reported it done: each target's result; 确认办结 and 退回 while it waits.
func issuerCard(dir *models.Directory, d *models.Dispatch, now time.Time) msg.Message {
	code := d.Code()
	lines := []msg.Line{msg.L(msg.Text("【" + d.Title() + "】全部单位已报办结：" + d.Instruction))}
	for _, t := range d.Targets {
		result := string(t.Status)
		if t.Finished() && t.Result != "" {
			result = t.Result
		}
		lines = append(lines, msg.L(msg.Text(t.Label()+"："+models.OneLine(result))))
	}
	card := &msg.Card{Ref: msg.Ref{Kind: msg.RefDispatchIssuer, ID: d.ID}}
	switch {
	case d.Status == models.DispatchCancelled:
		card.Status = "已撤销"
	case d.Status == models.DispatchClosed:
		card.Status = "已确认办结 · " + stamp(dir, "", d.ClosedAt, now)
	case progressDone(d) && !d.Verify:
		card.Actions = []msg.Action{{Label: "确认办结", Verb: msg.VerbConfirm}, {Label: "退回", Verb: msg.VerbSendBack}}
		lines = append(lines, msg.L(msg.Text("请核查后回复“确认 "+code+"”销号，或“退回 "+code+" 理由”。")))
	case progressDone(d):
		card.Status = "待核查"
	default:
		card.Status = "已退回 · 办结进度 " + tally(d, models.StepDone)
	}
	return msg.Message{Title: "【" + d.Title() + "】", Sections: []msg.Section{msg.S(lines...)}, Card: card}
}

// requestCard is the card of a request to its reviewer (RefReview: 同意,
// 驳回) or to the leaders (RefDecision: 批准, 驳回), with the buttons while
// it waits for them.
func requestCard(dir *models.Directory, req *models.TicketRequest, kind msg.RefKind, now time.Time) msg.Message {
	c := chain{req.Kind}
	name, n := c.name(), ref(req)
	title := "【" + name + "审核】"
	head := title + personText(dir, req.RequestedBy) + "申请" + c.asks(req, now)
	ask := "请回复“同意" + name + " " + n + "”报区领导批准，或“驳回" + name + " " + n + " 理由”。"
	waits := req.State == models.RequestPendingHead || req.State == models.RequestPendingOffice
	actions := []msg.Action{{Label: "同意", Verb: msg.VerbAgree}, {Label: "驳回", Verb: msg.VerbReject}}
	if kind == msg.RefDecision {
		title = "【" + name + "审批】"
		head = title + c.asking(dir, req, now) + "。"
		ask = "请回复“批准" + name + " " + n + "”，或“驳回" + name + " " + n + " 理由”。"
		waits = req.State == models.RequestPendingLeader
		actions[0] = msg.Action{Label: "批准", Verb: msg.VerbApprove}
	}
	card := &msg.Card{Ref: msg.Ref{Kind: kind, ID: req.ID}}
	lines := []msg.Line{msg.L(msg.Text(head)), msg.L(msg.Text("理由：" + req.Reason))}
	switch {
	case waits:
		card.Actions = actions
		lines = append(lines, msg.L(msg.Text(ask)))
	case req.State == models.RequestPendingLeader:
		card.Status = "已同意 · " + stamp(dir, req.HeadBy, req.HeadAt, now) + "，待区领导批准"
	case req.State == models.RequestApproved:
		card.Status = "已批准 · " + stamp(dir, req.LeaderBy, req.LeaderAt, now)
	case req.State == models.RequestRejected && req.LeaderBy != "":
		card.Status = "已驳回 · " + stamp(dir, req.LeaderBy, req.LeaderAt, now)
	case req.State == models.RequestRejected:
		card.Status = "已驳回 · " + stamp(dir, req.HeadBy, req.HeadAt, now)
	default:
		card.Status = string(req.State)
	}
	return msg.Message{Title: title, Sections: []msg.Section{msg.S(lines...)}, Card: card}
}
