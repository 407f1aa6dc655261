package models_test

import (
	"fmt"
	"reflect"
	"slices"
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
		old, err := s.TicketsByNumber(ctx, []string{"N00000", "N01233"})
		if err != nil || len(old) != 2 {
			t.Fatalf("stored: %v %v", old, err)
		}
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
		must(t, s.DB(ctx).Model(&models.Ticket{}).Where("status = ?", models.TicketInProgress).Count(&n).Error)
		must(t, s.DB(ctx).Model(&models.TicketEvent{}).Count(&events).Error)
		if n != 2 || events != 1234+2 {
			t.Errorf("in progress %d, events %d", n, events)
		}
	})
}

// TestSameTicketCoversEveryField guards SameTicket against a field added to
// Ticket and forgotten there: a re-import would silently drop its changes.
func TestSameTicketCoversEveryField(t *testing.T) {
	skip := map[string]bool{"ID": true, "CreatedAt": true, "UpdatedAt": true, "Department": true, "GridDepartment": true,
		// Written by the chat and the jobs alone: an import neither changes
		// them nor, updating a ticket, writes them back.
		"GridSignedAt": true, "GridFeedback": true, "GridFeedbackAt": true,
		"RaisedLevel": true, "RaisedToID": true, "RaisedTo": true, "RaisedAt": true}
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
		_, events, err := s.TicketByNumber(ctx, "E1")
		if err != nil || len(events) != 1 {
			t.Fatalf("events = %+v %v", events, err)
		}
		if e := events[0]; e.Change != models.EventExtension || e.From != "2026-11-20 18:00" || e.To != "2026-11-27 18:00" ||
			e.Reason != "涉及多部门协调" || e.Actor != "lisi" || !e.At.Equal(now) {
			t.Errorf("event = %+v", e)
		}
	})
}
