package sqlite

import (
	"bytes"
	"context"
	"database/sql/driver"
	"fmt"
	"sync"

	"github.com/sotto-im/sotto/keystore"
)

// The statements of a transaction. Spaces and keys are bound as TEXT with
// their exact bytes, NULs and invalid UTF-8 included, and compared with the
// column's BINARY collation: memcmp, then length. That is Go's string order,
// so ORDER BY key sorts as keystore/memory does.
const (
	getSQL    = `SELECT value FROM kv WHERE space = ?1 AND key = ?2`
	deleteSQL = `DELETE FROM kv WHERE space = ?1 AND key = ?2`
	// An empty value binds as NULL; it is stored as an empty BLOB.
	putSQL = `INSERT INTO kv (space, key, value) VALUES (?1, ?2, coalesce(?3, x''))
		ON CONFLICT (space, key) DO UPDATE SET value = excluded.value`

	// A prefix is a range of the primary key, [prefix, prefixEnd(prefix)),
	// never a LIKE or GLOB pattern, in which % _ * ? [ would be special.
	listAllSQL   = `SELECT key FROM kv WHERE space = ?1 ORDER BY key`
	listFromSQL  = `SELECT key FROM kv WHERE space = ?1 AND key >= ?2 ORDER BY key`
	listRangeSQL = `SELECT key FROM kv WHERE space = ?1 AND key >= ?2 AND key < ?3 ORDER BY key`
)

// tx is a transaction on one connection, which it has to itself until run
// returns.
//
// Its statements run without a context: interrupting one inside a write
// transaction could roll the whole transaction back, and the statements fn
// runs next would then each commit on their own. Update checks ctx before
// the commit instead, as the contract asks.
type tx struct {
	c        *conn
	writable bool

	mu    sync.Mutex // held by every call, so that end waits for one in progress
	ended bool       // set when fn has returned
	err   error      // in an Update, the first failure of a statement; sticky
}

// run calls fn and ends the transaction when fn returns or panics, so that
// a Tx kept by fn cannot reach the connection once it is released.
func (t *tx) run(fn func(keystore.Tx) error) error {
	defer t.end()
	return fn(t)
}

func (t *tx) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
}

// enter locks t for one call. Using a Tx after its function returned is a
// programmer error, and panics as keystore/memory does.
func (t *tx) enter() {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		panic("keystore/sqlite: Tx used after its transaction ended")
	}
}

// fail records the failure of a statement. After one, a write transaction
// answers every call with the same error and never commits: SQLite rolls
// a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR,
// SQLITE_NOMEM), and the writes after that would each commit on their own.
func (t *tx) fail(op string, err error) error {
	err = wrap(op, err)
	if t.writable && t.err == nil {
		t.err = err
	}
	return err
}

// Get returns a copy of the value of key in space.
func (t *tx) Get(space, key string) ([]byte, error) {
	t.enter()
	defer t.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	if space == "" || key == "" {
		return nil, keystore.ErrInvalidKey
	}
	var v []byte
	found := false
	err := t.c.query(getSQL, []driver.Value{space, key}, func(row []driver.Value) error {
		found = true
		switch x := row[0].(type) {
		case []byte:
			v = bytes.Clone(x) // the caller's copy, not the driver's buffer
		case string: // a value stored as TEXT by another program
			v = []byte(x)
		default:
			return fmt.Errorf("value of type %T", x)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, t.fail("get", err)
	case !found:
		return nil, keystore.ErrNotFound
	case v == nil:
		return []byte{}, nil // an empty value is a value
	}
	return v, nil
}

// Put sets the value of key in space. The driver copies value before Put
// returns.
func (t *tx) Put(space, key string, value []byte) error {
	t.enter()
	defer t.mu.Unlock()
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if t.err != nil {
		return t.err
	}
	if err := keystore.CheckPut(space, key, value); err != nil {
		return err
	}
	if err := t.c.exec(context.Background(), putSQL, space, key, value); err != nil {
		return t.fail("put", err)
	}
	return nil
}

// Delete removes key from space.
func (t *tx) Delete(space, key string) error {
	t.enter()
	defer t.mu.Unlock()
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if t.err != nil {
		return t.err
	}
	if space == "" || key == "" {
		return keystore.ErrInvalidKey
	}
	if err := t.c.exec(context.Background(), deleteSQL, space, key); err != nil {
		return t.fail("delete", err)
	}
	return nil
}

// List returns the keys in space that start with prefix, in byte order.
func (t *tx) List(space, prefix string) ([]string, error) {
	t.enter()
	defer t.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	if space == "" {
		return nil, keystore.ErrInvalidKey
	}
	query, args := listAllSQL, []driver.Value{space}
	if prefix != "" {
		if end, ok := prefixEnd(prefix); ok {
			query, args = listRangeSQL, []driver.Value{space, prefix, end}
		} else {
			query, args = listFromSQL, []driver.Value{space, prefix}
		}
	}
	var keys []string
	err := t.c.query(query, args, func(row []driver.Value) error {
		k, ok := row[0].(string)
		if !ok {
			return fmt.Errorf("key of type %T", row[0])
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, t.fail("list", err)
	}
	return keys, nil
}

// prefixEnd returns the least string greater than every string that starts
// with prefix: prefix without its trailing 0xff bytes, its last byte then
// incremented. It reports false if there is none, for a prefix of 0xff
// bytes only.
func prefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
