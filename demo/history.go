package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/handlers"
	"yanzhen/jobs"
	"yanzhen/models"
)

// The demo district has a past: its leaders issued dispatches the day
// before, and the overdue scan told people of the tickets it found overdue.
// History writes that past as history: the records are in the store and what
// was said is stored as sent at its time, so that none of it is sent when
// the demo starts. The chat starts empty, with the page's first steps.

// HistoryOptions are what History writes the past with.
type HistoryOptions struct {
	Config   *config.Config
	Store    *models.Store
	Calendar *calendar.Calendar
	// Outbox renders what the past said, as the service does (*bot.Outbox).
	Outbox handlers.Enqueuer
	// Jobs runs the overdue scan as at Now, and knows the schedule.
	Jobs *jobs.Runner
	// Now is when the demo starts: its past is what came before.
	Now time.Time
}

// Past says what History wrote.
type Past struct {
	// Dispatches counts the dispatches issued (on the first start only).
	Dispatches int
	// Sent counts the messages stored as sent in the past.
	Sent int64
	// Skipped counts the scheduled slots up to Now recorded as skipped.
	Skipped int
}

// historyReason is the summary of the slots History skips.
const historyReason = "演示开始前的时段，作为历史记录，不补发"

// History writes the past before o.Now: on the first start, the leaders'
// dispatches of the previous working day, handled by the real chat handler at
// their time; on every start, the overdue scan and 提级 as at o.Now (their
// alerts, the groups' announcements and the raises recorded), everything
// they said stored as sent,
// and every scheduled slot a starting scheduler would run recorded as
// skipped, so that nothing is caught up. It is idempotent.
func History(ctx context.Context, o HistoryOptions) (Past, error) {
	var p Past
	now := o.Now.In(o.Config.Location())
	n, err := o.dispatches(ctx, now)
	if err != nil {
		return p, err
	}
	p.Dispatches = n
	mark, err := o.Store.LastOutboxID(ctx)
	if err != nil {
		return p, fmt.Errorf("demo: history: %w", err)
	}
	for _, job := range []string{jobs.OverdueScan, jobs.Raise} {
		if _, err := o.Jobs.RunAt(ctx, job, now); err != nil {
			return p, fmt.Errorf("demo: history: %w", err)
		}
	}
	sent, err := o.Store.RecordAsSent(ctx, mark, now)
	if err != nil {
		return p, fmt.Errorf("demo: history: %w", err)
	}
	p.Sent += sent
	sched, err := jobs.NewScheduler(o.Jobs, nil)
	if err != nil {
		return p, fmt.Errorf("demo: history: %w", err)
	}
	if p.Skipped, err = sched.SkipDue(ctx, now, historyReason); err != nil {
		return p, fmt.Errorf("demo: history: %w", err)
	}
	return p, nil
}

// dispatchesKey marks a database whose demo dispatches were issued.
const dispatchesKey = "demo.dispatches_issued"

// dispatches has two leaders issue the demo's open dispatches on the working
// day before now, typed as leaders type them in the group and handled by the
// chat handler on a clock set to their time, and stores what it said as sent
// then: one about the most overdue ticket of a department, to the department
// and the ticket's street (双派单), one with no ticket. It does nothing on a
// database where it has run before, and returns how many it issued.
func (o *HistoryOptions) dispatches(ctx context.Context, now time.Time) (int, error) {
	if _, err := o.Store.GetKV(ctx, dispatchesKey); err == nil {
		return 0, nil
	} else if models.ErrorCode(err) != models.ENOTFOUND {
		return 0, fmt.Errorf("demo: history: %w", err)
	}
	said, err := dispatchMessages(ctx, o.Store, now)
	if err != nil {
		return 0, err
	}
	day := o.Calendar.PrevWorkday(now)
	for i, m := range said {
		at := config.MustClock("15:40").On(day).Add(time.Duration(i) * 45 * time.Minute)
		if err := o.say(ctx, i, m, at); err != nil {
			return i, err
		}
	}
	// Handling a message twice issues nothing twice (its dispatch is found by
	// the message's id), so the mark may follow the dispatches.
	if err := o.Store.PutKV(ctx, dispatchesKey, now.Format(time.RFC3339), nil); err != nil {
		return 0, fmt.Errorf("demo: history: %w", err)
	}
	return len(said), nil
}

// say handles what a member said in the group at a past time, and stores
// the answers as sent then.
func (o *HistoryOptions) say(ctx context.Context, i int, m spoken, at time.Time) error {
	h, err := handlers.New(handlers.Options{
		Store: o.Store, Outbox: o.Outbox, Config: o.Config.Domain(), Calendar: o.Calendar,
		Reached: jobs.ReachedOn(o.Calendar, o.Config.Rules.Escalation), Now: func() time.Time { return at },
	})
	if err != nil {
		return fmt.Errorf("demo: history: %w", err)
	}
	mark, err := o.Store.LastOutboxID(ctx)
	if err != nil {
		return fmt.Errorf("demo: history: %w", err)
	}
	from, err := o.Store.MemberByUserID(ctx, m.by)
	if err != nil {
		return fmt.Errorf("demo: history: %w", err)
	}
	in := &models.Inbound{
		Route: models.RouteRobot, MsgID: fmt.Sprintf("demo-history-%d", i+1), ChatID: ChatID, ChatType: "group",
		FromUserID: from.UserID, FromName: from.Name, MsgType: "text", Text: m.text, ReceivedAt: at,
	}
	if err := h.Handle(ctx, in); err != nil {
		return fmt.Errorf("demo: history: %w", err)
	}
	if _, err := o.Store.RecordAsSent(ctx, mark, at); err != nil {
		return fmt.Errorf("demo: history: %w", err)
	}
	return nil
}

// spoken is a message of the demo's script: who says what.
type spoken struct{ by, text string }

// dispatchMessages writes the leaders' dispatch messages from the data as it stands at now.
func dispatchMessages(ctx context.Context, store *models.Store, now time.Time) ([]spoken, error) {
	dir, err := store.Directory(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: issue dispatches: %w", err)
	}
	var leaders []*models.Member
	for _, m := range dir.WithRole(models.RoleLeader) {
		if m.Main {
			leaders = append([]*models.Member{m}, leaders...)
		} else {
			leaders = append(leaders, m)
		}
	}
	if len(leaders) < 2 {
		return nil, errors.New("demo: issue dispatches: the demo org needs two leaders")
	}
	var out []spoken
	overdue, err := store.ListTickets(ctx, models.TicketQuery{Set: models.SetOverdue, Now: now})
	if err != nil {
		return nil, fmt.Errorf("demo: issue dispatches: %w", err)
	}
	// The most overdue ticket of a department (not a street), with its street.
	if i := slices.IndexFunc(overdue, func(t models.Ticket) bool {
		return t.Department != nil && t.Department.Tier == models.TierDepartment
	}); i >= 0 {
		t := overdue[i]
		to := "@" + t.Department.Name
		if t.GridDepartment != nil {
			to += " @" + t.GridDepartment.Name
		}
		out = append(out, spoken{leaders[0].UserID, fmt.Sprintf("调度 %s 工单%s 2个工作日内办结并回复群众", to, t.Number)})
	}
	out = append(out, spoken{leaders[1].UserID,
		"交办 @交通局 @科创街道 学府路学校周边上下学时段交通拥堵投诉集中，3个工作日内拿出疏导方案并报送"})
	return out, nil
}
