package encrypted

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// cheap are argon2id parameters that cost microseconds, for tests only.
var cheap = &Options{Time: 1, Memory: 8, Threads: 1}

var passphrase = []byte("correct horse battery staple")

// spy is an inner store that records every space written and every value
// ever passed to Put, committed or not, so tests can inspect what reaches
// it.
type spy struct {
	keystore.Store
	mu     sync.Mutex
	spaces map[string]bool
	puts   [][]byte
}

func newSpy() *spy { return &spy{Store: memory.New(), spaces: map[string]bool{}} }

func (s *spy) Update(ctx context.Context, fn func(keystore.Tx) error) error {
	return s.Store.Update(ctx, func(tx keystore.Tx) error { return fn(spyTx{tx, s}) })
}

type spyTx struct {
	keystore.Tx
	s *spy
}

func (t spyTx) Put(space, key string, value []byte) error {
	t.s.mu.Lock()
	t.s.spaces[space] = true
	t.s.puts = append(t.s.puts, bytes.Clone(value))
	t.s.mu.Unlock()
	return t.Tx.Put(space, key, value)
}

// row names a row of the inner store.
type row struct{ space, key string }

// snapshot returns every row of the inner store.
func (s *spy) snapshot(t testing.TB) map[row][]byte {
	t.Helper()
	s.mu.Lock()
	spaces := slices.Sorted(maps.Keys(s.spaces))
	s.mu.Unlock()
	rows := map[row][]byte{}
	err := s.Store.View(t.Context(), func(tx keystore.Tx) error {
		for _, sp := range spaces {
			keys, err := tx.List(sp, "")
			if err != nil {
				return err
			}
			for _, k := range keys {
				v, err := tx.Get(sp, k)
				if err != nil {
					return err
				}
				rows[row{sp, k}] = v
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return rows
}

// wantUnchanged fails the test unless the inner store holds exactly before.
func (s *spy) wantUnchanged(t testing.TB, before map[row][]byte) {
	t.Helper()
	after := s.snapshot(t)
	if !maps.EqualFunc(before, after, bytes.Equal) {
		t.Errorf("inner store changed: %d rows before, %d after", len(before), len(after))
	}
}

// raw reads a row of the inner store, bypassing the encryption.
func (s *spy) raw(t testing.TB, space, key string) []byte {
	t.Helper()
	var v []byte
	err := s.Store.View(t.Context(), func(tx keystore.Tx) error {
		var err error
		v, err = tx.Get(space, key)
		return err
	})
	if err != nil {
		t.Fatalf("raw Get(%q, %q): %v", space, key, err)
	}
	return v
}

// setRaw writes (or, for nil, deletes) a row of the inner store, bypassing
// the encryption.
func (s *spy) setRaw(t testing.TB, space, key string, v []byte) {
	t.Helper()
	err := s.Update(t.Context(), func(tx keystore.Tx) error {
		if v == nil {
			return tx.Delete(space, key)
		}
		return tx.Put(space, key, v)
	})
	if err != nil {
		t.Fatalf("raw Put(%q, %q): %v", space, key, err)
	}
}

// openSpy opens a passphrase store with cheap parameters over a new spy.
func openSpy(t testing.TB) (*Store, *spy) {
	t.Helper()
	inner := newSpy()
	s, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
	if err != nil {
		t.Fatalf("OpenWithPassphrase: %v", err)
	}
	return s, inner
}

// put commits values in one Update.
func put(t testing.TB, s keystore.Store, space string, kv map[string]string) {
	t.Helper()
	err := s.Update(t.Context(), func(tx keystore.Tx) error {
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			if err := tx.Put(space, k, []byte(kv[k])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// get reads one value in a View.
func get(t testing.TB, s keystore.Store, space, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(t.Context(), func(tx keystore.Tx) error {
		var err error
		v, err = tx.Get(space, key)
		return err
	})
	return v, err
}

// wantValue fails the test unless space/key reads as want.
func wantValue(t testing.TB, s keystore.Store, space, key, want string) {
	t.Helper()
	v, err := get(t, s, space, key)
	if err != nil || string(v) != want {
		t.Errorf("Get(%q, %q) = %q, %v; want %q", space, key, v, err, want)
	}
}

// wantTampered fails the test unless reading space/key fails with
// ErrTampered and no data.
func wantTampered(t testing.TB, s keystore.Store, space, key string) {
	t.Helper()
	v, err := get(t, s, space, key)
	if !errors.Is(err, ErrTampered) || v != nil {
		t.Errorf("Get(%q, %q) = %q, %v; want ErrTampered and no data", space, key, v, err)
	}
}

// newTinkKEK returns a fresh Tink AES-256-GCM AEAD to use as a KEK, as an
// application would get one from a KMS.
func newTinkKEK(t testing.TB) tink.AEAD {
	t.Helper()
	kh, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		t.Fatal(err)
	}
	a, err := aead.New(kh)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// keyIDOf returns the Tink key id a stored row is sealed under.
func keyIDOf(t testing.TB, inner *spy, space, key string) uint32 {
	t.Helper()
	id, ok := keyID(inner.raw(t, space, key)[1:])
	if !ok {
		t.Fatalf("row %q/%q has no Tink key id", space, key)
	}
	return id
}
