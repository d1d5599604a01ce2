package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"sync"
)

// The store drives modernc.org/sqlite's connections directly, through the
// database/sql/driver interfaces, rather than through database/sql: each
// connection keeps the statements it has prepared, so a Get costs a bind
// and a step, not a parse, and the store decides itself when a connection
// is reused, waited for or thrown away.

// conn is one SQLite connection and the statements prepared on it, by SQL
// text. Only one goroutine uses a conn at a time.
type conn struct {
	dc    driver.Conn
	stmts map[string]driver.Stmt
}

func connect(ctx context.Context, c driver.Connector) (*conn, error) {
	dc, err := c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{dc: dc, stmts: map[string]driver.Stmt{}}, nil
}

// prepare returns the statement for query, preparing it on first use. The
// package runs a fixed set of queries, so the cache stays small.
func (c *conn) prepare(query string) (driver.Stmt, error) {
	if s, ok := c.stmts[query]; ok {
		return s, nil
	}
	s, err := c.dc.(driver.ConnPrepareContext).PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = s
	return s, nil
}

// exec runs a statement that returns no rows. ctx may interrupt it; every
// statement inside a transaction gets context.Background instead (see tx).
func (c *conn) exec(ctx context.Context, query string, args ...driver.Value) error {
	s, err := c.prepare(query)
	if err != nil {
		return err
	}
	_, err = s.(driver.StmtExecContext).ExecContext(ctx, named(args))
	return err
}

// query runs a statement and calls row with each row it returns, until
// row returns an error. The values passed to row are the driver's copies
// and may be kept.
func (c *conn) query(query string, args []driver.Value, row func([]driver.Value) error) error {
	s, err := c.prepare(query)
	if err != nil {
		return err
	}
	rows, err := s.(driver.StmtQueryContext).QueryContext(context.Background(), named(args))
	if err != nil {
		return err
	}
	dest := make([]driver.Value, len(rows.Columns()))
	for {
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			return rows.Close()
		}
		if err == nil {
			err = row(dest)
		}
		if err != nil {
			rows.Close()
			return err
		}
	}
}

// errStop ends a query early from within row.
var errStop = errors.New("keystore/sqlite: stop")

// queryRow runs a statement and returns the columns of its first row, and
// found false if it returned none.
func (c *conn) queryRow(query string, args ...driver.Value) (values []driver.Value, found bool, err error) {
	err = c.query(query, args, func(v []driver.Value) error {
		values, found = v, true
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return values, found, err
}

func named(args []driver.Value) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// close finalizes the statements and closes the connection. The last
// connection to a database checkpoints its log into the file and removes
// the -wal and -shm files.
func (c *conn) close() error {
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.Close())
	}
	clear(c.stmts)
	errs = append(errs, c.dc.Close())
	return errors.Join(errs...)
}

// rollback ends the transaction on c and reports whether c may be reused:
// not if ROLLBACK failed, when c may still be in a transaction, or in
// doubt. It never takes a context: ending a transaction is not
// interrupted.
func (c *conn) rollback() bool {
	return c.exec(context.Background(), "ROLLBACK") == nil
}

// pool is the connections for Views: any number at once, keeping up to
// maxIdle of them open between Views.
type pool struct {
	connector driver.Connector
	maxIdle   int

	mu   sync.Mutex
	idle []*conn
}

// get returns an idle connection, or a new one.
func (p *pool) get(ctx context.Context) (*conn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	return connect(ctx, p.connector)
}

// put returns c to the pool, or closes it if the pool is full.
func (p *pool) put(c *conn) {
	p.mu.Lock()
	if len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		_ = c.close()
	}
}

// close closes the idle connections. The store calls it once no View is
// running, so no connection is out of the pool.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, c := range p.idle {
		errs = append(errs, c.close())
	}
	p.idle = nil
	return errors.Join(errs...)
}
