package jobs

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// The overdue scan walks the ladder (ladder.go). For each subject it finds
// the highest step whose time has come: that level fires once per subject,
// recorded as an Alert; while the subject stays open and the level is not
// acknowledged (签收), it is repeated every rules.repeat_every, once however
// long the scan was away. Lower levels a subject has passed are not sent any
// more, nor are levels skipped on the way (a ticket first seen five working
// days overdue goes straight to 通报).
//
// Who hears of it, by app message, with the full list of what fired or
// repeated: the handler level goes to the unit's handlers (else its heads),
// the head and group levels to its heads, the leader level (催办) to the
// leaders and a dispatch's issuer, in one message per scan.
//
// The group hears little, by design: at most one digest per scan, of the
// units that newly crossed a level other than the handler's, each with its
// count of open items at that level and its most overdue items. A unit the
// group was told of at a level (an Announcement) is not announced again at
// that level while it has open items at it; once it has none, the
// announcement lapses, and a later crossing is news again. Repeats never go
// to the group: it hears of what stands once a working day, in the morning
// roll-up (rollup.go). Before the day's roll-up, and when the group's daily
// budget is spent (budget.go), the digest folds into the roll-up instead.
//
// Messages go out only inside working hours (rules.work_start to work_end);
// a scan outside them records nothing, so that what it would have found is
// sent by the first scan of the next morning, in one digest.

// action is one alert a scan sends: the first firing of a level, or a
// repeat. It keeps of its report.Item what the step does not say, for a
// scan holds one per subject it tells of.
type action struct {
	subject      models.AlertSubject
	id           uint
	dept         uint // recorded on a first firing's alert; 0 for none
	level, count int  // count: as read for a repeat, as sent once recorded
	deadline     time.Time
	label, title string
	also         []string
	targets      []unitRef
	// alert is the level's alert when the action repeats it, 0 for a
	// first firing.
	alert uint
	// sent is set once the scan recorded the action.
	sent bool
}

// item is the action as a message lists it.
func (a *action) item(ladder []config.Step) report.Item {
	return report.Item{Label: a.label, Title: a.title, Deadline: a.deadline, Level: a.level, Step: ladder[a.level], Count: a.count, Also: a.also}
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
	if len(rules.Escalation) == 0 {
		return send(nil, "未配置升级规则"), nil
	}
	s := &scanner{e: e, now: r.Now, every: rules.RepeatEvery.D()}
	view, err := viewLadder(ctx, e, r.Now, s.visit)
	if err != nil {
		return Plan{}, err
	}
	s.view = view
	return Plan{
		Stream: func(ctx context.Context, tx *models.Store, emit func(...msg.Message) error) (string, error) {
			return s.commit(ctx, tx, r.SlotKey, emit)
		},
		Then: func(ctx context.Context) error {
			s.report()
			return sweep(ctx)
		},
	}, nil
}

// scanner is one scan: what it found, then what it recorded.
type scanner struct {
	e       *Env
	view    *ladderView
	now     time.Time
	every   time.Duration
	actions []*action
	// groups are what became of the digests of the groups with news.
	groups []groupScan
}

// visit keeps what a subject on the ladder needs now, if anything.
func (s *scanner) visit(st *standing) {
	prev, due := decide(st.alerts, s.e.Config.Rules.Escalation[st.level].Level, s.now, s.every)
	if !due {
		return
	}
	a := &action{subject: st.subject, id: st.id, dept: st.dept, level: st.level, deadline: st.item.Deadline,
		label: st.item.Label, title: st.item.Title, also: st.item.Also, targets: st.targets}
	if prev != nil {
		a.alert, a.count = prev.ID, prev.Count
	}
	s.actions = append(s.actions, a)
}

// scanUnit is one unit's share of what a scan recorded.
type scanUnit struct {
	heads, handlers []*models.Member
	actions         []*action
}

