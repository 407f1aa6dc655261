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

// action is one alert a scan sends: the first firing of a level, or a repeat.
type action struct {
	*standing
	repeat *models.Alert // nil for a first firing
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
	view, err := viewLadder(ctx, e, r.Now)
	if err != nil {
		return Plan{}, err
	}
	s := &scanner{e: e, view: view, every: rules.RepeatEvery.D()}
	for i := range view.subjects {
		sub := &view.subjects[i]
		if prev, due := decide(sub.alerts, view.ladder[sub.level].Level, r.Now, s.every); due {
			s.actions = append(s.actions, action{standing: sub, repeat: prev})
		}
	}
	return Plan{
		Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
			return s.commit(ctx, tx, r.SlotKey)
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
	every   time.Duration
	actions []action
	// groups are what became of the digests of the groups with news.
	groups []groupScan
}

// commit records the actions in the run's transaction, keeping only those that
// no other scan recorded first, settles the group's announcements, and
// renders what the scan sends.
func (s *scanner) commit(ctx context.Context, tx *models.Store, slot string) ([]msg.Message, string, error) {
	now := s.view.now
	units := map[uint]*report.ScanUnit{}
	fired, repeated := 0, 0
	crossing := map[unitLevel]bool{}
	for _, a := range s.actions {
		step := s.view.ladder[a.level]
		var ok bool
		var err error
		item := a.item
		if a.repeat != nil {
			rep := *a.repeat
			ok, err = tx.RepeatAlert(ctx, &rep, now)
			repeated += b2i(ok)
			item.Count = rep.Count
		} else {
			ok, err = tx.FireAlert(ctx, &models.Alert{
				SubjectKind: a.subject, SubjectID: a.id, Level: models.AlertLevel(step.Level), DepartmentID: a.dept,
				FirstSentAt: now, LastSentAt: now,
			})
			fired += b2i(ok)
			item.Count = 1
		}
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue
		}
		listed := map[uint]bool{} // a dispatch to a unit and to one of its members is listed once
		for _, ref := range a.targets {
			if a.repeat == nil && grouped(step) {
				crossing[unitLevel{ref.dept, models.AlertLevel(step.Level)}] = true
			}
			u := units[ref.dept]
			if u == nil {
				u = &report.ScanUnit{Key: ref.dept, Name: s.view.unitName(ref.dept)}
				units[ref.dept] = u
			}
			u.Heads = addMembers(u.Heads, ref.heads)
			u.Handlers = addMembers(u.Handlers, ref.handlers)
			if !listed[ref.dept] {
				listed[ref.dept] = true
				u.Items = append(u.Items, item)
			}
		}
	}
	crossed, err := s.announce(ctx, tx, crossing)
	if err != nil {
		return nil, "", err
	}
	scan := report.Scan{Slot: slot, Now: now, Digests: crossed, Leaders: s.view.dir.WithRole(models.RoleLeader)}
	for _, dept := range s.view.unitOrder() {
		if u := units[dept]; u != nil {
			scan.Units = append(scan.Units, *u)
		}
	}
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
	return scan.Messages(s.e.Calendar), summary, nil
}

// announce settles the announcements of every work group against what
// stands open now: those whose unit has no open item left at their level
// lapse; of the units that newly crossed a level, those their group was not
// told of yet at it are announced, and returned, per group, for the digests.
// Before the day's morning roll-up, or when a group's daily budget is spent,
// they are recorded as folded into the next roll-up instead, and that
// group's digest is left out.
func (s *scanner) announce(ctx context.Context, tx *models.Store, crossing map[unitLevel]bool) ([]report.Digest, error) {
	open := s.view.open()
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
		a := models.Announcement{Group: group, DepartmentID: k.dept, Level: k.level, AnnouncedAt: s.view.now, Folded: gs.fold != noFold}
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
	now := s.view.now.In(s.e.Config.Location())
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
