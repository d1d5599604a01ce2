// Package keystore is the storage contract of Sotto: a small transactional
// key-value interface over opaque bytes in named spaces. Package session
// keeps identities, prekeys, trust decisions and session records in a Store,
// one transaction per Encrypt or Decrypt, so a store that honours this
// contract is all an application must provide.
//
// The contract:
//
//   - Atomicity: Update runs fn in a read-write transaction. If fn returns
//     nil, every Put and Delete it made becomes visible at once and is
//     durable when Update returns (as durable as the store promises: the
//     in-memory store loses everything on exit). If fn returns an error or
//     the context is cancelled before the commit, none of them does, and
//     Update returns that error. If fn panics, nothing is committed and the
//     panic propagates. Update calls fn exactly once: it never retries, so
//     fn may have side effects and draw randomness.
//   - Isolation: transactions are serializable. A transaction sees its own
//     writes and never another transaction's uncommitted ones, and two
//     concurrent Updates behave as if run one after the other. Stores may
//     simply run Updates one at a time.
//   - View runs fn in a read-only transaction over a consistent snapshot;
//     Put and Delete return ErrReadOnly.
//   - Cancellation: a store checks ctx before starting and before
//     committing; a cancelled context returns ctx.Err() and commits nothing.
//     Once the commit has started, cancellation does not interrupt it.
//   - Values are opaque bytes up to MaxValueSize. Get returns a copy the
//     caller may keep; Put copies its argument. Spaces and keys are
//     non-empty strings (ErrInvalidKey otherwise); List sorts keys in byte
//     order, as Go compares strings.
//   - A Tx must not be used after its function returns, nor from several
//     goroutines, and fn must not call Update or View on the same store.
//
// keystore itself imports only the standard library. Stores live in
// sub-packages: keystore/memory for tests and ephemeral clients.
package keystore

import (
	"context"
	"errors"
)

// MaxValueSize is the largest value a store must accept.
const MaxValueSize = 16 << 20

// Errors a Store returns. Callers branch on them with errors.Is.
var (
	// ErrNotFound is returned by Get for a key that has no value.
	ErrNotFound = errors.New("keystore: not found")
	// ErrReadOnly is returned by Put and Delete inside View.
	ErrReadOnly = errors.New("keystore: read-only transaction")
	// ErrClosed is returned by a store after Close.
	ErrClosed = errors.New("keystore: store closed")
	// ErrInvalidKey is returned for an empty space or key.
	ErrInvalidKey = errors.New("keystore: empty space or key")
	// ErrValueTooLarge is returned by Put for a value over MaxValueSize.
	ErrValueTooLarge = errors.New("keystore: value too large")
)

// Store is a transactional store of opaque values in named spaces.
type Store interface {
	// Update runs fn in a read-write transaction, committing its writes
	// if and only if fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is a transaction's view of the store.
type Tx interface {
	// Get returns a copy of the value of key in space, or ErrNotFound.
	Get(space, key string) ([]byte, error)
	// Put sets the value of key in space.
	Put(space, key string, value []byte) error
	// Delete removes key from space; deleting a missing key is not an
	// error.
	Delete(space, key string) error
	// List returns the keys in space that start with prefix, sorted.
	List(space, prefix string) ([]string, error)
}

// CheckPut validates the arguments of a Put; stores may call it first.
func CheckPut(space, key string, value []byte) error {
	if space == "" || key == "" {
		return ErrInvalidKey
	}
	if len(value) > MaxValueSize {
		return ErrValueTooLarge
	}
	return nil
}
