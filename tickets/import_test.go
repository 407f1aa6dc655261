package tickets_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

func TestMain(m *testing.M) {
	// Everything must follow the configured zone, not the machine's.
	os.Setenv("TZ", "America/Los_Angeles")
	os.Exit(m.Run())
}

var ctx = context.Background()

func sh(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, storetest.Shanghai)
}

// now is Friday 20 November 2026, 20:00 in Shanghai, unless a test moves it.
var now = sh(11, 20, 20, 0)

// setup returns a service over a store holding the demo org.
func setup(t *testing.T, s *models.Store) *tickets.Service {
	t.Helper()
	for _, d := range []models.Department{
		{Code: "zjj", Name: "住建局", Aliases: models.StringList{"区住建局", "住建"}, Sort: 1},
		{Code: "cgj", Name: "城管局", Aliases: models.StringList{"区城管局"}, Sort: 2},
		{Code: "hhjd", Name: "环海街道", Tier: models.TierStreet, Sort: 3},
		{Code: "kjjd", Name: "科技街道", Tier: models.TierStreet, Sort: 4},
	} {
		if _, err := s.UpsertDepartment(ctx, &d); err != nil {
			t.Fatal(err)
		}
	}
	return &tickets.Service{Store: s, Calendar: calendar.New(storetest.Shanghai, nil), Rules: config.Default().Rules}
}

// fromCLI is the origin of an import of the file name from the command line.
func fromCLI(name string) tickets.Origin {
	return tickets.Origin{Route: models.ImportCLI, Actor: "import", Name: name}
}

// fromAPI is the origin of JSON pushed to the API.
var fromAPI = tickets.Origin{Route: models.ImportAPI, Actor: "api"}

func each(t *testing.T, f func(t *testing.T, s *models.Store, svc *tickets.Service)) {
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		f(t, s, setup(t, s))
	})
}

func ticket(t *testing.T, s *models.Store, number string) (*models.Ticket, []models.TicketEvent) {
	t.Helper()
	tk, events, err := s.TicketByNumber(ctx, number)
	if err != nil {
		t.Fatalf("ticket %s: %v", number, err)
	}
	return tk, events
}

func errorTexts(sum *tickets.Summary) []string {
	var out []string
	for _, e := range sum.Errors {
		out = append(out, e.Error())
	}
	return out
}

// wall is a Shanghai wall-clock time as excelize writes it (it keeps the clock reading).
func wall(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, time.UTC)
}

