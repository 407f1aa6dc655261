package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

// The accountability ladder's rules (rules.accountability): the one
// definition of where a unit stands and of when it climbs.
//
//   - A unit stands at the rung of its latest step, until it goes
//     reset_after without one: then it stands nowhere, and its next trigger
//     starts it at 提醒 again.
//   - Each evaluation moves a unit that meets any trigger one rung up, to at
//     most 责令检视 (a unit triggered there is ordered to examine itself
//     again). The weekly evaluation (the weekly report's) has the triggers
//     urged_per_week (tickets of the unit that reached 催办 in the week) and
//     score_floor for floor_weeks (a ranked unit whose weekly 综合评分 stayed
//     below the floor that many weeks running, all since its last step); the
//     monthly one (the monthly report's) has blacklist (on the month's 黑榜).

// AccountLevel returns the rung a unit stands at now, from its latest step
// (nil when it has none): 0 when it has none or went cfg.ResetAfter without one.
func AccountLevel(latest *models.AccountabilityRecord, now time.Time, cfg config.Accountability, cal config.WorkdayAdder) models.AccountStep {
	if latest == nil || !cfg.ResetAfter.From(latest.At, cal).After(now) {
		return 0
	}
	return latest.Step
}

// AccountState names a step as where its unit stands: 第一次提醒,
// 第二次约谈（待约谈）, 第三次责令检视.
func AccountState(r *models.AccountabilityRecord) string {
	if r.Step == models.AccountInterview {
		if r.Held() {
			return r.Step.Ordinal() + "（已约谈）"
		}
		return r.Step.Ordinal() + "（待约谈）"
	}
	return r.Step.Ordinal()
}

// Climb is one unit climbing the ladder in an evaluation.
type Climb struct {
	Department models.Department
	// To is the rung it climbs to.
	To models.AccountStep
	// Triggers say in words which triggers it met.
	Triggers []string
	// Heads hear of it: the unit's heads (or reporters).
	Heads []*models.Member
	// Due is when a 责令检视's 检视报告 is due.
	Due time.Time
}

// Trigger joins the triggers as one text: 本周催办工单3件；综合评分连续2周低于85.
func (c *Climb) Trigger() string { return strings.Join(c.Triggers, "；") }

// Evaluation is one evaluation of the ladder: the units that climb.
type Evaluation struct {
	// Key names the evaluation for the records (one step per unit and key):
	// "week 2026-11-16", "month 2026-11-01".
	Key string
	// Label names what was evaluated: 2026年第47周, 2026年10月.
	Label  string
	Now    time.Time
	Climbs []Climb
	// Leaders and Supervisors hear of a 约谈 due and of a 责令检视.
	Leaders, Supervisors []*models.Member
}

// EvaluateWeek evaluates the weekly triggers of the week of now.
func (b *Builder) EvaluateWeek(ctx context.Context, now time.Time) (*Evaluation, error) {
	week := models.WeekOf(now, b.loc)
	cfg := b.cfg.Rules.Accountability
	e, latest, dir, err := b.evaluation(ctx, "week "+DayKey(week.Start, b.loc), week.Label(), now)
	if err != nil {
		return nil, err
	}
	met := map[uint][]string{}
	if cfg.UrgedPerWeek > 0 {
		urged, err := b.store.UrgedTickets(ctx, models.AlertLevel(config.LevelUrge), week)
		if err != nil {
			return nil, fmt.Errorf("report: evaluate week: %w", err)
		}
		for id, n := range urged {
			if n >= cfg.UrgedPerWeek {
				met[id] = append(met[id], "本周催办工单"+itoa(n)+"件")
			}
		}
	}
	if cfg.FloorWeeks > 0 {
		below := map[uint]int{}
		p := RankPeriod(b.cfg, models.PeriodWeek, now)
		for range cfg.FloorWeeks {
			board, err := b.store.ScoreBoard(ctx, p, Weights(b.cfg.Rules.Scores))
			if err != nil {
				return nil, fmt.Errorf("report: evaluate week: %w", err)
			}
			for _, t := range Rank(board, b.cfg.Rules.Scores.MinSample).Tiers {
				for _, s := range t.Ranked {
					if s.Rates.Score < cfg.ScoreFloor {
						below[s.Department.ID]++
					}
				}
			}
			p = p.Prev()
			p.End = p.Start.AddDate(0, 0, 7)
		}
		since := p.End // the start of the earliest week looked at
		for id, n := range below {
			if last, ok := latest[id]; n == cfg.FloorWeeks && (!ok || last.At.Before(since)) {
				met[id] = append(met[id], fmt.Sprintf("综合评分连续%d周低于%s", n, trimFloat(cfg.ScoreFloor)))
			}
		}
	}
	e.climb(met, latest, dir, b, cfg)
	return e, nil
}

