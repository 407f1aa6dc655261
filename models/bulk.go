package models

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Bulk writes: multi-row statements sized for each database, built from
// gorm's parsed schema but past its per-row callbacks.

// sqliteParams is about how many parameters one SQLite statement binds. The
// embedded driver matches parameters to arguments in time quadratic in their
// number, which makes much larger statements slower per row, not faster;
// 999 is also SQLite's historic bound.
const sqliteParams = 999

// mysqlRows is how many rows (or IN values) one MySQL statement carries.
const mysqlRows = 500

// chunkRows is how many rows of the given number of columns one multi-row
// statement carries on this store's database.
func (s *Store) chunkRows(columns int) int {
	if s.driver == DriverSQLite {
		return max(1, sqliteParams/columns)
	}
	return mysqlRows
}

// SQLite keeps a statement journal, a copy of every page a statement touches,
// for any statement that might fail halfway and have to undo itself alone. On
// a table with many indexes that costs more than the insert itself. Inside a
// transaction that a failure rolls back whole anyway, two things make it
// unnecessary: INSERT OR ROLLBACK for constraints (insertAll), and foreign
// keys checked at commit instead of per statement (bulkMode).

// bulkCacheKiB is the page cache (in KiB, as PRAGMA cache_size takes it
// when negative) of a SQLite connection while it writes a batch: a batch
// touches pages of every index of its table, and a smaller cache spills them
// to the WAL and reads them back before the commit.
const bulkCacheKiB = 32 << 10

// bulkMode prepares the SQLite connection of the current transaction for a
// batch of writes: foreign keys are checked at commit instead of per statement
// (SQLite resets that when the transaction ends), and the page cache grows to
// bulkCacheKiB until the returned restore is called. Other drivers need
// nothing; restore is then a no-op.
func (s *Store) bulkMode(ctx context.Context) (restore func(), err error) {
	if s.driver != DriverSQLite {
		return func() {}, nil
	}
	db := s.db.WithContext(ctx)
	var old int
	if err := db.Raw("PRAGMA cache_size").Scan(&old).Error; err != nil {
		return nil, fmt.Errorf("models: read cache size: %w", err)
	}
	if err := db.Exec("PRAGMA defer_foreign_keys = ON").Error; err != nil {
		return nil, fmt.Errorf("models: defer foreign keys: %w", err)
	}
	if err := db.Exec(fmt.Sprintf("PRAGMA cache_size = %d", -bulkCacheKiB)).Error; err != nil {
		return nil, fmt.Errorf("models: grow cache: %w", err)
	}
	return func() {
		_ = s.db.WithContext(context.WithoutCancel(ctx)).Exec(fmt.Sprintf("PRAGMA cache_size = %d", old)).Error
	}, nil
}

// insertAll inserts rows, a slice of pointers to one model, leaving the
// primary keys to the database (it does not read them back). It must run
// inside a transaction. Rows go in multi-row INSERTs sized for the database
// (chunkRows), and one prepared statement serves every full chunk: SQLite
// takes as long to parse such a statement as to run it.
func (s *Store) insertAll(ctx context.Context, rows any) error {
	v := reflect.ValueOf(rows)
	if v.Len() == 0 {
		return nil
	}
	stmt := &gorm.Statement{DB: s.db}
	if err := stmt.Parse(v.Index(0).Interface()); err != nil {
		return fmt.Errorf("models: insert: %w", err)
	}
	var fields []*schema.Field
	var names []string
	for _, f := range stmt.Schema.Fields {
		if f.DBName != "" && !f.PrimaryKey {
			fields, names = append(fields, f), append(names, stmt.Quote(f.DBName))
		}
	}
	head := "INSERT INTO "
	if s.driver == DriverSQLite {
		head = "INSERT OR ROLLBACK INTO "
	}
	head += stmt.Quote(stmt.Schema.Table) + " (" + strings.Join(names, ",") + ") VALUES "
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(fields)), ",") + ")"
	query := func(n int) string { return head + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",") }

	pool := s.db.Statement.ConnPool
	per := s.chunkRows(len(fields))
	args := make([]any, 0, per*len(fields))
	var prepared *sql.Stmt
	defer func() {
		if prepared != nil {
			_ = prepared.Close()
		}
	}()
	for i := 0; i < v.Len(); i += per {
		n := min(per, v.Len()-i)
		args = args[:0]
		for j := i; j < i+n; j++ {
			row := reflect.Indirect(v.Index(j))
			for _, f := range fields {
				val, _ := f.ValueOf(ctx, row)
				args = append(args, val)
			}
		}
		var err error
		switch {
		case n < per:
			_, err = pool.ExecContext(ctx, query(n), args...)
		case prepared == nil:
			if prepared, err = pool.PrepareContext(ctx, query(per)); err == nil {
				_, err = prepared.ExecContext(ctx, args...)
			}
		default:
			_, err = prepared.ExecContext(ctx, args...)
		}
		if err != nil {
			if tr, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
				err = tr.Translate(err)
			}
			return fmt.Errorf("insert into %s: %w", stmt.Schema.Table, err)
		}
	}
	return nil
}

// atomically runs fn in a transaction: the one s is bound to, or a new one.
// Unlike Tx it adds no savepoint inside a transaction: on SQLite every page
// a savepoint touches is journalled once more.
func (s *Store) atomically(ctx context.Context, fn func(tx *Store) error) error {
	if _, inTx := s.db.Statement.ConnPool.(gorm.TxCommitter); inTx {
		return fn(s)
	}
	return s.Tx(ctx, fn)
}
