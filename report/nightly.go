package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Nightly is the leaders' digest of a day: the totals, the day's 双否件, the
// tickets that became overdue that day, and the dispatches past their deadline.
type Nightly struct {
	// District is the district it covers ("" for the configured one).
	District   string
	Day        models.Period
	Now        time.Time
	Total      models.LedgerRow
	DoubleNo   []models.Ticket
	NewOverdue []models.Ticket
	Dispatches []DispatchLine
	Leaders    []*models.Member
}

// DispatchLine is an open dispatch past its deadline, with the names of the
// targets that have not answered.
type DispatchLine struct {
	Code, Instruction, Targets string
	Deadline                   time.Time
}

// Nightly builds the digest of day as it stands at now of the district of
// the builder's group (For): the district's units, its leaders, the
// dispatches they issued.
func (b *Builder) Nightly(ctx context.Context, day, now time.Time) (*Nightly, error) {
	n := &Nightly{Day: models.DayOf(day, b.loc), Now: now}
	a, err := b.area(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: nightly: %w", err)
	}
	dir, district := a.Dir, a.Group.District
	n.District = district
	n.Leaders = a.Leaders()
	inDistrict := func(dept *uint) bool {
		if dept == nil || dir.Department(*dept) == nil {
			return a.Default
		}
		return dir.Department(*dept).District == district
	}
	ledger, err := b.store.LedgerIn(ctx, models.DistrictScope(district, dir.Departments).Filter(), n.Day, now, b.cfg.Rules.WarnWithin.D())
	if err != nil {
		return nil, fmt.Errorf("report: nightly: %w", err)
	}
	for id, r := range ledger {
		if inDistrict(&id) || (id == 0 && a.Default) {
			n.Total = n.Total.Add(r)
		}
	}
	outside := func(t models.Ticket) bool { return !inDistrict(t.DepartmentID) }
	if n.DoubleNo, err = b.store.ListTickets(ctx, models.TicketQuery{Set: models.SetDoubleNo, Period: n.Day}); err != nil {
		return nil, fmt.Errorf("report: nightly: %w", err)
	}
	if n.NewOverdue, err = b.store.ListTickets(ctx, models.TicketQuery{Set: models.SetOverdue, Period: n.Day, Now: now}); err != nil {
		return nil, fmt.Errorf("report: nightly: %w", err)
	}
	n.DoubleNo, n.NewOverdue = slices.DeleteFunc(n.DoubleNo, outside), slices.DeleteFunc(n.NewOverdue, outside)
	ds, err := b.store.OpenDispatchesDue(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("report: nightly: %w", err)
	}
	for _, d := range ds {
		if issuer := dir.Member(d.IssuerID); issuer != nil && dir.DistrictOf(issuer) != district {
			continue
		}
		if d.Overdue(now) {
			n.Dispatches = append(n.Dispatches, DispatchLine{
				Code: d.Code(), Instruction: d.Instruction, Targets: strings.Join(PendingTargets(dir, &d), "、"), Deadline: *d.Deadline,
			})
		}
	}
	return n, nil
}

// Answered reports whether a dispatch target has done its part: it gave
// feedback (反馈) or finished. Such a target no longer counts as overdue. A
// target the issuer sent back (已退回) has its work to do again: it has not.
func Answered(t *models.DispatchTarget) bool {
	switch t.Status {
	case models.TargetFeedback, models.TargetDone:
		return true
	}
	return false
}

// PendingTargets names the targets of a dispatch that have not answered:
// departments by name, members by name.
func PendingTargets(dir *models.Directory, d *models.Dispatch) []string {
	var names []string
	for i := range d.Targets {
		t := &d.Targets[i]
		if Answered(t) {
			continue
		}
		switch {
		case t.DepartmentID != nil && dir.Department(*t.DepartmentID) != nil:
			names = append(names, dir.Department(*t.DepartmentID).Name)
		case t.MemberID != nil && dir.Member(*t.MemberID) != nil:
			names = append(names, dir.Member(*t.MemberID).Name)
		}
	}
	return names
}

// Messages returns the digest as one message to the leaders; nil without leaders.
func (n *Nightly) Messages() []msg.Message {
	t := n.Total
	lines := []msg.Line{
		msg.L(msg.Strong("【今日工作简报】" + monthDayCN(n.Day.Start) + " " + weekdays[n.Day.Start.Weekday()])),
		msg.L(msg.Text(fmt.Sprintf("全区今日受理 %d 件，办结 %d 件；在办 %d 件，其中超期 ", t.Received, t.Resolved, t.InProgress)), count(t.Overdue),
			msg.Text(fmt.Sprintf(" 件；今日重办 %d 件，不满意 %d 件。", t.Reopened, t.Unsatisfied))),
	}
	ticket := func(tk models.Ticket) string {
		s := "· " + tk.Number
		if tk.Department != nil {
			s += " " + tk.Department.Name
		}
		return s + " " + listTitle(tk.Title)
	}
	lines = append(lines, msg.L(msg.Strong("双否件"), msg.Text(" "), count(len(n.DoubleNo)), msg.Text(" 件")))
	lines = append(lines, capped(n.DoubleNo, func(tk models.Ticket) msg.Line { return text(ticket(tk)) }, "件")...)
	lines = append(lines, msg.L(msg.Strong("今日新增超期"), msg.Text(" "), count(len(n.NewOverdue)), msg.Text(" 件")))
	lines = append(lines, capped(n.NewOverdue, func(tk models.Ticket) msg.Line {
		return text(ticket(tk) + "（" + tk.Deadline.In(n.Day.Start.Location()).Format("15:04") + "到期）")
	}, "件")...)
	lines = append(lines, msg.L(msg.Strong("逾期未办结的调度"), msg.Text(" "), count(len(n.Dispatches)), msg.Text(" 项")))
	lines = append(lines, capped(n.Dispatches, func(d DispatchLine) msg.Line {
		return text("· " + d.Code + " " + d.Targets + "：" + listTitle(d.Instruction) + "｜截止" + whenCN(d.Deadline.In(n.Day.Start.Location())))
	}, "项")...)
	_, ids := mentions(n.Leaders)
	return toMembers(ids, "今日工作简报", groupKey("nightly-digest", n.District, DayKey(n.Day.Start, n.Day.Start.Location())), msg.S(lines...))
}
