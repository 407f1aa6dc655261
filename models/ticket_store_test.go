package models_test

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
	"yanzhen/models/storetest"
)

// sh returns a wall-clock time in Shanghai, the zone every test store keeps.
func sh(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, storetest.Shanghai)
}

func ptr[T any](v T) *T { return &v }

func dept(t *testing.T, s *models.Store, code, name string, sort int) *models.Department {
	t.Helper()
	d := &models.Department{Code: code, Name: name, Sort: sort}
	mustCreate(t, s, d)
	return d
}

var defaultWeights = models.Weights{Response: 0.1, Resolution: 0.5, Satisfaction: 0.4, BasicSatisfied: 0.9}

func TestRates(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		counts                      models.ScoreCounts
		w                           models.Weights
		response, resolution, satis string
		score                       string
	}{
		{"empty period shows a dash", models.ScoreCounts{}, defaultWeights, "—", "—", "—", "—"},
		{"all good", models.ScoreCounts{Valid: 4, Contacted: 4, Resolved: 4, Satisfied: 4}, defaultWeights, "100.00%", "100.00%", "100.00%", "100.00"},
		// 满意率 = (1 + 0.9×1)/4 = 47.5%; 综合 = 0.1×75 + 0.5×50 + 0.4×47.5 = 51.5.
		{"mixed", models.ScoreCounts{Valid: 4, Contacted: 3, Resolved: 2, Satisfied: 1, BasicSatisfied: 1}, defaultWeights, "75.00%", "50.00%", "47.50%", "51.50"},
		// Only 基本满意: 满意率 = 0.9×10/10 = 90%; 综合 = 10 + 50 + 36 = 96.
		{"basic satisfied counts 0.9", models.ScoreCounts{Valid: 10, Contacted: 10, Resolved: 10, BasicSatisfied: 10}, defaultWeights, "100.00%", "100.00%", "90.00%", "96.00"},
		// Other places weigh differently: 0.2/0.4/0.4 and 基本满意 at 0.8.
		// 响应 50, 解决 50, 满意 (0 + 0.8×2)/2 = 80 → 10 + 20 + 32 = 62.
		{"configured weights", models.ScoreCounts{Valid: 2, Contacted: 1, Resolved: 1, BasicSatisfied: 2},
			models.Weights{Response: 0.2, Resolution: 0.4, Satisfaction: 0.4, BasicSatisfied: 0.8}, "50.00%", "50.00%", "80.00%", "62.00"},
		// 6/7, 5/7, (3 + 1.8)/7: rounded for display only.
		{"sevenths", models.ScoreCounts{Valid: 7, Contacted: 6, Resolved: 5, Satisfied: 3, BasicSatisfied: 2}, defaultWeights, "85.71%", "71.43%", "68.57%", "71.71"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.counts.Rates(tc.w)
			got := [4]string{r.Percent(r.Response), r.Percent(r.Resolution), r.Percent(r.Satisfaction), r.ScoreText()}
			want := [4]string{tc.response, tc.resolution, tc.satis, tc.score}
			if got != want {
				t.Errorf("rates = %v, want %v", got, want)
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	t.Setenv("TZ", "UTC")
	loc := storetest.Shanghai
	// 23:30 UTC on the 20th is already the 21st in Shanghai.
	day := models.DayOf(time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC), loc)
	if !day.Start.Equal(sh(11, 21, 0, 0)) || !day.End.Equal(sh(11, 22, 0, 0)) || day.Label() != "2026年11月21日" {
		t.Errorf("day = %v – %v %s", day.Start, day.End, day.Label())
	}
	for _, at := range []time.Time{sh(11, 16, 0, 0), sh(11, 20, 12, 0), sh(11, 22, 23, 59)} {
		w := models.WeekOf(at, loc)
		if !w.Start.Equal(sh(11, 16, 0, 0)) || !w.End.Equal(sh(11, 23, 0, 0)) {
			t.Errorf("week of %v = %v – %v", at, w.Start, w.End)
		}
		if w.Label() != "2026年第47周（11月16日至11月22日）" {
			t.Errorf("week label = %s", w.Label())
		}
	}
	if w := models.WeekOf(time.Date(2027, 1, 1, 9, 0, 0, 0, loc), loc); w.Label() != "2026年第53周（12月28日至1月3日）" {
		t.Errorf("new year's week = %s", w.Label())
	}
	if w := models.WeekOf(sh(11, 20, 0, 0), loc).Next(); !w.Start.Equal(sh(11, 23, 0, 0)) {
		t.Errorf("next week starts %v", w.Start)
	}
	for _, tc := range []struct {
		at       time.Time
		startDay int
		start    time.Time
		label    string
	}{
		{sh(11, 20, 9, 0), 1, sh(11, 1, 0, 0), "2026年11月"},
		{sh(11, 1, 0, 0), 1, sh(11, 1, 0, 0), "2026年11月"},
		{sh(11, 20, 9, 0), 26, sh(10, 26, 0, 0), "2026年11月（10月26日至11月25日）"},
		{sh(11, 26, 0, 0), 26, sh(11, 26, 0, 0), "2026年12月（11月26日至12月25日）"},
		{time.Date(2027, 1, 5, 0, 0, 0, 0, loc), 26, sh(12, 26, 0, 0), "2027年1月（12月26日至1月25日）"},
		{sh(11, 20, 9, 0), 0, sh(11, 1, 0, 0), "2026年11月"}, // out of range: calendar month
	} {
		p := models.MonthOf(tc.at, loc, tc.startDay)
		if !p.Start.Equal(tc.start) || !p.End.Equal(tc.start.AddDate(0, 1, 0)) || p.Label() != tc.label {
			t.Errorf("MonthOf(%v, %d) = %v – %v %q", tc.at, tc.startDay, p.Start, p.End, p.Label())
		}
	}
	if p := models.MonthOf(sh(1, 10, 0, 0), loc, 1).Prev(); p.Label() != "2025年12月" || !p.Contains(time.Date(2025, 12, 31, 23, 59, 0, 0, loc)) {
		t.Errorf("month before January = %s", p.Label())
	}
}

func TestSaveTicketsEventsAndIdempotence(t *testing.T) {
	var now time.Time
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		now = sh(11, 20, 10, 0)
		zjj, cgj := dept(t, s, "zjj", "住建局", 1), dept(t, s, "cgj", "城管局", 2)
		mk := func(number string) *models.Ticket {
			return &models.Ticket{Number: number, Category: "投诉", DepartmentID: &zjj.ID, ReceivedAt: sh(11, 18, 9, 30),
				Deadline: ptr(sh(11, 25, 9, 30)), DeadlineSource: models.DeadlineRule, Status: models.TicketInProgress}
		}
		res, err := s.SaveTickets(ctx, []models.TicketWrite{{New: mk("A1")}, {New: mk("A2")}}, "import")
		if err != nil || res != (models.SaveResult{Created: 2}) {
			t.Fatalf("create: %+v %v", res, err)
		}
		// The same state again writes nothing.
		old, err := s.TicketsByNumber(ctx, []string{"A1", "A2", "missing"})
		if err != nil || len(old) != 2 {
			t.Fatalf("by number: %v %v", old, err)
		}
		res, err = s.SaveTickets(ctx, []models.TicketWrite{{Old: old["A1"], New: mk("A1")}, {Old: old["A2"], New: mk("A2")}}, "import")
		if err != nil || res != (models.SaveResult{Unchanged: 2}) {
			t.Fatalf("same again: %+v %v", res, err)
		}
		// A1 changes in every way that is recorded.
		now = sh(11, 21, 8, 0)
		a1 := mk("A1")
		a1.Status, a1.DepartmentID, a1.Satisfaction, a1.ReopenCount = models.TicketResolved, &cgj.ID, models.Unsatisfied, 1
		a1.Deadline, a1.DeadlineSource = ptr(sh(11, 24, 18, 0)), models.DeadlinePlatform
		a1.VisitedAt, a1.ReopenedAt = ptr(now), ptr(now)
		res, err = s.SaveTickets(ctx, []models.TicketWrite{{Old: old["A1"], New: a1}, {Old: old["A2"], New: mk("A2")}}, "api")
		if err != nil || res != (models.SaveResult{Updated: 1, Unchanged: 1}) {
			t.Fatalf("update: %+v %v", res, err)
		}
		got, events, err := s.TicketByNumber(ctx, "A1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != models.TicketResolved || got.Department == nil || got.Department.Name != "城管局" ||
			!got.Deadline.Equal(sh(11, 24, 18, 0)) || !got.CreatedAt.Equal(sh(11, 20, 10, 0)) || !got.UpdatedAt.Equal(now) {
			t.Errorf("stored = %+v", got)
		}
		var lines []string
		for _, e := range events {
			lines = append(lines, fmt.Sprintf("%s %s→%s %s %s %s", e.Change, e.From, e.To, e.Reason, e.Actor, e.At.In(storetest.Shanghai).Format("01-02 15:04")))
		}
		want := []string{
			"created →办理中  import 11-20 10:00",
			"status 办理中→已办结  api 11-21 08:00",
			"deadline 2026-11-25 09:30→2026-11-24 18:00 平台办理时限 api 11-21 08:00",
			"department 住建局→城管局  api 11-21 08:00",
			"satisfaction →不满意  api 11-21 08:00",
			"reopen 0→1  api 11-21 08:00",
		}
		if !slices.Equal(lines, want) {
			t.Errorf("events:\n%q\nwant\n%q", lines, want)
		}
		// A second creation of a stored number is a conflict the importer retries.
		if _, err := s.SaveTickets(ctx, []models.TicketWrite{{New: mk("A2")}}, "import"); models.ErrorCode(err) != models.ECONFLICT {
			t.Errorf("duplicate create: %v", err)
		}
		if _, _, err := s.TicketByNumber(ctx, "nope"); models.ErrorCode(err) != models.ENOTFOUND || models.UserText(err) != "未找到工单 nope" {
			t.Errorf("unknown number: %v", err)
		}
	})
}

func TestSaveTicketsManyInBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		var writes []models.TicketWrite
		for i := range 1234 {
			writes = append(writes, models.TicketWrite{New: &models.Ticket{Number: fmt.Sprintf("N%05d", i), ReceivedAt: sh(11, 1, 0, 0), Status: models.TicketPending}})
		}
		if res, err := s.SaveTickets(ctx, writes, "import"); err != nil || res.Created != 1234 {
			t.Fatalf("%+v %v", res, err)
		}
		old, _ := s.TicketsByNumber(ctx, []string{"N00000", "N01233"})
		writes = writes[:0]
		for _, n := range []string{"N00000", "N01233"} {
			tk := *old[n]
			tk.Status = models.TicketInProgress
			writes = append(writes, models.TicketWrite{Old: old[n], New: &tk})
		}
		if res, err := s.SaveTickets(ctx, writes, "import"); err != nil || res.Updated != 2 {
			t.Fatalf("%+v %v", res, err)
		}
		var n, events int64
		s.DB(ctx).Model(&models.Ticket{}).Where("status = ?", models.TicketInProgress).Count(&n)
		s.DB(ctx).Model(&models.TicketEvent{}).Count(&events)
		if n != 2 || events != 1234+2 {
			t.Errorf("in progress %d, events %d", n, events)
		}
	})
}

