// Package encrypted is a keystore.Store that encrypts every value at rest
// and keeps it in another keystore.Store, the inner store, which only ever
// sees ciphertext. Most applications want OpenWithPassphrase over a durable
// inner store (keystore/sqlite):
//
//	db, err := sqlite.Open(path) // the durable inner store
//	// The first open creates the keys; later ones unlock them.
//	store, err := encrypted.OpenWithPassphrase(ctx, db, passphrase, nil)
//	acct, err := session.OpenAccount(ctx, store)
//
// OpenWithAEAD does the same with a key the application already has (a KMS,
// the platform keychain, a hardware key) in place of a passphrase.
//
// # Design
//
// Values are sealed with a Tink AEAD (https://developers.google.com/tink)
// over a keyset of AES-256-GCM keys (aead.AES256GCMKeyTemplate: a 5-byte key
// id prefix, a random 96-bit nonce, a 16-byte tag). The associated data of
// each value is
//
//	"sotto-keystore-v1 value" || uint64be(len(space)) || space || key
//
// so a value copied or moved to another key or space, or cut and pasted
// from another store, fails to open with ErrTampered instead of returning
// the wrong data.
//
// The keyset itself lives in the inner store, in the reserved space
// "sotto.encrypted.meta", encrypted with Tink's keyset.WriteWithAssociatedData
// under a key-encryption key (KEK):
//
//   - OpenWithPassphrase derives the KEK from the passphrase with argon2id
//     (RFC 9106), by default with the RFC's second recommended parameters
//     (t=3, m=64 MiB, p=4; see Options), and a random 16-byte salt stored
//     beside the keyset with the parameters. The KEK is an AES-256-GCM key.
//     A 32-byte check value, derived from the same argon2id output, tells a
//     wrong passphrase (ErrWrongPassphrase) from a damaged keyset
//     (ErrTampered); it lets an attacker test guesses no faster than the
//     encrypted keyset already does: one argon2id run per guess.
//   - OpenWithAEAD uses any tink.AEAD the application supplies.
//
// Every space whose name starts with "sotto.encrypted." is reserved for this
// package: Get, Put, Delete and List of such a space return
// ErrReservedSpace.
//
// # What is visible at rest
//
// Space and key names are stored in the clear, so that List can select keys
// by prefix. Whoever can read the inner store learns them, the number of
// values and their exact sizes (each ciphertext row is 34 bytes longer
// than its value), and, by watching, when each changes. Package
// session names rows after peers' addresses (space "sotto.session", key
// "<address>"), so who the user talks to is metadata visible at rest; only
// values are confidential.
//
// # What is not detected
//
// Authentication binds a value to its space and key, not to a point in
// time: whoever can write the inner store can delete rows, or put back an
// older value of the same row (a rollback of a session record, for example),
// or restore an old copy of the whole store, without detection. Deleted rows
// read as keystore.ErrNotFound. (A deleted keyset record is detected: Open
// refuses to replace it while values remain.)
//
// # Rotation
//
// Rotate adds a new primary key to the keyset; new writes use it and older
// keys stay for reading. Reencrypt rewrites every value under the primary
// key, in batches, while the store stays in use, and RemoveOldKeys then
// deletes the older keys. ChangePassphrase re-seals the keyset (not the
// values) under a new passphrase. Rotate before a key has
// sealed 2^32 values, the NIST bound for random 96-bit GCM nonces: years of
// messaging, but Reencrypt of a very large store counts too.
//
// # Limits
//
// Values up to keystore.MaxValueSize are accepted, as the contract requires.
// Sealing adds 34 bytes; the few values that no longer fit under the inner
// store's MaxValueSize keep their last bytes in a second row in the reserved
// space "sotto.encrypted.overflow". Stored argon2id parameters are bounded
// (see Options) so a tampered store cannot make opening it exhaust memory or
// time.
//
// Open one Store per inner store in a process. Several processes (an app
// and its notification extension) may share an inner store, each with its
// own Store: a value sealed under a key a Store does not know yet makes it
// reload the keyset in that transaction, so a Rotate by one is seen by the
// others. ChangePassphrase and RemoveOldKeys are not: run them while no
// other Store is open, or reopen the others after.
//
// Keys and passphrase-derived secrets are cleared when no longer needed
// where this package holds them, but Tink keeps the keyset in memory while
// the Store is in use, and Go cannot guarantee that no copy survives in
// memory (see SECURITY.md). A Store prints as "encrypted.Store{keys
// redacted}" with every fmt verb.
package encrypted

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sotto-im/sotto/keystore"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// Errors this package returns, in addition to the inner store's. Callers
// branch on them with errors.Is.
var (
	// ErrWrongPassphrase is returned when the passphrase does not unlock the
	// keyset, or the keyset is sealed with an application key instead.
	// Nothing in the inner store changes.
	ErrWrongPassphrase = errors.New("keystore/encrypted: wrong passphrase")
	// ErrWrongKey is returned by OpenWithAEAD when the key-encryption key
	// cannot open the keyset: it is the wrong key, or the keyset was
	// tampered with (the two cannot be told apart), or the keyset is sealed
	// with a passphrase instead. Nothing in the inner store changes.
	ErrWrongKey = errors.New("keystore/encrypted: key-encryption key cannot open the keyset")
	// ErrTampered is returned for a stored value or keyset that fails
	// authentication or is malformed: corrupted, modified, or moved to
	// another space or key. It never comes with data.
	ErrTampered = errors.New("keystore/encrypted: stored data failed authentication")
	// ErrOldKeysInUse is returned by RemoveOldKeys while values are still
	// sealed under keys it would remove.
	ErrOldKeysInUse = errors.New("keystore/encrypted: values still sealed under old keys; run Reencrypt first")
	// ErrReservedSpace is returned for a space whose name starts with
	// ReservedPrefix. It satisfies errors.Is(err, keystore.ErrInvalidKey).
	ErrReservedSpace = fmt.Errorf("keystore/encrypted: space reserved for the encryption layer: %w", keystore.ErrInvalidKey)
)

