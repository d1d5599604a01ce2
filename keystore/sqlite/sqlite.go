// Package sqlite is a durable keystore.Store in one SQLite database file,
// for clients that must keep their identities and sessions across restarts.
// It runs on modernc.org/sqlite, a translation of SQLite to pure Go, so it
// needs no cgo. It honours the contract documented in package keystore and
// passes keystore/keystoretest.
//
// Open a store with Open, which creates the file if it does not exist, and
// Close it when done:
//
//	s, err := sqlite.Open(filepath.Join(dir, "keys.db"))
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//
// # What is stored
//
// Every value is one row of a single table, kv(space, key, value), with
// (space, key) as its primary key. Spaces and keys are stored as TEXT holding
// the caller's bytes unchanged (they need not be UTF-8) and compared byte by
// byte, so List returns keys in the same order as keystore/memory. Values are
// BLOBs of up to keystore.MaxValueSize bytes. Nothing is encrypted: the file
// holds the values exactly as the caller wrote them, so protect it as the
// application protects its keys (file permissions, full-disk encryption).
//
// The file is marked as a Sotto keystore (PRAGMA application_id) and its
// schema carries a version (PRAGMA user_version) that Open migrates forward.
// Open refuses, without writing to it, a file whose schema is newer than this
// code knows (ErrSchemaTooNew), a file that is not a SQLite database or fails
// PRAGMA quick_check (ErrCorrupt), and a SQLite database that some other
// program made (ErrNotKeystore). The quick check finds damage to the file's
// structure, not changed bytes inside a value: SQLite keeps no checksums.
//
// # Durability
//
// The database runs in write-ahead-log mode with PRAGMA synchronous=FULL
// (and fullfsync, which matters on macOS): when Update returns nil, its
// transaction has been appended to the log and the log flushed with fsync,
// so the writes survive the process being killed and, as far as the
// operating system and the disk honour fsync, a power loss. An Update that
// has not returned may be lost or kept, but never in part. Close is not
// needed for durability. A file on a network file system is not supported:
// WAL mode needs memory shared between the processes using the file.
//
// While a store is open, the database file, say "keys.db", has two
// companions: "keys.db-wal", the log, and "keys.db-shm", an index into it.
// The last Close of the file folds the log into the database file and
// removes both; copy or move the file only then. After a crash they remain,
// and belong with the file: the next Open recovers the committed
// transactions from the log, which deleting it would lose.
//
// # Concurrency
//
// A Store is safe for concurrent use. Updates run one at a time on a single
// connection, each in a BEGIN IMMEDIATE transaction, so they are serializable
// simply by being serial. Views run concurrently with each other and with an
// Update, each on a connection of a pool in a read transaction that sees one
// snapshot: the database as of its first read, never an Update's uncommitted
// writes.
//
// Several Stores, in one process or several, may open the same file. SQLite's
// locks then serialize their Updates: an Update waits for another store's
// write lock until its context ends, or for five seconds at most, after
// which it fails with SQLite's "database is locked" error.
//
// If a statement fails inside an Update, every later call of that Update's
// Tx returns the same error, and Update returns it without committing, even
// if fn ignored it and returned nil: on some errors SQLite has already rolled
// the transaction back. As the contract says, fn must not call Update or
// View on the same store: an Update inside an Update would wait for itself.
package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"

	"github.com/sotto-im/sotto/keystore"
)

// Store is a keystore.Store in a SQLite database file. Create one with Open.
type Store struct {
	// writer holds the connection for Updates while no Update runs: taking
	// it from the channel is the write lock, which ctx can give up waiting
	// for. A nil connection was thrown away, and the next Update reconnects.
	writer   chan *conn
	wconnect driver.Connector
	readers  pool // query-only connections for Views

	mu     sync.Mutex
	idle   sync.Cond // signalled when active drops to zero
	active int       // transactions running, or waiting for a connection
	closed bool
}

var _ keystore.Store = (*Store)(nil)

// Close waits for the transactions in progress to end, then closes the
// database. Later calls to Update and View return keystore.ErrClosed; a
// second Close returns nil. Close must not be called from inside fn.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for s.active > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
	// The writer goes last, so that its connection is the database's last:
	// closing it checkpoints the log and removes the -wal and -shm files.
	err := s.readers.close()
	if w := <-s.writer; w != nil {
		err = errors.Join(err, w.close())
	}
	return err
}

// begin registers a transaction, unless the store is closed.
func (s *Store) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return keystore.ErrClosed
	}
	s.active++
	return nil
}

// end unregisters a transaction registered by begin.
func (s *Store) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active--; s.active == 0 {
		s.idle.Broadcast()
	}
}

// Update runs fn in a read-write transaction and commits its writes if fn
// returns nil. ctx is checked before the transaction starts, while it waits
// for another Update of this store, and before the commit; the commit itself
// is never interrupted.
func (s *Store) Update(ctx context.Context, fn func(keystore.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()

	var c *conn
	select {
	case c = <-s.writer:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { s.writer <- c }() // c is nil if it was thrown away
	if err := ctx.Err(); err != nil {
		return err // ctx ended as the writer came free
	}
	if c == nil {
		var err error
		if c, err = connect(ctx, s.wconnect); err != nil {
			return connError(ctx, "connect", err)
		}
	}

	// BEGIN IMMEDIATE takes the database's write lock, waiting up to
	// busyTimeout for another store's Update. The driver reports ctx.Err()
	// if ctx ends during the statement, even if the BEGIN took effect, so a
	// connection whose BEGIN failed is thrown away rather than trusted.
	if err := c.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		_ = c.close()
		c = nil
		return connError(ctx, "begin", err)
	}
	committed := false
	defer func() {
		// fn returned an error, panicked or was cancelled, or the commit
		// failed: undo whatever is left of the transaction.
		if !committed && !c.rollback() {
			_ = c.close()
			c = nil
		}
	}()

	t := &tx{c: c, writable: true}
	if err := t.run(fn); err != nil {
		return err
	}
	if t.err != nil {
		// A statement failed and fn carried on. SQLite may have rolled
		// the transaction back already; nothing more may commit.
		return t.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Once the commit has started, cancellation does not interrupt it.
	if err := c.exec(context.Background(), "COMMIT"); err != nil {
		return wrap("commit", err)
	}
	committed = true
	return nil
}

// View runs fn in a read-only transaction over a consistent snapshot. ctx
// is checked before the transaction starts.
func (s *Store) View(ctx context.Context, fn func(keystore.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()

	c, err := s.readers.get(ctx)
	if err != nil {
		return connError(ctx, "connect", err)
	}
	// A deferred BEGIN takes no lock and waits for nothing: the snapshot
	// is taken by fn's first read.
	if err := c.exec(context.Background(), "BEGIN"); err != nil {
		_ = c.close()
		return wrap("begin", err)
	}
	defer func() {
		// A read transaction has nothing to commit: ROLLBACK releases
		// its snapshot. A connection it fails on is not reused.
		if c.rollback() {
			s.readers.put(c)
		} else {
			_ = c.close()
		}
	}()
	t := &tx{c: c}
	return t.run(fn)
}

// connError reports the failure to get a connection, or to begin a
// transaction on one: ctx's error if ctx is done, since the wait then ended
// for that reason, and the database's error otherwise.
func connError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return wrap(op, err)
}

// wrap adds the package and the operation to an error of the database,
// and marks corruption with ErrCorrupt.
func wrap(op string, err error) error {
	if isCorrupt(err) {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, op, err)
	}
	return fmt.Errorf("keystore/sqlite: %s: %w", op, err)
}
