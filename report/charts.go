package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"yanzhen/chart"
	"yanzhen/models"
	"yanzhen/msg"
)

// The charts of the reports and the chat: the 综合评分 of every unit of a
// period as bars, the 三率 over the last months as lines, and the week's
// unsatisfied and reopened tickets per unit. Each is built as plain values
// (chart.Bars, chart.Trend) and rendered into image attachments.

// ScoreChart is the 综合评分 of every ranked unit of a period: bars grouped by
// tier of unit, the red and black lists coloured, the district's score as a
// line across.
type ScoreChart struct {
	District string
	Period   models.Period
	Board    *Ranking
	Ranking  []RankGroup
}

// ScoreChart builds the chart of period p as the store stands.
func (b *Builder) ScoreChart(ctx context.Context, p models.Period) (*ScoreChart, error) {
	board, err := b.store.ScoreBoard(ctx, p, Weights(b.cfg.Rules.Scores))
	if err != nil {
		return nil, fmt.Errorf("report: score chart: %w", err)
	}
	r := Rank(board, b.cfg.Rules.Scores.MinSample)
	return &ScoreChart{District: b.cfg.District.Name, Period: p, Board: r, Ranking: rankGroups(r, b.cfg.Rules.RankTop)}, nil
}

// ScoreChart is the chart of the month's scores, from the report's board.
func (m *Monthly) ScoreChart() *ScoreChart {
	return &ScoreChart{District: m.District, Period: m.Month, Board: m.Board, Ranking: m.Ranking}
}

// Title names the chart in words and file names: 高新区2026年11月综合评分排名,
// or with the period to date, 高新区2026年11月累计（11月1日至20日）综合评分排名.
func (c *ScoreChart) Title() string { return c.District + PeriodText(c.Period) + "综合评分排名" }

// Ranked reports whether any unit is ranked, so that there is a bar to draw.
func (c *ScoreChart) Ranked() bool {
	for _, t := range c.Board.Tiers {
		if len(t.Ranked) > 0 {
			return true
		}
	}
	return false
}

// Bars lays the chart out: per tier, every ranked unit best first with its
// rank, 红榜 and 黑榜 in their colours; the units too small to rank and those
// without a valid return visit named in the note.
func (c *ScoreChart) Bars() chart.Bars {
	d := c.Board.District.Rates
	bars := chart.Bars{
		Title:    c.District + "综合评分排名",
		Subtitle: PeriodText(c.Period) + "，有效回访" + itoa(d.Valid) + "件",
		Series:   []string{"综合评分"}, Decimals: 2,
		Tones: map[chart.Tone]string{chart.Good: "红榜", chart.Bad: "黑榜"},
	}
	if !d.Empty() {
		bars.Reference = &chart.Reference{Value: d.Score, Label: "全区"}
	}
	lists := map[uint]chart.Tone{}
	for _, g := range c.Ranking {
		for _, s := range g.Top {
			lists[s.Department.ID] = chart.Good
		}
		for _, s := range g.Bottom {
			lists[s.Department.ID] = chart.Bad
		}
	}
	var small []string
	for _, t := range c.Board.Tiers {
		for _, s := range t.Small {
			small = append(small, s.Department.Name)
		}
		if len(t.Ranked) == 0 {
			continue
		}
		g := chart.Group{Name: t.Tier.Heading()}
		for _, s := range t.Ranked {
			g.Bars = append(g.Bars, chart.Bar{Label: itoa(s.Rank) + ". " + s.Department.Name, Values: []float64{s.Rates.Score}, Tone: lists[s.Department.ID]})
		}
		bars.Groups = append(bars.Groups, g)
	}
	var notes []string
	if len(small) > 0 {
		notes = append(notes, "样本不足（有效回访不足"+itoa(c.Board.MinSample)+"件）、未排名："+joinCap(small, 30))
	}
	if len(c.Board.Empty) > 0 {
		empty := make([]string, len(c.Board.Empty))
		for i, d := range c.Board.Empty {
			empty[i] = d.Name
		}
		notes = append(notes, "无有效回访（"+itoa(len(empty))+"个）："+joinCap(empty, 30))
	}
	bars.Note = strings.Join(notes, "；")
	return bars
}

