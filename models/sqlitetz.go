package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"time"

	_ "github.com/glebarez/go-sqlite" // registers "sqlite"
)

// SQLite keeps times as text and compares them as text, so two instants written
// in different zones would compare wrongly. The driver registered here converts
// every time argument to one zone before it is bound, whoever passes it.

var (
	tzDriversMu sync.Mutex
	tzDrivers   = map[string]string{}
)

// sqliteDriverName returns a database/sql driver name for the embedded SQLite
// that writes every time.Time in loc.
func sqliteDriverName(loc *time.Location) string {
	tzDriversMu.Lock()
	defer tzDriversMu.Unlock()
	if name, ok := tzDrivers[loc.String()]; ok {
		return name
	}
	name := "yanzhen-sqlite-" + loc.String()
	sql.Register(name, &tzDriver{inner: sqliteDriver(), loc: loc})
	tzDrivers[loc.String()] = name
	return name
}

// sqliteDriver returns the driver glebarez/go-sqlite registers as "sqlite".
func sqliteDriver() driver.Driver {
	db, _ := sql.Open("sqlite", "")
	defer db.Close()
	return db.Driver()
}

type tzDriver struct {
	inner driver.Driver
	loc   *time.Location
}

func (d *tzDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &tzConn{Conn: c, loc: d.loc}, nil
}

// tzConn forwards to the SQLite connection and adds CheckNamedValue.
type tzConn struct {
	driver.Conn
	loc *time.Location
}

// CheckNamedValue puts times in the store's zone, to the microsecond as MySQL
// keeps them; everything else takes the default path.
func (c *tzConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case time.Time:
		nv.Value = v.In(c.loc).Truncate(time.Microsecond)
		return nil
	case *time.Time:
		if v == nil {
			nv.Value = nil
		} else {
			nv.Value = v.In(c.loc).Truncate(time.Microsecond)
		}
		return nil
	}
	return driver.ErrSkip
}

func (c *tzConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *tzConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *tzConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *tzConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *tzConn) Ping(ctx context.Context) error {
	return c.Conn.(driver.Pinger).Ping(ctx)
}
