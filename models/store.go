// Package models holds yanzhen's domain types and the Store that keeps them in
// SQLite (the default, embedded) or MySQL/MariaDB (production), with migrations
// and coded application errors. It depends on gorm and the standard library only.
package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"
)

// Drivers the Store opens.
const (
	DriverSQLite = "sqlite"
	DriverMySQL  = "mysql"
)

// Options says which database to open and how to stamp time.
type Options struct {
	Driver string // DriverSQLite or DriverMySQL
	// DSN is a file path for SQLite (created on first run) or a go-sql-driver DSN for MySQL.
	DSN string
	// Location is the configured time zone: every time is written and read in it.
	Location *time.Location
	// Now stamps CreatedAt and friends; time.Now when nil. Tests pin it.
	Now func() time.Time
	// TablePrefix prefixes every table name (tests sharing one database).
	TablePrefix string
	// Log receives slow statements and gorm's own warnings, never a
	// statement's parameters; nothing is logged when nil. A failed statement
	// is not logged: its caller reports the error.
	Log Logger
}

// Store is the database. It is safe for concurrent use. A Store obtained inside
// Tx is bound to that transaction: every method called on it joins it.
type Store struct {
	db     *gorm.DB
	loc    *time.Location
	now    func() time.Time
	driver string
	// returning is whether an INSERT can return the rows it wrote
	// (INSERT … RETURNING): SQLite since 3.35, MariaDB since 10.5; not MySQL.
	returning bool
}

// Open connects to the database and checks it answers. It does not migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var gormLogger logger.Interface = logger.Discard
	if opts.Log != nil {
		gormLogger = gormLog{log: opts.Log, slow: slowStatement}
	}
	s := &Store{loc: opts.Location, now: opts.Now, driver: opts.Driver}
	var dialector gorm.Dialector
	switch opts.Driver {
	case DriverSQLite:
		dsn, err := sqliteDSN(opts.DSN)
		if err != nil {
			return nil, err
		}
		dialector = &sqlite.Dialector{DriverName: sqliteDriverName(opts.Location), DSN: dsn}
	case DriverMySQL:
		cfg, err := mysqldriver.ParseDSN(opts.DSN)
		if err != nil {
			return nil, fmt.Errorf("models: mysql dsn: %w", err)
		}
		cfg.ParseTime = true
		cfg.Loc = opts.Location
		// Arguments are escaped client-side (safe with utf8mb4): one round
		// trip per query instead of prepare, execute and close.
		cfg.InterpolateParams = true
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["charset"] = "utf8mb4"
		cfg.Collation = "utf8mb4_unicode_ci"
		precision := 6
		dialector = mysql.New(mysql.Config{DSNConfig: cfg, DefaultStringSize: 191, DefaultDatetimePrecision: &precision})
	default:
		return nil, fmt.Errorf("models: unknown database driver %q", opts.Driver)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError:                           true,
		NowFunc:                                  s.Now,
		Logger:                                   gormLogger,
		NamingStrategy:                           schema.NamingStrategy{TablePrefix: opts.TablePrefix},
		DisableForeignKeyConstraintWhenMigrating: false,
	})
	if err != nil {
		return nil, fmt.Errorf("models: open %s: %w", opts.Driver, err)
	}
	s.db = db
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: open %s: %w", opts.Driver, err)
	}
	if opts.Driver == DriverMySQL {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	} else {
		sqlDB.SetMaxOpenConns(8)
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if s.returning, err = s.insertReturns(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// insertReturns asks the server's version whether INSERT … RETURNING is
// there: SQLite 3.35 and later, MariaDB 10.5 and later, no MySQL.
func (s *Store) insertReturns(ctx context.Context) (bool, error) {
	query, least := "SELECT sqlite_version()", [2]int{3, 35}
	if s.driver == DriverMySQL {
		query, least = "SELECT VERSION()", [2]int{10, 5}
	}
	var version string
	if err := s.db.WithContext(ctx).Raw(query).Scan(&version).Error; err != nil {
		return false, fmt.Errorf("models: server version: %w", err)
	}
	if s.driver == DriverMySQL && !strings.Contains(version, "MariaDB") {
		return false, nil
	}
	var major, minor int
	if _, err := fmt.Sscanf(version, "%d.%d", &major, &minor); err != nil {
		return false, nil // an unknown form: take the way that works everywhere
	}
	return major > least[0] || major == least[0] && minor >= least[1], nil
}

// sqliteDSN turns a file path into the glebarez DSN with the pragmas the store
// relies on, creating the file's folder. _txlock=immediate makes read-then-write
// transactions take the write lock at BEGIN instead of failing with SQLITE_BUSY.
// synchronous(FULL) makes a commit survive a power cut, not only a crash: a
// callback is answered only after its row is stored, and WeCom does not send
// it again; group commit keeps the cost of the extra fsync small.
func sqliteDSN(path string) (string, error) {
	file, query, _ := strings.Cut(path, "?")
	if file == "" {
		return "", errors.New("models: sqlite dsn is empty")
	}
	if file != ":memory:" && !strings.HasPrefix(file, "file:") {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return "", fmt.Errorf("models: create database folder: %w", err)
		}
	}
	params := []string{
		"_pragma=journal_mode(WAL)",
		"_pragma=busy_timeout(10000)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(FULL)",
		"_txlock=immediate",
	}
	if query != "" {
		params = append(params, query)
	}
	return file + "?" + strings.Join(params, "&"), nil
}

// staleIndexes are indexes of earlier schemas, which AutoMigrate leaves in
// place: each costs every write, so Migrate drops them.
var staleIndexes = []struct {
	model any
	names []string
}{
	{&Ticket{}, []string{"idx_tickets_status_deadline", "idx_tickets_category", "idx_tickets_deadline", "idx_tickets_visited_at", "idx_tickets_status"}},
	// Names are unique within a district (idx_departments_district_name),
	// and slots within a group (idx_job_runs_job_group_slot).
	{&Department{}, []string{"idx_departments_name"}},
	{&JobRun{}, []string{"idx_job_runs_job_slot"}},
}

// Migrate creates or alters every table to match the domain types and drops
// the indexes earlier versions made that these no longer use.
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.AutoMigrate(allModels...); err != nil {
		return fmt.Errorf("models: migrate: %w", err)
	}
	for _, st := range staleIndexes {
		for _, name := range st.names {
			if db.Migrator().HasIndex(st.model, name) {
				if err := db.Migrator().DropIndex(st.model, name); err != nil {
					return fmt.Errorf("models: migrate: drop index %s: %w", name, err)
				}
			}
		}
	}
	return s.migrateUserIDCase(ctx)
}