// beijingXLSX is a Beijing-style export with a title row, Excel dates and
// text dates, aliases, and four bad rows among four good ones.
func beijingXLSX(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sh := f.GetSheetName(0)
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 22})
	rows := [][]any{
		{"北京市12345市民服务热线工单明细"},
		{"工单编号", "受理时间", "派单方式", "工单类型", "标题", "主要内容", "地址", "承办单位", "被反映街乡镇",
			"办理时限", "工单状态", "办结时间", "是否联系", "是否解决", "是否满意", "重办次数", "是否有效回访"},
		{"BJ001", wall(11, 16, 9, 30), "市级直派", "投诉类", "小区电梯停运", "反映幸福里小区电梯停运", "幸福里小区3号楼", "区住建局", "环海街道",
			time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "已回访", wall(11, 19, 16, 0), "是", "已解决", "基本满意", 0, "是"},
		{"BJ002", "2026/11/17 14:05", "区级转派", "咨询", "医保报销", "咨询异地就医", "", "城管局", "", "", "办理中"},
		{"BJ003", wall(11, 18, 9, 0), "市级直派", "投诉", "噪音", "", "", "教育局"},
		{"", wall(11, 18, 9, 0), "市级直派", "投诉", "无编号", "", "", "城管局"},
		{"BJ005", "昨天下午", "市级直派", "投诉", "", "", "", "城管局"},
		{},
		{"BJ006", wall(11, 18, 9, 0), "", "求助", "", "", "", "城管局", "", "", "挂起"},
		{"BJ007", wall(11, 19, 10, 0), "", "求助", "路灯不亮", "", "", "住建", "", "3个工作日", "已派单"},
		{2026111000008, wall(11, 10, 9, 0), "市级直派", "投诉", "房屋漏水", "", "", "住建局", "科技街道", "", "办理中",
			"", "已联系", "未解决", "不满意", "1", "是"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sh, cell, &r); err != nil {
			t.Fatal(err)
		}
		for j, v := range r {
			if _, ok := v.(time.Time); ok {
				c, _ := excelize.CoordinatesToCellName(j+1, i+1)
				f.SetCellStyle(sh, c, c, dateStyle)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportBeijingXLSX(t *testing.T) {
	data := beijingXLSX(t)
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		sum, err := svc.ImportFile(ctx, bytes.NewReader(data), fromCLI("12345导出.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		if sum.String() != "新增 4, 更新 0, 未变 0, 错误 4" {
			t.Errorf("summary = %s", sum)
		}
		want := []string{
			`第 5 行 承办单位：未知的部门 "教育局"`,
			`第 6 行 工单编号：不能为空`,
			`第 7 行 受理时间：无法识别的日期 "昨天下午"`,
			`第 9 行 工单状态：无法识别的状态 "挂起"`,
		}
		if got := errorTexts(sum); !slices.Equal(got, want) {
			t.Errorf("errors:\n%q\nwant\n%q", got, want)
		}

		// An Excel date and an alias; a deadline given as a date means 18:00 (下班) that day.
		tk, events := ticket(t, s, "BJ001")
		if tk.Department.Name != "住建局" || tk.GridDepartment.Name != "环海街道" || tk.Source != models.SourceCity ||
			tk.Category != "投诉" || !tk.ReceivedAt.Equal(sh(11, 16, 9, 30)) ||
			!tk.Deadline.Equal(sh(11, 23, 18, 0)) || tk.DeadlineSource != models.DeadlinePlatform ||
			tk.Status != models.TicketResolved || !tk.ResolvedAt.Equal(sh(11, 19, 16, 0)) ||
			!*tk.Contacted || !*tk.Resolved || tk.Satisfaction != models.BasicSatisfied || !tk.Assessed ||
			!tk.VisitedAt.Equal(sh(11, 19, 16, 0)) || tk.Address != "幸福里小区3号楼" {
			t.Errorf("BJ001 = %+v", tk)
		}
		if len(events) != 1 || events[0].Change != models.EventCreated || events[0].To != string(models.TicketResolved) || events[0].Actor != "import" {
			t.Errorf("BJ001 events = %+v", events)
		}
		// No deadline given: 咨询 is one working day, from a text date.
		tk, _ = ticket(t, s, "BJ002")
		if !tk.ReceivedAt.Equal(sh(11, 17, 14, 5)) || !tk.Deadline.Equal(sh(11, 18, 14, 5)) || tk.DeadlineSource != models.DeadlineRule ||
			tk.Status != models.TicketInProgress || tk.Source != models.SourceDistrict || tk.Contacted != nil || tk.Assessed || tk.VisitedAt != nil {
			t.Errorf("BJ002 = %+v", tk)
		}
		// A limit in words counts on the calendar: Thursday 10:00 + 3 working days = Tuesday 10:00.
		tk, _ = ticket(t, s, "BJ007")
		if !tk.Deadline.Equal(sh(11, 24, 10, 0)) || tk.DeadlineSource != models.DeadlinePlatform || tk.Status != models.TicketPending {
			t.Errorf("BJ007 deadline %v (%s), status %s", tk.Deadline, tk.DeadlineSource, tk.Status)
		}
		// A number stored as a number; 双否 and reopened.
		tk, _ = ticket(t, s, "2026111000008")
		if *tk.Resolved || tk.Satisfaction != models.Unsatisfied || tk.ReopenCount != 1 || !tk.ReopenedAt.Equal(sh(11, 10, 9, 0)) ||
			!tk.Assessed || !tk.VisitedAt.Equal(sh(11, 10, 9, 0)) {
			t.Errorf("2026111000008 = %+v", tk)
		}
		if n, err := s.CountTickets(ctx, models.TicketQuery{Set: models.SetDoubleNo}); err != nil || n.Total() != 1 {
			t.Errorf("双否 = %v (%v)", n, err)
		}

		// The same file again changes nothing and writes no event.
		var before, after int64
		if err := s.DB(ctx).Model(&models.TicketEvent{}).Count(&before).Error; err != nil {
			t.Fatal(err)
		}
		sum, err = svc.ImportFile(ctx, bytes.NewReader(data), fromCLI("12345导出.xlsx"))
		if err != nil || sum.String() != "新增 0, 更新 0, 未变 4, 错误 4" {
			t.Errorf("second import: %v %v", sum, err)
		}
		if err := s.DB(ctx).Model(&models.TicketEvent{}).Count(&after).Error; err != nil {
			t.Fatal(err)
		}
		if before != after || before != 4 {
			t.Errorf("events before %d, after %d", before, after)
		}
	})
}

func TestImportWuhanGBKCSV(t *testing.T) {
	text := strings.Join([]string{
		"办件编号,来电时间,来源,诉求类型,诉求主题,诉求内容,问题点位,责任单位,属地,承诺时间,办件状态,结案时间,是否响应,满意度,重办次数",
		"WH001,2026/11/18 9:30,市级直派,求助,路灯不亮,反映科技路路灯不亮,科技路1号,城管局,科技街道,2026/11/25 17:30,处理中,,,,0",
		"WH002,2026年11月16日 8时15分,区转派,投诉,房屋漏水,\"反映顶楼漏水，\"\"多次\"\"维修未果\",和平里5号楼,住建局,,2026-11-19,已归档,2026-11-18 10:00:00,已响应,非常满意,0",
		"WH003,20261117,12345,建议,增设车位,,,住建局,,,已退办,,,,",
		"WH004,2026/11/19 10:00,市级直派,投诉,油烟,,,城管局,,,已归档,2026/11/19 15:00,已响应,还行,0",
	}, "\r\n") + "\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		sum, err := svc.ImportFile(ctx, strings.NewReader(gbk), fromCLI("wuhan.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if sum.String() != "新增 3, 更新 0, 未变 0, 错误 1" ||
			!slices.Equal(errorTexts(sum), []string{`第 5 行 满意度：无法识别的评价 "还行"，应为满意、基本满意或不满意`}) {
			t.Errorf("summary %s, errors %q", sum, errorTexts(sum))
		}
		tk, _ := ticket(t, s, "WH001")
		if !tk.ReceivedAt.Equal(sh(11, 18, 9, 30)) || !tk.Deadline.Equal(sh(11, 25, 17, 30)) || tk.Status != models.TicketInProgress ||
			tk.GridDepartment.Name != "科技街道" || tk.Department.Name != "城管局" || tk.Title != "路灯不亮" {
			t.Errorf("WH001 = %+v", tk)
		}
		tk, _ = ticket(t, s, "WH002")
		if !tk.ReceivedAt.Equal(sh(11, 16, 8, 15)) || !tk.Deadline.Equal(sh(11, 19, 18, 0)) || tk.Status != models.TicketResolved ||
			!*tk.Contacted || tk.Resolved != nil || tk.Satisfaction != models.Satisfied || !tk.Assessed ||
			!tk.VisitedAt.Equal(sh(11, 18, 10, 0)) || tk.Content != `反映顶楼漏水，"多次"维修未果` {
			t.Errorf("WH002 = %+v", tk)
		}
		// 建议 is 15 working days; received at 00:00 of Tuesday 17 November the
		// count ends with Monday 7 December, i.e. at 00:00 on the 8th.
		tk, _ = ticket(t, s, "WH003")
		if tk.Status != models.TicketReturned || tk.Source != models.SourceOther || !tk.Deadline.Equal(sh(12, 8, 0, 0)) {
			t.Errorf("WH003 = %+v", tk)
		}
		sum, err = svc.ImportFile(ctx, strings.NewReader(gbk), fromCLI("wuhan.csv"))
		if err != nil || sum.String() != "新增 0, 更新 0, 未变 3, 错误 1" {
			t.Errorf("second import: %v %v", sum, err)
		}
	})
}

