package report_test

import (
	"fmt"
	"slices"
	"testing"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/report"
)

// line is one unit of a score board: a name, a tier, its 综合评分 and its
// valid return visits (0: none).
type line struct {
	name  string
	tier  models.Tier
	score float64
	valid int
}

func board(lines ...line) *models.ScoreBoard {
	b := &models.ScoreBoard{District: models.DepartmentScore{Rates: models.Rates{Valid: 9, Score: 80}}}
	for i, l := range lines {
		s := models.DepartmentScore{Department: models.Department{ID: uint(i + 1), Name: l.name, Tier: l.tier}}
		s.Counts.Valid = l.valid
		if l.valid > 0 {
			s.Rates = models.Rates{Valid: l.valid, Score: l.score}
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

// tiers writes a ranking as its tiers' ranked units, "name rank".
func tiers(r *report.Ranking) [][]string {
	var out [][]string
	for _, t := range r.Tiers {
		out = append(out, places(t.Ranked))
	}
	return out
}

func TestRankWithinTiersWithTiesAndSmallSamples(t *testing.T) {
	dep, street, community := models.TierDepartment, models.TierStreet, models.TierCommunity
	// The configured order; the 社区 and the 镇街 come before some 部门.
	b := board(
		line{"住建局", dep, 80, 6}, line{"海滨社区", community, 95, 5}, line{"教育局", dep, 0, 0},
		line{"城管局", dep, 90, 5}, line{"环海街道", street, 80, 7}, line{"卫健委", dep, 80, 9},
		line{"科技街道", street, 99, 4}, line{"民政局", dep, 70, 12}, line{"司法局", dep, 80, 6},
		line{"交通局", dep, 20, 1},
	)
	r := report.Rank(b, 5)
	// Each tier ranked against itself: 部门, then 镇街, then 社区. Equal scores
	// share a rank, more valid return visits first, then the configured order.
	want := [][]string{{"城管局 1", "卫健委 2", "住建局 2", "司法局 2", "民政局 5"}, {"环海街道 1"}, {"海滨社区 1"}}
	if got := tiers(r); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ranking = %v, want %v", got, want)
	}
	// Fewer than 5 valid return visits: 样本不足, unranked, whatever the score.
	var small []string
	for _, tr := range r.Tiers {
		small = append(small, places(tr.Small)...)
	}
	if want := []string{"交通局 0", "科技街道 0"}; !slices.Equal(small, want) {
		t.Errorf("small samples = %v, want %v", small, want)
	}
	if len(r.Empty) != 1 || r.Empty[0].Name != "教育局" {
		t.Errorf("empty = %v", r.Empty)
	}
	if r.District.Rates != b.District.Rates {
		t.Errorf("district = %+v", r.District)
	}
	// A unit's standing is its rank in its tier.
	if s, tier, ok := r.Of(5); !ok || s.Rank != 1 || tier.Tier != street {
		t.Errorf("环海街道 = %+v in %v", s, tier)
	}
	if s, _, ok := r.Of(7); !ok || s.Rank != 0 {
		t.Errorf("科技街道 = %+v, want unranked", s)
	}
}

func TestRankTiesAreScoresAsShown(t *testing.T) {
	// 80.004 and 79.996 both show as 80.00: the same rank.
	r := report.Rank(board(line{"住建局", "", 79.996, 5}, line{"城管局", "", 80.004, 5}, line{"教育局", "", 80.1, 5}), 5)
	if got := places(r.Tiers[0].Ranked); !slices.Equal(got, []string{"教育局 1", "住建局 2", "城管局 2"}) {
		t.Errorf("ranking = %v", got)
	}
}

func TestRankOtherTiersFollowInTheOrderTheyAppear(t *testing.T) {
	r := report.Rank(board(line{"开发区管委会", "园区", 60, 5}, line{"海滨社区", models.TierCommunity, 70, 5}, line{"住建局", models.TierDepartment, 50, 5}), 5)
	var heads []string
	for _, tr := range r.Tiers {
		heads = append(heads, tr.Tier.Heading())
	}
	if want := []string{"区级部门", "社区", "园区"}; !slices.Equal(heads, want) {
		t.Errorf("tiers = %v, want %v", heads, want)
	}
}

func TestRankWithoutScores(t *testing.T) {
	r := report.Rank(board(line{"住建局", models.TierDepartment, 0, 0}, line{"城管局", models.TierDepartment, 0, 0}), 5)
	if len(r.Tiers) != 0 || len(r.Empty) != 2 {
		t.Errorf("tiers = %v, empty = %v", r.Tiers, r.Empty)
	}
}

func TestRedBlack(t *testing.T) {
	d := models.TierDepartment
	cases := []struct {
		name       string
		lines      []line
		red, black []string
	}{
		{"tied first all on the red list, never on the black",
			[]line{{"住建局", d, 100, 6}, {"城管局", d, 100, 5}, {"教育局", d, 100, 5}, {"民政局", d, 60, 5}},
			[]string{"住建局 1", "城管局 1", "教育局 1"}, []string{"民政局 4"}},
		{"tied last all on the black list, worst first",
			[]line{{"a", d, 90, 5}, {"b", d, 80, 5}, {"c", d, 70, 5}, {"d", d, 60, 5}, {"e", d, 50, 5}, {"f", d, 40, 5}, {"g", d, 40, 6}, {"h", d, 30, 5}},
			[]string{"a 1", "b 2", "c 3"}, []string{"h 8", "g 6", "f 6"}},
		{"a tie across the red cut stays red",
			[]line{{"a", d, 90, 5}, {"b", d, 80, 5}, {"c", d, 80, 5}, {"d", d, 80, 5}, {"e", d, 50, 5}, {"f", d, 40, 5}},
			[]string{"a 1", "b 2", "c 2", "d 2"}, []string{"f 6", "e 5"}},
		{"everyone equal: all red",
			[]line{{"a", d, 90, 5}, {"b", d, 90, 5}}, []string{"a 1", "b 1"}, nil},
		{"one unit: red only",
			[]line{{"a", d, 10, 5}}, []string{"a 1"}, nil},
		{"a one-ticket unit is not ranked, so never on the black list",
			[]line{{"a", d, 90, 5}, {"b", d, 80, 5}, {"one", d, 0, 1}},
			[]string{"a 1"}, []string{"b 2"}},
	}
	for _, c := range cases {
		r := report.Rank(board(c.lines...), 5)
		red, black := r.Tiers[0].RedBlack(3)
		if got := places(red); !slices.Equal(got, c.red) {
			t.Errorf("%s: red = %v, want %v", c.name, got, c.red)
		}
		if got := places(black); !slices.Equal(got, c.black) {
			t.Errorf("%s: black = %v, want %v", c.name, got, c.black)
		}
	}
}

func TestRankPeriodAndItsName(t *testing.T) {
	cfg := config.Default().Domain()
	day := at("2026-11-20 10:00")
	cases := []struct {
		kind       models.PeriodKind
		start, end string
		text       string
	}{
		{models.PeriodDay, "2026-11-20 00:00", "2026-11-21 00:00", "2026年11月20日当日"},
		{models.PeriodWeek, "2026-11-16 00:00", "2026-11-21 00:00", "2026年第47周累计（11月16日至20日）"},
		{models.PeriodMonth, "2026-11-01 00:00", "2026-11-21 00:00", "2026年11月累计（11月1日至20日）"},
	}
	for _, c := range cases {
		p := report.RankPeriod(cfg, c.kind, day)
		if !p.Start.Equal(at(c.start)) || !p.End.Equal(at(c.end)) {
			t.Errorf("%s: %v to %v, want %s to %s", c.kind, p.Start, p.End, c.start, c.end)
		}
		if got := report.PeriodText(p); got != c.text {
			t.Errorf("%s: %q, want %q", c.kind, got, c.text)
		}
	}
	// A whole period is named by its label.
	if got := report.PeriodText(models.MonthOf(day, cfg.Location(), 1)); got != "2026年11月" {
		t.Errorf("whole month: %q", got)
	}
	// An assessment month from the 26th, to date.
	cfg.Rules.Scores.PeriodStartDay = 26
	if got := report.PeriodText(report.RankPeriod(cfg, models.PeriodMonth, day)); got != "2026年11月累计（10月26日至11月20日）" {
		t.Errorf("month from the 26th: %q", got)
	}
}
