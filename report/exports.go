package report

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"yanzhen/export"
	"yanzhen/models"
)

// The workbooks people ask for in the chat (导出 台账 本月), from the CLI
// (yanzhen export ledger) and the API (/api/v1/exports/ledger): the dispatch
// ledger with every step, the overdue tickets, the 三率 ranking and the daily
// reports, of the district or of one unit.

// ExportKind names a workbook.
type ExportKind string

// The workbooks.
const (
	ExportLedger  ExportKind = "ledger"  // 台账: every dispatch target and every step, with times
	ExportOverdue ExportKind = "overdue" // 超期: the open tickets past their deadline
	ExportRanking ExportKind = "ranking" // 排名: 三率 and 综合评分 of every unit
	ExportReports ExportKind = "reports" // 日报: each unit's daily reports, a column per day
)

// exportKinds are the workbooks with the word people type and the title.
var exportKinds = []struct {
	kind        ExportKind
	word, title string
}{
	{ExportLedger, "台账", "调度台账"},
	{ExportOverdue, "超期", "超期工单"},
	{ExportRanking, "排名", "三率排名"},
	{ExportReports, "日报", "工作日报"},
}

// ExportKindOf returns the workbook named by its Chinese word (台账) or its
// kind (ledger).
func ExportKindOf(name string) (ExportKind, bool) {
	for _, k := range exportKinds {
		if name == k.word || name == string(k.kind) {
			return k.kind, true
		}
	}
	return "", false
}

// ExportWords lists the Chinese words of the workbooks, in order: 台账, 超期,
// 排名, 日报.
func ExportWords() []string {
	words := make([]string, len(exportKinds))
	for i, k := range exportKinds {
		words[i] = k.word
	}
	return words
}

// ExportKinds lists the kinds, in order: ledger, overdue, ranking, reports.
func ExportKinds() []string {
	kinds := make([]string, len(exportKinds))
	for i, k := range exportKinds {
		kinds[i] = string(k.kind)
	}
	return kinds
}

func (k ExportKind) title() string {
	for _, e := range exportKinds {
		if e.kind == k {
			return e.title
		}
	}
	return string(k)
}

// ExportRequest is what to export.
type ExportRequest struct {
	Kind ExportKind
	// Period bounds what is exported: dispatches issued, deadlines passed,
	// visits, report days. The zero Period exports every overdue ticket; the
	// other workbooks need one.
	Period models.Period
	// Unit limits the workbook to one unit; nil is the whole district.
	Unit *models.Department
	// Now is the time of the export, stamped in the title row; overdue is
	// judged at it.
	Now time.Time
}

// ExportSpan reads the period of an export from the CLI or the API: the days
// from and to ("2006-01-02", both included). With neither, it is this
// assessment month, or for ExportOverdue no bound at all.
func (b *Builder) ExportSpan(kind ExportKind, from, to string, now time.Time) (models.Period, error) {
	switch {
	case from == "" && to == "" && kind == ExportOverdue:
		return models.Period{}, nil
	case from == "" && to == "":
		return models.MonthOf(now, b.loc, b.cfg.Rules.Scores.PeriodStartDay), nil
	case from == "" || to == "":
		return models.Period{}, models.Errorf(models.EINVALID, "请同时给出开始和结束日期（from 与 to）")
	}
	start, err1 := time.ParseInLocation(time.DateOnly, from, b.loc)
	end, err2 := time.ParseInLocation(time.DateOnly, to, b.loc)
	switch {
	case err1 != nil || err2 != nil:
		return models.Period{}, models.Errorf(models.EINVALID, "日期应写作 2026-11-01，收到 %q 和 %q", from, to)
	case end.Before(start):
		return models.Period{}, models.Errorf(models.EINVALID, "结束日期 %s 早于开始日期 %s", to, from)
	}
	return models.DaysOf(start, end, b.loc), nil
}

// Export is a workbook ready to write, and the name of its file.
type Export struct {
	Workbook *export.Workbook
	FileName string
}