func TestImportJSONUpdatesWithEvents(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		first := `[
			{"number": "API001", "received_at": "2026-11-20T09:00:00+08:00", "department": "城管局", "category": "求助", "status": "处理中"},
			{"工单编号": "API002", "受理时间": "2026-11-19 10:00", "承办单位": "住建局", "是否有效回访": false},
			{"number": "API003", "received_at": "tomorrow"},
			{"number": 20261120999, "received_at": 46346.5, "department": "区住建局", "ignored": [1, 2]}
		]`
		sum, err := svc.ImportJSON(ctx, strings.NewReader(first), fromAPI)
		if err != nil {
			t.Fatal(err)
		}
		if sum.String() != "新增 3, 更新 0, 未变 0, 错误 1" || !slices.Equal(errorTexts(sum), []string{`第 3 行 received_at：无法识别的日期 "tomorrow"`}) {
			t.Errorf("first: %s %q", sum, errorTexts(sum))
		}
		tk, _ := ticket(t, s, "20261120999")
		if !tk.ReceivedAt.Equal(sh(11, 20, 12, 0)) || tk.Department.Name != "住建局" || tk.Status != models.TicketPending {
			t.Errorf("20261120999 = %+v", tk)
		}
		// The next push: API001 resolved and visited, moved to 住建局; fields
		// a push leaves out keep their values.
		now = sh(11, 21, 9, 0)
		defer func() { now = sh(11, 20, 20, 0) }()
		second := `[{"number": "API001", "status": "已办结", "resolved_at": "2026-11-20 16:00", "department": "住建局",
			"contacted": true, "resolved": true, "satisfaction": "满意", "visited_at": "2026-11-21 08:30", "reopen_count": 1}]`
		sum, err = svc.ImportJSON(ctx, strings.NewReader(second), fromAPI)
		if err != nil || sum.String() != "新增 0, 更新 1, 未变 0, 错误 0" {
			t.Fatalf("second: %v %v", sum, err)
		}
		tk, events := ticket(t, s, "API001")
		if tk.Category != "求助" || !tk.ReceivedAt.Equal(sh(11, 20, 9, 0)) || !tk.VisitedAt.Equal(sh(11, 21, 8, 30)) ||
			!tk.ReopenedAt.Equal(now) || !tk.Assessed {
			t.Errorf("API001 = %+v", tk)
		}
		var got []string
		for _, e := range events {
			got = append(got, string(e.Change)+" "+e.From+"→"+e.To)
		}
		want := []string{"created →办理中", "status 办理中→已办结", "department 城管局→住建局", "satisfaction →满意", "reopen 0→1"}
		if !slices.Equal(got, want) {
			t.Errorf("events = %q, want %q", got, want)
		}
		if _, err := svc.ImportJSON(ctx, strings.NewReader(`{"number": "x"}`), fromAPI); models.UserText(err) != "请求体应为工单 JSON 数组" {
			t.Errorf("not an array: %v", err)
		}
	})
}

