package jobs

import (
	"context"

	"yanzhen/models"
	"yanzhen/report"
)

// rectifications puts the items of the rectification list whose unit owes
// the work on the ladder, as tickets are: the unit's handlers hear of the
// first step, its heads of the next, and the item's issuer with the leaders
// of 催办. An item reported fixed (待核查) is not on it.
func (v *ladderView) rectifications(ctx context.Context, e *Env, items []models.Rectification) error {
	ids := make([]uint, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	alerts, err := e.Store.AlertsOf(ctx, models.SubjectRectification, ids)
	if err != nil {
		return err
	}
	for _, it := range items {
		dept := it.DepartmentID
		item := report.Item{Label: "整改" + it.Code(), Title: it.Problem}
		if issuer := v.dir.Member(it.IssuerID); issuer != nil {
			item.Also = []string{issuer.UserID}
		}
		v.add(standing{
			subject: models.SubjectRectification, id: it.ID, dept: dept, alerts: alerts[it.ID], item: item,
			targets: []unitRef{{dept: dept, heads: v.dir.Responsible(dept), handlers: v.dir.MembersOf(dept, models.RoleHandler)}},
		}, *it.Deadline)
	}
	return nil
}