// EvaluateMonth evaluates the monthly trigger of the month r ranks (the
// monthly report's): its 黑榜.
func (b *Builder) EvaluateMonth(ctx context.Context, m *Monthly, now time.Time) (*Evaluation, error) {
	cfg := b.cfg.Rules.Accountability
	e, latest, dir, err := b.evaluation(ctx, "month "+DayKey(m.Month.Start, b.loc), m.Month.Label(), now)
	if err != nil {
		return nil, err
	}
	met := map[uint][]string{}
	if cfg.Blacklist {
		for _, g := range m.Ranking {
			for _, s := range g.Bottom {
				met[s.Department.ID] = append(met[s.Department.ID], m.Month.Label()+g.Tier.Heading()+"黑榜")
			}
		}
	}
	e.climb(met, latest, dir, b, cfg)
	return e, nil
}

// evaluation starts an evaluation: its key, label and people, each unit's
// latest step and the directory.
func (b *Builder) evaluation(ctx context.Context, key, label string, now time.Time) (*Evaluation, map[uint]models.AccountabilityRecord, *models.Directory, error) {
	dir, err := b.store.Directory(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("report: evaluate %s: %w", key, err)
	}
	latest, err := b.store.LatestAccountability(ctx, now)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("report: evaluate %s: %w", key, err)
	}
	e := &Evaluation{Key: key, Label: label, Now: now, Leaders: dir.WithRole(models.RoleLeader), Supervisors: dir.WithRole(models.RoleSupervisor)}
	return e, latest, dir, nil
}

// climb adds the climbs of the units that met a trigger, in the configured order.
func (e *Evaluation) climb(met map[uint][]string, latest map[uint]models.AccountabilityRecord, dir *models.Directory, b *Builder, cfg config.Accountability) {
	for _, d := range dir.Departments {
		triggers := met[d.ID]
		if len(triggers) == 0 {
			continue
		}
		var last *models.AccountabilityRecord
		if r, ok := latest[d.ID]; ok {
			if r.Evaluation != nil && *r.Evaluation == e.Key {
				continue // climbed in this evaluation already, by an earlier run
			}
			last = &r
		}
		to := min(AccountLevel(last, e.Now, cfg, b.cal)+1, models.AccountReview)
		c := Climb{Department: d, To: to, Triggers: triggers, Heads: dir.Responsible(d.ID)}
		if to == models.AccountReview {
			c.Due = cfg.ReviewWithin.From(e.Now, b.cal)
		}
		e.Climbs = append(e.Climbs, c)
	}
}

// trimFloat writes a figure without trailing zeros: 85, 82.5.
func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// ReviewInstruction is the instruction of a 责令检视's dispatch.
func (c *Climb) ReviewInstruction() string {
	return "提交检视报告：对照问责事由（" + c.Trigger() + "）深入检视原因、提出整改措施"
}

// Messages says what an evaluation did: each unit's heads hear of their
// step by app message (a 提醒 is that message), the supervision team and
// the leaders of each 约谈 due and each 责令检视, whose dispatch code
// (D12) reviews gives by unit ID; recorded says which climbs were recorded
// (not recorded before by another run of the evaluation).
func (e *Evaluation) Messages(recorded map[uint]bool, reviews map[uint]string) []msg.Message {
	var out []msg.Message
	var watch []string
	for _, c := range e.Climbs {
		if !recorded[c.Department.ID] {
			continue
		}
		var body string
		switch c.To {
		case models.AccountRemind:
			body = fmt.Sprintf("【问责提醒】%s因%s，%s被第一次提醒（问责第一级）。请主要负责人高度重视，抓紧整改；再次触发将被约谈。",
				c.Department.Name, c.Trigger(), e.Label)
		case models.AccountInterview:
			body = fmt.Sprintf("【问责约谈】%s因%s，%s再次触发问责，将被约谈（问责第二级）。督导专班将安排约谈。", c.Department.Name, c.Trigger(), e.Label)
			watch = append(watch, fmt.Sprintf("%s（%s）：请安排约谈，并发送“约谈 %s 日期 纪要”记录", c.Department.Name, c.Trigger(), c.Department.Name))
		default:
			code := reviews[c.Department.ID]
			body = fmt.Sprintf("【责令检视】%s因%s，%s第三次触发问责，责令检视（问责第三级）。请于%s前提交检视报告", c.Department.Name, c.Trigger(), e.Label, whenCN(c.Due))
			line := fmt.Sprintf("%s（%s）：已责令检视，检视报告%s前提交", c.Department.Name, c.Trigger(), whenCN(c.Due))
			if code != "" {
				body += "：回复“办结 " + code + " 检视报告”。"
				line += "，调度 " + code
			} else {
				body += "。"
			}
			watch = append(watch, line)
		}
		_, ids := mentions(c.Heads)
		out = append(out, toMembers(ids, "问责", "accountability/"+e.Key+"/"+itoa(int(c.Department.ID)), msg.S(msg.Lines(body)...))...)
	}
	if len(watch) > 0 {
		_, ids := mentions(append(append([]*models.Member(nil), e.Supervisors...), e.Leaders...))
		lines := []msg.Line{msg.L(msg.Strong("【问责】" + e.Label + "评估"))}
		for _, w := range watch {
			lines = append(lines, text("· "+w))
		}
		out = append(out, toMembers(ids, "问责", "accountability/"+e.Key+"/watch", msg.S(lines...))...)
	}
	return out
}