// Bytes writes the workbook into memory.
func (e *Export) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := e.Workbook.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Export prepares the workbook r asks for. Its rows are read from the store
// as it is written, under ctx.
func (b *Builder) Export(ctx context.Context, r ExportRequest) (*Export, error) {
	if r.Period.IsZero() && r.Kind != ExportOverdue {
		return nil, fmt.Errorf("report: export %s needs a period", r.Kind)
	}
	owner := b.cfg.District.Name
	if r.Unit != nil {
		owner += r.Unit.Name
	}
	title := owner + r.Kind.title()
	period := "截至" + r.Now.In(b.loc).Format("2006年1月2日15:04")
	if !r.Period.IsZero() {
		period = r.Period.Label()
	}
	wb := &export.Workbook{Title: title + "（" + period + "）", ExportedAt: r.Now.In(b.loc)}
	switch r.Kind {
	case ExportLedger:
		wb.Sheets = b.ledgerSheets(ctx, r)
	case ExportOverdue:
		wb.Sheets = []export.Sheet{b.overdueSheet(ctx, r)}
	case ExportRanking:
		sheet, err := b.rankingSheet(ctx, r)
		if err != nil {
			return nil, err
		}
		wb.Sheets = []export.Sheet{sheet}
	case ExportReports:
		sheet, err := b.reportsSheet(ctx, r)
		if err != nil {
			return nil, err
		}
		wb.Sheets = []export.Sheet{sheet}
	default:
		return nil, fmt.Errorf("report: unknown export %q", r.Kind)
	}
	return &Export{Workbook: wb, FileName: fileName(title + "_" + period + ".xlsx")}, nil
}

// fileName drops from name what file systems refuse.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return -1
		}
		return r
	}, name)
}

// stepNames are the steps of a dispatch as the ledger names them.
var stepNames = map[models.StepKind]string{
	models.StepIssue: "下达", models.StepSign: "签收", models.StepFeedback: "反馈", models.StepDone: "办结",
	models.StepConfirm: "确认办结", models.StepReturn: "退回", models.StepCancel: "撤销",
}

// ledgerSheets are the 台账: a row per dispatch target with the time of each
// step, and every step in order.
func (b *Builder) ledgerSheets(ctx context.Context, r ExportRequest) []export.Sheet {
	q := models.DispatchQuery{Period: r.Period}
	if r.Unit != nil {
		q.DepartmentID = r.Unit.ID
	}
	now := r.Now
	ledger := export.Sheet{
		Name: "调度台账",
		Columns: []export.Column{
			{Header: "序号", Kind: export.Integer}, {Header: "调度编号"}, {Header: "下达时间", Kind: export.DateTime},
			{Header: "发起领导"}, {Header: "调度要求", Wrap: true}, {Header: "关联工单"}, {Header: "办理时限", Kind: export.DateTime},
			{Header: "责任单位或人员"}, {Header: "办理状态"}, {Header: "签收时间", Kind: export.DateTime}, {Header: "签收人"},
			{Header: "反馈时间", Kind: export.DateTime}, {Header: "反馈情况", Wrap: true}, {Header: "办结时间", Kind: export.DateTime},
			{Header: "办结结果", Wrap: true}, {Header: "调度状态"}, {Header: "是否超期"},
		},
		Rows: func(emit func([]any) error) error {
			n := 0
			return b.store.EachDispatchRecord(ctx, q, func(d *models.DispatchRecord) error {
				n++
				return emit([]any{n, d.Code(), d.IssuedAt, d.Issuer, d.Instruction, strings.Join(d.TicketNumbers, "、"), timeOf(d.Deadline),
					d.Target, string(d.TargetStatus), timeOf(d.SignedAt), d.SignedBy, timeOf(d.FeedbackAt), d.Feedback, timeOf(d.DoneAt), d.Result,
					string(d.DispatchStatus), yesNo(lateTarget(d, now))})
			})
		},
	}
	steps := export.Sheet{
		Name: "办理过程",
		Columns: []export.Column{
			{Header: "调度编号"}, {Header: "时间", Kind: export.DateTime}, {Header: "环节"}, {Header: "对象"}, {Header: "操作人"}, {Header: "内容", Wrap: true},
		},
		Rows: func(emit func([]any) error) error {
			return b.store.EachDispatchStep(ctx, q, func(s *models.DispatchStepRecord) error {
				name := stepNames[s.Step]
				if name == "" {
					name = string(s.Step)
				}
				return emit([]any{fmt.Sprintf("D%d", s.DispatchID), s.At, name, s.Target, s.Actor, s.Text})
			})
		},
	}
	return []export.Sheet{ledger, steps}
}

