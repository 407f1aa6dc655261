package report

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"yanzhen/config"
	"yanzhen/models"
)

// The ranking rules: the one definition of how the units of a score board
// are ordered and numbered, used by the daily report, the weekly and monthly
// 红黑榜 and the chat's 排名 and 进度.
//
//   - A unit is ranked against its own tier (区级部门, 镇街, 社区, …), never
//     across tiers.
//   - Only a unit with at least rules.scores.min_sample valid return visits
//     (有效回访) in the period is ranked; one with fewer is 样本不足, one with
//     none has no figure at all.
//   - Better 综合评分 first. Scores equal as shown (to 0.01) share a rank;
//     among them the unit with more valid return visits is listed first, then
//     the configured order (TieBreak says so in words).
//   - The red list (红榜) holds every unit ranked N or better, the black list
//     (黑榜) every unit ranked N or better from the bottom (N is
//     rules.rank_top); with fewer than 2N units each list takes at most half,
//     and a unit tied with one on the red list is never on the black list.

// TieBreak states the ranking rules in words, for the messages that rank.
func TieBreak(minSample int) string {
	return "评分相同者名次并列，有效回访件数多者列前；有效回访不足" + itoa(minSample) + "件的单位标注“样本不足”，不参与排名。"
}

// Standing is a unit's line in a ranking.
type Standing struct {
	models.DepartmentScore
	// Rank is the unit's place in its tier: 1 for the best 综合评分, equal
	// scores sharing a rank; 0 for a unit that is not ranked.
	Rank int
}

// TierRanking is one tier's units.
type TierRanking struct {
	Tier models.Tier
	// Ranked holds the units with enough valid return visits, in ranking order.
	Ranked []Standing
	// Small holds the units with some but too few valid return visits
	// (样本不足), unranked, in the configured order.
	Small []Standing
}

// Ranking is a score board put in order by the ranking rules.
type Ranking struct {
	Period models.Period
	// MinSample is the fewest valid return visits a ranked unit has.
	MinSample int
	// Tiers holds every tier with a unit that has a valid return visit: 部门,
	// then 镇街, 社区, then other tiers as they appear.
	Tiers []TierRanking
	// Empty holds the units without a valid return visit, in the configured order.
	Empty []models.Department
	// District sums every assessed ticket, including those without a department.
	District models.DepartmentScore
}

// Rank orders and numbers the units of a score board (see the ranking rules
// above); units with fewer than minSample valid return visits are not ranked.
func Rank(board *models.ScoreBoard, minSample int) *Ranking {
	r := &Ranking{Period: board.Period, MinSample: minSample, District: board.District}
	order := []models.Tier{models.TierDepartment, models.TierStreet, models.TierCommunity}
	tiers := map[models.Tier]*TierRanking{}
	for _, d := range board.Departments {
		if d.Rates.Empty() {
			r.Empty = append(r.Empty, d.Department)
			continue
		}
		t := d.Department.Tier
		if t == "" {
			t = models.TierDepartment
		}
		if !slices.Contains(order, t) {
			order = append(order, t)
		}
		if tiers[t] == nil {
			tiers[t] = &TierRanking{Tier: t}
		}
		if d.Rates.Valid < minSample {
			tiers[t].Small = append(tiers[t].Small, Standing{DepartmentScore: d})
		} else {
			tiers[t].Ranked = append(tiers[t].Ranked, Standing{DepartmentScore: d})
		}
	}
	for _, t := range order {
		if tr := tiers[t]; tr != nil {
			number(tr.Ranked)
			r.Tiers = append(r.Tiers, *tr)
		}
	}
	return r
}

// Of returns a unit's standing and its tier, and false for a unit without a
// valid return visit (or unknown).
func (r *Ranking) Of(deptID uint) (Standing, *TierRanking, bool) {
	for i := range r.Tiers {
		t := &r.Tiers[i]
		for _, list := range [][]Standing{t.Ranked, t.Small} {
			for _, s := range list {
				if s.Department.ID == deptID {
					return s, t, true
				}
			}
		}
	}
	return Standing{}, nil, false
}

// Place says where a unit stands: 区级部门第1名（并列，共3个单位参与排名）,
// 样本不足（有效回访2件，不足5件），不排名, or 暂无有效回访.
func (r *Ranking) Place(deptID uint) string {
	s, t, ok := r.Of(deptID)
	switch {
	case !ok:
		return "暂无有效回访"
	case s.Rank == 0:
		return "样本不足（有效回访" + itoa(s.Rates.Valid) + "件，不足" + itoa(r.MinSample) + "件），不排名"
	}
	tied := ""
	for _, o := range t.Ranked {
		if o.Rank == s.Rank && o.Department.ID != deptID {
			tied = "并列，"
		}
	}
	return t.Tier.Heading() + "第" + itoa(s.Rank) + "名（" + tied + "共" + itoa(len(t.Ranked)) + "个单位参与排名）"
}

