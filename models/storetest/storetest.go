// Package storetest gives tests a real, migrated Store: SQLite in a temporary
// folder, and MariaDB/MySQL in a fresh database of its own when
// YANZHEN_TEST_MYSQL_DSN is set, so runs never see each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"yanzhen/models"
)

// EnvMySQL names the variable holding the MariaDB DSN of the test server, e.g.
// root@tcp(127.0.0.1:3306)/test.
const EnvMySQL = "YANZHEN_TEST_MYSQL_DSN"

// EnvRequireMySQL, when set (as CI sets it), turns a missing EnvMySQL from a
// skip into a failure, so a MySQL run can never silently not happen.
const EnvRequireMySQL = "YANZHEN_TEST_REQUIRE_MYSQL"

// Shanghai is the zone tests run in, whatever the machine's zone.
var Shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// At parses "2006-01-02 15:04" as a time in Asia/Shanghai; it panics on bad
// input, for literals in tests.
func At(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// Options tunes the store of a test.
type Options struct {
	// Now pins the store's clock; time.Now when nil.
	Now func() time.Time
}

// Drivers are the databases every store test runs on, in order. A test on
// mysql skips (or, with YANZHEN_TEST_REQUIRE_MYSQL, fails) when
// YANZHEN_TEST_MYSQL_DSN is unset.
var Drivers = []string{models.DriverSQLite, models.DriverMySQL}

// Each runs f as a subtest on every database of Drivers, each with a new store.
// When MySQL is not configured it says so in a skipped "mysql" subtest.
func Each(t *testing.T, f func(t *testing.T, s *models.Store)) {
	t.Helper()
	EachWith(t, Options{}, f)
}

// EachWith is Each with options.
func EachWith(t *testing.T, o Options, f func(t *testing.T, s *models.Store)) {
	t.Helper()
	for _, driver := range Drivers {
		t.Run(driver, func(t *testing.T) {
			f(t, Open(t, driver, o))
		})
	}
}

// Open returns a migrated store on driver, closed and removed when t ends.
// For mysql it skips t when YANZHEN_TEST_MYSQL_DSN is unset.
func Open(t testing.TB, driver string, o Options) *models.Store {
	t.Helper()
	var dsn string
	switch driver {
	case models.DriverSQLite:
		dsn = filepath.Join(t.TempDir(), "test.db")
	case models.DriverMySQL:
		dsn = freshMySQL(t)
	default:
		t.Fatalf("storetest: unknown driver %q", driver)
	}
	ctx := context.Background()
	s, err := models.Open(ctx, models.Options{Driver: driver, DSN: dsn, Location: Shanghai, Now: o.Now})
	if err != nil {
		t.Fatalf("storetest: open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s: %v", driver, err)
	}
	return s
}

// MySQLDSN returns the DSN of a fresh, empty database on the test server,
// dropped when t ends; it skips t when YANZHEN_TEST_MYSQL_DSN is unset.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return freshMySQL(t)
}

func freshMySQL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvMySQL)
	if base == "" {
		if os.Getenv(EnvRequireMySQL) != "" {
			t.Fatalf("storetest: %s is set but %s is not", EnvRequireMySQL, EnvMySQL)
		}
		t.Skipf("storetest: %s not set: MySQL run skipped", EnvMySQL)
	}
	cfg, err := mysqldriver.ParseDSN(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvMySQL, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "yz_test_" + hex.EncodeToString(b[:])
	admin := cfg.Clone()
	admin.DBName = ""
	db, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatalf("storetest: connect mysql: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("mysql", admin.FormatDSN())
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name)
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// keptVersionKey holds, in a kept database's kv table, the version of its data set.
const keptVersionKey = "storetest.kept.version"

// KeptMySQL opens the database name on the test server, migrated, for
// benchmarks over millions of rows that take minutes to load: it is kept
// between runs (DROP DATABASE name frees it). When it does not hold data set
// version, it is dropped, created anew and filled by load. It skips tb when
// YANZHEN_TEST_MYSQL_DSN is unset.
func KeptMySQL(tb testing.TB, name, version string, load func(*models.Store)) *models.Store {
	tb.Helper()
	base := os.Getenv(EnvMySQL)
	if base == "" {
		tb.Skipf("storetest: %s not set", EnvMySQL)
	}
	cfg, err := mysqldriver.ParseDSN(base)
	if err != nil {
		tb.Fatalf("storetest: %s: %v", EnvMySQL, err)
	}
	admin := cfg.Clone()
	admin.DBName = ""
	db, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		tb.Fatalf("storetest: connect mysql: %v", err)
	}
	defer db.Close()
	create := "CREATE DATABASE IF NOT EXISTS " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	if _, err := db.Exec(create); err != nil {
		tb.Fatalf("storetest: create %s: %v", name, err)
	}
	cfg.DBName = name
	ctx := context.Background()
	open := func() *models.Store {
		s, err := models.Open(ctx, models.Options{Driver: models.DriverMySQL, DSN: cfg.FormatDSN(), Location: Shanghai})
		if err != nil {
			tb.Fatalf("storetest: open %s: %v", name, err)
		}
		if err := s.Migrate(ctx); err != nil {
			tb.Fatalf("storetest: migrate %s: %v", name, err)
		}
		return s
	}
	s := open()
	if kv, err := s.GetKV(ctx, keptVersionKey); err == nil && kv.Value == version {
		tb.Cleanup(func() { s.Close() })
		return s
	}
	s.Close()
	for _, stmt := range []string{"DROP DATABASE " + name, create} {
		if _, err := db.Exec(stmt); err != nil {
			tb.Fatalf("storetest: recreate %s: %v", name, err)
		}
	}
	s = open()
	tb.Cleanup(func() { s.Close() })
	start := time.Now()
	load(s)
	if err := s.PutKV(ctx, keptVersionKey, version, nil); err != nil {
		tb.Fatalf("storetest: mark %s loaded: %v", name, err)
	}
	tb.Logf("storetest: loaded %s in %s", name, time.Since(start).Round(time.Second))
	return s
}

// DropIndexes drops the secondary indexes of model's table on MySQL, those a
// foreign key needs excepted, so that a bulk load does not maintain them;
// Migrate builds them again afterwards, many times faster.
func DropIndexes(tb testing.TB, s *models.Store, model any) {
	tb.Helper()
	db := s.DB(context.Background())
	table := s.Table(model)
	var indexes []string
	err := db.Raw(`SELECT DISTINCT index_name FROM information_schema.statistics
		WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'`, table).Scan(&indexes).Error
	if err != nil {
		tb.Fatalf("storetest: list indexes of %s: %v", table, err)
	}
	for _, ix := range indexes {
		_ = db.Exec("ALTER TABLE " + table + " DROP INDEX " + ix).Error // those a foreign key needs stay
	}
}
