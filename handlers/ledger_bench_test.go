package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"yanzhen/bot"
	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/handlers"
	"yanzhen/jobs"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/report"
)

// BenchmarkStreetLedger answers `台账 第1街道` (a street's 3-level ledger:
// its own open tickets, those raised to it, its part of the 双派单 tickets,
// its dispatches and a line per community) asked by a leader of its
// district in a single chat, over the benchmarks' city, and prints the time
// against the budget of issue 15 (200 ms), with, as a floor measured in the
// same run, the raw SQL that reads the street's open tickets and its
// communities' counts. CI-sized by default:
//
//	go test ./handlers -run '^$' -bench StreetLedger
//
// At city scale (6,000 units, 3,000,000 tickets, 1,000,000 of them open;
// the kept database yz_bench_city), on MariaDB:
//
//	YANZHEN_BENCH_BIG=1 YANZHEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' \
//	  go test ./handlers -run '^$' -bench 'StreetLedger/mysql' -timeout 60m
func BenchmarkStreetLedger(b *testing.B) {
	for _, driver := range storetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			s, city := storetest.CityStore(b, driver)
			benchLedger(b, s, city)
		})
	}
}

func benchLedger(b *testing.B, s *models.Store, city storetest.City) {
	cfg := config.Default()
	cal := calendar.New(cfg.Location(), nil)
	now := city.Now
	reports := report.New(s, cfg.Domain(), cal)
	h, err := handlers.New(handlers.Options{
		Store: s, Outbox: bot.NewOutbox(cfg.WeCom), Config: cfg.Domain(), Calendar: cal, Reports: reports, Charts: reports,
		Now:     func() time.Time { return now },
		Reached: func(deadline, now time.Time) int { return jobs.Reached(cal, cfg.Rules.Escalation, deadline, now) },
	})
	if err != nil {
		b.Fatal(err)
	}
	var street models.Department
	if err := s.DB(ctx).Where("district = ? AND name = ?", "第01区", "第1街道").Take(&street).Error; err != nil {
		b.Fatal(err)
	}
	floor := func() {
		t := s.Table(&models.Ticket{})
		for _, col := range []string{"department_id", "grid_department_id", "raised_to_id"} {
			var rows []struct {
				ID         uint
				Number     string
				ReceivedAt time.Time
			}
			if err := s.DB(ctx).Raw("SELECT id, number, received_at FROM "+t+" WHERE "+col+" = ? AND status IN ?", street.ID, models.OpenTicketStatuses).
				Scan(&rows).Error; err != nil {
				b.Fatal(err)
			}
		}
		var counts []struct {
			DepartmentID uint
			N            int
		}
		err := s.DB(ctx).Raw("SELECT department_id, COUNT(*) AS n FROM "+t+" WHERE status IN ? AND department_id IN (SELECT id FROM "+
			s.Table(&models.Department{})+" WHERE parent_id = ?) GROUP BY department_id", models.OpenTicketStatuses, street.ID).Scan(&counts).Error
		if err != nil {
			b.Fatal(err)
		}
	}
	var took, floorTook time.Duration
	var reply string
	seq := 0
	var seen uint
	for b.Loop() {
		floorTook += timed(floor)
		seq++
		in := &models.Inbound{Route: models.RouteApp, MsgID: fmt.Sprintf("ledger-%d-%d", time.Now().UnixNano(), seq), ChatType: "single",
			FromUserID: "leader010", MsgType: "text", Text: "台账 第1街道", ReceivedAt: now}
		took += timed(func() {
			if err := h.Handle(ctx, in); err != nil {
				b.Fatal(err)
			}
		})
		var rows []models.OutboxMessage
		if err := s.DB(ctx).Where("id > ?", seen).Order("id").Find(&rows).Error; err != nil || len(rows) == 0 {
			b.Fatalf("no reply (%v)", err)
		}
		seen, reply = rows[len(rows)-1].ID, ""
		for _, r := range rows {
			reply += r.Body
		}
	}
	if !strings.Contains(reply, "【台账】第1街道") || !strings.Contains(reply, "所属社区") {
		b.Fatalf("no ledger: %q", reply)
	}
	n := time.Duration(b.N)
	fmt.Printf("street ledger %s, %d units, %d tickets (%d open): %s a question (budget 200 ms), floor (the raw SQL) %s, ratio %.2f×; %s\n",
		s.Driver(), city.Units(), city.Open+city.Closed, city.Open, (took / n).Round(100*time.Microsecond),
		(floorTook / n).Round(100*time.Microsecond), took.Seconds()/floorTook.Seconds(), firstLine(reply))
	b.ReportMetric(float64((took/n).Microseconds())/1000, "ms/question")
	b.ReportMetric(float64((floorTook/n).Microseconds())/1000, "floor-ms")
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func firstLine(s string) string {
	lines := strings.SplitN(s, "\n", 3)
	return strings.Join(lines[:min(2, len(lines))], " / ")
}
