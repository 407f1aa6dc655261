package models

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// logLine is one line a recorder received.
type logLine struct {
	level, msg string
	fields     map[string]any
}

// recorder is a Logger that keeps its lines and announces each on lines
// when that is set.
type recorder struct {
	mu    sync.Mutex
	kept  []logLine
	lines chan logLine
}

func (r *recorder) add(level, msg string, kv []any) {
	l := logLine{level: level, msg: msg, fields: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		l.fields[fmt.Sprint(kv[i])] = kv[i+1]
	}
	r.mu.Lock()
	r.kept = append(r.kept, l)
	r.mu.Unlock()
	if r.lines != nil {
		r.lines <- l
	}
}

func (r *recorder) Infow(msg string, kv ...any)  { r.add("info", msg, kv) }
func (r *recorder) Warnw(msg string, kv ...any)  { r.add("warn", msg, kv) }
func (r *recorder) Errorw(msg string, kv ...any) { r.add("error", msg, kv) }

func (r *recorder) all() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logLine(nil), r.kept...)
}

func openSQLite(t *testing.T, o Options) *Store {
	t.Helper()
	o.Driver, o.DSN = DriverSQLite, filepath.Join(t.TempDir(), "log.db")
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOutageIsLoggedOnEntryOnceAMinuteAndOnRecovery(t *testing.T) {
	var rec recorder
	var h health
	start := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	down := fmt.Errorf("dial tcp 127.0.0.1:3306: connect: connection refused")
	// A 2 min 40 s outage checked every 10 s, then a 20 s one.
	for s := 0; s <= 240; s += 10 {
		var err error
		if s < 160 || (s >= 200 && s < 220) {
			err = down
		}
		h.observe(start.Add(time.Duration(s)*time.Second), err, &rec)
	}
	var got []string
	for _, l := range rec.all() {
		got = append(got, fmt.Sprintf("%s %s %v%v", l.level, l.msg, l.fields["for"], l.fields["after"]))
	}
	want := []string{
		"error database unavailable <nil><nil>",
		"error database still unavailable 1m0s<nil>",
		"error database still unavailable 2m0s<nil>",
		"info database available again <nil>2m40s",
		"error database unavailable <nil><nil>",
		"info database available again <nil>20s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWatchHealthLogsAnOutageOnceAMinute(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := openSQLite(t, Options{Now: clock})
	rec := &recorder{lines: make(chan logLine)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.WatchHealth(ctx, time.Millisecond, rec) }()
	sqlDB, err := s.db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Close(); err != nil { // the database goes away
		t.Fatal(err)
	}
	next := func() logLine {
		t.Helper()
		select {
		case l := <-rec.lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no log line within 10 s")
		}
		return logLine{}
	}
	if l := next(); l.msg != "database unavailable" {
		t.Fatalf("first line: %+v", l)
	}
	// Checks go on every millisecond; within the same minute they say nothing.
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if l := next(); l.msg != "database still unavailable" || l.fields["failed_checks"] == 0 {
		t.Fatalf("second line: %+v", l)
	}
	cancel()
	go func() {
		for range rec.lines { // fails the count below, should a check under way log
		}
	}()
	<-done
	close(rec.lines)
	if n := len(rec.all()); n != 2 {
		t.Errorf("%d lines for one minute of outage, want 2", n)
	}
}

func TestFailedStatementsAreNotLoggedAndSlowOnesWithoutParameters(t *testing.T) {
	rec := &recorder{}
	s := openSQLite(t, Options{Log: rec})
	if err := s.db.Exec("SELECT * FROM no_such_table").Error; err == nil {
		t.Fatal("a query of a missing table did not fail")
	}
	if _, err := s.JobRunOf(context.Background(), "daily-report", "", "2026-11-20T18:00"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("missing job run: %v", err)
	}
	if lines := rec.all(); len(lines) != 0 {
		t.Fatalf("failed statements were logged: %+v", lines)
	}
	// Every statement counts as slow here: logged with its SQL, not its values.
	slow := s.db.Session(&gorm.Session{Logger: gormLog{log: rec, slow: 0}})
	var members []Member
	if err := slow.Where("userid = ?", "token-a1b2c3").Find(&members).Error; err != nil {
		t.Fatal(err)
	}
	lines := rec.all()
	if len(lines) != 1 || lines[0].msg != "slow sql statement" {
		t.Fatalf("slow statement lines: %+v", lines)
	}
	sql, _ := lines[0].fields["sql"].(string)
	if !strings.Contains(sql, "userid = ?") || strings.Contains(sql, "token-a1b2c3") {
		t.Errorf("slow statement logged as %q", sql)
	}
}