// commit records the actions in the run's transaction, keeping only those
// that no other scan recorded first, settles the groups' announcements, and
// emits what the scan sends: the digests, each unit's lists in turn, then
// the 催办 to the leaders.
func (s *scanner) commit(ctx context.Context, tx *models.Store, slot string, emit func(...msg.Message) error) (string, error) {
	fired, repeated, err := s.record(ctx, tx)
	if err != nil {
		return "", err
	}
	units := map[uint]*scanUnit{}
	crossing := map[unitLevel]bool{}
	for _, a := range s.actions {
		if !a.sent {
			continue
		}
		step := s.view.ladder[a.level]
		for i, ref := range a.targets {
			if a.alert == 0 && grouped(step) {
				crossing[unitLevel{ref.dept, models.AlertLevel(step.Level)}] = true
			}
			u := units[ref.dept]
			if u == nil {
				u = &scanUnit{}
				units[ref.dept] = u
			}
			u.heads = addMembers(u.heads, ref.heads)
			u.handlers = addMembers(u.handlers, ref.handlers)
			if !listedBefore(a.targets[:i], ref.dept) { // a dispatch to a unit and to one of its members is listed once
				u.actions = append(u.actions, a)
			}
		}
	}
	s.actions = nil // each unit's are let go once its messages are out
	crossed, err := s.announce(ctx, tx, crossing)
	if err != nil {
		return "", err
	}
	cal := s.e.Calendar
	scan := report.Scan{Slot: slot, Now: s.now, Digests: crossed, Leaders: s.view.dir.WithRole(models.RoleLeader)}
	if err := emit(scan.DigestMessages(cal)...); err != nil {
		return "", err
	}
	for _, dept := range s.view.unitOrder() {
		u := units[dept]
		if u == nil {
			continue
		}
		su := report.ScanUnit{Key: dept, Name: s.view.unitName(dept), Heads: u.heads, Handlers: u.handlers, Items: make([]report.Item, len(u.actions))}
		for i, a := range u.actions {
			su.Items[i] = a.item(s.view.ladder)
		}
		delete(units, dept)
		if err := emit(scan.UnitMessages(su, cal)...); err != nil {
			return "", err
		}
	}
	if err := emit(scan.LeaderMessages()...); err != nil {
		return "", err
	}
	return s.summary(fired, repeated), nil
}

// listedBefore reports whether refs hold the unit dept.
func listedBefore(refs []unitRef, dept uint) bool {
	for _, r := range refs {
		if r.dept == dept {
			return true
		}
	}
	return false
}

// recordBlock is how many actions a scan records at a time.
const recordBlock = 2000

// record writes the scan's actions, first firings and repeats, in batches,
// marks those recorded as sent and sets their counts; it returns how many
// of each it recorded.
func (s *scanner) record(ctx context.Context, tx *models.Store) (fired, repeated int, err error) {
	var fires, repeats []*action
	var alerts []models.Alert
	var seen []models.AlertSeen
	flush := func() error {
		if len(alerts) > 0 {
			ok, err := tx.FireAlerts(ctx, alerts)
			if err != nil {
				return err
			}
			for i, a := range fires {
				a.sent, a.count = ok[i], 1
				fired += b2i(ok[i])
			}
		}
		if len(seen) > 0 {
			ok, err := tx.RepeatAlerts(ctx, seen, s.now)
			if err != nil {
				return err
			}
			for i, a := range repeats {
				a.sent = ok[i]
				a.count += b2i(ok[i])
				repeated += b2i(ok[i])
			}
		}
		fires, repeats, alerts, seen = fires[:0], repeats[:0], alerts[:0], seen[:0]
		return nil
	}
	for _, a := range s.actions {
		if a.alert != 0 {
			repeats, seen = append(repeats, a), append(seen, models.AlertSeen{ID: a.alert, Count: a.count})
		} else {
			var dept *uint
			if a.dept != 0 {
				dept = &a.dept
			}
			fires = append(fires, a)
			alerts = append(alerts, models.Alert{SubjectKind: a.subject, SubjectID: a.id, Level: models.AlertLevel(s.view.ladder[a.level].Level),
				DepartmentID: dept, FirstSentAt: s.now, LastSentAt: s.now})
		}
		if len(fires)+len(repeats) == recordBlock {
			if err := flush(); err != nil {
				return 0, 0, err
			}
		}
	}
	return fired, repeated, flush()
}

// summary is the scan's line for the job's record.
func (s *scanner) summary(fired, repeated int) string {
	summary := fmt.Sprintf("新提醒%d项，重复提醒%d项", fired, repeated)
	for _, g := range s.groups {
		if len(s.groups) > 1 && (g.folded > 0 || g.posted) {
			summary += "；" + g.name
		}
		switch {
		case g.folded > 0 && g.fold == foldEarly:
			summary += fmt.Sprintf("；%d个单位的新增超期并入今日%s超期汇总", g.folded, s.e.Config.Schedule.RollupAt)
		case g.folded > 0:
			summary += fmt.Sprintf("；今日群消息已达%d条（额度%d条），%d个单位的新增超期并入下次超期汇总", g.budget.spent, g.budget.budget, g.folded)
		case g.posted:
			summary += fmt.Sprintf("；群内通报%d个单位的新增超期", g.units)
		}
	}
	if s.view.orphans > 0 {
		summary += fmt.Sprintf("；%d件超期工单无承办单位，未提醒", s.view.orphans)
	}
	return summary
}