// Attachments renders the chart as images, one per MaxBars units.
func (c *ScoreChart) Attachments() ([]msg.Attachment, error) {
	images, err := c.Bars().Render()
	if err != nil {
		return nil, fmt.Errorf("report: score chart: %w", err)
	}
	return imageAttachments(c.Title(), images), nil
}

// ChartMessage returns the month's score chart as a group message after the
// report's text, keyed to go out once; nil when no unit has a score.
func (m *Monthly) ChartMessage() (*msg.Message, error) {
	c := m.ScoreChart()
	if !c.Ranked() {
		return nil, nil
	}
	atts, err := c.Attachments()
	if err != nil {
		return nil, err
	}
	out := toGroup(m.Group, c.Title(), groupKey("monthly-report", m.Group, DayKey(m.Month.Start, m.Month.Start.Location()))+"/chart")
	out.Attachments = atts
	return &out, nil
}

// Chart is the week's unsatisfied and reopened tickets per unit: two bars a
// unit, the units with most first.
func (w *Weekly) Chart() chart.Bars {
	type counts struct{ unsatisfied, reopened int }
	by := map[uint]*counts{}
	get := func(t models.Ticket) *counts {
		id := uint(0)
		if t.DepartmentID != nil {
			id = *t.DepartmentID
		}
		if by[id] == nil {
			by[id] = &counts{}
		}
		return by[id]
	}
	for _, t := range w.Unsatisfied {
		get(t).unsatisfied++
	}
	for _, t := range w.Reopened {
		get(t).reopened++
	}
	type row struct {
		name string
		c    counts
	}
	var rows []row
	for _, d := range w.Departments {
		if c := by[d.ID]; c != nil {
			rows = append(rows, row{d.Name, *c})
		}
	}
	if c := by[0]; c != nil {
		rows = append(rows, row{"未明确承办单位", *c})
	}
	// Most first; the configured order among equals.
	slices.SortStableFunc(rows, func(a, b row) int {
		return (b.c.unsatisfied + b.c.reopened) - (a.c.unsatisfied + a.c.reopened)
	})
	g := chart.Group{Name: "按承办单位"}
	for _, r := range rows {
		g.Bars = append(g.Bars, chart.Bar{Label: r.name, Values: []float64{float64(r.c.unsatisfied), float64(r.c.reopened)}})
	}
	return chart.Bars{
		Title:    w.District + "本周不满意及重办工单",
		Subtitle: w.Week.Label() + "：不满意" + itoa(len(w.Unsatisfied)) + "件，重办" + itoa(len(w.Reopened)) + "件",
		Series:   []string{"不满意", "重办"}, FromZero: true, Groups: []chart.Group{g},
	}
}

// ChartMessage returns the week's chart to the main leaders, after their
// list and keyed to go out once; nil when the week had no unsatisfied or
// reopened ticket, or there is no leader.
func (w *Weekly) ChartMessage() (*msg.Message, error) {
	_, ids := mentions(w.MainLeaders)
	if len(w.Unsatisfied)+len(w.Reopened) == 0 || len(ids) == 0 {
		return nil, nil
	}
	c := w.Chart()
	images, err := c.Render()
	if err != nil {
		return nil, fmt.Errorf("report: weekly chart: %w", err)
	}
	out := toMembers(ids, c.Title, w.key()+"/leader/chart")[0]
	out.Attachments = imageAttachments(c.Title, images)
	return &out, nil
}

// Trend is the 三率 and 综合评分 of the district, or of one unit beside the
// district's score, over the last TrendMonths assessment months, the current
// one to date.
type Trend struct {
	District string
	// Unit is the unit charted; nil charts the district.
	Unit   *models.Department
	Months []models.Period
	// UnitRates holds the unit's rates of each month (none without a unit),
	// DistrictRates the district's.
	UnitRates, DistrictRates []models.Rates
	// Until is when the figures of the current month were read.
	Until time.Time
}

// TrendMonths is how many months a trend shows.
const TrendMonths = 6

