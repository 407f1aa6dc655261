package jobs

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// 提级 (raise): a ticket open at its level (社区, 镇街) past the level's limit
// for its category (rules.raise), counted from when it came to the level
// (its receipt, or its last raise), is raised to the level above — a
// community's to its street, a street's (or a community's without a street)
// to the district — recorded in its history. The people of both units hear
// of it by app message (the district's leaders for the district), and the
// work group of the unit it left in one notice. Like the overdue scan, it
// speaks only in working hours.

// prepareRaise plans one run of 提级 at the run's time.
func prepareRaise(ctx context.Context, e *Env, r Run) (Plan, error) {
	rules := e.Config.Rules
	if !InHours(r.Now, rules) {
		return send(nil, "非工作时间（"+rules.WorkStart.String()+"–"+rules.WorkEnd.String()+"），不提级"), nil
	}
	var levels []models.Tier
	for _, l := range []models.Tier{models.TierCommunity, models.TierStreet} {
		if len(rules.Raise[string(l)]) > 0 {
			levels = append(levels, l)
		}
	}
	if len(levels) == 0 {
		return send(nil, "未配置提级时限"), nil
	}
	tickets, err := e.Store.TicketsToRaise(ctx, levels)
	if err != nil {
		return Plan{}, err
	}
	if len(tickets) == 0 {
		return send(nil, "无须提级的工单"), nil
	}
	dir, err := e.Store.Directory(ctx)
	if err != nil {
		return Plan{}, err
	}
	groups, err := e.Store.Groups(ctx)
	if err != nil {
		return Plan{}, err
	}
	set := models.NewGroupSet(groups, dir.Departments)
	var steps []models.Raise
	var items []report.Raised
	for _, t := range tickets {
		step, item, ok := raiseOf(e, dir, set, &t, r.Now)
		if ok {
			steps, items = append(steps, step), append(items, item)
		}
	}
	return Plan{Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
		run := report.RaiseRun{Slot: r.SlotKey, Now: r.Now}
		for i, st := range steps {
			ok, err := tx.RaiseTicket(ctx, st)
			if err != nil {
				return nil, "", err
			}
			if ok {
				run.Items = append(run.Items, items[i])
			}
		}
		if len(run.Items) == 0 {
			return nil, "无须提级的工单", nil
		}
		return run.Messages(e.Calendar), fmt.Sprintf("提级%d件工单", len(run.Items)), nil
	}}, nil
}

// raiseOf decides whether a ticket is to be raised at now, and how.
func raiseOf(e *Env, dir *models.Directory, set *models.GroupSet, t *models.Ticket, now time.Time) (models.Raise, report.Raised, bool) {
	level, holderID := t.Holder(dir.Department)
	limit, ok := e.Config.Rules.RaiseLimit(string(level), t.Category)
	if !ok || holderID == nil {
		return models.Raise{}, report.Raised{}, false
	}
	since := t.ReceivedAt
	if t.RaisedAt != nil {
		since = *t.RaisedAt
	}
	if addSpan(e.Calendar, since, limit).After(now) {
		return models.Raise{}, report.Raised{}, false
	}
	holder := dir.Department(*holderID)
	if holder == nil {
		return models.Raise{}, report.Raised{}, false
	}
	to, toTier := (*models.Department)(nil), models.TierDistrict
	if level == models.TierCommunity && holder.ParentID != nil {
		if p := dir.Department(*holder.ParentID); p != nil && p.Tier == models.TierStreet {
			to, toTier = p, models.TierStreet
		}
	}
	districtName := holder.District
	if districtName == "" {
		districtName = e.Config.District.Name
	}
	item := report.Raised{
		Number: t.Number, Title: t.Title, From: holder.Name, FromKey: fmt.Sprint(holder.ID), FromLevel: level,
		FromPeople: dir.Responsible(holder.ID), Since: since, Limit: limit.Chinese(), Group: set.Home(holder.ID),
	}
	step := models.Raise{TicketID: t.ID, From: level, To: toTier, At: now, FromName: holder.Name,
		Reason: "超过" + string(level) + "办理时限（" + limit.Chinese() + "）"}
	if to != nil {
		step.ToID, step.ToName = &to.ID, to.Name
		item.To, item.ToKey, item.ToPeople = to.Name, fmt.Sprint(to.ID), dir.Responsible(to.ID)
	} else {
		step.ToName = districtName
		item.To, item.ToKey = districtName, "district/"+holder.District
		for _, m := range dir.WithRole(models.RoleLeader) {
			if dir.DistrictOf(m) == holder.District {
				item.ToPeople = append(item.ToPeople, m)
			}
		}
	}
	return step, item, true
}