// cents is a 综合评分 as shown, to 0.01: equal cents are equal scores.
func cents(score float64) int64 { return int64(math.Round(score * 100)) }

// number sorts units best first and numbers them: equal scores share a rank
// and are listed by more valid return visits first, then in the configured
// order (the order they come in).
func number(list []Standing) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].Rates, list[j].Rates
		if cents(a.Score) != cents(b.Score) {
			return cents(a.Score) > cents(b.Score)
		}
		return a.Valid > b.Valid
	})
	for i := range list {
		if i > 0 && cents(list[i].Rates.Score) == cents(list[i-1].Rates.Score) {
			list[i].Rank = list[i-1].Rank
		} else {
			list[i].Rank = i + 1
		}
	}
}

// RedBlack returns a tier's red list, best first, and black list, worst
// first, for lists of n (see the ranking rules above).
func (t *TierRanking) RedBlack(n int) (red, black []Standing) {
	m := len(t.Ranked)
	redCut, blackCut := min(n, (m+1)/2), min(n, m/2)
	for _, s := range t.Ranked {
		if s.Rank <= redCut {
			red = append(red, s)
		}
	}
	// From the bottom: a unit's place counted from the worst end, equal scores sharing it.
	for i := m - 1; i >= len(red); i-- {
		s := t.Ranked[i]
		fromBottom := 1
		for _, o := range t.Ranked {
			if cents(o.Rates.Score) < cents(s.Rates.Score) {
				fromBottom++
			}
		}
		if fromBottom > blackCut {
			break
		}
		black = append(black, s)
	}
	// Worst first, and equal scores in the ranking's order.
	slices.Reverse(black)
	slices.SortStableFunc(black, func(a, b Standing) int { return b.Rank - a.Rank })
	return red, black
}

// RankPeriod is the period a ranking of kind covers as of day: the day
// itself, or the week, assessment month, quarter or year up to the end of
// day (to date).
// The daily report's ranking and the chat's 排名 and 进度 take it.
func RankPeriod(cfg config.Domain, kind models.PeriodKind, day time.Time) models.Period {
	loc := cfg.Location()
	today := models.DayOf(day, loc)
	var p models.Period
	switch kind {
	case models.PeriodWeek:
		p = models.WeekOf(day, loc)
	case models.PeriodMonth:
		p = models.MonthOf(day, loc, cfg.Rules.Scores.PeriodStartDay)
	case models.PeriodQuarter:
		p = models.QuarterOf(day, loc, cfg.Rules.Scores.PeriodStartDay)
	case models.PeriodYear:
		p = models.YearOf(day, loc, cfg.Rules.Scores.PeriodStartDay)
	default:
		return today
	}
	if today.End.Before(p.End) {
		p.End = today.End
	}
	return p
}

// PeriodText names the period of a ranking: 2026年11月20日当日 for a day (its
// return visits alone), the Label of a whole week or month, and for one to
// date what it sums up: 2026年11月累计（11月1日至20日）, 2026年第47周累计（11月16日至18日）.
func PeriodText(p models.Period) string {
	whole := p
	switch p.Kind {
	case models.PeriodWeek:
		whole.End = p.Start.AddDate(0, 0, 7)
	case models.PeriodMonth:
		whole.End = p.Start.AddDate(0, 1, 0)
	case models.PeriodQuarter:
		whole.End = p.Start.AddDate(0, 3, 0)
	case models.PeriodYear:
		whole.End = p.Start.AddDate(1, 0, 0)
	case models.PeriodDay:
		return p.Label() + "当日"
	default:
		return p.Label()
	}
	if !p.End.Before(whole.End) {
		return p.Label()
	}
	last := p.End.AddDate(0, 0, -1)
	span := monthDayCN(p.Start) + "至" + monthDayCN(last)
	if last.Month() == p.Start.Month() {
		span = monthDayCN(p.Start) + "至" + strconv.Itoa(last.Day()) + "日"
	}
	switch p.Kind {
	case models.PeriodWeek:
		y, w := p.Start.ISOWeek()
		return strconv.Itoa(y) + "年第" + strconv.Itoa(w) + "周累计（" + span + "）"
	case models.PeriodQuarter, models.PeriodYear:
		label := whole.Label()
		if i := strings.Index(label, "（"); i >= 0 {
			label = label[:i]
		}
		return label + "累计（" + span + "）"
	}
	return whole.End.AddDate(0, 0, -1).Format("2006年1月") + "累计（" + span + "）"
}
