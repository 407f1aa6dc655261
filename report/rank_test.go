package report_test

import (
	"fmt"
	"slices"
	"testing"

	"yanzhen/models"
	"yanzhen/report"
)

// line is one department of a score board: a name, a tier and 综合评分 (-1 for
// no valid ticket).
type line struct {
	name  string
	tier  models.Tier
	score float64
}

func board(lines ...line) *models.ScoreBoard {
	b := &models.ScoreBoard{District: models.DepartmentScore{Rates: models.Rates{Valid: 9, Score: 80}}}
	for i, l := range lines {
		s := models.DepartmentScore{Department: models.Department{ID: uint(i + 1), Name: l.name, Tier: l.tier}}
		if l.score >= 0 {
			s.Rates = models.Rates{Valid: 3, Score: l.score}
		}
		b.Departments = append(b.Departments, s)
	}
	return b
}

// places writes standings as "name rank".
func places(list []report.Standing) []string {
	var out []string
	for _, s := range list {
		out = append(out, fmt.Sprintf("%s %d", s.Department.Name, s.Rank))
	}
	return out
}

func TestRank(t *testing.T) {
	dep, street, community := models.TierDepartment, models.TierStreet, models.TierCommunity
	// The configured order; the 社区 and the 镇街 come before some 部门.
	b := board(
		line{"住建局", dep, 80}, line{"海滨社区", community, 95}, line{"教育局", dep, -1},
		line{"城管局", dep, 90}, line{"环海街道", street, 80}, line{"卫健委", dep, 80},
		line{"科技街道", street, -1}, line{"民政局", dep, 70},
	)
	r := report.Rank(b)
	// Best first across the district; equal scores share a rank and keep the
	// configured order; no valid ticket: last, unranked, in the configured order.
	want := []string{"海滨社区 1", "城管局 2", "住建局 3", "环海街道 3", "卫健委 3", "民政局 6", "教育局 0", "科技街道 0"}
	if got := places(r.All); !slices.Equal(got, want) {
		t.Errorf("all = %v, want %v", got, want)
	}
	if r.District.Rates != b.District.Rates || r.District.Counts != b.District.Counts {
		t.Errorf("district = %+v", r.District)
	}
	// Each tier ranked against itself: 部门, then 镇街, then 社区.
	var tiers [][]string
	for _, list := range r.ByTier() {
		tiers = append(tiers, places(list))
	}
	wantTiers := [][]string{{"城管局 1", "住建局 2", "卫健委 2", "民政局 4"}, {"环海街道 1"}, {"海滨社区 1"}}
	if !slices.EqualFunc(tiers, wantTiers, slices.Equal) {
		t.Errorf("by tier = %v, want %v", tiers, wantTiers)
	}
	// Splitting by tier leaves the district-wide ranks as they were.
	if got := places(r.All); !slices.Equal(got, want) {
		t.Errorf("all after ByTier = %v, want %v", got, want)
	}
	var unranked []string
	for _, d := range r.Unranked() {
		unranked = append(unranked, d.Name)
	}
	if !slices.Equal(unranked, []string{"教育局", "科技街道"}) {
		t.Errorf("unranked = %v", unranked)
	}
}

func TestRankOtherTiersFollowInTheOrderTheyAppear(t *testing.T) {
	r := report.Rank(board(line{"开发区管委会", "园区", 60}, line{"海滨社区", models.TierCommunity, 70}, line{"住建局", models.TierDepartment, 50}))
	var heads []string
	for _, list := range r.ByTier() {
		heads = append(heads, list[0].Department.Tier.Heading())
	}
	if want := []string{"区级部门", "社区", "园区"}; !slices.Equal(heads, want) {
		t.Errorf("tiers = %v, want %v", heads, want)
	}
}

func TestRankWithoutScores(t *testing.T) {
	r := report.Rank(board(line{"住建局", models.TierDepartment, -1}, line{"城管局", models.TierDepartment, -1}))
	if got := places(r.All); !slices.Equal(got, []string{"住建局 0", "城管局 0"}) {
		t.Errorf("all = %v", got)
	}
	if len(r.ByTier()) != 0 {
		t.Errorf("by tier = %v, want none", r.ByTier())
	}
}