// migrateUserIDCase makes both databases compare userids without regard to
// case (UserIDKey), so that DupUser and dupuser are one member: on MySQL the
// column takes a _ci collation if the database's default was another (the
// documented one, utf8mb4_unicode_ci, is); SQLite gets a unique index without
// regard to case, which also serves whereUserID. Members stored before that
// differ only in case stop the migration, named, to be merged by a person.
func (s *Store) migrateUserIDCase(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	table := s.Table(&Member{})
	concat := "group_concat(userid, '、')"
	if s.driver == DriverMySQL {
		var collation string
		err := db.Raw("SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'userid'", table).
			Scan(&collation).Error
		if err != nil {
			return fmt.Errorf("models: migrate: read the collation of %s.userid: %w", table, err)
		}
		if strings.HasSuffix(collation, "_ci") {
			return nil
		}
		concat = "GROUP_CONCAT(userid SEPARATOR '、')"
	}
	var twins []string
	err := db.Raw("SELECT " + concat + " FROM " + s.quote(table) + " GROUP BY lower(userid) HAVING COUNT(*) > 1").Scan(&twins).Error
	if err != nil {
		return fmt.Errorf("models: migrate: find userids that differ in case: %w", err)
	}
	if len(twins) > 0 {
		return fmt.Errorf("models: migrate: members %s differ only in the case of their userids, which WeCom does not tell apart: keep one of each (update the references to the others) and migrate again",
			strings.Join(twins, "; "))
	}
	if s.driver == DriverMySQL {
		err = db.Exec("ALTER TABLE " + s.quote(table) + " MODIFY userid varchar(64) NOT NULL COLLATE utf8mb4_unicode_ci").Error
	} else {
		err = db.Exec("CREATE UNIQUE INDEX IF NOT EXISTS " + s.quote("idx_"+table+"_userid_nocase") + " ON " + s.quote(table) + " (userid COLLATE NOCASE)").Error
	}
	if err != nil {
		return fmt.Errorf("models: migrate: make %s.userid compare without regard to case: %w", table, err)
	}
	return nil
}

// quote quotes an identifier for the store's database.
func (s *Store) quote(name string) string {
	var b strings.Builder
	s.db.Dialector.QuoteTo(&b, name)
	return b.String()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("models: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("models: ping %s: %w", s.driver, err)
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Driver returns DriverSQLite or DriverMySQL.
func (s *Store) Driver() string { return s.driver }

// Location returns the configured zone.
func (s *Store) Location() *time.Location { return s.loc }

// Now returns the current time in the configured zone, to the microsecond,
// which both databases keep exactly.
func (s *Store) Now() time.Time { return s.now().In(s.loc).Truncate(time.Microsecond) }

// Tx runs fn in a transaction. fn receives a Store bound to the transaction;
// returning an error rolls everything back. Inside a transaction Tx nests as a savepoint.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&Store{db: db, loc: s.loc, now: s.now, driver: s.driver, returning: s.returning})
	})
}

// DB returns the gorm handle for ctx. It is for code inside models and for tests.
func (s *Store) DB(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// Table returns the real name of a model's table, with any test prefix.
func (s *Store) Table(model any) string {
	stmt := &gorm.Statement{DB: s.db}
	if err := stmt.Parse(model); err != nil {
		panic(fmt.Sprintf("models: table of %T: %v", model, err))
	}
	return stmt.Schema.Table
}
