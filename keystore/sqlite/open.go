package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors Open returns, besides those of the file system and of SQLite.
// Callers branch on them with errors.Is.
var (
	// ErrCorrupt is returned for a file that is not a SQLite database or
	// that fails PRAGMA quick_check, and for corruption SQLite detects
	// later, in any transaction.
	ErrCorrupt = errors.New("keystore/sqlite: not a database, or corrupt")
	// ErrSchemaTooNew is returned by Open for a keystore written by a newer
	// version of this package, whose schema this one does not know.
	ErrSchemaTooNew = errors.New("keystore/sqlite: schema version too new")
	// ErrNotKeystore is returned by Open for a SQLite database that is not
	// a Sotto keystore: one that some other program made.
	ErrNotKeystore = errors.New("keystore/sqlite: not a Sotto keystore")
)

// applicationID marks a SQLite database as a Sotto keystore, in the header
// field PRAGMA application_id reads and writes: "Sott".
const applicationID = 0x536f7474

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// that another connection to the file holds.
const busyTimeout = 5000

// migrations are the steps from one schema version to the next: running
// migrations[i] takes the database from version i to version i+1 (PRAGMA
// user_version). A file of version 0 is empty. Each step runs in one
// transaction with the version change. Steps are only ever appended.
var migrations = []string{
	// Version 1: one table of values, keys compared with the BINARY
	// collation, byte by byte. It is an ordinary rowid table, not WITHOUT
	// ROWID: that layout stores whole rows in the primary key's b-tree and
	// SQLite advises it only for rows under about 1/20 of a page, where
	// session records run to kilobytes. The primary key's index holds the
	// keys alone, so List never reads a value; a Get costs a second lookup,
	// by rowid. (Measured with 10,000 keys: 1 KiB values, a Get 2x and a
	// List of 1,000 keys 2.5x faster than WITHOUT ROWID; 100-byte values,
	// both about 1.3x slower.)
	`CREATE TABLE kv (
		space TEXT NOT NULL,
		key   TEXT NOT NULL,
		value BLOB NOT NULL,
		PRIMARY KEY (space, key)
	)`,
}

// schemaVersion is the schema version this code writes.
var schemaVersion = len(migrations)

// Open opens the keystore in the SQLite database file at path, creating the
// file if it does not exist, readable and writable by its owner only, and
// migrates its schema to the current version.
//
// Open checks the file before it writes to it: a file that is not a SQLite
// database or fails PRAGMA quick_check returns an error wrapping ErrCorrupt,
// a keystore with a newer schema one wrapping ErrSchemaTooNew, and another
// program's database one wrapping ErrNotKeystore, each leaving the file as it
// was. The quick check reads the whole file, so Open takes time in
// proportion to its size.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("keystore/sqlite: empty path")
	}
	s, err := open(path)
	if err != nil {
		return nil, &openError{path, err}
	}
	return s, nil
}

// openError is an error of Open, naming the file.
type openError struct {
	path string
	err  error
}

func (e *openError) Error() string {
	// The sentinels carry the package prefix already.
	return "keystore/sqlite: open " + e.path + ": " + strings.TrimPrefix(e.err.Error(), "keystore/sqlite: ")
}

func (e *openError) Unwrap() error { return e.err }

func open(path string) (*Store, error) {
	// SQLite would create a missing file readable by everyone (0644, less
	// the umask); a keystore is the owner's alone. The -wal and -shm files
	// take the database file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrExist):
		if pe, ok := err.(*fs.PathError); ok {
			err = pe.Err // openError names the path
		}
		return nil, err
	}

	wc, err := connector(path, false)
	if err != nil {
		return nil, err
	}
	rc, err := connector(path, true)
	if err != nil {
		return nil, err
	}
	w, err := connect(context.Background(), wc)
	if err != nil {
		return nil, checkError(err)
	}
	if err := prepare(w); err != nil {
		_ = w.close()
		return nil, err
	}
	s := &Store{
		writer:   make(chan *conn, 1),
		wconnect: wc,
		readers:  pool{connector: rc, maxIdle: maxIdleReaders},
	}
	s.writer <- w
	s.idle.L = &s.mu
	return s, nil
}

// maxIdleReaders is how many connections for Views stay open between them.
const maxIdleReaders = 4

