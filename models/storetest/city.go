package storetest

import (
	"context"
	"fmt"
	"os"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"yanzhen/models"
)

// City is the layout of a city for benchmarks: districts, each with one
// district group (its departments and streets) and a group per street (the
// street's communities), and tickets spread over the units.
type City struct {
	Districts int
	// StreetsPer streets and DepartmentsPer departments in each district;
	// CommunitiesPer communities under each street.
	StreetsPer, DepartmentsPer, CommunitiesPer int
	// Open tickets; OverduePct of them (per cent) past their deadline at Now,
	// spread over up to ten working days, the others due within the next
	// twenty days. Every GridEvery-th ticket of a department also goes to a
	// street (双派单). Closed tickets resolved over the month before Now.
	Open, Closed, OverduePct, GridEvery int
	Now                                 time.Time
}

// BigCity is the city of issue 15: 16 districts, 400 groups, 6,000 units.
var BigCity = City{Districts: 16, StreetsPer: 24, DepartmentsPer: 39, CommunitiesPer: 13, OverduePct: 5, GridEvery: 10}

// EnvBenchBig turns the benchmarks over a city from CI-sized to full size.
const EnvBenchBig = "YANZHEN_BENCH_BIG"

// BenchCity is the city of the benchmarks at a time: CI-sized (68 units,
// 40,000 tickets) by default, the city of issue 15 with 1,000,000 open
// tickets and 2,000,000 closed over the month before under
// YANZHEN_BENCH_BIG=1. It reports whether it is the full one.
func BenchCity() (City, bool) {
	now := At("2026-11-18 10:00") // a Wednesday
	if os.Getenv(EnvBenchBig) != "" {
		c := BigCity
		c.Open, c.Closed, c.Now = 1_000_000, 2_000_000, now
		return c, true
	}
	return City{Districts: 2, StreetsPer: 4, DepartmentsPer: 10, CommunitiesPer: 5, OverduePct: 5, GridEvery: 10,
		Open: 20_000, Closed: 20_000, Now: now}, false
}

// benchCityVersion changes when BenchCity or SeedCity do, to load the kept
// database again.
const benchCityVersion = "1"

// CityStore returns a store holding BenchCity on driver: a new one, or at
// full size on MariaDB the database yz_bench_city, loaded once and kept
// between runs (DROP DATABASE yz_bench_city frees it).
func CityStore(tb testing.TB, driver string) (*models.Store, City) {
	tb.Helper()
	city, big := BenchCity()
	if big && driver == models.DriverMySQL {
		return KeptMySQL(tb, "yz_bench_city", benchCityVersion, func(s *models.Store) { SeedCity(tb, s, city) }), city
	}
	s := Open(tb, driver, Options{})
	SeedCity(tb, s, city)
	return s, city
}

// Units is how many units the city has.
func (c City) Units() int {
	return c.Districts * (c.DepartmentsPer + c.StreetsPer*(1+c.CommunitiesPer))
}

// Groups is how many work groups the city has.
func (c City) Groups() int { return c.Districts * (1 + c.StreetsPer) }

// Seeded is what SeedCity made.
type Seeded struct {
	// Units are the departments in their order; Streets the streets among them.
	Units, Streets []models.Department
}