// ReservedPrefix starts the names of the spaces this package keeps in the
// inner store for itself. Applications cannot use such spaces.
const ReservedPrefix = "sotto.encrypted."

// The reserved spaces.
const (
	spaceMeta     = ReservedPrefix + "meta"     // key metaKey: the sealed keyset
	spaceSpaces   = ReservedPrefix + "spaces"   // one empty row per space ever written, for Reencrypt
	spaceOverflow = ReservedPrefix + "overflow" // the tails of values too large for one inner row
	metaKey       = "keyset"
)

// Store is a keystore.Store that encrypts values at rest in an inner store.
// It is safe for concurrent use. Open one with OpenWithPassphrase or
// OpenWithAEAD; the zero value is not usable.
type Store struct {
	inner keystore.Store
	ring  atomic.Pointer[keyring] // the keyset in use; replaced, never mutated
	opts  Options                 // argon2id cost for a new passphrase

	admin sync.Mutex // serializes Rotate, Reencrypt, RemoveOldKeys and ChangePassphrase

	// spaces caches the user spaces known to be recorded in spaceSpaces.
	// It only grows, and only after the recording commits.
	spaces sync.Map // string -> struct{}
}

var _ keystore.Store = (*Store)(nil)

// String describes the Store without its keys.
func (s *Store) String() string { return "encrypted.Store{keys redacted}" }

// Format prints the Store as String does, for every verb, so that no
// formatting of it can reach key material.
func (s *Store) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// Update runs fn in a read-write transaction of the inner store; Put seals
// values and Get opens them. It returns fn's error unchanged.
func (s *Store) Update(ctx context.Context, fn func(keystore.Tx) error) error {
	var last *tx
	err := s.inner.Update(ctx, func(itx keystore.Tx) error {
		// A store may run fn more than once; only the last run commits.
		t := s.newTx(itx, true)
		last = t
		defer t.end()
		return fn(t)
	})
	if err == nil && last != nil {
		for _, sp := range last.newSpaces {
			s.spaces.Store(sp, struct{}{})
		}
	}
	return err
}

// View runs fn in a read-only transaction of the inner store.
func (s *Store) View(ctx context.Context, fn func(keystore.Tx) error) error {
	return s.inner.View(ctx, func(itx keystore.Tx) error {
		t := s.newTx(itx, false)
		defer t.end()
		return fn(t)
	})
}

// update runs fn in an Update with this package's own transaction type, for
// the maintenance operations.
func (s *Store) update(ctx context.Context, fn func(*tx) error) error {
	return s.Update(ctx, func(t keystore.Tx) error { return fn(t.(*tx)) })
}