// TestSameTicketCoversEveryField guards SameTicket against a field added to
// Ticket and forgotten there: a re-import would silently drop its changes.
func TestSameTicketCoversEveryField(t *testing.T) {
	skip := map[string]bool{"ID": true, "CreatedAt": true, "UpdatedAt": true, "Department": true, "GridDepartment": true}
	base := models.Ticket{ReceivedAt: sh(11, 1, 0, 0)}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if skip[f.Name] {
			continue
		}
		changed := base
		v := reflect.ValueOf(&changed).Elem().Field(i)
		switch v.Interface().(type) {
		case string, models.TicketSource, models.TicketStatus, models.Satisfaction, models.DeadlineSource:
			v.SetString("x")
		case int:
			v.SetInt(1)
		case bool:
			v.SetBool(true)
		case *bool:
			v.Set(reflect.ValueOf(ptr(true)))
		case *uint:
			v.Set(reflect.ValueOf(ptr(uint(1))))
		case time.Time:
			v.Set(reflect.ValueOf(sh(11, 2, 0, 0)))
		case *time.Time:
			v.Set(reflect.ValueOf(ptr(sh(11, 2, 0, 0))))
		default:
			t.Fatalf("field %s of type %s: teach this test and SameTicket about it", f.Name, f.Type)
		}
		if models.SameTicket(&base, &changed) {
			t.Errorf("SameTicket ignores %s", f.Name)
		}
	}
}

func TestExtendTicket(t *testing.T) {
	now := sh(11, 20, 10, 0)
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		mustCreate(t, s, &models.Ticket{Number: "E1", ReceivedAt: sh(11, 18, 9, 0), Deadline: ptr(sh(11, 20, 18, 0)),
			DeadlineSource: models.DeadlinePlatform, Status: models.TicketInProgress})
		mustCreate(t, s, &models.Ticket{Number: "E2", ReceivedAt: sh(11, 18, 9, 0), Status: models.TicketResolved})
		for _, tc := range []struct {
			number string
			to     time.Time
			reason string
			code   models.Code
			text   string
		}{
			{"E1", sh(11, 27, 18, 0), "", models.EINVALID, "请说明延期理由"},
			{"E1", sh(11, 20, 18, 0), "需协调", models.EINVALID, "延期后的期限须晚于原期限 2026-11-20 18:00"},
			{"E2", sh(11, 27, 18, 0), "需协调", models.EINVALID, "工单 E2 已办结，不能延期"},
			{"E9", sh(11, 27, 18, 0), "需协调", models.ENOTFOUND, "未找到工单 E9"},
		} {
			if _, err := s.ExtendTicket(ctx, tc.number, tc.to, tc.reason, "lisi"); models.ErrorCode(err) != tc.code || models.UserText(err) != tc.text {
				t.Errorf("extend %s: %v", tc.number, err)
			}
		}
		tk, err := s.ExtendTicket(ctx, "E1", sh(11, 27, 18, 0), "涉及多部门协调", "lisi")
		if err != nil || !tk.Deadline.Equal(sh(11, 27, 18, 0)) || tk.DeadlineSource != models.DeadlineExtension {
			t.Fatalf("extend: %+v %v", tk, err)
		}
		_, events, _ := s.TicketByNumber(ctx, "E1")
		if len(events) != 1 {
			t.Fatalf("events = %+v", events)
		}
		if e := events[0]; e.Change != models.EventExtension || e.From != "2026-11-20 18:00" || e.To != "2026-11-27 18:00" ||
			e.Reason != "涉及多部门协调" || e.Actor != "lisi" || !e.At.Equal(now) {
			t.Errorf("event = %+v", e)
		}
	})
}

