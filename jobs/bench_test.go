package jobs_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// EnvBenchBig turns on the benchmarks at city scale.
const EnvBenchBig = "YANZHEN_BENCH_BIG"

// scanCity is the city of the overdue scan's benchmark: CI-sized by
// default, the city of issue 15 with 1,000,000 open tickets under
// YANZHEN_BENCH_BIG=1.
func scanCity() (storetest.City, bool) {
	now := at("2026-11-18 10:00") // a Wednesday
	if os.Getenv(EnvBenchBig) != "" {
		c := storetest.BigCity
		c.Open, c.Now = 1_000_000, now
		return c, true
	}
	return storetest.City{Districts: 2, StreetsPer: 4, DepartmentsPer: 10, CommunitiesPer: 5, OverduePct: 5, GridEvery: 10,
		Open: 20_000, Now: now}, false
}

// scanBenchVersion changes when scanCity or SeedCity do, to load the kept
// MariaDB database again.
const scanBenchVersion = "2"

// BenchmarkOverdueScan runs the overdue scan over a city's open tickets (5 %
// overdue, spread over the levels of the ladder, the units and the groups;
// one in ten of the departments' tickets also sent to a street), first at
// 10:00 and again at 14:00 (the 4-hour repeat), and prints each time with
// the peak heap during the scan, against a floor measured in the same run:
// the raw SQL that, per level of the ladder, reads the tickets due for it
// and records their alerts in one INSERT … SELECT (the repeat: reads them
// and bumps their alerts in one UPDATE). CI-sized (20,000 tickets, 68 units)
// by default:
//
//	go test ./jobs -run '^$' -bench OverdueScan -benchtime 1x
//	YANZHEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' go test ./jobs -run '^$' -bench OverdueScan -benchtime 1x
//
// At city scale (1,000,000 open tickets, 16 districts, 400 groups, 6,000
// units; loaded once into the kept database yz_bench_scan), on MariaDB:
//
//	YANZHEN_BENCH_BIG=1 YANZHEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' \
//	  go test ./jobs -run '^$' -bench 'OverdueScan/mysql' -benchtime 1x -timeout 60m
func BenchmarkOverdueScan(b *testing.B) {
	city, big := scanCity()
	for _, driver := range storetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			var s *models.Store
			if big && driver == models.DriverMySQL {
				s = storetest.KeptMySQL(b, "yz_bench_scan", scanBenchVersion, func(s *models.Store) { storetest.SeedCity(b, s, city) })
			} else {
				s = storetest.Open(b, driver, storetest.Options{})
				storetest.SeedCity(b, s, city)
			}
			benchScan(b, s, city)
		})
	}
}

// scanFigures are one iteration's times and peak heaps.
type scanFigures struct {
	first, firstFloor, repeat, repeatFloor time.Duration
	firstPeak, repeatPeak                  uint64
}

func benchScan(b *testing.B, s *models.Store, city storetest.City) {
	cfg := config.Default()
	cal := calendar.New(cfg.Location(), nil)
	runner := runnerOn(s)
	first, repeat := city.Now, city.Now.Add(4*time.Hour)
	var sum scanFigures
	var alerts, floorAlerts map[string]int64
	for b.Loop() {
		clearScans(b, s)
		sum.firstFloor += timed(func() { scanFloor(b, s, cal, cfg.Rules.Escalation, first, false) })
		floorAlerts = alertCounts(b, s)
		sum.repeatFloor += timed(func() { scanFloor(b, s, cal, cfg.Rules.Escalation, repeat, true) })
		clearScans(b, s)
		var res jobs.Result
		d, peak := measured(func() { res = benchRun(b, runner, first) })
		sum.first, sum.firstPeak = sum.first+d, max(sum.firstPeak, peak)
		alerts = alertCounts(b, s)
		b.Logf("first scan: %s", res.Summary)
		d, peak = measured(func() { res = benchRun(b, runner, repeat) })
		sum.repeat, sum.repeatPeak = sum.repeat+d, max(sum.repeatPeak, peak)
		b.Logf("repeat scan: %s", res.Summary)
	}
	if fmt.Sprint(alerts) != fmt.Sprint(floorAlerts) {
		b.Errorf("the scan recorded alerts %v, the floor %v", alerts, floorAlerts)
	}
	n := time.Duration(b.N)
	fmt.Printf("overdue scan %s, %d open tickets (%d overdue), %d units, %d groups: alerts %v\n",
		s.Driver(), city.Open, city.Open*city.OverduePct/100, city.Units(), city.Groups(), alerts)
	fmt.Printf("  first:  scan %s, floor %s, ratio %.2f×, peak heap %.1f MB\n",
		(sum.first / n).Round(time.Millisecond), (sum.firstFloor / n).Round(time.Millisecond), ratio(sum.first, sum.firstFloor), mb(sum.firstPeak))
	fmt.Printf("  repeat: scan %s, floor %s, ratio %.2f×, peak heap %.1f MB\n",
		(sum.repeat / n).Round(time.Millisecond), (sum.repeatFloor / n).Round(time.Millisecond), ratio(sum.repeat, sum.repeatFloor), mb(sum.repeatPeak))
	b.ReportMetric((sum.first / n).Seconds(), "first-s")
	b.ReportMetric(ratio(sum.first, sum.firstFloor), "first-ratio")
	b.ReportMetric((sum.repeat / n).Seconds(), "repeat-s")
	b.ReportMetric(ratio(sum.repeat, sum.repeatFloor), "repeat-ratio")
	b.ReportMetric(mb(max(sum.firstPeak, sum.repeatPeak)), "peak-heap-MB")
}