func TestDeadlineRulesAndExtension(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		push := func(js string) string {
			t.Helper()
			sum, err := svc.ImportJSON(ctx, strings.NewReader(js), fromAPI)
			if err != nil {
				t.Fatal(err)
			}
			return sum.String()
		}
		platform := `[{"number": "D1", "received_at": "2026-11-20 09:00", "category": "咨询", "deadline": "2026-11-23 18:00"}]`
		push(platform)
		tk, err := svc.Extend(ctx, "D1", calendar.Limit{Days: 3, Workdays: true}, "需多部门协调", "lisi")
		if err != nil || !tk.Deadline.Equal(sh(11, 26, 18, 0)) || tk.DeadlineSource != models.DeadlineExtension {
			t.Fatalf("extend: %+v %v", tk, err)
		}
		// The platform still says 23 November: the extension stands.
		if got := push(platform); got != "新增 0, 更新 0, 未变 1, 错误 0" {
			t.Errorf("re-import over an extension: %s", got)
		}
		// A later platform deadline wins over the extension.
		if got := push(`[{"number": "D1", "deadline": "2026-11-30 18:00"}]`); got != "新增 0, 更新 1, 未变 0, 错误 0" {
			t.Errorf("later platform deadline: %s", got)
		}
		tk, events := ticket(t, s, "D1")
		if !tk.Deadline.Equal(sh(11, 30, 18, 0)) || tk.DeadlineSource != models.DeadlinePlatform {
			t.Errorf("D1 = %v %s", tk.Deadline, tk.DeadlineSource)
		}
		if e := events[1]; e.Change != models.EventExtension || e.From != "2026-11-23 18:00" || e.To != "2026-11-26 18:00" || e.Reason != "需多部门协调" {
			t.Errorf("extension event = %+v", e)
		}
		if e := events[2]; e.Change != models.EventDeadline || e.To != "2026-11-30 18:00" || e.Reason != "平台办理时限" || e.Actor != "api" {
			t.Errorf("deadline event = %+v", e)
		}
		if _, err := svc.Extend(ctx, "D1", calendar.Limit{}, "x", "lisi"); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("zero extension: %v", err)
		}

		// An admin makes Monday 23 November a day off: 咨询 received on Friday
		// at 10:00 is then due on Tuesday at 10:00, and a re-import moves the
		// rule deadline with an event.
		rule := `[{"number": "D2", "received_at": "2026-11-20 10:00", "category": "咨询"}]`
		push(rule)
		if tk, _ := ticket(t, s, "D2"); !tk.Deadline.Equal(sh(11, 23, 10, 0)) {
			t.Fatalf("D2 before the override: %v", tk.Deadline)
		}
		if _, err := s.SetHolidayOverride(ctx, "2026-11-23", false, "临时调休"); err != nil {
			t.Fatal(err)
		}
		if err := tickets.ReloadCalendar(ctx, s, svc.Calendar); err != nil {
			t.Fatal(err)
		}
		if got := push(rule); got != "新增 0, 更新 1, 未变 0, 错误 0" {
			t.Errorf("after the override: %s", got)
		}
		tk, events = ticket(t, s, "D2")
		if !tk.Deadline.Equal(sh(11, 24, 10, 0)) || events[len(events)-1].Reason != "按类别时限计算" {
			t.Errorf("D2 after the override: %v %+v", tk.Deadline, events)
		}
		// A fresh load sees the override too.
		if cal, err := tickets.LoadCalendar(ctx, s); err != nil || cal.IsWorkday(sh(11, 23, 12, 0)) {
			t.Errorf("loaded calendar: 23 November a working day (%v)", err)
		}
		// Categories without a limit of their own take the default (5 working days).
		if d := svc.RuleDeadline(sh(11, 20, 10, 0), "未知类别"); !d.Equal(sh(11, 30, 10, 0)) {
			t.Errorf("default limit: %v", d)
		}
	})
}

