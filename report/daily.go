package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// Daily is the 18:00 report of one day as built from the store: the district
// summary, one unit per department in the configured order, and the ranking.
// Render turns it into group messages.
type Daily struct {
	// District names the area the report covers: the district, or the
	// street whose communities its group covers.
	District string
	// Wide names the area in the summary: 全区, or 全街道.
	Wide string
	// Group is the code of the work group it goes to.
	Group string
	// Day is the report's day; DayName the calendar's name for it when it is
	// special (国庆节调休), else "".
	Day     models.Period
	DayName string
	// Now is when the report was built: the open figures (在办, 超期, 临期)
	// are as of then.
	Now time.Time
	// Past marks a report of a day before Now's: its open figures are current,
	// not the day's, and it says so.
	Past bool
	// Late marks a report made up after its time (补发).
	Late bool
	// Preview marks a report shown before it is posted (预览日报): it mentions nobody.
	Preview bool
	// Month is the assessment month up to the end of Day (RankPeriod), whose
	// 三率 each unit shows and by which the units are ranked.
	Month models.Period
	// Total sums the ledger of the whole district.
	Total models.LedgerRow
	// Units holds every department in the configured order.
	Units []Unit
	// Ranking is the 红黑榜 of each tier by Month's 综合评分.
	Ranking []RankGroup
	// MinSample is the fewest valid return visits of a ranked unit.
	MinSample int
	// Key is the 重点件 track of the day (keytrack.go).
	Key []models.KeyTrack

	cal Workdays // for the track's lateness
}

// Unit is one department in the daily report.
type Unit struct {
	Department models.Department
	// Report is the department's standing report of the day, nil when none.
	Report *models.DailyReport
	// Responsible are the userids @-mentioned when a required report is missing.
	Responsible []string
	Figures     models.LedgerRow
	Rates       models.Rates
	// Under counts the communities outside the group whose figures the unit
	// answers for (a street in the district's report), UnderReported those
	// of them whose daily report is in and UnderRequired those that must report.
	Under, UnderReported, UnderRequired int
}

// Missing reports whether the unit had to report and has not.
func (u *Unit) Missing() bool { return u.Department.ReportRequired && u.Report == nil }

// RankGroup is one tier's 红黑榜 (区级部门, 镇街, …) by 综合评分: the red and
// black lists (TierRanking.RedBlack) and the units with too few valid return
// visits to be ranked.
type RankGroup struct {
	Tier        models.Tier
	Top, Bottom []Standing
	// Ranked is how many units of the tier are ranked.
	Ranked int
	// Small are the units of the tier with too few valid return visits (样本不足).
	Small []Standing
}

// Daily builds the daily report of day (any time on it) of the builder's
// group (For) as it stands at now: the day's standing reports of its units,
// the day's ledger (open figures as of now) and the 三率 of the month up to
// the end of day, a unit's communities outside the group taken in. A day
// before now's is Past. It sends nothing: handlers preview it with it, and
// the daily-report job posts it.
func (b *Builder) Daily(ctx context.Context, day, now time.Time) (*Daily, error) {
	a, err := b.area(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: daily: %w", err)
	}
	d := &Daily{
		District:  a.Name,
		Wide:      a.Wide(),
		Group:     a.Group.Code,
		Day:       models.DayOf(day, b.loc),
		Now:       now.In(b.loc),
		Month:     RankPeriod(b.cfg, models.PeriodMonth, day),
		MinSample: b.cfg.Rules.Scores.MinSample,
		cal:       b.cal,
	}
	d.Past = !d.Day.End.After(d.Now)
	d.DayName = b.cal.Occasion(d.Day.Start)
	reports, err := b.store.DailyReportsIn(ctx, DayKey(d.Day.Start, b.loc), a.filter())
	if err != nil {
		return nil, fmt.Errorf("report: daily: %w", err)
	}
	all, err := b.store.LedgerIn(ctx, a.filter(), d.Day, now, b.cfg.Rules.WarnWithin.D())
	if err != nil {
		return nil, fmt.Errorf("report: daily: %w", err)
	}
	board, err := b.scoreBoard(ctx, a, d.Month)
	if err != nil {
		return nil, fmt.Errorf("report: daily: %w", err)
	}
	ledger := a.ledger(all)
	d.Total = ledger.Total()
	rates := make(map[uint]models.Rates, len(board.Departments))
	for _, s := range board.Departments {
		rates[s.Department.ID] = s.Rates
	}
	for _, dep := range a.Depts {
		u := Unit{Department: dep, Figures: ledger[dep.ID], Rates: rates[dep.ID]}
		if r, ok := reports[dep.ID]; ok {
			u.Report = &r
		} else if dep.ReportRequired {
			for _, m := range a.Dir.Responsible(dep.ID) {
				u.Responsible = append(u.Responsible, m.UserID)
			}
		}
		for _, id := range a.Under(dep.ID) {
			u.Under++
			if c := a.Dir.Department(id); c != nil && c.ReportRequired {
				u.UnderRequired++
			}
			if _, ok := reports[id]; ok {
				u.UnderReported++
			}
		}
		d.Units = append(d.Units, u)
	}
	d.Ranking = rankGroups(Rank(board, d.MinSample), b.cfg.Rules.RankTop)
	if d.Key, err = b.store.KeyTickets(ctx, d.Day); err != nil {
		return nil, fmt.Errorf("report: daily: %w", err)
	}
	return d, nil
}

