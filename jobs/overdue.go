package jobs

import (
	"context"
	"fmt"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// The overdue scan walks open tickets and dispatches up the escalation ladder
// of rules.escalation (DESIGN §5). For each subject it finds the highest step
// whose time (deadline + step.at) has come: that level fires once per subject,
// recorded as an Alert; while the subject stays open and the level is not
// acknowledged (签收), it is repeated every rules.repeat_every. Lower levels a
// subject has passed are not sent any more, nor are levels skipped on the way
// (a ticket first seen five working days overdue goes straight to 通报).
//
// Who hears of a level (step.notify):
//   - handler: the department's handlers (else its head) by app message;
//   - head: the group, in the department's digest, @-mentioning its head;
//   - leader (催办): the group digest, marked 已报区领导, and the leaders by one
//     app message per scan listing every department's items; a dispatch's
//     issuer hears of it too;
//   - group (通报): the group digest.
//
// Messages go out only inside working hours (rules.work_start to work_end);
// a scan outside them records nothing, so that what it would have found is
// sent by the first scan of the next morning. Resolved tickets, closed
// dispatches and dispatch targets that answered (反馈, 办结, 退回) drop out.
// Tickets without a department have nobody to answer for them and are left
// to the nightly digest.

// action is one alert a scan sends: the first firing of a level, or a repeat.
type action struct {
	subject models.AlertSubject
	id      uint
	level   int
	repeat  *models.Alert // nil for a first firing
	dept    *uint
	item    report.Item
	targets []unitRef // where the item goes
}

// unitRef places an item in a department's digest (dept 0: members without
// one), with the people to @ and to warn for this subject.
type unitRef struct {
	dept            uint
	heads, handlers []*models.Member
}

// InHours reports whether t's wall clock is within the working hours of rules.
func InHours(t time.Time, rules config.Rules) bool {
	m := t.Hour()*60 + t.Minute()
	return rules.WorkStart.Minutes() <= m && m < rules.WorkEnd.Minutes()
}

// stepTime returns when a step of the ladder comes for a deadline.
func stepTime(cal *calendar.Calendar, s config.Step, deadline time.Time) time.Time {
	switch s.At.Unit {
	case config.Workdays:
		return cal.AddWorkdays(deadline, s.At.N)
	case config.Days:
		return deadline.AddDate(0, 0, s.At.N)
	}
	return deadline.Add(time.Duration(s.At.N) * time.Hour)
}

// Reached returns the index of the highest step of the ladder whose time has
// come at now for deadline, or -1 when none has.
func Reached(cal *calendar.Calendar, ladder []config.Step, deadline, now time.Time) int {
	level := -1
	for i, s := range ladder {
		if !stepTime(cal, s, deadline).After(now) {
			level = i
		}
	}
	return level
}

// horizon returns a time no earlier than the latest deadline for which the
// first step of the ladder can have come at now: subjects due later need no look.
func horizon(cal *calendar.Calendar, ladder []config.Step, now time.Time) time.Time {
	h := now
	for _, s := range ladder {
		if s.At.N >= 0 {
			continue
		}
		// The step's offset turned forward from now, with a day's slack for
		// working days, which do not count back exactly as they count on.
		ahead := s
		ahead.At.N = -s.At.N
		t := stepTime(cal, ahead, now)
		if s.At.Unit == config.Workdays {
			t = t.Add(24 * time.Hour)
		}
		if t.After(h) {
			h = t
		}
	}
	return h
}

// decide returns what a subject at level needs now, given its recorded alerts:
// a first firing (repeat nil, true), a repeat of the level's alert, or nothing.
func decide(alerts []models.Alert, level config.Level, now time.Time, every time.Duration) (*models.Alert, bool) {
	for i := range alerts {
		a := &alerts[i]
		if a.Level != models.AlertLevel(level) {
			continue
		}
		if a.AckedAt != nil || every <= 0 || now.Sub(a.LastSentAt) < every {
			return nil, false
		}
		return a, true
	}
	return nil, true
}

// prepareOverdue plans one scan at the run's time.
func prepareOverdue(ctx context.Context, e *Env, r Run) (Plan, error) {
	rules := e.Config.Rules
	day := report.DayKey(r.Now, e.Config.Location())
	sweep := func(ctx context.Context) error {
		_, err := e.Reports.PostLate(ctx, e.Store, e.Outbox, day)
		return err
	}
	if !InHours(r.Now, rules) {
		p := send(nil, "非工作时间（"+rules.WorkStart.String()+"–"+rules.WorkEnd.String()+"），不推送")
		p.Then = sweep
		return p, nil
	}
	ladder := rules.Escalation
	if len(ladder) == 0 {
		return send(nil, "未配置升级规则"), nil
	}
	dir, err := e.Store.Directory(ctx)
	if err != nil {
		return Plan{}, err
	}
	until := horizon(e.Calendar, ladder, r.Now)
	tickets, err := e.Store.OpenTicketsDue(ctx, time.Time{}, until)
	if err != nil {
		return Plan{}, err
	}
	dispatches, err := e.Store.OpenDispatchesDue(ctx, until)
	if err != nil {
		return Plan{}, err
	}
	s := scanner{e: e, dir: dir, ladder: ladder, now: r.Now, every: rules.RepeatEvery.D()}
	if err := s.tickets(ctx, tickets); err != nil {
		return Plan{}, err
	}
	if err := s.dispatches(ctx, dispatches); err != nil {
		return Plan{}, err
	}
	return Plan{
		Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
			return s.commit(ctx, tx, r.SlotKey)
		},
		Then: sweep,
	}, nil
}