func TestUnreadableFiles(t *testing.T) {
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		_, err := svc.ImportFile(ctx, strings.NewReader("序号,部门\n1,x\n"), fromCLI("a.csv"))
		if models.ErrorCode(err) != models.EINVALID || !strings.HasPrefix(models.UserText(err), "缺少必需的列：工单编号（或 诉求编号") {
			t.Errorf("no number column: %v", err)
		}
		_, err = svc.ImportFile(ctx, strings.NewReader("x"), fromCLI("a.xls"))
		if models.ErrorCode(err) != models.EINVALID || !strings.Contains(models.UserText(err), ".xls") {
			t.Errorf("xls: %v", err)
		}
	})
}

func TestNormalisation(t *testing.T) {
	for word, want := range map[string]models.TicketStatus{
		"待签收": models.TicketPending, "待受理": models.TicketPending, "已派单": models.TicketPending,
		"办理中": models.TicketInProgress, "处理中": models.TicketInProgress, " 已签收 ": models.TicketInProgress,
		"已办结": models.TicketResolved, "已办理": models.TicketResolved, "已回访": models.TicketResolved, "已归档": models.TicketResolved,
		"已办结（超期）": models.TicketResolved, "退回": models.TicketReturned, "已退办": models.TicketReturned, "已退回区级": models.TicketReturned,
		"退回申请中": models.TicketInProgress, "延期审核中": models.TicketInProgress,
	} {
		if got, ok := tickets.NormStatus(word); !ok || got != want {
			t.Errorf("NormStatus(%q) = %q %v", word, got, ok)
		}
	}
	if _, ok := tickets.NormStatus("挂起"); ok {
		t.Error("NormStatus(挂起) accepted")
	}
	for word, want := range map[string]models.TicketSource{"市级直派": models.SourceCity, "市直派": models.SourceCity, "区级转派": models.SourceDistrict,
		"转派": models.SourceDistrict, "网络": models.SourceOther, "": ""} {
		if got := tickets.NormSource(word); got != want {
			t.Errorf("NormSource(%q) = %q", word, got)
		}
	}
	for word, want := range map[string]models.Satisfaction{"满意": models.Satisfied, "非常满意": models.Satisfied, "是": models.Satisfied,
		"基本满意": models.BasicSatisfied, "比较满意": models.BasicSatisfied, "不满意": models.Unsatisfied, "否": models.Unsatisfied, "未回访": ""} {
		if got, ok := tickets.NormSatisfaction(word); !ok || got != want {
			t.Errorf("NormSatisfaction(%q) = %q %v", word, got, ok)
		}
	}
	for s, want := range map[string]calendar.Limit{
		"5个工作日": {Days: 5, Workdays: true}, "5个工作日内": {Days: 5, Workdays: true}, "10个工作日以内": {Days: 10, Workdays: true}, "3天": {Days: 3}, "24小时": {Hours: 24}, "1天12小时": {Days: 1, Hours: 12}, "2工作日": {Days: 2, Workdays: true},
	} {
		if got, err := tickets.ParseLimit(s); err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "尽快", "5个工作日内完成"} {
		if _, err := tickets.ParseLimit(bad); err == nil {
			t.Errorf("ParseLimit(%q) accepted", bad)
		}
	}
	if got := tickets.NormCategory(" 投诉类 "); got != "投诉" {
		t.Errorf("NormCategory = %q", got)
	}
}