// reserved reports whether space belongs to this package.
func reserved(space string) bool { return strings.HasPrefix(space, ReservedPrefix) }

// newStore finishes OpenWithPassphrase and OpenWithAEAD: it installs ring and
// loads the list of spaces already written.
func newStore(ctx context.Context, inner keystore.Store, ring *keyring, opts Options) (*Store, error) {
	s := &Store{inner: inner, opts: opts}
	s.ring.Store(ring)
	err := inner.View(ctx, func(tx keystore.Tx) error {
		spaces, err := tx.List(spaceSpaces, "")
		for _, sp := range spaces {
			s.spaces.Store(sp, struct{}{})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenWithAEAD opens the encrypted store kept in inner, whose keyset is
// sealed with kek, an AEAD the application holds (a KMS key, a key from the
// platform keychain or a hardware module). The first open of an inner store
// with no keyset creates one.
//
// If kek cannot open an existing keyset, OpenWithAEAD returns an error
// wrapping ErrWrongKey and changes nothing. If inner holds values but no
// keyset record, it returns ErrTampered instead of creating a keyset that
// would not open them.
func OpenWithAEAD(ctx context.Context, inner keystore.Store, kek tink.AEAD) (*Store, error) {
	if inner == nil || kek == nil {
		return nil, errors.New("keystore/encrypted: nil inner store or key-encryption key")
	}
	hdr := appendHeaderAEAD(nil)
	ring, err := openKeyset(ctx, inner, func(meta []byte) (*keyring, error) {
		h, sealed, err := parseMeta(meta)
		if err != nil {
			return nil, err
		}
		if h.kind != kindAEAD {
			return nil, fmt.Errorf("%w: it is sealed with a passphrase", ErrWrongKey)
		}
		kh, err := unsealKeyset(sealed, kek, h.raw)
		if ue, ok := err.(*unsealError); ok {
			// Keep the KEK's own error: a KMS may fail for reasons
			// of its own (access, network).
			return nil, fmt.Errorf("%w: %w", ErrWrongKey, ue.kekErr)
		}
		if err != nil {
			return nil, err
		}
		return newKeyring(kh, kek, h.raw)
	}, func() (tink.AEAD, []byte, error) {
		return kek, hdr, nil
	})
	if err != nil {
		return nil, err
	}
	return newStore(ctx, inner, ring, Options{})
}

// openKeyset reads the keyset from inner and unlocks it with unlock, or, if
// inner has none, creates one sealed with the KEK and header that create
// returns. Slow key derivation runs outside any transaction.
func openKeyset(ctx context.Context, inner keystore.Store, unlock func(meta []byte) (*keyring, error), create func() (tink.AEAD, []byte, error)) (*keyring, error) {
	for {
		meta, err := readMeta(ctx, inner)
		if err == nil {
			return unlock(meta)
		}
		if !errors.Is(err, keystore.ErrNotFound) {
			return nil, err
		}
		kek, hdr, err := create()
		if err != nil {
			return nil, err
		}
		ring, sealed, err := newKeyset(kek, hdr)
		if err != nil {
			return nil, err
		}
		raced := false
		err = inner.Update(ctx, func(tx keystore.Tx) error {
			if _, err := tx.Get(spaceMeta, metaKey); !errors.Is(err, keystore.ErrNotFound) {
				raced = err == nil
				return err
			}
			// Values without a keyset: the record was deleted, and a new
			// keyset would only hide that they are lost.
			if spaces, err := tx.List(spaceSpaces, ""); err != nil || len(spaces) > 0 {
				if err == nil {
					err = fmt.Errorf("keystore/encrypted: keyset record missing from a store with values: %w", ErrTampered)
				}
				return err
			}
			return tx.Put(spaceMeta, metaKey, sealed)
		})
		if err != nil {
			return nil, err
		}
		if !raced {
			return ring, nil
		}
		// Another Store created the keyset first: unlock that one.
	}
}

// readMeta returns the sealed keyset record, or keystore.ErrNotFound.
func readMeta(ctx context.Context, inner keystore.Store) ([]byte, error) {
	var meta []byte
	err := inner.View(ctx, func(tx keystore.Tx) error {
		var err error
		meta, err = tx.Get(spaceMeta, metaKey)
		return err
	})
	return meta, err
}