func TestScoreBoard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj, cgj := dept(t, s, "zjj", "住建局", 1), dept(t, s, "cgj", "城管局", 2)
		dept(t, s, "jyj", "教育局", 3) // no ticket at all: "—"
		n := 0
		add := func(d *models.Department, contacted, resolved bool, satisfaction models.Satisfaction, visited time.Time, assessed, excluded bool) {
			n++
			tk := &models.Ticket{Number: fmt.Sprintf("S%03d", n), ReceivedAt: visited.AddDate(0, 0, -5), Status: models.TicketResolved,
				Contacted: &contacted, Resolved: &resolved, Satisfaction: satisfaction, VisitedAt: &visited, Assessed: assessed, Excluded: excluded}
			if d != nil {
				tk.DepartmentID = &d.ID
			}
			mustCreate(t, s, tk)
		}
		// 住建局: four valid tickets in November.
		add(zjj, true, true, models.Satisfied, sh(11, 1, 0, 0), true, false)
		add(zjj, true, true, models.BasicSatisfied, sh(11, 10, 9, 0), true, false)
		add(zjj, true, false, models.Unsatisfied, sh(11, 20, 9, 0), true, false)
		add(zjj, false, false, models.Unsatisfied, time.Date(2026, 11, 30, 23, 59, 59, 0, storetest.Shanghai), true, false)
		// Left out: excluded (剔除), not assessed, visited outside November.
		add(zjj, false, false, models.Unsatisfied, sh(11, 5, 0, 0), true, true)
		add(zjj, false, false, models.Unsatisfied, sh(11, 5, 0, 0), false, false)
		add(zjj, false, false, models.Unsatisfied, time.Date(2026, 10, 31, 23, 59, 59, 0, storetest.Shanghai), true, false)
		add(zjj, false, false, models.Unsatisfied, sh(12, 1, 0, 0), true, false)
		// 城管局: two perfect tickets. One ticket without a department counts for the district.
		add(cgj, true, true, models.Satisfied, sh(11, 3, 0, 0), true, false)
		add(cgj, true, true, models.Satisfied, sh(11, 4, 0, 0), true, false)
		add(nil, true, true, models.BasicSatisfied, sh(11, 4, 0, 0), true, false)

		nov := models.MonthOf(sh(11, 20, 0, 0), storetest.Shanghai, 1)
		b, err := s.ScoreBoard(ctx, nov, defaultWeights)
		if err != nil {
			t.Fatal(err)
		}
		type line struct {
			name, resp, res, sat, score string
			rank                        int
		}
		var got []line
		for _, d := range append(b.Departments, b.District) {
			r := d.Rates
			got = append(got, line{d.Department.Name, r.Percent(r.Response), r.Percent(r.Resolution), r.Percent(r.Satisfaction), r.ScoreText(), d.Rank})
		}
		want := []line{
			{"城管局", "100.00%", "100.00%", "100.00%", "100.00", 1},
			{"住建局", "75.00%", "50.00%", "47.50%", "51.50", 2},
			{"教育局", "—", "—", "—", "—", 0},
			{"", "85.71%", "71.43%", "68.57%", "71.71", 0},
		}
		if !slices.Equal(got, want) {
			t.Errorf("board:\n%v\nwant\n%v", got, want)
		}
		if c := b.District.Counts; c != (models.ScoreCounts{Valid: 7, Contacted: 6, Resolved: 5, Satisfied: 3, BasicSatisfied: 2}) {
			t.Errorf("district counts = %+v", c)
		}
		// A month without visits: every figure is a dash, nobody ranks.
		empty, err := s.ScoreBoard(ctx, nov.Prev().Prev(), defaultWeights)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range append(empty.Departments, empty.District) {
			if d.Rank != 0 || d.Rates.ScoreText() != "—" || d.Rates.Percent(d.Rates.Satisfaction) != "—" {
				t.Errorf("empty period: %+v", d)
			}
		}
		// With the period starting on the 26th, the visit of 20 November belongs
		// to November's period (26 Oct – 25 Nov), the one of 30 November to December's.
		p26 := models.MonthOf(sh(11, 20, 0, 0), storetest.Shanghai, 26)
		counts, err := s.ScoreCounts(ctx, p26)
		if err != nil {
			t.Fatal(err)
		}
		if c := counts[zjj.ID]; c.Valid != 4 { // 10-31, 11-01, 11-10, 11-20
			t.Errorf("住建局 valid in 26 Oct–25 Nov = %d, want 4", c.Valid)
		}
	})
}