// SeedCity fills an empty store with c: departments, heads and handlers for
// every unit, two leaders per district, the work groups, and the tickets in
// multi-row INSERTs sized for the database.
func SeedCity(tb testing.TB, s *models.Store, c City) Seeded {
	tb.Helper()
	ctx := context.Background()
	db := s.DB(ctx)
	var out Seeded
	var members []models.Member
	type groupOf struct {
		g     models.Group
		units []int // indexes in out.Units
	}
	var groups []groupOf
	sort := 0
	add := func(d models.Department) int {
		sort++
		d.Sort = sort
		d.Code = fmt.Sprintf("u%05d", sort)
		out.Units = append(out.Units, d)
		return len(out.Units) - 1
	}
	for di := range c.Districts {
		district := fmt.Sprintf("第%02d区", di+1)
		dg := groupOf{g: models.Group{Code: fmt.Sprintf("d%02d", di+1), Name: district + "联系服务群众工作群", District: district,
			ChatID: fmt.Sprintf("wrkD%02d", di+1), ReportAt: "18:00", RemindAt: "17:30"}}
		for j := range c.DepartmentsPer {
			dg.units = append(dg.units, add(models.Department{District: district, Name: fmt.Sprintf("第%d局", j+1),
				Tier: models.TierDepartment, ReportRequired: true}))
		}
		var streetGroups []groupOf
		for j := range c.StreetsPer {
			st := add(models.Department{District: district, Name: fmt.Sprintf("第%d街道", j+1), Tier: models.TierStreet, ReportRequired: true})
			dg.units = append(dg.units, st)
			sg := groupOf{g: models.Group{Code: fmt.Sprintf("d%02ds%02d", di+1, j+1), Name: district + fmt.Sprintf("第%d街道工作群", j+1),
				District: district, ChatID: fmt.Sprintf("wrkD%02dS%02d", di+1, j+1), ReportAt: "17:30", RemindAt: "17:00"}}
			for k := range c.CommunitiesPer {
				sg.units = append(sg.units, add(models.Department{District: district, Name: fmt.Sprintf("第%d街道第%d社区", j+1, k+1),
					Tier: models.TierCommunity, ReportRequired: true, ParentID: ptr(uint(st + 1))}))
			}
			streetGroups = append(streetGroups, sg)
		}
		groups = append(append(groups, dg), streetGroups...)
		for k := range 2 {
			members = append(members, models.Member{UserID: fmt.Sprintf("leader%02d%d", di+1, k), Name: fmt.Sprintf("领导%02d%d", di+1, k),
				Role: models.RoleLeader, District: district, Main: k == 0, Active: true})
		}
	}
	for i := range out.Units {
		out.Units[i].ID = uint(i + 1)
	}
	if err := db.CreateInBatches(out.Units, 200).Error; err != nil {
		tb.Fatalf("storetest: seed units: %v", err)
	}
	for i := range out.Units {
		u := &out.Units[i]
		if u.Tier == models.TierStreet {
			out.Streets = append(out.Streets, *u)
		}
		members = append(members,
			models.Member{UserID: "h" + u.Code, Name: "负责人" + u.Code, Role: models.RoleHead, DepartmentID: &u.ID, Active: true},
			models.Member{UserID: "w" + u.Code, Name: "经办人" + u.Code, Role: models.RoleHandler, DepartmentID: &u.ID, Active: true})
	}
	if err := db.CreateInBatches(members, 200).Error; err != nil {
		tb.Fatalf("storetest: seed members: %v", err)
	}
	var links []models.GroupUnit
	for i := range groups {
		g := &groups[i].g
		g.Sort = i + 1
		g.ID = uint(i + 1)
		if err := db.Create(g).Error; err != nil {
			tb.Fatalf("storetest: seed group %s: %v", g.Code, err)
		}
		for _, u := range groups[i].units {
			links = append(links, models.GroupUnit{GroupID: g.ID, DepartmentID: uint(u + 1)})
		}
	}
	if err := db.CreateInBatches(links, 200).Error; err != nil {
		tb.Fatalf("storetest: seed group units: %v", err)
	}
	seedTickets(tb, s, c, out)
	return out
}

// ticketColumns are the columns seedTickets writes.
var ticketColumns = []string{"number", "source", "category", "title", "department_id", "grid_department_id", "received_at",
	"deadline", "deadline_source", "resolved_at", "status", "reopen_count", "assessed", "excluded", "priority", "difficult",
	"raised_level", "created_at", "updated_at"}

// seedTickets inserts c's open and closed tickets, 50,000 a transaction.
// On MariaDB the server makes them itself (seedTicketsServerSide).
func seedTickets(tb testing.TB, s *models.Store, c City, city Seeded) {
	tb.Helper()
	if s.Driver() == models.DriverMySQL {
		seedTicketsServerSide(tb, s, c)
		return
	}
	ctx := context.Background()
	perStmt := 500
	if s.Driver() == models.DriverSQLite {
		perStmt = 999 / len(ticketColumns)
	}
	head := "INSERT INTO " + s.Table(&models.Ticket{}) + " (" + strings.Join(ticketColumns, ",") + ") VALUES "
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(ticketColumns)), ",") + ")"
	total := c.Open + c.Closed
	overdue := c.Open * c.OverduePct / 100
	categories := []string{"咨询", "求助", "投诉", "举报", "建议"}
	const perTx = 50_000
	for lo := 0; lo < total; lo += perTx {
		hi := min(lo+perTx, total)
		tx := s.DB(ctx).Begin()
		var args []any
		flush := func() {
			if len(args) == 0 {
				return
			}
			n := len(args) / len(ticketColumns)
			q := head + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
			if err := tx.Exec(q, args...).Error; err != nil {
				tx.Rollback()
				tb.Fatalf("storetest: seed tickets: %v", err)
			}
			args = args[:0]
		}
		for i := lo; i < hi; i++ {
			unit := &city.Units[(i*7919)%len(city.Units)]
			var grid *uint
			if c.GridEvery > 0 && unit.Tier == models.TierDepartment && i%c.GridEvery == 0 && len(city.Streets) > 0 {
				grid = &city.Streets[(i/c.GridEvery)%len(city.Streets)].ID
			}
			var deadline, received time.Time
			var resolved *time.Time
			status := models.TicketInProgress
			switch {
			case i < overdue: // up to 14 days late, about ten working days
				deadline = c.Now.Add(-time.Duration(1+(i*7907)%(14*24*60)) * time.Minute)
			case i < c.Open:
				deadline = c.Now.Add(time.Duration(1+(i*7907)%(20*24*60)) * time.Minute)
				if i%5 == 0 {
					status = models.TicketPending
				}
			default:
				deadline = c.Now.Add(-time.Duration(1+(i*7907)%(30*24*60)) * time.Minute)
				resolved, status = ptr(deadline.Add(-time.Hour)), models.TicketResolved
			}
			received = deadline.Add(-5 * 24 * time.Hour)
			args = append(args, fmt.Sprintf("C%010d", i+1), string(models.SourceCity), categories[i%len(categories)],
				fmt.Sprintf("第%d号诉求：小区路灯不亮，夜间出行不便", i+1), unit.ID, grid, received, deadline, string(models.DeadlineRule),
				resolved, string(status), 0, false, false, false, false, "", received, received)
			if len(args) == perStmt*len(ticketColumns) {
				flush()
			}
		}
		flush()
		if err := tx.Commit().Error; err != nil {
			tb.Fatalf("storetest: seed tickets: %v", err)
		}
	}
}