// scanner collects the actions of one scan.
type scanner struct {
	e       *Env
	dir     *models.Directory
	ladder  []config.Step
	now     time.Time
	every   time.Duration
	actions []action
	orphans int // overdue tickets without a department
}

// plan adds the action a subject needs now, if any.
func (s *scanner) plan(subject models.AlertSubject, id uint, deadline time.Time, alerts []models.Alert, a action) {
	level := Reached(s.e.Calendar, s.ladder, deadline, s.now)
	if level < 0 {
		return
	}
	step := s.ladder[level]
	prev, due := decide(alerts, step.Level, s.now, s.every)
	if !due {
		return
	}
	a.subject, a.id, a.level, a.repeat = subject, id, level, prev
	a.item.Deadline, a.item.Level, a.item.Step, a.item.Count = deadline, level, step, 1
	if prev != nil {
		a.item.Count = prev.Count + 1
	}
	s.actions = append(s.actions, a)
}

func (s *scanner) tickets(ctx context.Context, tickets []models.Ticket) error {
	ids := make([]uint, len(tickets))
	for i, t := range tickets {
		ids[i] = t.ID
	}
	alerts, err := s.e.Store.AlertsOf(ctx, models.SubjectTicket, ids)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		if t.DepartmentID == nil {
			if t.Overdue(s.now) {
				s.orphans++
			}
			continue
		}
		dept := *t.DepartmentID
		ref := unitRef{dept: dept, heads: s.dir.Responsible(dept), handlers: s.dir.MembersOf(dept, models.RoleHandler)}
		s.plan(models.SubjectTicket, t.ID, *t.Deadline, alerts[t.ID], action{
			dept: t.DepartmentID, item: report.Item{Label: "工单" + t.Number, Title: t.Title}, targets: []unitRef{ref},
		})
	}
	return nil
}

func (s *scanner) dispatches(ctx context.Context, dispatches []models.Dispatch) error {
	ids := make([]uint, len(dispatches))
	for i, d := range dispatches {
		ids[i] = d.ID
	}
	alerts, err := s.e.Store.AlertsOf(ctx, models.SubjectDispatch, ids)
	if err != nil {
		return err
	}
	for _, d := range dispatches {
		var refs []unitRef
		for i := range d.Targets {
			t := &d.Targets[i]
			switch {
			case report.Answered(t):
			case t.DepartmentID != nil:
				refs = append(refs, unitRef{dept: *t.DepartmentID, heads: s.dir.Responsible(*t.DepartmentID)})
			case t.MemberID != nil && s.dir.Member(*t.MemberID) != nil:
				m := s.dir.Member(*t.MemberID)
				var dept uint
				if m.DepartmentID != nil {
					dept = *m.DepartmentID
				}
				refs = append(refs, unitRef{dept: dept, heads: []*models.Member{m}, handlers: []*models.Member{m}})
			}
		}
		if len(refs) == 0 {
			continue
		}
		item := report.Item{Label: "调度" + d.Code(), Title: d.Instruction}
		if issuer := s.dir.Member(d.IssuerID); issuer != nil {
			item.Also = []string{issuer.UserID}
		}
		s.plan(models.SubjectDispatch, d.ID, *d.Deadline, alerts[d.ID], action{item: item, targets: refs})
	}
	return nil
}

// commit records the actions in the run's transaction, keeping only those that
// no other scan recorded first, and renders what they send.
func (s *scanner) commit(ctx context.Context, tx *models.Store, slot string) ([]msg.Message, string, error) {
	units := map[uint]*report.ScanUnit{}
	fired, repeated := 0, 0
	for _, a := range s.actions {
		var ok bool
		var err error
		if a.repeat != nil {
			rep := *a.repeat
			ok, err = tx.RepeatAlert(ctx, &rep, s.now)
			repeated += b2i(ok)
		} else {
			ok, err = tx.FireAlert(ctx, &models.Alert{
				SubjectKind: a.subject, SubjectID: a.id, Level: models.AlertLevel(s.ladder[a.level].Level), DepartmentID: a.dept,
				FirstSentAt: s.now, LastSentAt: s.now,
			})
			fired += b2i(ok)
		}
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue
		}
		for _, ref := range a.targets {
			u := units[ref.dept]
			if u == nil {
				u = &report.ScanUnit{Key: ref.dept, Name: "其他"}
				if d := s.dir.Department(ref.dept); d != nil {
					u.Name = d.Name
				}
				units[ref.dept] = u
			}
			u.Heads = addMembers(u.Heads, ref.heads)
			u.Handlers = addMembers(u.Handlers, ref.handlers)
			u.Items = append(u.Items, a.item)
		}
	}
	scan := report.Scan{Slot: slot, Now: s.now, Leaders: s.dir.WithRole(models.RoleLeader)}
	for _, d := range s.dir.Departments {
		if u := units[d.ID]; u != nil {
			scan.Units = append(scan.Units, *u)
		}
	}
	if u := units[0]; u != nil {
		scan.Units = append(scan.Units, *u)
	}
	summary := fmt.Sprintf("新提醒%d项，重复提醒%d项", fired, repeated)
	if s.orphans > 0 {
		summary += fmt.Sprintf("；%d件超期工单无承办单位，未提醒", s.orphans)
	}
	return scan.Messages(s.e.Calendar), summary, nil
}

// addMembers appends the members of more not already in list.
func addMembers(list, more []*models.Member) []*models.Member {
	for _, m := range more {
		found := false
		for _, x := range list {
			found = found || x.ID == m.ID
		}
		if !found {
			list = append(list, m)
		}
	}
	return list
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