// announce settles the announcements of every work group against what
// stands open now: those whose unit has no open item left at their level
// lapse; of the units that newly crossed a level, those their group was not
// told of yet at it are announced, and returned, per group, for the digests.
// Before the day's morning roll-up, or when a group's daily budget is spent,
// they are recorded as folded into the next roll-up instead, and that
// group's digest is left out.
func (s *scanner) announce(ctx context.Context, tx *models.Store, crossing map[unitLevel]bool) ([]report.Digest, error) {
	open := s.view.open
	live, err := tx.AllAnnouncements(ctx)
	if err != nil {
		return nil, err
	}
	told := map[string]map[unitLevel]bool{}
	var lapsed []uint
	for group, list := range live {
		told[group] = map[unitLevel]bool{}
		for _, a := range list {
			k := unitLevel{a.DepartmentID, a.Level}
			if open[k] == nil {
				lapsed = append(lapsed, a.ID)
				continue
			}
			told[group][k] = true
		}
	}
	if err := tx.LapseAnnouncements(ctx, lapsed); err != nil {
		return nil, err
	}
	byGroup := map[string][]unitLevel{}
	for _, k := range sortedKeys(crossing) {
		if open[k] != nil {
			g := s.view.home(k.dept)
			byGroup[g] = append(byGroup[g], k)
		}
	}
	var out []report.Digest
	for i := range s.view.groups.Groups {
		g := &s.view.groups.Groups[i]
		if len(byGroup[g.Code]) == 0 {
			continue
		}
		d, err := s.announceIn(ctx, tx, g, open, byGroup[g.Code], told[g.Code])
		if err != nil {
			return nil, err
		}
		if len(d.Crossed) > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

// announceIn announces to one group the units of its that newly crossed a
// level (crossed), but those it was told of.
func (s *scanner) announceIn(ctx context.Context, tx *models.Store, g *models.Group, open map[unitLevel]*report.UnitLevel, crossed []unitLevel, told map[unitLevel]bool) (report.Digest, error) {
	group := g.Code
	var news []unitLevel
	for _, k := range crossed {
		if !told[k] {
			news = append(news, k)
		}
	}
	if len(news) == 0 {
		return report.Digest{}, nil
	}
	gs := groupScan{code: group, name: g.Name}
	var err error
	if gs.fold, gs.budget, err = s.folds(ctx, tx, g); err != nil {
		return report.Digest{}, err
	}
	announced := map[unitLevel]bool{}
	for _, k := range news {
		a := models.Announcement{Group: group, DepartmentID: k.dept, Level: k.level, AnnouncedAt: s.now, Folded: gs.fold != noFold}
		ok, err := tx.Announce(ctx, &a)
		if err != nil {
			return report.Digest{}, err
		}
		announced[k] = ok
	}
	defer func() { s.groups = append(s.groups, gs) }()
	if gs.fold != noFold {
		for _, ok := range announced {
			gs.folded += b2i(ok)
		}
		return report.Digest{}, nil
	}
	d := report.Digest{Group: group, Crossed: s.view.byLevel(open, func(k unitLevel) bool { return announced[k] })}
	gs.posted = len(d.Crossed) > 0
	gs.units, _ = report.Totals(d.Crossed)
	return d, nil
}

// groupScan is what became of one group's digest in a scan.
type groupScan struct {
	code, name string
	// fold says why the digest was folded into a morning roll-up, budget
	// what the commit found of the group's daily budget, and folded counts
	// the units the roll-up is to tell.
	fold   foldReason
	budget budgetCheck
	folded int
	// posted is set when the scan posted the group a digest of units.
	posted bool
	units  int
}

// foldReason says why a scan's digest is told in a morning roll-up instead.
type foldReason int

const (
	noFold     foldReason = iota
	foldEarly             // the day's roll-up is still to come
	foldBudget            // the group's daily budget is spent
)

// folds decides whether a group's digest folds into a morning roll-up: on a
// working day before the roll-up's time, the roll-up tells it; else when the
// group's daily budget is spent, the next roll-up does.
func (s *scanner) folds(ctx context.Context, tx *models.Store, g *models.Group) (foldReason, budgetCheck, error) {
	now := s.now.In(s.e.Config.Location())
	if s.e.Calendar.IsWorkday(now) && now.Before(s.e.Config.Schedule.RollupAt.On(now)) {
		return foldEarly, budgetCheck{}, nil
	}
	b, err := checkBudget(ctx, s.e, tx, g, now)
	if err != nil || !b.spentUp() {
		return noFold, b, err
	}
	return foldBudget, b, nil
}

// report logs and counts, once the scan committed, what became of its digests.
func (s *scanner) report() {
	for _, g := range s.groups {
		switch {
		case g.posted:
			s.e.Metrics.digest(g.code, digestPosted)
		case g.folded > 0 && g.fold == foldEarly:
			s.e.Log.Info("overdue digest folded into today's morning roll-up, which is still to come",
				zap.String("group", g.code), zap.Int("units", g.folded))
			s.e.Metrics.digest(g.code, digestBeforeRollup)
		case g.folded > 0:
			s.e.Log.Warn("overdue digest folded into the next morning roll-up: the group's daily budget is spent",
				zap.String("group", g.code), zap.Int("units", g.folded), zap.Int("posted_today", g.budget.spent),
				zap.Int("reserved", g.budget.reserved), zap.Int("budget", g.budget.budget))
			s.e.Metrics.digest(g.code, digestFolded)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
