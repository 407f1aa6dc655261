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

// Options tunes the store of a test.
type Options struct {
	// Now pins the store's clock; time.Now when nil.
	Now func() time.Time
}

// Each runs f as a subtest on every database of Drivers, each with a new store.
// When MySQL is not configured it says so in a skipped "mysql" subtest.
func Each(t *testing.T, f func(t *testing.T, s *models.Store)) {
	t.Helper()
	EachWith(t, Options{}, f)
}

// EachWith is Each with options.
func EachWith(t *testing.T, o Options, f func(t *testing.T, s *models.Store)) {
	t.Helper()
	for _, driver := range []string{models.DriverSQLite, models.DriverMySQL} {
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