// seedTicketsServerSide makes the tickets seedTickets writes, the same
// ones, in INSERT … SELECT statements over MariaDB's sequence engine, with
// the tickets' indexes dropped meanwhile and built again by Migrate.
func seedTicketsServerSide(tb testing.TB, s *models.Store, c City) {
	tb.Helper()
	ctx := context.Background()
	db := s.DB(ctx)
	DropIndexes(tb, s, &models.Ticket{})
	total := c.Open + c.Closed
	overdue := c.Open * c.OverduePct / 100
	grid := c.GridEvery
	if grid == 0 {
		grid = total + 1
	}
	now := c.Now.In(Shanghai).Format("2006-01-02 15:04:05")
	q := `INSERT INTO ` + s.Table(&models.Ticket{}) + ` (` + strings.Join(ticketColumns, ",") + `)
SELECT CONCAT('C', LPAD(seq + 1, 10, '0')), ?, ELT(1 + seq MOD 5, '咨询', '求助', '投诉', '举报', '建议'),
	CONCAT('第', seq + 1, '号诉求：小区路灯不亮，夜间出行不便'), d.id,
	IF(d.kind = ? AND seq MOD ? = 0, st.id, NULL), deadline - INTERVAL 5 DAY, deadline, ?,
	IF(seq >= ?, deadline - INTERVAL 1 HOUR, NULL), CASE WHEN seq >= ? THEN ? WHEN seq >= ? AND seq MOD 5 = 0 THEN ? ELSE ? END,
	0, FALSE, FALSE, FALSE, FALSE, '', deadline - INTERVAL 5 DAY, deadline - INTERVAL 5 DAY
FROM (SELECT seq, CASE
		WHEN seq < ? THEN TIMESTAMP(?) - INTERVAL 1 + (seq * 7907) MOD (14 * 24 * 60) MINUTE
		WHEN seq < ? THEN TIMESTAMP(?) + INTERVAL 1 + (seq * 7907) MOD (20 * 24 * 60) MINUTE
		ELSE TIMESTAMP(?) - INTERVAL 1 + (seq * 7907) MOD (30 * 24 * 60) MINUTE END AS deadline
	FROM seq_0_to_` + fmt.Sprint(total-1) + ` WHERE seq BETWEEN ? AND ?) x
JOIN ` + s.Table(&models.Department{}) + ` d ON d.id = 1 + (x.seq * 7919) MOD ?
LEFT JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM ` + s.Table(&models.Department{}) + ` WHERE kind = ?) st
	ON st.k = (x.seq DIV ?) MOD ?`
	var units, streets int64
	if err := db.Model(&models.Department{}).Count(&units).Error; err != nil {
		tb.Fatal(err)
	}
	if err := db.Model(&models.Department{}).Where("kind = ?", models.TierStreet).Count(&streets).Error; err != nil {
		tb.Fatal(err)
	}
	const chunk = 500_000
	for lo := 0; lo < total; lo += chunk {
		hi := min(lo+chunk, total) - 1
		err := db.Exec(q, string(models.SourceCity), string(models.TierDepartment), grid, string(models.DeadlineRule),
			c.Open, c.Open, string(models.TicketResolved), overdue, string(models.TicketPending), string(models.TicketInProgress),
			overdue, now, c.Open, now, now, lo, hi, units, string(models.TierStreet), grid, max(streets, 1)).Error
		if err != nil {
			tb.Fatalf("storetest: seed tickets %d–%d: %v", lo, hi, err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := db.Exec("ANALYZE TABLE " + s.Table(&models.Ticket{})).Error; err != nil {
		tb.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// HeapBytes is the heap's live objects now.
func HeapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// SampleHeap samples HeapBytes every 2 ms until the returned stop is called,
// which returns the largest seen.
func SampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	finished := make(chan struct{})
	var peak uint64
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, HeapBytes())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak }
}
