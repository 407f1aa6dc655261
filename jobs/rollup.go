package jobs

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// prepareRollup tells the run's group, once a working day at schedule.rollup_at,
// what stands open on the ladder at the levels it hears of: per level, the
// units with open items, their counts and their most overdue item. Units
// whose crossing was folded into it (the group's daily budget was spent) are
// marked new. The roll-up counts as telling the group of every unit it
// names at its level (an Announcement), so that a scan right after it posts
// no digest of the same. When nothing stands open, nothing is sent.
func prepareRollup(ctx context.Context, e *Env, r Run) (Plan, error) {
	if len(e.Config.Rules.Escalation) == 0 {
		return send(nil, "未配置升级规则"), nil
	}
	view, err := viewLadder(ctx, e, r.Now, nil)
	if err != nil {
		return Plan{}, err
	}
	g := view.groups.Of(r.Group)
	if g == nil {
		return Plan{}, models.Errorf(models.ENOTFOUND, "没有编码为 %s 的工作群", r.Group)
	}
	group := g.Code
	live, err := e.Store.Announcements(ctx, group)
	if err != nil {
		return Plan{}, err
	}
	folded := map[unitLevel]bool{}
	for _, a := range live {
		if a.Folded {
			folded[unitLevel{a.DepartmentID, a.Level}] = true
		}
	}
	open := view.open
	for k, u := range open {
		if view.home(k.dept) != group {
			delete(open, k)
			continue
		}
		u.New = folded[k]
	}
	roll := report.Rollup{Group: group, Now: r.Now, Late: r.Late, Levels: view.byLevel(open, func(unitLevel) bool { return true })}
	m, ok := roll.Message(e.Calendar)
	if !ok {
		return send(nil, "无未办结的超期事项，未发送"), nil
	}
	units, items := report.Totals(roll.Levels)
	msgs := []msg.Message{m}
	// The 12345 office of the group's district, which owns the tickets,
	// reads the roll-up too.
	var hotline []string
	for _, mb := range view.dir.WithRole(models.RoleHotline) {
		if view.dir.DistrictOf(mb) == g.District {
			hotline = append(hotline, mb.UserID)
		}
	}
	if len(hotline) > 0 {
		office := m
		office.To, office.DedupeKey = msg.ToMembers(hotline...), m.DedupeKey+"/hotline"
		msgs = append(msgs, office)
	}
	return Plan{Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
		if err := tellAll(ctx, tx, group, open, r.Now); err != nil {
			return nil, "", err
		}
		return msgs, fmt.Sprintf("汇总%d个单位的%d项超期事项", units, items), nil
	}}, nil
}

// tellAll records that the group was told of every unit at every level in
// open: what it was not told of yet is announced, and what was folded into
// this roll-up is told now.
func tellAll(ctx context.Context, tx *models.Store, group string, open map[unitLevel]*report.UnitLevel, now time.Time) error {
	live, err := tx.Announcements(ctx, group)
	if err != nil {
		return err
	}
	told := map[unitLevel]bool{}
	for _, a := range live {
		told[unitLevel{a.DepartmentID, a.Level}] = true
	}
	for _, k := range sortedKeys(keysOf(open)) {
		if told[k] {
			continue
		}
		if _, err := tx.Announce(ctx, &models.Announcement{Group: group, DepartmentID: k.dept, Level: k.level, AnnouncedAt: now}); err != nil {
			return err
		}
	}
	_, err = tx.UnfoldAnnouncements(ctx, group)
	return err
}