// connector returns a modernc.org/sqlite connector to the file at path. Its
// data source name is a file: URI, so that no character of the path is
// taken for a parameter, with the PRAGMAs every connection runs when it
// opens. Connections for Views are also query_only, so that none can write,
// whatever it is asked.
func connector(path string, readOnly bool) (driver.Connector, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout))
	// FULL: a transaction is durable once COMMIT returns, the log being
	// flushed at every commit. fullfsync makes that flush F_FULLFSYNC on
	// macOS, where fsync does not reach the disk; elsewhere it does nothing.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "fullfsync(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return msqlite.NewConnector(u.String())
}

// prepare checks the database file, switches it to WAL mode and migrates
// its schema, in that order, so that nothing is written to a file that
// fails a check.
func prepare(c *conn) error {
	// Reading the header is the first read of the file: it fails with
	// SQLITE_NOTADB for a file that is not a database.
	h, err := readHeader(c)
	if err != nil {
		return checkError(err)
	}
	if err := h.check(); err != nil {
		return err
	}
	if err := quickCheck(c); err != nil {
		return err
	}

	row, _, err := c.queryRow("PRAGMA journal_mode=WAL")
	if err != nil {
		return checkError(err)
	}
	if mode, _ := row[0].(string); !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("cannot use write-ahead logging: journal mode is %q", mode)
	}
	return migrate(c)
}

// header is what Open reads of a database before it writes to it.
type header struct {
	appID   int64 // PRAGMA application_id
	version int64 // PRAGMA user_version
	objects int64 // tables, indexes, views and triggers in the schema
}

func readHeader(c *conn) (header, error) {
	var h header
	for _, f := range []struct {
		query string
		dst   *int64
	}{
		{"PRAGMA application_id", &h.appID},
		{"PRAGMA user_version", &h.version},
		{"SELECT count(*) FROM sqlite_schema", &h.objects},
	} {
		row, _, err := c.queryRow(f.query)
		if err != nil {
			return h, err
		}
		n, ok := row[0].(int64)
		if !ok {
			return h, fmt.Errorf("%s returned %T", f.query, row[0])
		}
		*f.dst = n
	}
	return h, nil
}

// check accepts a keystore of a known schema version, and an empty
// database, which becomes a keystore.
func (h header) check() error {
	switch {
	case h.appID == applicationID && h.version > int64(schemaVersion):
		return fmt.Errorf("%w: the file has version %d, this code knows versions up to %d",
			ErrSchemaTooNew, h.version, schemaVersion)
	case h.appID == applicationID && h.version >= 1:
		return nil
	case h.appID == 0 && h.version == 0 && h.objects == 0:
		return nil // empty: a new keystore
	default:
		return fmt.Errorf("%w (application_id %#x, user_version %d)", ErrNotKeystore, h.appID, h.version)
	}
}

// quickCheck runs PRAGMA quick_check, which verifies the structure of every
// page of the database in a time proportional to its size. It reports up to
// 8 problems.
func quickCheck(c *conn) error {
	var problems []string
	err := c.query("PRAGMA quick_check(8)", nil, func(row []driver.Value) error {
		if line, _ := row[0].(string); line != "ok" {
			problems = append(problems, strings.ReplaceAll(line, "\n", " "))
		}
		return nil
	})
	if err != nil {
		return checkError(err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: quick_check: %s", ErrCorrupt, strings.Join(problems, "; "))
	}
	return nil
}

// migrate brings the schema to schemaVersion. The version is read again
// inside the write transaction, since another process may have migrated
// the file since the check.
func migrate(c *conn) (err error) {
	ctx := context.Background()
	if err := c.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return checkError(err)
	}
	defer func() {
		if err != nil {
			c.rollback()
		}
	}()
	h, err := readHeader(c)
	if err != nil {
		return checkError(err)
	}
	if err := h.check(); err != nil {
		return err
	}
	for v := int(h.version); v < schemaVersion; v++ {
		if err := c.exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration to schema version %d: %w", v+1, checkError(err))
		}
	}
	if int(h.version) < schemaVersion {
		// PRAGMA takes no parameters; both values are this package's.
		for _, set := range []string{
			fmt.Sprintf("PRAGMA application_id = %d", applicationID),
			fmt.Sprintf("PRAGMA user_version = %d", schemaVersion),
		} {
			if err := c.exec(ctx, set); err != nil {
				return checkError(err)
			}
		}
	}
	return checkError(c.exec(ctx, "COMMIT"))
}

// checkError marks an error of SQLite that means the file is not a
// database, or is corrupt, with ErrCorrupt.
func checkError(err error) error {
	if err != nil && isCorrupt(err) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// isCorrupt reports whether err is SQLite's SQLITE_NOTADB or
// SQLITE_CORRUPT, in any of their extended forms.
func isCorrupt(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return true
	}
	return false
}
