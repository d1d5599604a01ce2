package relay

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	msqlite "modernc.org/sqlite"
)

// SQLiteStorage is a durable Storage in one SQLite database file, on
// modernc.org/sqlite (pure Go, no cgo). Open one with OpenSQLite and Close it
// after the Server that uses it.
//
// The file runs in write-ahead-log mode with synchronous=FULL: a call that
// returned nil has been flushed to disk with fsync, and survives the process
// being killed. Writes go through one connection, each in a BEGIN IMMEDIATE
// transaction, so they are serial; reads run concurrently on a small pool of
// query-only connections, each seeing one committed snapshot. secure_delete
// is on, so an acknowledged message's body is overwritten in the file, not
// merely unlinked (the log keeps it until the next checkpoint).
//
// The file is marked as a Sotto relay database (PRAGMA application_id) and
// carries its schema version (PRAGMA user_version), which OpenSQLite
// migrates forward; it refuses a newer schema (ErrSchemaTooNew) and another
// program's database (ErrNotRelayDB) without writing to them.
type SQLiteStorage struct {
	w *sql.DB // the single writer connection
	r *sql.DB // query-only readers
}

var _ Storage = (*SQLiteStorage)(nil)

// Errors of OpenSQLite.
var (
	// ErrSchemaTooNew is returned for a database written by a newer version
	// of this package.
	ErrSchemaTooNew = errors.New("relay: database schema version too new")
	// ErrNotRelayDB is returned for a SQLite database that some other
	// program made.
	ErrNotRelayDB = errors.New("relay: not a Sotto relay database")
)

// relayApplicationID marks a SQLite database as a relay's: "SotR". (The
// client keystore is "Sott".)
const relayApplicationID = 0x536f7452

// sqliteBusyTimeout is how long, in milliseconds, a connection waits for a
// lock held by another process using the file.
const sqliteBusyTimeout = 5000

// maxReaders bounds the query-only connections.
const maxReaders = 4

// migrations[i] takes the schema from version i to i+1; steps are only
// appended. Addresses are (name, device) pairs throughout; times are Unix
// milliseconds.
var migrations = []string{
	// Version 1.
	//
	// accounts holds one row per registered device with its current signed
	// prekey and last-resort Kyber key (NULL until uploaded), and two
	// counters of its mailbox: next_seq, the sequence number of the next
	// message, and pending, how many messages it holds, so that the
	// mailbox bound costs one row update, not a count.
	//
	// One-time prekeys are handed out in rowid order: the order they were
	// first stored (a replacement keeps its place).
	`CREATE TABLE accounts (
		name                    TEXT    NOT NULL,
		device                  INTEGER NOT NULL,
		identity_key            BLOB    NOT NULL,
		registration_id         INTEGER NOT NULL DEFAULT 0,
		created                 INTEGER NOT NULL,
		signed_prekey_id        INTEGER,
		signed_prekey           BLOB,
		signed_prekey_signature BLOB,
		last_resort_id          INTEGER,
		last_resort_key         BLOB,
		last_resort_signature   BLOB,
		next_seq                INTEGER NOT NULL DEFAULT 1,
		pending                 INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (name, device)
	);
	CREATE TABLE prekeys (
		name       TEXT    NOT NULL,
		device     INTEGER NOT NULL,
		id         INTEGER NOT NULL,
		public_key BLOB    NOT NULL,
		PRIMARY KEY (name, device, id)
	);
	CREATE TABLE kyber_prekeys (
		name       TEXT    NOT NULL,
		device     INTEGER NOT NULL,
		id         INTEGER NOT NULL,
		public_key BLOB    NOT NULL,
		signature  BLOB    NOT NULL,
		PRIMARY KEY (name, device, id)
	);
	CREATE TABLE messages (
		name          TEXT    NOT NULL,
		device        INTEGER NOT NULL,
		seq           INTEGER NOT NULL,
		id            TEXT    NOT NULL,
		sender_name   TEXT    NOT NULL,
		sender_device INTEGER NOT NULL,
		type          INTEGER NOT NULL,
		body          BLOB    NOT NULL,
		received      INTEGER NOT NULL,
		PRIMARY KEY (name, device, seq),
		UNIQUE (name, device, id)
	)`,
}

