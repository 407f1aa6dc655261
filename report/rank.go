package report

import (
	"slices"
	"sort"

	"yanzhen/models"
)

// The ranking rules: how the departments of a score board are ordered and
// numbered in the reports and the chat's 排名.

// Standing is a department's line in a ranking: its score and its place.
type Standing struct {
	models.DepartmentScore
	// Rank is 1 for the best 综合评分; equal scores share a rank; 0 for a
	// department without a valid ticket (Rates.Empty).
	Rank int
}

// Ranking is a score board put in order by the ranking rules.
type Ranking struct {
	Period models.Period
	// All holds every department, best 综合评分 first and ranked across the
	// district; those without a valid ticket (Rates.Empty, shown "—") come
	// last, unranked. Equal scores keep the configured order.
	All []Standing
	// District sums every assessed ticket, including those without a department.
	District models.DepartmentScore
}

// Rank orders and numbers the departments of a score board (see Ranking).
func Rank(board *models.ScoreBoard) *Ranking {
	r := &Ranking{Period: board.Period, District: board.District, All: make([]Standing, len(board.Departments))}
	for i, d := range board.Departments {
		r.All[i].DepartmentScore = d
	}
	// The board comes in the configured order; a stable sort keeps it among equals.
	sort.SliceStable(r.All, func(i, j int) bool {
		a, b := r.All[i].Rates, r.All[j].Rates
		if a.Empty() != b.Empty() {
			return !a.Empty()
		}
		return a.Score > b.Score
	})
	number(r.All)
	return r
}

// ByTier splits the ranked departments (those with a score) by tier: 部门,
// then 镇街, 社区, then other tiers as they appear; best first, ranked within
// their tier, equal scores sharing a rank. Departments and streets are
// assessed against their own tier.
func (r *Ranking) ByTier() [][]Standing {
	order := []models.Tier{models.TierDepartment, models.TierStreet, models.TierCommunity}
	lists := map[models.Tier][]Standing{}
	for _, s := range r.All {
		if s.Rates.Empty() {
			continue
		}
		t := s.Department.Tier
		if !slices.Contains(order, t) {
			order = append(order, t)
		}
		lists[t] = append(lists[t], s)
	}
	var out [][]Standing
	for _, t := range order {
		if len(lists[t]) > 0 {
			number(lists[t])
			out = append(out, lists[t])
		}
	}
	return out
}

// Unranked returns the departments without a valid ticket, in the configured order.
func (r *Ranking) Unranked() []models.Department {
	var out []models.Department
	for _, s := range r.All {
		if s.Rates.Empty() {
			out = append(out, s.Department)
		}
	}
	return out
}

// number numbers a list sorted best first: 1 for the first, equal scores
// sharing a rank, 0 for those without a score (Rates.Empty).
func number(list []Standing) {
	for i := range list {
		d := &list[i]
		switch {
		case d.Rates.Empty():
			d.Rank = 0
		case i > 0 && d.Rates.Score == list[i-1].Rates.Score:
			d.Rank = list[i-1].Rank
		default:
			d.Rank = i + 1
		}
	}
}