// Revisions returns the revisions of the reports the daily report carries,
// to mark them posted.
func (d *Daily) Revisions() []models.ReportRevision {
	var revs []models.ReportRevision
	for _, u := range d.Units {
		if u.Report != nil {
			revs = append(revs, u.Report.RevisionOf())
		}
	}
	return revs
}

// Title is the report's title: 高新区接诉即办工作日报, 环海街道接诉即办工作日报.
func (d *Daily) Title() string { return d.District + "接诉即办工作日报" }

// Sections returns the report: the title and district summary (non-reporters
// @-mentioned), the 重点件 track when it has tickets, the departments that
// report, with their text or 未报, then the other departments one line each
// (those without any figure named together), then the ranking. A long report
// is split between sections.
func (d *Daily) Sections() []msg.Section {
	sections := []msg.Section{d.header()}
	if s, ok := d.keyTrack(); ok {
		sections = append(sections, s)
	}
	var others []msg.Section
	var idle []string
	n := 0
	for i := range d.Units {
		u := &d.Units[i]
		switch {
		case u.Department.ReportRequired || u.Report != nil:
			n++
			sections = append(sections, u.section(n))
		case u.Figures == (models.LedgerRow{}) && u.Rates.Empty():
			idle = append(idle, u.Department.Name)
		default:
			others = append(others, msg.S(unitLine(msg.Text(u.Department.Name), u)))
		}
	}
	if len(idle) > 0 {
		others = append(others, msg.S(msg.L(msg.Muted("无工单数据（"+itoa(len(idle))+"个）："), msg.Text(strings.Join(idle, "、")))))
	}
	if len(others) > 0 {
		others[0].Lines = append([]msg.Line{msg.L(msg.Strong("其他单位"))}, others[0].Lines...)
	}
	sections = append(sections, others...)
	return append(sections, d.ranking())
}

// header renders the title, the date and the district summary. A preview
// names the units that have not reported without @-mentioning anyone; a
// past day's report says its open figures are current.
func (d *Daily) header() msg.Section {
	date := []msg.Span{msg.Strong(dateCN(d.Day.Start) + " " + weekdays[d.Day.Start.Weekday()])}
	if d.DayName != "" {
		date = append(date, msg.Text("（"+d.DayName+"）"))
	}
	if d.Late {
		date = append(date, msg.Text(" "), msg.Bad("补发"))
	}
	if d.Preview {
		date = append(date, msg.Text(" "), msg.Muted("预览（"+whenCN(d.Now)+"，尚未发布）"))
	}
	dayWord := "今日"
	if d.Past {
		dayWord = "当日"
	}
	t := d.Total
	lines := []msg.Line{
		msg.H(msg.Text(d.Title())), msg.L(date...), msg.Blank(), msg.L(msg.Strong(d.Wide + "概况")),
		msg.L(msg.Text(fmt.Sprintf("%s受理 %d 件，办结 %d 件；在办 %d 件，其中超期 ", dayWord, t.Received, t.Resolved, t.InProgress)), count(t.Overdue),
			msg.Text(fmt.Sprintf(" 件、24小时内到期 %d 件；%s重办 %d 件，不满意 %d 件。", t.DueSoon, dayWord, t.Reopened, t.Unsatisfied))),
	}
	required, reported := 0, 0
	var missing []msg.Span
	nmissing := 0
	for i := range d.Units {
		u := &d.Units[i]
		if !u.Department.ReportRequired {
			continue
		}
		required++
		if u.Report != nil {
			reported++
			continue
		}
		if nmissing > 0 {
			missing = append(missing, msg.Text("、"))
		}
		nmissing++
		missing = append(missing, msg.Text(u.Department.Name))
		if !d.Preview {
			for _, id := range u.Responsible {
				missing = append(missing, msg.At(id, ""))
			}
		}
	}
	status := []msg.Span{msg.Text("日报已报 "), msg.Good(itoa(reported)), msg.Text("/" + itoa(required))}
	if nmissing > 0 {
		status = append(status, msg.Text("，"), msg.Bad("未报"), msg.Text(" "+itoa(nmissing)+" 个："))
		status = append(status, missing...)
	}
	open := "为当前数"
	if d.Past {
		open = "为" + whenCN(d.Now) + "的当前数，不是当日数"
	}
	lines = append(lines, msg.L(status...),
		msg.L(msg.Muted("各单位数据：收/结为"+dayWord+"受理/办结，在办、超期、临期（24小时内到期）"+open+
			"；三率为"+PeriodText(d.Month)+"响应率/解决率/满意率（%），回访为其有效回访件数。")))
	return msg.S(lines...)
}

