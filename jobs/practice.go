package jobs

import (
	"context"
	"fmt"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
	"yanzhen/report"
)

// The practice's scheduled work: the accountability ladder's evaluations
// (with the weekly and monthly reports), the weekly 整改公示, and the
// quarterly report on the first working day of a quarter.

// Names of the practice's jobs, as `yanzhen run JOB` takes them.
const (
	Publicity       = "publicity"
	QuarterlyReport = "quarterly-report"
)

// recordClimbs records an evaluation's climbs in tx — each unit's step, and
// for a 责令检视 the dispatch that tracks its 检视报告, issued in the name of
// the main leader (else the first leader) — and returns the messages of the
// climbs it recorded (another run may have recorded some first) and how many.
func recordClimbs(ctx context.Context, tx *models.Store, ev *report.Evaluation) ([]msg.Message, int, error) {
	recorded, reviews := map[uint]bool{}, map[uint]string{}
	var issuer *models.Member
	for _, l := range ev.Leaders {
		if issuer == nil || (l.Main && !issuer.Main) {
			issuer = l
		}
	}
	for _, c := range ev.Climbs {
		key := ev.Key
		rec := &models.AccountabilityRecord{DepartmentID: c.Department.ID, Step: c.To, Trigger: c.Trigger(), Evaluation: &key, At: ev.Now}
		ok, err := tx.RecordAccountability(ctx, rec)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			continue
		}
		recorded[c.Department.ID] = true
		if c.To != models.AccountReview || issuer == nil {
			continue
		}
		due, unit := c.Due, c.Department.ID
		d := &models.Dispatch{Kind: models.DispatchReview, IssuerID: issuer.ID, Instruction: c.ReviewInstruction(), Deadline: &due,
			IssuedAt: ev.Now, Targets: []models.DispatchTarget{{DepartmentID: &unit}}}
		if _, err := tx.CreateDispatch(ctx, d); err != nil {
			return nil, 0, err
		}
		if err := tx.SetReviewDispatch(ctx, rec.ID, d.ID); err != nil {
			return nil, 0, err
		}
		reviews[unit] = d.Code()
	}
	return ev.Messages(recorded, reviews), len(recorded), nil
}

// climbSummary says how many units climbed.
func climbSummary(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("；%d个单位问责升级", n)
}

// preparePublicity publishes (公示) and closes (销号) the verified items of
// the rectification list, with the dispatches verified in the week.
func preparePublicity(ctx context.Context, e *Env, r Run) (Plan, error) {
	p := e.Reports.PublicityOf(r.Slot)
	dispatches, err := e.Store.VerifiedDispatches(ctx, p.Week)
	if err != nil {
		return Plan{}, err
	}
	dir, err := e.Store.Directory(ctx)
	if err != nil {
		return Plan{}, err
	}
	p.Dispatches = dispatches
	p.Names = func(userid string) string {
		if m := dir.MemberByUserID(userid); m != nil {
			return m.Name
		}
		return ""
	}
	return Plan{Commit: func(ctx context.Context, tx *models.Store) ([]msg.Message, string, error) {
		items, err := tx.PublishRectifications(ctx, "", r.Now)
		if err != nil {
			return nil, "", err
		}
		p.Items = items
		m := p.Message(r.SlotKey)
		if m == nil {
			return nil, "本周无核查通过的整改事项和调度，未公示", nil
		}
		return []msg.Message{*m}, fmt.Sprintf("公示并销号整改事项%d件，公示调度%d件", len(items), len(dispatches)), nil
	}}, nil
}

// prepareQuarterly posts the report of the quarter just ended, on the first
// working day of the next; on its other slots the scheduler's run does
// nothing, and a run by hand always posts.
func prepareQuarterly(ctx context.Context, e *Env, r Run) (Plan, error) {
	if !r.ByHand && !firstWorkdayOfQuarter(e, r.Slot) {
		return send(nil, "非本季度首个工作日，不发布"), nil
	}
	q, err := e.Reports.Quarterly(ctx, r.Slot)
	if err != nil {
		return Plan{}, err
	}
	return send([]msg.Message{q.Message()}, "发布"+q.Quarter.Label()+"季度通报"), nil
}

// firstWorkdayOfQuarter reports whether t falls on the first working day of
// its calendar quarter.
func firstWorkdayOfQuarter(e *Env, t time.Time) bool {
	t = t.In(e.Config.Location())
	start := models.QuarterOf(t, e.Config.Location(), 1).Start
	return e.Calendar.IsWorkday(t) && e.Calendar.PrevWorkday(t).Before(start)
}