func TestTicketSets(t *testing.T) {
	now := sh(11, 20, 10, 0)
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj, cgj := dept(t, s, "zjj", "住建局", 1), dept(t, s, "cgj", "城管局", 2)
		mk := func(number string, d *models.Department, status models.TicketStatus, deadline time.Time, f func(*models.Ticket)) {
			tk := &models.Ticket{Number: number, DepartmentID: &d.ID, ReceivedAt: sh(10, 1, 9, 0), Status: status, Deadline: &deadline}
			if f != nil {
				f(tk)
			}
			mustCreate(t, s, tk)
		}
		far := sh(12, 30, 0, 0)
		mk("A", zjj, models.TicketInProgress, sh(11, 19, 18, 0), nil)      // overdue
		mk("B", cgj, models.TicketPending, sh(11, 20, 18, 0), nil)         // due soon
		mk("C", zjj, models.TicketResolved, sh(11, 18, 18, 0), nil)        // resolved: never overdue
		mk("D", zjj, models.TicketInProgress, sh(11, 25, 18, 0), nil)      // later
		mk("E", cgj, models.TicketInProgress, sh(10, 30, 18, 0), nil)      // overdue since October
		mk("K", cgj, models.TicketReturned, sh(11, 1, 18, 0), nil)         // returned: not overdue
		mk("L", zjj, models.TicketPending, now, nil)                       // due this very minute: not yet overdue
		mk("F", zjj, models.TicketResolved, far, func(tk *models.Ticket) { // 双否
			tk.Satisfaction, tk.Resolved, tk.VisitedAt = models.Unsatisfied, ptr(false), ptr(sh(11, 19, 9, 0))
		})
		mk("G", cgj, models.TicketResolved, far, func(tk *models.Ticket) { // unsatisfied, resolved
			tk.Satisfaction, tk.Resolved, tk.VisitedAt = models.Unsatisfied, ptr(true), ptr(sh(11, 18, 9, 0))
		})
		mk("H", zjj, models.TicketResolved, far, func(tk *models.Ticket) { // excluded
			tk.Satisfaction, tk.Resolved, tk.VisitedAt, tk.Excluded = models.Unsatisfied, ptr(false), ptr(sh(11, 18, 9, 0)), true
		})
		mk("I", zjj, models.TicketInProgress, far, func(tk *models.Ticket) { tk.ReopenCount, tk.ReopenedAt = 1, ptr(sh(11, 17, 9, 0)) })
		mk("J", cgj, models.TicketInProgress, far, func(tk *models.Ticket) { tk.ReopenCount, tk.ReopenedAt = 2, ptr(sh(11, 9, 9, 0)) })

		week := models.WeekOf(now, storetest.Shanghai)
		month := models.MonthOf(now, storetest.Shanghai, 1)
		for _, tc := range []struct {
			name  string
			q     models.TicketQuery
			want  []string
			count models.Counts
		}{
			{"overdue now", models.TicketQuery{Set: models.SetOverdue, Now: now}, []string{"E", "A"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"overdue this month", models.TicketQuery{Set: models.SetOverdue, Now: now, Period: month}, []string{"A"}, models.Counts{zjj.ID: 1}},
			{"overdue of 城管局", models.TicketQuery{Set: models.SetOverdue, Now: now, DepartmentID: cgj.ID}, []string{"E"}, models.Counts{cgj.ID: 1}},
			{"due within 24h", models.TicketQuery{Set: models.SetDueSoon, Now: now, Within: 24 * time.Hour}, []string{"L", "B"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"unsatisfied this week", models.TicketQuery{Set: models.SetUnsatisfied, Period: week}, []string{"G", "F"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"双否 this week", models.TicketQuery{Set: models.SetDoubleNo, Period: week}, []string{"F"}, models.Counts{zjj.ID: 1}},
			{"双否 today", models.TicketQuery{Set: models.SetDoubleNo, Period: models.DayOf(now, storetest.Shanghai)}, nil, models.Counts{}},
			{"reopened this week", models.TicketQuery{Set: models.SetReopened, Period: week}, []string{"I"}, models.Counts{zjj.ID: 1}},
			{"reopened this month", models.TicketQuery{Set: models.SetReopened, Period: month}, []string{"J", "I"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
			{"reopened, first only", models.TicketQuery{Set: models.SetReopened, Period: month, Limit: 1}, []string{"J"}, models.Counts{zjj.ID: 1, cgj.ID: 1}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list, err := s.ListTickets(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, tk := range list {
					got = append(got, tk.Number)
					if tk.Department == nil {
						t.Errorf("%s: department not loaded", tk.Number)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("list = %v, want %v", got, tc.want)
				}
				counts, err := s.CountTickets(ctx, tc.q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(counts, tc.count) {
					t.Errorf("counts = %v, want %v", counts, tc.count)
				}
			})
		}
		if _, err := s.CountTickets(ctx, models.TicketQuery{Set: models.SetOverdue}); err == nil {
			t.Error("overdue without Now: want an error")
		}
		// The set's SQL and the Go rule (Ticket.Overdue) agree on every ticket.
		overdue, err := s.ListTickets(ctx, models.TicketQuery{Set: models.SetOverdue, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		inSet := map[string]bool{}
		for _, tk := range overdue {
			inSet[tk.Number] = true
		}
		all, err := s.TicketsByNumber(ctx, strings.Split("A B C D E F G H I J K L", " "))
		if err != nil || len(all) != 12 {
			t.Fatalf("tickets: %d, %v", len(all), err)
		}
		for number, tk := range all {
			if tk.Overdue(now) != inSet[number] {
				t.Errorf("ticket %s: Overdue = %v, in SetOverdue = %v", number, tk.Overdue(now), inSet[number])
			}
		}
	})
}

func TestLedger(t *testing.T) {
	now := sh(11, 20, 17, 0)
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		zjj, cgj := dept(t, s, "zjj", "住建局", 1), dept(t, s, "cgj", "城管局", 2)
		n := 0
		add := func(d *models.Department, f func(*models.Ticket)) {
			n++
			tk := &models.Ticket{Number: fmt.Sprint("L", n), ReceivedAt: sh(11, 10, 9, 0), Status: models.TicketInProgress, Deadline: ptr(sh(11, 30, 18, 0))}
			if d != nil {
				tk.DepartmentID = &d.ID
			}
			f(tk)
			mustCreate(t, s, tk)
		}
		add(zjj, func(tk *models.Ticket) { tk.ReceivedAt, tk.Deadline = sh(11, 20, 9, 0), ptr(sh(11, 21, 9, 0)) })     // received today, due soon
		add(zjj, func(tk *models.Ticket) { tk.Status, tk.ResolvedAt = models.TicketResolved, ptr(sh(11, 20, 10, 0)) }) // resolved today
		add(zjj, func(tk *models.Ticket) { tk.Deadline = ptr(sh(11, 20, 12, 0)) })                                     // overdue
		add(zjj, func(tk *models.Ticket) { tk.ReopenCount, tk.ReopenedAt = 1, ptr(sh(11, 20, 8, 0)) })                 // reopened today
		add(zjj, func(tk *models.Ticket) {                                                                             // unsatisfied today
			tk.Status, tk.Satisfaction, tk.VisitedAt = models.TicketResolved, models.Unsatisfied, ptr(sh(11, 20, 11, 0))
		})
		add(zjj, func(tk *models.Ticket) { // excluded: not counted
			tk.Status, tk.Satisfaction, tk.VisitedAt, tk.Excluded = models.TicketResolved, models.Unsatisfied, ptr(sh(11, 20, 11, 0)), true
		})
		add(zjj, func(tk *models.Ticket) { tk.Status, tk.ResolvedAt = models.TicketResolved, ptr(sh(11, 19, 10, 0)) }) // yesterday
		add(cgj, func(tk *models.Ticket) { tk.ReceivedAt, tk.Status = sh(11, 20, 8, 0), models.TicketReturned })
		add(nil, func(tk *models.Ticket) { tk.Status, tk.Deadline = models.TicketPending, nil })

		l, err := s.Ledger(ctx, models.DayOf(now, storetest.Shanghai), now, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want := models.Ledger{
			zjj.ID: {Received: 1, Resolved: 1, InProgress: 3, Overdue: 1, DueSoon: 1, Reopened: 1, Unsatisfied: 1},
			cgj.ID: {Received: 1},
			0:      {InProgress: 1},
		}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("ledger = %+v\nwant     %+v", l, want)
		}
		if tot := l.Total(); tot != (models.LedgerRow{Received: 2, Resolved: 1, InProgress: 4, Overdue: 1, DueSoon: 1, Reopened: 1, Unsatisfied: 1}) {
			t.Errorf("total = %+v", tot)
		}
	})
}

func TestHolidayOverrides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		for _, tc := range []struct {
			date string
			work bool
			name string
			want models.Change
		}{
			{"2027-02-06", false, "春节", models.Created},
			{"2027-02-06", false, "春节", models.Unchanged},
			{"2027-02-06", false, "春节假期", models.Updated},
			{"2027-02-20", true, "春节调休", models.Created},
			{"2026-12-31", false, "", models.Created},
		} {
			if ch, err := s.SetHolidayOverride(ctx, tc.date, tc.work, tc.name); err != nil || ch != tc.want {
				t.Errorf("set %s: %v %v", tc.date, ch, err)
			}
		}
		if _, err := s.SetHolidayOverride(ctx, "2027-2-30", false, ""); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("bad date: %v", err)
		}
		list, err := s.HolidayOverrides(ctx, 2027)
		if err != nil || len(list) != 2 || list[0].Date != "2027-02-06" || list[0].Name != "春节假期" || !list[1].Work {
			t.Errorf("2027 = %+v %v", list, err)
		}
		if all, _ := s.HolidayOverrides(ctx, 0); len(all) != 3 {
			t.Errorf("all = %+v", all)
		}
		if err := s.DeleteHolidayOverride(ctx, "2026-12-31"); err != nil {
			t.Error(err)
		}
		if err := s.DeleteHolidayOverride(ctx, "2026-12-31"); models.ErrorCode(err) != models.ENOTFOUND {
			t.Errorf("second delete: %v", err)
		}
	})
}

// EnvBenchBig turns on the benchmarks over millions of rows.
const EnvBenchBig = "YANZHEN_BENCH_BIG"

const (
	scoreBenchDB      = "yz_bench_scores"
	scoreBenchDepts   = 500
	scoreBenchTickets = 5_000_000
	// scoreBenchVersion changes when loadScoreBench does, to load again.
	scoreBenchVersion = "3"
)

// BenchmarkScoreBoard5M times the 三率 score board (one GROUP BY) of 500
// departments over 5,000,000 tickets received in the year before 20 November
// 2026 on MariaDB, for a week, a month, and all 5,000,000 at once. The data
// set is loaded once, server-side, into the database yz_bench_scores and kept
// for later runs (DROP DATABASE yz_bench_scores to free it):
//
//	YANZHEN_BENCH_BIG=1 YANZHEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' \
//	  go test ./models -run '^$' -bench ScoreBoard5M -benchtime 5x
func BenchmarkScoreBoard5M(b *testing.B) {
	base := os.Getenv(storetest.EnvMySQL)
	if os.Getenv(EnvBenchBig) == "" || base == "" {
		b.Skipf("set %s=1 and %s to run: %s=1 %s='root@tcp(127.0.0.1:3306)/test' go test ./models -run '^$' -bench ScoreBoard5M -benchtime 5x",
			EnvBenchBig, storetest.EnvMySQL, EnvBenchBig, storetest.EnvMySQL)
	}
	s := storetest.KeptMySQL(b, scoreBenchDB, scoreBenchVersion, func(s *models.Store) { loadScoreBench(b, s) })
	day := sh(11, 20, 0, 0)
	for _, tc := range []struct {
		name string
		p    models.Period
	}{
		{"week", models.WeekOf(day, storetest.Shanghai)},
		{"month", models.MonthOf(day, storetest.Shanghai, 1)},
		{"all-5M", models.Period{Start: time.Date(2000, 1, 1, 0, 0, 0, 0, storetest.Shanghai), End: time.Date(2100, 1, 1, 0, 0, 0, 0, storetest.Shanghai)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var board *models.ScoreBoard
			var err error
			for b.Loop() {
				if board, err = s.ScoreBoard(ctx, tc.p, defaultWeights); err != nil {
					b.Fatal(err)
				}
			}
			ranked := 0
			for _, d := range board.Departments {
				if d.Rank > 0 {
					ranked++
				}
			}
			if len(board.Departments) != scoreBenchDepts || ranked == 0 {
				b.Fatalf("board of %d departments, %d ranked", len(board.Departments), ranked)
			}
			b.ReportMetric(float64(board.District.Counts.Valid), "valid-tickets")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/board")
			r := board.District.Rates
			b.Logf("%s: %d departments ranked over %d valid tickets; district 响应 %s 解决 %s 满意 %s 综合 %s",
				tc.p.Label(), ranked, r.Valid, r.Percent(r.Response), r.Percent(r.Resolution), r.Percent(r.Satisfaction), r.ScoreText())
		})
	}
}

// loadScoreBench fills an empty benchmark database: 500 departments,
// and 5,000,000 tickets received over the year before 20 November 2026, 80%
// of them resolved and visited, of which 97% are assessed and 2% excluded;
// CRC32 of the number keeps the attributes independent of one another. The
// tickets' indexes are dropped for the load and built again by Migrate.
func loadScoreBench(b *testing.B, s *models.Store) {
	b.Helper()
	db := s.DB(ctx)
	t := s.Table(&models.Ticket{})
	var depts []models.Department
	for i := 1; i <= scoreBenchDepts; i++ {
		depts = append(depts, models.Department{ID: uint(i), Code: fmt.Sprintf("d%03d", i), Name: fmt.Sprintf("第%d承办单位", i), Sort: i})
	}
	if err := db.CreateInBatches(depts, 500).Error; err != nil {
		b.Fatal(err)
	}
	storetest.DropIndexes(b, s, &models.Ticket{})
	const chunk = 500_000
	for lo := 1; lo <= scoreBenchTickets; lo += chunk {
		q := `INSERT INTO ` + t + ` (number, source, category, department_id, received_at, deadline, deadline_source,
	resolved_at, status, contacted, resolved, satisfaction, visited_at, reopen_count, assessed, excluded,
	priority, difficult, created_at, updated_at)
SELECT number, '市级直派', ELT(1 + h MOD 5, '咨询', '求助', '投诉', '举报', '建议'),
	1 + (h DIV 7) MOD ?, received, received + INTERVAL 7 DAY, 'rule',
	IF(visited, received + INTERVAL 2 DAY, NULL), IF(visited, '已办结', '办理中'),
	IF(visited, (h DIV 11) MOD 100 < 95, NULL), IF(visited, (h DIV 13) MOD 100 < 88, NULL),
	IF(visited, CASE WHEN (h DIV 17) MOD 100 < 3 THEN '不满意' WHEN (h DIV 17) MOD 100 < 15 THEN '基本满意' ELSE '满意' END, ''),
	IF(visited, received + INTERVAL 2 + h MOD 5 DAY, NULL), 0,
	visited AND (h DIV 19) MOD 100 < 97, (h DIV 23) MOD 100 < 2, FALSE, FALSE, received, received
FROM (SELECT number, h, (h DIV 3) MOD 100 < 80 AS visited,
		TIMESTAMP('2026-11-20 18:00:00') - INTERVAL (seq * 7919 MOD 525600) MINUTE AS received
	FROM (SELECT seq, CONCAT('S', LPAD(seq, 10, '0')) AS number, CRC32(CONCAT('S', LPAD(seq, 10, '0'))) AS h
	FROM seq_1_to_5000000 WHERE seq BETWEEN ? AND ?) q) r`
		end := min(lo+chunk-1, scoreBenchTickets)
		if err := db.Exec(q, scoreBenchDepts, lo, end).Error; err != nil {
			b.Fatalf("load tickets %d–%d: %v", lo, end, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("ANALYZE TABLE " + t).Error; err != nil {
		b.Fatal(err)
	}
}

func TestScoreCountsOfALongPeriodAddUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		a := dept(t, s, "a", "甲局", 1)
		b := dept(t, s, "b", "乙局", 2)
		// One assessed ticket visited on the 1st and the 15th of each month of 2026.
		n := 0
		for m := time.January; m <= time.December; m++ {
			for i, day := range []int{1, 15} {
				n++
				d := a
				if i == 1 {
					d = b
				}
				visited := time.Date(2026, m, day, 10, 0, 0, 0, storetest.Shanghai)
				mustCreate(t, s, &models.Ticket{
					Number: fmt.Sprintf("Y%04d", n), Status: models.TicketResolved, DepartmentID: &d.ID,
					ReceivedAt: visited.AddDate(0, 0, -3), VisitedAt: &visited, Assessed: true,
					Contacted: ptr(true), Resolved: ptr(day == 1), Satisfaction: models.Satisfied,
				})
			}
		}
		year := models.Period{Start: time.Date(2026, 1, 1, 0, 0, 0, 0, storetest.Shanghai), End: time.Date(2027, 1, 1, 0, 0, 0, 0, storetest.Shanghai)}
		got, err := s.ScoreCounts(ctx, year)
		if err != nil {
			t.Fatal(err)
		}
		want := map[uint]models.ScoreCounts{
			a.ID: {Valid: 12, Contacted: 12, Resolved: 12, Satisfied: 12},
			b.ID: {Valid: 12, Contacted: 12, Resolved: 0, Satisfied: 12},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("a year's counts = %+v, want %+v", got, want)
		}
	})
}
