package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"yanzhen/api"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/report"
	"yanzhen/tickets"
)

func TestExportsAsXlsx(t *testing.T) {
	storetest.EachWith(t, storetest.Options{Now: func() time.Time { return now }}, func(t *testing.T, s *models.Store) {
		zjj := models.Department{Code: "zjj", Name: "住建局"}
		if _, err := s.UpsertDepartment(context.Background(), &zjj); err != nil {
			t.Fatal(err)
		}
		// Five visits: enough to be ranked (rules.scores.min_sample).
		visited := now.AddDate(0, 0, -2)
		for _, n := range []string{"T1", "T2", "T3", "T4", "T5"} {
			tk := models.Ticket{Number: n, Status: models.TicketResolved, DepartmentID: &zjj.ID, ReceivedAt: visited.AddDate(0, 0, -1),
				VisitedAt: &visited, Assessed: true, Contacted: ptrTo(true), Resolved: ptrTo(true), Satisfaction: models.Satisfied}
			if err := s.DB(context.Background()).Create(&tk).Error; err != nil {
				t.Fatal(err)
			}
		}
		cfg := config.Default()
		cal := calendar.New(storetest.Shanghai, nil)
		h := api.New(api.Options{Tickets: &tickets.Service{Store: s, Calendar: cal, Rules: cfg.Rules}, Token: config.Secret(token),
			Exports: report.New(s, cfg.Domain(), cal)})

		w, _ := do(h, call{method: "GET", path: "/api/v1/exports/ranking?from=2026-11-01&to=2026-11-20", auth: bearer})
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			t.Fatalf("ranking: %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
		want := "attachment; filename=\"export.xlsx\"; filename*=UTF-8''" + url.PathEscape("高新区三率排名_2026年11月1日至2026年11月20日.xlsx")
		if got := w.Header().Get("Content-Disposition"); got != want {
			t.Errorf("Content-Disposition %q, want %q", got, want)
		}
		f, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("三率排名")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || strings.Join(rows[2][:2], " ") != "1 住建局" || rows[3][1] != "全区" {
			t.Errorf("rows %q", rows)
		}

		for _, c := range []struct {
			path   string
			status int
			text   string
		}{
			{"/api/v1/exports/tickets", 404, "没有这种导出：tickets，可选 ledger|overdue|ranking|reports"},
			{"/api/v1/exports/ledger?from=2026-11-01", 400, "请同时给出开始和结束日期（from 与 to）"},
			{"/api/v1/exports/ledger?from=2026-11-20&to=2026-11-01", 400, "结束日期 2026-11-01 早于开始日期 2026-11-20"},
			{"/api/v1/exports/ledger?from=yesterday&to=2026-11-01", 400, `日期应写作 2026-11-01，收到 "yesterday" 和 "2026-11-01"`},
		} {
			w, out := do(h, call{method: "GET", path: c.path, auth: bearer})
			if w.Code != c.status || out["error"] != c.text {
				t.Errorf("%s: %d %v", c.path, w.Code, out)
			}
		}
		if w, _ := do(h, call{method: "GET", path: "/api/v1/exports/overdue"}); w.Code != http.StatusUnauthorized {
			t.Errorf("an export without the token: %d", w.Code)
		}
		if w, _ := do(h, call{method: "GET", path: "/api/v1/exports/overdue", auth: bearer}); w.Code != http.StatusOK || w.Body.Len() < 1000 {
			t.Errorf("every overdue ticket: %d, %d bytes", w.Code, w.Body.Len())
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
