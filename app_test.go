package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yanzhen/config"
	"yanzhen/models"
)

// openMain opens Main on SQLite in a temp folder with extra YAML.
func openMain(t *testing.T, extra string) *Main {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf("database: {driver: sqlite, dsn: %q}\n%s",
		filepath.Join(t.TempDir(), "yz.db"), extra)), nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(context.Background(), cfg, Options{LogOutput: &serveLogs{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestTheTicketAPIIsMountedBehindTheAdminToken(t *testing.T) {
	m := openMain(t, "http: {admin_token: s3cret-admin}\n")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	get := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/tickets/2026112000001", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d", code)
	}
	if code := get("wrong"); code != http.StatusUnauthorized {
		t.Errorf("with a wrong token: %d", code)
	}
	if code := get("s3cret-admin"); code != http.StatusNotFound {
		t.Errorf("with the token, an unknown ticket: %d", code)
	}
}

func TestTheCalendarFollowsHolidayOverrides(t *testing.T) {
	m := openMain(t, "")
	ctx := context.Background()
	day := time.Date(2027, 1, 1, 10, 0, 0, 0, m.Config.Location()) // a Friday, past the built-in calendar
	if !m.Calendar.IsWorkday(day) {
		t.Fatal("2027-01-01 is a working day before any override")
	}
	if err := m.Store.DB(ctx).Create(&models.HolidayOverride{Date: "2027-01-01", Name: "元旦"}).Error; err != nil {
		t.Fatal(err)
	}
	// A Main opened afterwards knows it at once ...
	again, err := Open(ctx, m.Config, Options{LogOutput: &serveLogs{}})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if work, name := again.Calendar.DayInfo(day); work || name != "元旦" {
		t.Errorf("a new Main sees 2027-01-01 as work=%v %q", work, name)
	}
	// ... and a serving one warns in December that next year is missing.
	logs := &serveLogs{}
	if m.Log, err = newLogger(config.Log{Level: "info"}, Options{LogFormat: "json", LogOutput: logs}); err != nil {
		t.Fatal(err)
	}
	m.Now = func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, m.Config.Location()) }
	m.warnMissingHolidays(ctx)
	if strings.Contains(logs.String(), "next year's public holidays are not entered") {
		t.Errorf("warned although 2027 has an override: %s", logs.String())
	}
	m.Now = func() time.Time { return time.Date(2027, 12, 1, 9, 0, 0, 0, m.Config.Location()) }
	m.warnMissingHolidays(ctx)
	if !strings.Contains(logs.String(), "next year's public holidays are not entered") {
		t.Errorf("no warning for 2028: %q", logs.String())
	}
}