// unitLine is a department's figures on one line after its name.
func unitLine(name msg.Span, u *Unit, more ...msg.Span) msg.Line {
	f, r := u.Figures, u.Rates
	spans := append([]msg.Span{name}, more...)
	rates := " · 三率 —"
	if !r.Empty() {
		rates = fmt.Sprintf(" · 三率 %s/%s/%s 评分%s（回访%d）", pct(r, r.Response), pct(r, r.Resolution), pct(r, r.Satisfaction), pct(r, r.Score), r.Valid)
	}
	spans = append(spans,
		msg.Text(fmt.Sprintf("　收%d 结%d 在办%d 超期", f.Received, f.Resolved, f.InProgress)), count(f.Overdue),
		msg.Text(fmt.Sprintf(" 临期%d", f.DueSoon)+rates))
	if u.Under > 0 {
		under := fmt.Sprintf("（含%d个社区", u.Under)
		if u.UnderRequired > 0 {
			under += fmt.Sprintf("，社区日报%d/%d", u.UnderReported, u.UnderRequired)
		}
		spans = append(spans, msg.Muted(under+"）"))
	}
	return msg.L(spans...)
}

// section is a reporting department: its figures and its text, or 未报.
func (u *Unit) section(n int) msg.Section {
	name := msg.Strong(itoa(n) + ". " + u.Department.Name)
	if u.Report == nil {
		return msg.S(unitLine(name, u, msg.Text(" "), msg.Bad("未报")))
	}
	lines := append([]msg.Line{unitLine(name, u)}, msg.Quote(u.Report.Text)...)
	if u.Report.Late {
		lines = append(lines, msg.L(msg.Muted("（迟报 "+u.Report.SubmittedAt.Format("15:04")+"）")))
	}
	return msg.S(lines...)
}

// ranking is the 红黑榜 of each tier by the 综合评分 of the month up to the
// report's day: the same ranking as the chat's 排名 on that day.
func (d *Daily) ranking() msg.Section {
	head := msg.L(msg.Strong("三率排名"), msg.Text(" "+PeriodText(d.Month)+"综合评分"))
	if len(d.Ranking) == 0 {
		return msg.S(head, text("本期暂无有效回访工单，不排名。"))
	}
	lines := []msg.Line{head}
	for _, g := range d.Ranking {
		lines = append(lines, rankLines(g)...)
	}
	lines = append(lines, msg.L(msg.Muted(TieBreak(d.MinSample))))
	return msg.S(lines...)
}

// rankLines are one tier's red and black lists and its units with too few
// valid return visits, a line each: 区级部门 红榜：1.住建局 100.00（回访6）、….
func rankLines(g RankGroup) []msg.Line {
	names := func(list []Standing) msg.Span {
		parts := make([]string, len(list))
		for i, s := range list {
			parts[i] = itoa(s.Rank) + "." + s.Department.Name + " " + s.Rates.ScoreText() + "（回访" + itoa(s.Rates.Valid) + "）"
		}
		return msg.Text("：" + strings.Join(parts, "、"))
	}
	tier := msg.Text(g.Tier.Heading() + " ")
	var out []msg.Line
	if len(g.Top) > 0 {
		out = append(out, msg.L(tier, msg.Good("红榜"), names(g.Top)))
	}
	if len(g.Bottom) > 0 {
		out = append(out, msg.L(tier, msg.Bad("黑榜"), names(g.Bottom)))
	}
	if len(g.Small) > 0 {
		out = append(out, msg.L(tier, msg.Muted("样本不足"), msg.Text("："+smallNames(g.Small))))
	}
	return out
}

// smallNames lists units with too few valid return visits: 教育局（回访2）、环海街道（回访1）.
func smallNames(list []Standing) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = s.Department.Name + "（回访" + itoa(s.Rates.Valid) + "）"
	}
	return strings.Join(parts, "、")
}

// rankGroups takes the red and black lists of n of each tier of a ranking
// (TierRanking.RedBlack), with the tier's units too small to rank.
func rankGroups(r *Ranking, n int) []RankGroup {
	out := make([]RankGroup, 0, len(r.Tiers))
	for i := range r.Tiers {
		t := &r.Tiers[i]
		red, black := t.RedBlack(n)
		out = append(out, RankGroup{Tier: t.Tier, Top: red, Bottom: black, Ranked: len(t.Ranked), Small: t.Small})
	}
	return out
}

// Message returns the report as one message to the group, keyed so that
// the day's report is enqueued once (DailyKey), with the priority of the
// daily report.
func (d *Daily) Message() msg.Message {
	m := toGroup(d.Group, d.Title(), DailyKey(d.Group, DayKey(d.Day.Start, d.Day.Start.Location())), d.Sections()...)
	m.Priority = msg.Report
	return m
}
