package report_test

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

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

// ledgerRows is the length of the benchmark's ledger: targets of dispatches
// issued in one month.
const ledgerRows = 100_000

// BenchmarkLedgerExport100k exports a month's dispatch ledger of 100,000
// targets (50,000 dispatches, 250,000 steps) from SQLite to .xlsx and prints
// the time, the peak heap during the export and, as floors measured in the
// same run, the time to read the same rows without writing them and the heap
// before the export. The budget is 10 s and 300 MB.
func BenchmarkLedgerExport100k(b *testing.B) {
	s := storetest.Open(b, models.DriverSQLite, storetest.Options{})
	loadLedger(b, s)
	cfg := config.Default()
	builder := report.New(s, cfg.Domain(), calendar.New(cfg.Location(), nil))
	now := at("2026-12-01 09:00")
	nov := models.MonthOf(at("2026-11-15 00:00"), storetest.Shanghai, 1)
	q := models.DispatchQuery{Period: nov}
	start := time.Now()
	n := 0
	if err := s.EachDispatchRecord(ctx, q, func(*models.DispatchRecord) error { n++; return nil }); err != nil {
		b.Fatal(err)
	}
	if err := s.EachDispatchStep(ctx, q, func(*models.DispatchStepRecord) error { n++; return nil }); err != nil {
		b.Fatal(err)
	}
	readFloor := time.Since(start)
	if want := ledgerRows + ledgerRows/2*5; n != want {
		b.Fatalf("read %d rows, want %d", n, want)
	}
	runtime.GC()
	base := storetest.HeapBytes()
	var peak uint64
	size := 0
	for b.Loop() {
		stop := storetest.SampleHeap()
		e, err := builder.Export(ctx, report.ExportRequest{Kind: report.ExportLedger, Period: nov, Now: now})
		if err != nil {
			b.Fatal(err)
		}
		var out countingWriter
		if err := e.Workbook.Write(&out); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, stop())
		size = int(out)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(base)/(1<<20), "floor-heap-MB")
	b.ReportMetric(readFloor.Seconds(), "floor-read-s")
	b.ReportMetric(float64(size)/(1<<20), "xlsx-MB")
}

// countingWriter counts what is written to it.
type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// loadLedger fills the store with a leader, 100 units and 50,000 dispatches
// issued in November 2026 to two units each, each target signed and fed
// back on, half of them finished.
func loadLedger(b *testing.B, s *models.Store) {
	b.Helper()
	db := s.DB(ctx)
	leader := models.Member{UserID: "leader", Name: "周建国", Role: models.RoleLeader, Active: true}
	if err := db.Create(&leader).Error; err != nil {
		b.Fatal(err)
	}
	depts := make([]models.Department, 100)
	for i := range depts {
		depts[i] = models.Department{Code: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("第%d街道办事处", i+1), Tier: models.TierStreet, Sort: i}
	}
	if err := db.CreateInBatches(depts, 100).Error; err != nil {
		b.Fatal(err)
	}
	start := at("2026-11-01 08:00")
	const perBatch = 500
	for first := 0; first < ledgerRows/2; first += perBatch {
		var ds []models.Dispatch
		for i := first; i < first+perBatch; i++ {
			issued := start.Add(time.Duration(i) * 50 * time.Second)
			ds = append(ds, models.Dispatch{ID: uint(i + 1), IssuerID: leader.ID, Instruction: "请于明天下班前办结并回复群众，办理情况在群内反馈",
				TicketNumbers: models.StringList{fmt.Sprintf("2026110%06d", i)}, Deadline: ptr(issued.Add(30 * time.Hour)),
				Status: models.DispatchOpen, IssuedAt: issued})
		}
		var ts []models.DispatchTarget
		var es []models.DispatchEvent
		for _, d := range ds {
			es = append(es, models.DispatchEvent{DispatchID: d.ID, Step: models.StepIssue, Actor: "leader", Text: d.Instruction, At: d.IssuedAt})
			for j := range 2 {
				id := uint(len(ts)) + uint(first)*2 + 1
				dept := &depts[(int(d.ID)*2+j)%len(depts)].ID
				signed, fed := d.IssuedAt.Add(10*time.Minute), d.IssuedAt.Add(3*time.Hour)
				t := models.DispatchTarget{ID: id, DispatchID: d.ID, DepartmentID: dept, Status: models.TargetFeedback,
					SignedAt: &signed, SignedBy: "leader", FeedbackAt: &fed, Feedback: "已联系群众，正在协调处理"}
				if j == 0 {
					done := d.IssuedAt.Add(20 * time.Hour)
					t.Status, t.DoneAt, t.Result = models.TargetDone, &done, "已办结并回复群众"
				}
				ts = append(ts, t)
				es = append(es, models.DispatchEvent{DispatchID: d.ID, TargetID: &t.ID, Step: models.StepSign, Actor: "leader", At: signed})
				if j == 0 {
					es = append(es, models.DispatchEvent{DispatchID: d.ID, TargetID: &t.ID, Step: models.StepDone, Actor: "leader", Text: t.Result, At: *t.DoneAt})
				} else {
					es = append(es, models.DispatchEvent{DispatchID: d.ID, TargetID: &t.ID, Step: models.StepFeedback, Actor: "leader", Text: t.Feedback, At: fed})
				}
			}
		}
		err := s.Tx(ctx, func(tx *models.Store) error {
			if err := tx.DB(ctx).Omit("Targets", "Issuer").CreateInBatches(ds, 100).Error; err != nil {
				return err
			}
			if err := tx.DB(ctx).Omit("Department", "Member").CreateInBatches(ts, 100).Error; err != nil {
				return err
			}
			return tx.DB(ctx).CreateInBatches(es, 100).Error
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
