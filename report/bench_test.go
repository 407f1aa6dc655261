package report_test

import (
	"fmt"
	"os"
	"testing"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/report"
)

// EnvBenchBig turns on the benchmark over 5,000,000 tickets.
const EnvBenchBig = "YANZHEN_BENCH_BIG"

const (
	benchDB      = "yz_bench_daily"
	benchDepts   = 500
	benchTickets = 5_000_000
	benchDay     = "2026-11-20"
	// benchVersion changes when loadBench does, to load again.
	benchVersion = "1"
)

// BenchmarkDailyBig builds and renders the daily report of 500 departments
// over 5,000,000 tickets on MariaDB. The data set is loaded once, server-side,
// into the database yz_bench_daily, and kept for later runs:
//
//	YANZHEN_BENCH_BIG=1 YANZHEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' \
//	  go test ./report -run '^$' -bench DailyBig -benchtime 5x
func BenchmarkDailyBig(b *testing.B) {
	base := os.Getenv(storetest.EnvMySQL)
	if os.Getenv(EnvBenchBig) == "" || base == "" {
		b.Skipf("set %s=1 and %s to run: %s=1 %s='root@tcp(127.0.0.1:3306)/test' go test ./report -run '^$' -bench DailyBig -benchtime 5x",
			EnvBenchBig, storetest.EnvMySQL, EnvBenchBig, storetest.EnvMySQL)
	}
	s := storetest.KeptMySQL(b, benchDB, benchVersion, func(s *models.Store) { loadBench(b, s) })
	cfg := config.Default()
	builder := report.New(s, cfg.Domain(), calendar.New(cfg.Location(), nil))
	day, now := at(benchDay+" 00:00"), at(benchDay+" 18:00")
	var msgs []string
	for b.Loop() {
		d, err := builder.Daily(ctx, day, now)
		if err != nil {
			b.Fatal(err)
		}
		msgs = bodies(d.Message())
	}
	bytes := 0
	for _, m := range msgs {
		bytes += len(m)
		if len(m) > 4096 {
			b.Errorf("a message has %d bytes", len(m))
		}
	}
	if len(msgs) > 20 {
		b.Errorf("the report takes %d messages, want at most 20", len(msgs))
	}
	b.ReportMetric(float64(len(msgs)), "messages")
	b.ReportMetric(float64(bytes), "bytes")
}

// loadBench fills an empty benchmark database: 40 区级部门 and 20 镇街 that
// must report (50 of them did), 440 社区 that need not; tickets spread over
// two years before the report day, about 1% of them open. The tickets' indexes
// are dropped for the load and built again by Migrate afterwards, which is
// many times faster than inserting into them.
func loadBench(b *testing.B, s *models.Store) {
	b.Helper()
	db := s.DB(ctx)
	t := s.Table(&models.Ticket{})
	storetest.DropIndexes(b, s, &models.Ticket{})
	for i := 1; i <= benchDepts; i++ {
		d := models.Department{ID: uint(i), Code: fmt.Sprintf("d%03d", i), Sort: i}
		switch {
		case i <= 40:
			d.Name, d.Tier, d.ReportRequired = fmt.Sprintf("区第%d局", i), models.TierDepartment, true
		case i <= 60:
			d.Name, d.Tier, d.ReportRequired = fmt.Sprintf("第%d街道", i-40), models.TierStreet, true
		default:
			d.Name, d.Tier = fmt.Sprintf("第%d社区", i-60), models.TierCommunity
		}
		if err := db.Create(&d).Error; err != nil {
			b.Fatal(err)
		}
		if !d.ReportRequired {
			continue
		}
		m := models.Member{UserID: fmt.Sprintf("head%03d", i), Name: "负责人" + d.Code, Role: models.RoleHead, DepartmentID: &d.ID, Active: true}
		if err := db.Create(&m).Error; err != nil {
			b.Fatal(err)
		}
		if i%6 != 0 { // 50 of 60 reported
			_, err := s.SubmitReport(ctx, models.ReportSubmission{DepartmentID: d.ID, Day: benchDay, By: m.UserID, At: at(benchDay + " 17:00"),
				Text: "今日受理工单" + fmt.Sprint(i%17+3) + "件，办结" + fmt.Sprint(i%11+2) + "件；百日攻坚：完成整治点位" + fmt.Sprint(i%5+1) + "处，群众满意度持续提升。"})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	const chunk = 500_000
	for lo := 1; lo <= benchTickets; lo += chunk {
		q := `INSERT INTO ` + t + ` (number, source, category, title, department_id, received_at, deadline, deadline_source,
	resolved_at, status, contacted, resolved, satisfaction, visited_at, reopen_count, reopened_at, assessed, excluded,
	priority, difficult, created_at, updated_at)
SELECT CONCAT('B', LPAD(seq, 10, '0')), '市级直派', ELT(1 + seq MOD 5, '咨询', '求助', '投诉', '举报', '建议'),
	CONCAT('工单', seq), dept, received, received + INTERVAL IF(seq MOD 3 = 0, 15, 5) DAY, 'rule',
	IF(open, NULL, received + INTERVAL (seq MOD 4) DAY + INTERVAL 3 HOUR), IF(open, '办理中', '已办结'),
	IF(open, NULL, seq MOD 50 <> 0), IF(open, NULL, seq MOD 10 <> 0),
	IF(open, '', CASE seq MOD 20 WHEN 0 THEN '不满意' WHEN 1 THEN '基本满意' WHEN 2 THEN '基本满意' ELSE '满意' END),
	IF(open OR seq MOD 3 <> 0, NULL, received + INTERVAL (seq MOD 4) DAY + INTERVAL 27 HOUR),
	IF(NOT open AND seq MOD 50 = 7, 1, 0),
	IF(NOT open AND seq MOD 50 = 7, received + INTERVAL (seq MOD 4) DAY + INTERVAL 51 HOUR, NULL),
	NOT open AND seq MOD 3 = 0, FALSE, FALSE, FALSE, received, received
FROM (SELECT seq, 1 + seq MOD ? AS dept, received,
		received > TIMESTAMP(?) - INTERVAL 10 DAY AND seq MOD 4 <> 0 AS open
	FROM (SELECT seq, TIMESTAMP(?) - INTERVAL (seq * 7919 MOD 1051200) MINUTE AS received
		FROM seq_1_to_5000000 WHERE seq BETWEEN ? AND ?) r) x`
		end := min(lo+chunk-1, benchTickets)
		if err := db.Exec(q, benchDepts, benchDay+" 18:00:00", benchDay+" 18:00:00", lo, end).Error; err != nil {
			b.Fatalf("load tickets %d–%d: %v", lo, end, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("ANALYZE TABLE " + t).Error; err != nil {
		b.Fatal(err)
	}
	var open int64
	if err := db.Model(&models.Ticket{}).Where("status IN ?", models.OpenTicketStatuses).Count(&open).Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("%d open tickets", open)
}