// Trend builds the trend of unit (nil: the district) up to now, from one
// query over the months.
func (b *Builder) Trend(ctx context.Context, now time.Time, unit *models.Department) (*Trend, error) {
	months := make([]models.Period, TrendMonths)
	m := models.MonthOf(now, b.loc, b.cfg.Rules.Scores.PeriodStartDay)
	for i := TrendMonths - 1; i >= 0; i-- {
		months[i], m = m, m.Prev()
	}
	series, err := b.store.ScoreSeries(ctx, months)
	if err != nil {
		return nil, fmt.Errorf("report: trend: %w", err)
	}
	w := Weights(b.cfg.Rules.Scores)
	t := &Trend{District: b.cfg.District.Name, Unit: unit, Months: months, Until: now.In(b.loc)}
	for _, counts := range series {
		var all models.ScoreCounts
		for _, c := range counts {
			all = all.Add(c)
		}
		t.DistrictRates = append(t.DistrictRates, all.Rates(w))
		if unit != nil {
			t.UnitRates = append(t.UnitRates, counts[unit.ID].Rates(w))
		}
	}
	return t, nil
}

// Title is the chart's title: 住建局三率趋势, or the district's.
func (t *Trend) Title() string {
	if t.Unit != nil {
		return t.Unit.Name + "三率趋势"
	}
	return t.District + "三率趋势"
}

// monthName names an assessment month by the month it ends in: 11月.
func monthName(p models.Period) string { return p.End.AddDate(0, 0, -1).Format("1月") }

// Chart lays the trend out: the charted unit's (or the district's) 综合评分
// with its numbers, its three rates, and beside a unit the district's
// 综合评分 dashed; a month without a valid ticket is a gap.
func (t *Trend) Chart() chart.Trend {
	rates := t.DistrictRates
	if t.Unit != nil {
		rates = t.UnitRates
	}
	labels := make([]string, len(t.Months))
	for i, m := range t.Months {
		labels[i] = monthName(m)
	}
	line := func(name string, of func(models.Rates) float64, rs []models.Rates) chart.Line {
		l := chart.Line{Name: name, Values: make([]float64, len(rs))}
		for i, r := range rs {
			l.Values[i] = math.NaN()
			if !r.Empty() {
				l.Values[i] = of(r)
			}
		}
		return l
	}
	score := line("综合评分", func(r models.Rates) float64 { return r.Score }, rates)
	score.Numbers = true
	lines := []chart.Line{
		score,
		line("响应率", func(r models.Rates) float64 { return r.Response }, rates),
		line("解决率", func(r models.Rates) float64 { return r.Resolution }, rates),
		line("满意率", func(r models.Rates) float64 { return r.Satisfaction }, rates),
	}
	if t.Unit != nil {
		district := line("全区综合评分", func(r models.Rates) float64 { return r.Score }, t.DistrictRates)
		district.Dashed = true
		lines = append(lines, district)
	}
	var empty []string
	for i, r := range rates {
		if r.Empty() {
			empty = append(empty, labels[i])
		}
	}
	note := ""
	if len(empty) > 0 {
		note = joinCap(empty, TrendMonths) + "无有效回访。"
	}
	last := t.Months[len(t.Months)-1]
	return chart.Trend{
		Title:    t.Title(),
		Subtitle: t.Months[0].End.AddDate(0, 0, -1).Format("2006年1月") + "至" + monthName(last) + "（" + monthName(last) + "截至" + t.Until.Format("1月2日") + "），单位：%",
		Labels:   labels, Lines: lines, Decimals: 1, Ceiling: 100, Note: note,
	}
}

// Attachments renders the trend as an image.
func (t *Trend) Attachments() ([]msg.Attachment, error) {
	img, err := t.Chart().Render()
	if err != nil {
		return nil, fmt.Errorf("report: trend: %w", err)
	}
	return imageAttachments(t.Title(), []chart.Image{img}), nil
}

// imageAttachments names rendered images after the chart's title, numbered
// when there are several.
func imageAttachments(title string, images []chart.Image) []msg.Attachment {
	out := make([]msg.Attachment, len(images))
	for i, img := range images {
		name := title + ".png"
		if len(images) > 1 {
			name = title + "-" + strconv.Itoa(i+1) + ".png"
		}
		out[i] = msg.ImageAttachment(name, img.PNG)
	}
	return out
}

// joinCap joins names with 、, the first n of them, then 等N个.
func joinCap(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, "、")
	}
	return strings.Join(names[:n], "、") + "等" + itoa(len(names)) + "个"
}