// lateTarget reports whether a target of a dispatch that was not cancelled
// was overdue (models.Overdue) when it finished, or is at now.
func lateTarget(d *models.DispatchRecord, now time.Time) bool {
	switch {
	case d.DispatchStatus == models.DispatchCancelled:
		return false
	case d.DoneAt != nil:
		return models.Overdue(d.Deadline, *d.DoneAt)
	}
	return models.Overdue(d.Deadline, now)
}

// overdueSheet lists the open tickets past their deadline at r.Now (with a
// period, those whose deadline fell in it), the most overdue first.
func (b *Builder) overdueSheet(ctx context.Context, r ExportRequest) export.Sheet {
	q := models.TicketQuery{Set: models.SetOverdue, Now: r.Now, Period: r.Period}
	if r.Unit != nil {
		q.DepartmentID = r.Unit.ID
	}
	return export.Sheet{
		Name: "超期工单",
		Columns: []export.Column{
			{Header: "序号", Kind: export.Integer}, {Header: "工单编号"}, {Header: "承办单位"}, {Header: "属地"}, {Header: "诉求类别"},
			{Header: "诉求标题", Wrap: true}, {Header: "受理时间", Kind: export.DateTime}, {Header: "办理时限", Kind: export.DateTime},
			{Header: "超期天数", Kind: export.Decimal}, {Header: "状态"},
		},
		Rows: func(emit func([]any) error) error {
			tickets, err := b.store.ListTickets(ctx, q)
			if err != nil {
				return err
			}
			for i, t := range tickets {
				days := math.Round(r.Now.Sub(*t.Deadline).Hours()/24*10) / 10
				if err := emit([]any{i + 1, t.Number, deptName(t.Department), deptName(t.GridDepartment), t.Category, t.Title,
					t.ReceivedAt.In(b.loc), t.Deadline.In(b.loc), days, string(t.Status)}); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// rankingSheet lists the 三率 and 综合评分 of every unit of the period by
// the ranking rules (report.Rank): each tier's ranked units with the red and
// black lists, then its units too small to rank; then the units without a
// valid return visit; then the district. A unit sees its own line and the
// district's.
func (b *Builder) rankingSheet(ctx context.Context, r ExportRequest) (export.Sheet, error) {
	c, err := b.ScoreChart(ctx, r.Period)
	if err != nil {
		return export.Sheet{}, err
	}
	lists := map[uint]string{}
	for _, g := range c.Ranking {
		for _, s := range g.Top {
			lists[s.Department.ID] = "红榜"
		}
		for _, s := range g.Bottom {
			lists[s.Department.ID] = "黑榜"
		}
	}
	mine := func(d models.Department) bool { return r.Unit == nil || d.ID == r.Unit.ID }
	line := func(rank any, name, kind string, s models.DepartmentScore, list string) []any {
		x := s.Rates
		if x.Empty() {
			return []any{rank, name, kind, 0, nil, nil, nil, nil, list}
		}
		return []any{rank, name, kind, x.Valid, x.Response, x.Resolution, x.Satisfaction, x.Score, list}
	}
	var rows [][]any
	for _, t := range c.Board.Tiers {
		for _, s := range t.Ranked {
			if mine(s.Department) {
				rows = append(rows, line(s.Rank, s.Department.Name, t.Tier.Heading(), s.DepartmentScore, lists[s.Department.ID]))
			}
		}
		for _, s := range t.Small {
			if mine(s.Department) {
				rows = append(rows, line(nil, s.Department.Name, t.Tier.Heading(), s.DepartmentScore, "样本不足，未排名"))
			}
		}
	}
	for _, d := range c.Board.Empty {
		if mine(d) {
			rows = append(rows, line(nil, d.Name, d.Tier.Heading(), models.DepartmentScore{Department: d}, "无有效回访，未排名"))
		}
	}
	rows = append(rows, line(nil, "全区", "", c.Board.District, ""))
	return export.Sheet{
		Name: "三率排名",
		Columns: []export.Column{
			{Header: "排名", Kind: export.Integer}, {Header: "单位"}, {Header: "类别"}, {Header: "有效回访", Kind: export.Integer},
			{Header: "响应率", Kind: export.Percent}, {Header: "解决率", Kind: export.Percent}, {Header: "满意率", Kind: export.Percent},
			{Header: "综合评分", Kind: export.Decimal}, {Header: "红黑榜"},
		},
		Rows: func(emit func([]any) error) error {
			for _, row := range rows {
				if err := emit(row); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// reportsSheet lists each unit's daily reports, a row per unit in the
// configured order and a column per day of the period up to now (working
// days, and any day with a report): the text, 迟报 marked, and 未报 where a
// unit that must report did not.
func (b *Builder) reportsSheet(ctx context.Context, r ExportRequest) (export.Sheet, error) {
	dir, err := b.store.Directory(ctx)
	if err != nil {
		return export.Sheet{}, fmt.Errorf("report: export reports: %w", err)
	}
	end := r.Period.End
	if today := models.DayOf(r.Now, b.loc).End; today.Before(end) {
		end = today
	}
	last := end.AddDate(0, 0, -1)
	var unit uint
	if r.Unit != nil {
		unit = r.Unit.ID
	}
	reports, err := b.store.DailyReportsBetween(ctx, DayKey(r.Period.Start, b.loc), DayKey(last, b.loc), unit)
	if err != nil {
		return export.Sheet{}, fmt.Errorf("report: export reports: %w", err)
	}
	byDay := map[string]map[uint]models.DailyReport{}
	for _, rep := range reports {
		if byDay[rep.Day] == nil {
			byDay[rep.Day] = map[uint]models.DailyReport{}
		}
		byDay[rep.Day][rep.DepartmentID] = rep
	}
	var days []string
	columns := []export.Column{{Header: "单位"}}
	for d := r.Period.Start; d.Before(end); d = d.AddDate(0, 0, 1) {
		key := DayKey(d, b.loc)
		if b.cal.IsWorkday(d) || byDay[key] != nil {
			days = append(days, key)
			columns = append(columns, export.Column{Header: monthDayCN(d) + " 周" + strings.TrimPrefix(weekdays[d.Weekday()], "星期"), Wrap: true})
		}
	}
	var units []models.Department
	for _, d := range dir.Departments {
		if r.Unit == nil || d.ID == r.Unit.ID {
			units = append(units, d)
		}
	}
	return export.Sheet{
		Name:    "工作日报",
		Columns: columns,
		Rows: func(emit func([]any) error) error {
			for _, u := range units {
				row := []any{u.Name}
				for _, day := range days {
					rep, ok := byDay[day][u.ID]
					switch {
					case ok && rep.Late:
						row = append(row, "（迟报 "+rep.SubmittedAt.In(b.loc).Format("15:04")+"）"+rep.Text)
					case ok:
						row = append(row, rep.Text)
					case u.ReportRequired:
						row = append(row, "未报")
					default:
						row = append(row, nil)
					}
				}
				if err := emit(row); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// timeOf is a time for a cell: nil when there is none.
func timeOf(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

// deptName is a department's name, "" for none.
func deptName(d *models.Department) string {
	if d == nil {
		return ""
	}
	return d.Name
}