// schemaVersion is the version this code writes.
var schemaVersion = len(migrations)

// OpenSQLite opens the relay database at path, creating it (readable and
// writable by its owner only) if it does not exist, and migrates its schema
// to the current version.
func OpenSQLite(path string) (*SQLiteStorage, error) {
	if path == "" {
		return nil, errors.New("relay: empty database path")
	}
	s, err := openSQLite(path)
	if err != nil {
		return nil, fmt.Errorf("relay: open %s: %w", path, err)
	}
	return s, nil
}

func openSQLite(path string) (*SQLiteStorage, error) {
	// SQLite would create a missing file world-readable; the -wal and -shm
	// files take the database file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrExist):
		return nil, err
	}

	wc, err := sqliteConnector(path, false)
	if err != nil {
		return nil, err
	}
	rc, err := sqliteConnector(path, true)
	if err != nil {
		return nil, err
	}
	s := &SQLiteStorage{w: sql.OpenDB(wc), r: sql.OpenDB(rc)}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxIdleTime(0)
	s.w.SetConnMaxLifetime(0)
	s.r.SetMaxOpenConns(maxReaders)
	s.r.SetMaxIdleConns(maxReaders)
	if err := s.prepare(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// sqliteConnector returns a connector whose connections run the PRAGMAs of
// the relay when they open. The path goes in a file: URI, so no character
// of it is taken for a parameter. _txlock=immediate makes every
// transaction BEGIN IMMEDIATE: it takes the write lock at once, so two
// writers never deadlock upgrading their locks.
func sqliteConnector(path string, readOnly bool) (driver.Connector, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout))
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "fullfsync(1)")
	q.Add("_pragma", "secure_delete(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return msqlite.NewConnector(u.String())
}

// prepare checks the file's header, switches it to WAL mode and migrates
// its schema, so that nothing is written to a file that fails a check.
func (s *SQLiteStorage) prepare() error {
	ctx := context.Background()
	if _, err := s.checkHeader(ctx, s.w); err != nil {
		return err
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("cannot use write-ahead logging: journal mode is %q", mode)
	}
	return s.migrate(ctx)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// checkHeader returns the schema version of a relay database, 0 for an
// empty one, or an error for anything else.
func (s *SQLiteStorage) checkHeader(ctx context.Context, q querier) (int, error) {
	var appID, version, objects int64
	for _, f := range []struct {
		query string
		dst   *int64
	}{
		{"PRAGMA application_id", &appID},
		{"PRAGMA user_version", &version},
		{"SELECT count(*) FROM sqlite_schema", &objects},
	} {
		if err := q.QueryRowContext(ctx, f.query).Scan(f.dst); err != nil {
			return 0, err
		}
	}
	switch {
	case appID == relayApplicationID && version > int64(schemaVersion):
		return 0, fmt.Errorf("%w: the file has version %d, this code knows up to %d", ErrSchemaTooNew, version, schemaVersion)
	case appID == relayApplicationID && version >= 1:
		return int(version), nil
	case appID == 0 && version == 0 && objects == 0:
		return 0, nil
	default:
		return 0, fmt.Errorf("%w (application_id %#x, user_version %d)", ErrNotRelayDB, appID, version)
	}
}

// migrate brings the schema to schemaVersion in one transaction, reading
// the version again inside it, since another process may have migrated the
// file meanwhile.
func (s *SQLiteStorage) migrate(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	v, err := s.checkHeader(ctx, tx)
	if err != nil {
		return err
	}
	if v == schemaVersion {
		return tx.Commit()
	}
	for ; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration to schema version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no parameters; both values are this package's.
	for _, set := range []string{
		fmt.Sprintf("PRAGMA application_id = %d", relayApplicationID),
		fmt.Sprintf("PRAGMA user_version = %d", schemaVersion),
	} {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database. The last connection to close checkpoints the
// log into the file and removes the -wal and -shm files.
func (s *SQLiteStorage) Close() error {
	// Readers first, so that the writer's connection is the last.
	return errors.Join(s.r.Close(), s.w.Close())
}

// update runs fn in a write transaction and commits if it returns nil.
func (s *SQLiteStorage) update(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// view runs fn in a read transaction, which sees one snapshot.
func (s *SQLiteStorage) view(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}
