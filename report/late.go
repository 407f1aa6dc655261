package report

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// DailyKey returns the outbox dedupe key of a work group's daily report of a
// day ("daily-report/2026-11-20" for the group of a single-group
// installation, "daily-report/hh/2026-11-20" for group hh): once it is in the
// outbox, the report went out.
func DailyKey(group, day string) string { return groupKey("daily-report", group, day) }

// LateKey returns the outbox dedupe key of the 补报 message of one revision of a report.
func LateKey(r *models.DailyReport) string {
	return fmt.Sprintf("daily-late/%s/%d/%d", r.Day, r.ID, r.Revision)
}

// Late returns a department's report that arrived after the day's report
// was posted, as its own message to the group (补报, or 更正 when an earlier
// revision went out already): the department, the day, the text, who sent it
// and when. It is keyed by LateKey.
func Late(group string, dept *models.Department, r *models.DailyReport, loc *time.Location) msg.Message {
	day, _ := time.ParseInLocation("2006-01-02", r.Day, loc)
	who := r.SubmitterName
	if who == "" {
		who = r.SubmittedBy
	}
	tag := "补报"
	if r.PostedRevision > 0 {
		tag = "更正" // an earlier revision went out already
	}
	lines := append([]msg.Line{msg.L(msg.Strong("【" + tag + "】" + dept.Name + " " + monthDayCN(day) + "工作日报"))}, msg.Quote(r.Text)...)
	lines = append(lines, msg.L(msg.Muted(who+" "+r.SubmittedAt.In(loc).Format("15:04")+" 报送")))
	m := toGroup(group, "", LateKey(r), msg.S(lines...))
	m.Priority = msg.Report
	return m
}

// Withdrawal returns the notice to the group that a department withdrew its
// report r after it went out (撤回日报): who withdrew it and when, and that
// what was posted no longer stands.
func Withdrawal(group string, dept *models.Department, r *models.DailyReport, who string, at time.Time, loc *time.Location) msg.Message {
	day, _ := time.ParseInLocation("2006-01-02", r.Day, loc)
	m := toGroup(group, "", "", msg.S(msg.L(msg.Strong("【撤回】"+dept.Name+" "+monthDayCN(day)+"工作日报")),
		msg.L(msg.Text("已由"+who+"于"+at.In(loc).Format("15:04")+"撤回，此前发布的该单位日报内容作废。"))))
	m.Priority = msg.Report
	return m
}

// DailyPosted reports whether a work group's daily report of day ("2006-01-02") went out.
func DailyPosted(ctx context.Context, st *models.Store, group, day string) (bool, error) {
	ok, err := st.Enqueued(ctx, DailyKey(group, day))
	if err != nil {
		return false, fmt.Errorf("report: daily posted: %w", err)
	}
	return ok, nil
}

// Enqueuer puts messages in the outbox on st (the store, or a transaction
// of it) and returns how many were new; bot.Outbox is one.
type Enqueuer interface {
	Enqueue(ctx context.Context, st *models.Store, msgs ...msg.Message) (int, error)
}

// PostLate posts through out the day's standing reports that are not posted
// yet as 补报 messages, one each, to the work group of each report's unit,
// and marks them posted, all in one transaction on st (the store, or a
// transaction of it). A group's reports wait until its daily report of the
// day went out, since that report carries them. It returns how many it
// posted.
//
// Handlers call it right after a department submits; the overdue scan calls it
// too, to catch a submission that raced the daily report.
func (b *Builder) PostLate(ctx context.Context, st *models.Store, out Enqueuer, day string) (int, error) {
	reports, err := st.DailyReports(ctx, day)
	if err != nil {
		return 0, fmt.Errorf("report: late reports: %w", err)
	}
	pending := map[uint]*models.DailyReport{}
	for id, r := range reports {
		if r.PostedAt == nil {
			pending[id] = &r
		}
	}
	if len(pending) == 0 {
		return 0, nil
	}
	depts, err := st.Departments(ctx)
	if err != nil {
		return 0, fmt.Errorf("report: late reports: %w", err)
	}
	groups, err := st.Groups(ctx)
	if err != nil {
		return 0, fmt.Errorf("report: late reports: %w", err)
	}
	set := models.NewGroupSet(groups, depts)
	home := map[uint]string{}
	var keys []string
	for dept := range pending {
		g := set.Home(dept)
		home[dept] = g
		keys = append(keys, DailyKey(g, day))
	}
	posted, err := st.EnqueuedKeys(ctx, keys)
	if err != nil {
		return 0, fmt.Errorf("report: late reports: %w", err)
	}
	// In the configured order, as the daily report lists them.
	var msgs []msg.Message
	var ids []models.ReportRevision
	for i := range depts {
		dep := &depts[i]
		if r := pending[dep.ID]; r != nil && posted[DailyKey(home[dep.ID], day)] {
			msgs = append(msgs, Late(home[dep.ID], dep, r, b.loc))
			ids = append(ids, r.RevisionOf())
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	return b.postAll(ctx, st, out, msgs, ids)
}

// PostLateOf posts, as PostLate does, the standing reports of a posted daily
// report's units that it did not carry: those that raced it. Its run calls
// it once the report went out, and leaves the other groups' reports (at
// 18:00, hundreds of groups', each waiting for its own report) alone.
func (b *Builder) PostLateOf(ctx context.Context, st *models.Store, out Enqueuer, d *Daily) (int, error) {
	day := DayKey(d.Day.Start, b.loc)
	units := make([]uint, len(d.Units))
	for i := range d.Units {
		units[i] = d.Units[i].Department.ID
	}
	reports, err := st.DailyReportsIn(ctx, day, units)
	if err != nil {
		return 0, fmt.Errorf("report: late reports: %w", err)
	}
	var msgs []msg.Message
	var ids []models.ReportRevision
	for i := range d.Units {
		dep := &d.Units[i].Department
		if r, ok := reports[dep.ID]; ok && r.PostedAt == nil {
			msgs = append(msgs, Late(d.Group, dep, &r, b.loc))
			ids = append(ids, r.RevisionOf())
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if posted, err := DailyPosted(ctx, st, d.Group, day); err != nil || !posted {
		return 0, err
	}
	return b.postAll(ctx, st, out, msgs, ids)
}

// postAll enqueues the 补报 messages of reports and marks the reports
// posted, in one transaction.
func (b *Builder) postAll(ctx context.Context, st *models.Store, out Enqueuer, msgs []msg.Message, ids []models.ReportRevision) (int, error) {
	err := st.Tx(ctx, func(tx *models.Store) error {
		if _, err := out.Enqueue(ctx, tx, msgs...); err != nil {
			return err
		}
		return tx.MarkReportsPosted(ctx, ids, tx.Now())
	})
	if err != nil {
		return 0, fmt.Errorf("report: post late reports: %w", err)
	}
	return len(msgs), nil
}