// TestGeneratedExportsImportCleanlyTwice imports generated exports of both
// styles and formats: every row lands, the second import changes nothing, and
// the shares of overdue, unsatisfied and reopened tickets are as promised.
func TestGeneratedExportsImportCleanlyTwice(t *testing.T) {
	const n = 3000
	for _, tc := range []struct {
		style  tickets.Style
		format sheet.Format
		gbk    bool
	}{
		{tickets.StyleBeijing, sheet.XLSX, false},
		{tickets.StyleWuhan, sheet.CSV, true},
	} {
		t.Run(string(tc.style), func(t *testing.T) {
			var buf bytes.Buffer
			err := tickets.Generate(&buf, tickets.GenOptions{N: n, Departments: []string{"住建局", "城管局"}, Grids: []string{"环海街道", "科技街道"},
				Now: now, Days: 60, Seed: 7, Format: tc.format, Style: tc.style, GBK: tc.gbk})
			if err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
				name := "export." + string(tc.format)
				sum, err := svc.ImportFile(ctx, bytes.NewReader(data), fromCLI(name))
				if err != nil || sum.String() != fmt.Sprintf("新增 %d, 更新 0, 未变 0, 错误 0", n) {
					t.Fatalf("first import: %v %v %q", sum, err, errorTexts(sum))
				}
				sum, err = svc.ImportFile(ctx, bytes.NewReader(data), fromCLI(name))
				if err != nil || sum.String() != fmt.Sprintf("新增 0, 更新 0, 未变 %d, 错误 0", n) {
					t.Fatalf("second import: %v %v", sum, err)
				}
				overdue, err1 := s.CountTickets(ctx, models.TicketQuery{Set: models.SetOverdue, Now: now})
				unsatisfied, err2 := s.CountTickets(ctx, models.TicketQuery{Set: models.SetUnsatisfied})
				reopened, err3 := s.CountTickets(ctx, models.TicketQuery{Set: models.SetReopened})
				if err := errors.Join(err1, err2, err3); err != nil {
					t.Fatal(err)
				}
				for _, c := range []struct {
					name   string
					got    int
					lo, hi float64
				}{
					{"overdue", overdue.Total(), 0.04, 0.06},
					{"unsatisfied", unsatisfied.Total(), 0.022, 0.038},
					{"reopened", reopened.Total(), 0.013, 0.027},
				} {
					if share := float64(c.got) / n; share < c.lo || share > c.hi {
						t.Errorf("%s: %d of %d (%.3f), want %.3f–%.3f", c.name, c.got, n, share, c.lo, c.hi)
					}
				}
			})
		})
	}
}

func TestGenerateIsReproducible(t *testing.T) {
	gen := func(seed uint64) []byte {
		var buf bytes.Buffer
		o := tickets.GenOptions{N: 50, Departments: []string{"住建局"}, Now: now, Seed: seed, Format: sheet.CSV}
		if err := tickets.Generate(&buf, o); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(gen(1), gen(1)) || bytes.Equal(gen(1), gen(2)) {
		t.Error("the same seed must give the same export, another seed another")
	}
	if err := tickets.Generate(&bytes.Buffer{}, tickets.GenOptions{N: 1, Now: now}); err == nil {
		t.Error("no departments: want an error")
	}
}

func TestRepeatedNumberInOneFile(t *testing.T) {
	csvText := "工单编号,受理时间,工单状态,承办单位\n" +
		"R1,2026-11-20 09:00,办理中,住建局\n" +
		"R1,2026-11-20 09:00,办理中,住建局\n" +
		"R1,2026-11-20 09:00,已办结,住建局\n" +
		"R2,2026-11-20 09:00,办理中,某某局\n" +
		"R2,2026-11-20 09:00,办理中,城管局\n"
	each(t, func(t *testing.T, s *models.Store, svc *tickets.Service) {
		sum, err := svc.ImportFile(ctx, strings.NewReader(csvText), fromCLI("r.csv"))
		if err != nil || sum.String() != "新增 2, 更新 1, 未变 1, 错误 1" {
			t.Fatalf("%v %v", sum, err)
		}
		if tk, _ := ticket(t, s, "R1"); tk.Status != models.TicketResolved {
			t.Errorf("R1 status %s: the last row wins", tk.Status)
		}
		if tk, _ := ticket(t, s, "R2"); tk.Department.Name != "城管局" {
			t.Errorf("R2 = %+v", tk)
		}
	})
}
