// Package memory is an in-memory keystore.Store, for tests and for clients
// that keep nothing once they exit. Updates run one at a time; Views run
// concurrently with each other over the last committed state.
package memory

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/sotto-im/sotto/keystore"
)

// Store is an in-memory keystore.Store. The zero value is not usable; call
// New.
type Store struct {
	mu     sync.RWMutex // held for writing during commit, for reading by Views
	writer sync.Mutex   // serializes Updates
	data   map[string]map[string][]byte
	closed bool
}

var _ keystore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{data: map[string]map[string][]byte{}}
}

// Close makes every later call fail with keystore.ErrClosed and drops the
// data.
func (s *Store) Close() error {
	s.writer.Lock()
	defer s.writer.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, sp := range s.data {
		for _, v := range sp {
			clear(v)
		}
	}
	s.data = nil
	return nil
}

// Update runs fn in a read-write transaction.
func (s *Store) Update(ctx context.Context, fn func(keystore.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.writer.Lock()
	defer s.writer.Unlock()
	if err := ctx.Err(); err != nil { // cancelled while queued behind another Update
		return err
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return keystore.ErrClosed
	}
	tx := &tx{s: s, writes: map[string]map[string][]byte{}, writable: true}
	defer tx.done()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for space, kv := range tx.writes {
		sp := s.data[space]
		if sp == nil {
			sp = map[string][]byte{}
			s.data[space] = sp
		}
		for k, v := range kv {
			if old, ok := sp[k]; ok {
				clear(old)
			}
			if v == nil {
				delete(sp, k)
			} else {
				sp[k] = v
			}
		}
		if len(sp) == 0 {
			delete(s.data, space)
		}
	}
	tx.writes = nil
	return nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(keystore.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return keystore.ErrClosed
	}
	tx := &tx{s: s}
	defer tx.done()
	return fn(tx)
}

// tx reads the committed data through its own pending writes, in which a
// nil value marks a deletion.
type tx struct {
	s        *Store
	writes   map[string]map[string][]byte
	writable bool
	finished bool
}

func (t *tx) done() { t.finished = true }

func (t *tx) Get(space, key string) ([]byte, error) {
	if t.finished {
		panic("keystore/memory: Tx used after its transaction ended")
	}
	if space == "" || key == "" {
		return nil, keystore.ErrInvalidKey
	}
	if v, ok := t.writes[space][key]; ok {
		if v == nil {
			return nil, keystore.ErrNotFound
		}
		return slices.Clone(v), nil
	}
	// Reads of committed data need no lock in an Update: only the Update
	// itself commits, after fn returns.
	v, ok := t.s.data[space][key]
	if !ok {
		return nil, keystore.ErrNotFound
	}
	return slices.Clone(v), nil
}

func (t *tx) Put(space, key string, value []byte) error {
	if t.finished {
		panic("keystore/memory: Tx used after its transaction ended")
	}
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if err := keystore.CheckPut(space, key, value); err != nil {
		return err
	}
	t.set(space, key, append(make([]byte, 0, len(value)), value...))
	return nil
}

func (t *tx) Delete(space, key string) error {
	if t.finished {
		panic("keystore/memory: Tx used after its transaction ended")
	}
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if space == "" || key == "" {
		return keystore.ErrInvalidKey
	}
	t.set(space, key, nil)
	return nil
}

func (t *tx) set(space, key string, v []byte) {
	w := t.writes[space]
	if w == nil {
		w = map[string][]byte{}
		t.writes[space] = w
	}
	w[key] = v
}

func (t *tx) List(space, prefix string) ([]string, error) {
	if t.finished {
		panic("keystore/memory: Tx used after its transaction ended")
	}
	if space == "" {
		return nil, keystore.ErrInvalidKey
	}
	var keys []string
	for k := range t.s.data[space] {
		if strings.HasPrefix(k, prefix) {
			if v, ok := t.writes[space][k]; ok && v == nil {
				continue
			}
			keys = append(keys, k)
		}
	}
	for k, v := range t.writes[space] {
		if v != nil && strings.HasPrefix(k, prefix) {
			if _, ok := t.s.data[space][k]; !ok {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys, nil
}