// benchRun runs the scan at when.
func benchRun(b *testing.B, r *jobs.Runner, when time.Time) jobs.Result {
	res, err := r.RunAt(ctx, jobs.OverdueScan, when)
	if err != nil || !res.Ran {
		b.Fatalf("overdue scan at %s: %+v %v", when, res, err)
	}
	return res
}

// clearScans forgets what earlier scans recorded and sent.
func clearScans(b *testing.B, s *models.Store) {
	for _, m := range []any{&models.Alert{}, &models.Announcement{}, &models.OutboxMessage{}, &models.JobRun{}} {
		if err := s.DB(ctx).Exec("DELETE FROM " + s.Table(m)).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// scanFloor is the raw SQL of a scan at now: per level of the ladder, a read
// of the open tickets due for it (and of the grid streets' parts, 双派单),
// and one statement that records their alerts (a first scan) or bumps them
// (repeat).
func scanFloor(b *testing.B, s *models.Store, cal *calendar.Calendar, ladder []config.Step, now time.Time, repeat bool) {
	db := s.DB(ctx)
	tickets, alerts := s.Table(&models.Ticket{}), s.Table(&models.Alert{})
	bounds := levelBounds(cal, ladder, now)
	for i, step := range ladder {
		for _, kind := range []models.AlertSubject{models.SubjectTicket, models.SubjectGrid} {
			where := " FROM " + tickets + " WHERE status IN ? AND claimed_done_at IS NULL AND department_id IS NOT NULL AND deadline <= ?"
			args := []any{models.OpenTicketStatuses, bounds[i]}
			if i+1 < len(ladder) {
				where += " AND deadline > ?"
				args = append(args, bounds[i+1])
			}
			dept := "department_id"
			if kind == models.SubjectGrid {
				where += " AND grid_department_id IS NOT NULL AND grid_department_id <> department_id"
				dept = "grid_department_id"
			}
			rows, err := db.Raw("SELECT id, number, title, "+dept+", deadline"+where, args...).Rows()
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var id, unit uint
				var number, title string
				var deadline time.Time
				if err := rows.Scan(&id, &number, &title, &unit, &deadline); err != nil {
					b.Fatal(err)
				}
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
			if repeat {
				err = db.Exec("UPDATE "+alerts+" SET count = count + 1, last_sent_at = ? WHERE subject_kind = ? AND level = ? AND acked_at IS NULL AND last_sent_at <= ? AND subject_id IN (SELECT id"+where+")",
					append([]any{now, kind, step.Level, now.Add(-4 * time.Hour)}, args...)...).Error
			} else {
				err = db.Exec("INSERT INTO "+alerts+" (subject_kind, subject_id, level, department_id, first_sent_at, last_sent_at, count) SELECT ?, id, ?, "+dept+", ?, ?, 1"+where,
					append([]any{kind, step.Level, now, now}, args...)...).Error
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// levelBounds returns, per step of the ladder, the latest deadline for
// which the step has come at now (jobs.Reached is monotonic in the deadline).
func levelBounds(cal *calendar.Calendar, ladder []config.Step, now time.Time) []time.Time {
	out := make([]time.Time, len(ladder))
	for i := range ladder {
		lo, hi := now.AddDate(0, 0, -90), now.AddDate(0, 0, 90) // reached at lo, not at hi
		for hi.Sub(lo) > time.Microsecond {
			mid := lo.Add(hi.Sub(lo) / 2)
			if jobs.Reached(cal, ladder, mid, now) >= i {
				lo = mid
			} else {
				hi = mid
			}
		}
		out[i] = lo
	}
	return out
}

// alertCounts counts the recorded alerts by subject and level.
func alertCounts(b *testing.B, s *models.Store) map[string]int64 {
	var rows []struct {
		SubjectKind, Level string
		N                  int64
	}
	err := s.DB(ctx).Model(&models.Alert{}).Select("subject_kind, level, COUNT(*) AS n").Group("subject_kind, level").Scan(&rows).Error
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.SubjectKind+"/"+r.Level] = r.N
	}
	return out
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// measured runs f and returns how long it took and the peak heap meanwhile.
func measured(f func()) (time.Duration, uint64) {
	runtime.GC()
	stop := storetest.SampleHeap()
	d := timed(f)
	return d, stop()
}

func ratio(a, floor time.Duration) float64 { return a.Seconds() / floor.Seconds() }

func mb(n uint64) float64 { return float64(n) / (1 << 20) }
