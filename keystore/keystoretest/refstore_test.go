package keystoretest

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/sotto-im/sotto/keystore"
)

// refStore is a small, correct keystore.Store, written independently of
// keystore/memory, into which mutants_test.go injects one fault at a time to
// show that each check of the suite can fail.
type refStore struct {
	fault   fault
	writer  sync.Mutex   // serializes Updates
	mu      sync.RWMutex // guards data and version; held for reading by Views
	data    map[string]map[string][]byte
	version map[[2]string]int // commits per key, for snapshotIsolation
}

// fault is one defect a mutant store has; the zero fault is none.
type fault int

const (
	correct           fault = iota
	missingIsNil            // Get of a missing key returns nil, nil
	neverCommits            // Update returns nil and commits nothing
	putNoOverwrite          // Put over a committed key keeps the old value
	nilValueDeletes         // Put(nil) marks a deletion
	nulTruncates            // keys end at the first NUL, as in C strings
	getNoCopy               // Get returns the stored slice
	putNoCopy               // Put keeps the caller's slice
	deleteNoop              // Delete does nothing
	deleteMissingErrs       // Delete of a missing key returns ErrNotFound
	listUnsorted            // List puts own writes after committed keys
	listIgnoresPrefix       // List returns every key of the space
	listLike                // List matches the prefix as SQL LIKE
	listMissingSpace        // List of an unknown space returns ErrNotFound
	ignoreSpace             // every space is the same space
	flatKeys                // space and key are joined with "/"
	getNoOwnWrites          // Get reads committed data only
	listNoOwnWrites         // List reads committed data only
	commitOnError           // fn's error does not stop the commit
	ignoreFnError           // Update and View return nil when fn fails
	commitOnPanic           // a panic in fn commits, then propagates
	swallowPanic            // a panic in fn becomes an error
	leakLockOnPanic         // a panic in fn leaves the store locked
	viewWritable            // Put and Delete work in a View, and commit
	noCtxBefore             // ctx is not checked before starting
	noCtxCommit             // ctx is not checked before committing
	noSizeLimit             // values of any size are accepted
	sizeOffByOne            // a value of MaxValueSize bytes is rejected
	emptyKeyOK              // empty spaces and keys are accepted
	dirtyWrites             // Update writes straight to the data, undoing on error
	nonAtomicCommit         // a commit applies writes one at a time
	viewNoSnapshot          // each read of a View sees the latest commit
	noWriterLock            // Updates run alongside each other, read committed
	snapshotIsolation       // Updates retry on write-write conflicts only
	numFaults
)

func newRefStore(f fault) *refStore {
	return &refStore{fault: f, data: map[string]map[string][]byte{}, version: map[[2]string]int{}}
}

func (s *refStore) Update(ctx context.Context, fn func(keystore.Tx) error) (err error) {
	if s.fault != noCtxBefore {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if s.fault == snapshotIsolation {
		return s.updateSnapshot(ctx, fn)
	}
	if s.fault != noWriterLock {
		s.writer.Lock()
		if s.fault == leakLockOnPanic {
			defer func() {
				if r := recover(); r != nil {
					panic(r)
				}
				s.writer.Unlock()
			}()
		} else {
			defer s.writer.Unlock()
		}
	}
	tx := &refTx{s: s, writable: true, writes: map[string]map[string][]byte{}}
	switch s.fault {
	case commitOnPanic:
		defer func() {
			if r := recover(); r != nil {
				s.commit(tx)
				panic(r)
			}
		}()
	case swallowPanic:
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("refstore: fn panicked: %v", r)
			}
		}()
	}
	if err := fn(tx); err != nil {
		tx.undo()
		switch s.fault {
		case commitOnError:
			s.commit(tx)
		case ignoreFnError:
			return nil
		}
		return err
	}
	if s.fault != noCtxCommit {
		if err := ctx.Err(); err != nil {
			tx.undo()
			return err
		}
	}
	s.commit(tx)
	return nil
}

// updateSnapshot runs fn over a copy of the data taken when it starts, and
// commits unless a key it wrote was committed by another Update meanwhile,
// in which case it runs fn again. It misses conflicts on keys only read.
func (s *refStore) updateSnapshot(ctx context.Context, fn func(keystore.Tx) error) error {
	for {
		s.mu.RLock()
		snap := map[string]map[string][]byte{}
		for space, kv := range s.data {
			snap[space] = maps.Clone(kv)
		}
		version := maps.Clone(s.version)
		s.mu.RUnlock()
		tx := &refTx{s: s, writable: true, writes: map[string]map[string][]byte{}, snap: snap}
		if err := fn(tx); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		conflict := false
		for space, kv := range tx.writes {
			for k := range kv {
				conflict = conflict || s.version[[2]string{space, k}] != version[[2]string{space, k}]
			}
		}
		if !conflict {
			s.apply(tx.writes)
		}
		s.mu.Unlock()
		if !conflict {
			return nil
		}
	}
}

func (s *refStore) commit(tx *refTx) {
	if s.fault == neverCommits {
		return
	}
	if s.fault == dirtyWrites {
		return // already written
	}
	if s.fault == nonAtomicCommit {
		for space, kv := range tx.writes {
			for k, v := range kv {
				s.mu.Lock()
				s.apply(map[string]map[string][]byte{space: {k: v}})
				s.mu.Unlock()
				runtime.Gosched()
			}
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apply(tx.writes)
}

// apply writes to the data; s.mu must be held for writing. A nil value is a
// deletion. Old values are wiped, as keystore/memory does, except under
// snapshotIsolation, whose snapshots share them.
func (s *refStore) apply(writes map[string]map[string][]byte) {
	for space, kv := range writes {
		for k, v := range kv {
			if old, ok := s.data[space][k]; ok && s.fault != snapshotIsolation {
				clear(old)
			}
			s.version[[2]string{space, k}]++
			if v == nil {
				delete(s.data[space], k)
				continue
			}
			if s.data[space] == nil {
				s.data[space] = map[string][]byte{}
			}
			s.data[space][k] = v
		}
	}
}

func (s *refStore) View(ctx context.Context, fn func(keystore.Tx) error) (err error) {
	if s.fault != noCtxBefore {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	locked := s.fault != viewNoSnapshot && s.fault != viewWritable
	if locked {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	tx := &refTx{s: s, locked: locked, writable: s.fault == viewWritable, writes: map[string]map[string][]byte{}}
	if s.fault == swallowPanic {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("refstore: fn panicked: %v", r)
			}
		}()
	}
	err = fn(tx)
	if s.fault == viewWritable && err == nil {
		s.commit(tx)
	}
	if s.fault == ignoreFnError {
		return nil
	}
	return err
}

// refTx reads the committed data through its own writes, in which a nil
// value marks a deletion.
type refTx struct {
	s        *refStore
	locked   bool                         // the caller holds s.mu for reading
	snap     map[string]map[string][]byte // snapshotIsolation's copy of the data
	writable bool
	writes   map[string]map[string][]byte
	undoLog  []func() // dirtyWrites
}

func (t *refTx) name(space, key string) (string, string) {
	switch t.s.fault {
	case ignoreSpace:
		return "all", key
	case flatKeys:
		return "flat", space + "/" + key
	case nulTruncates:
		key, _, _ = strings.Cut(key, "\x00")
	}
	return space, key
}

func (t *refTx) committed(space string) map[string][]byte {
	if t.snap != nil {
		return t.snap[space]
	}
	if !t.locked {
		t.s.mu.RLock()
		defer t.s.mu.RUnlock()
	}
	return maps.Clone(t.s.data[space])
}

func (t *refTx) Get(space, key string) ([]byte, error) {
	if space == "" || key == "" {
		return nil, keystore.ErrInvalidKey
	}
	space, key = t.name(space, key)
	v, ok := t.writes[space][key]
	if !ok || t.s.fault == getNoOwnWrites {
		v, ok = t.committed(space)[key]
	}
	if !ok || v == nil {
		if t.s.fault == missingIsNil {
			return nil, nil
		}
		return nil, keystore.ErrNotFound
	}
	if t.s.fault == getNoCopy {
		return v, nil
	}
	return slices.Clone(v), nil
}

func (t *refTx) Put(space, key string, value []byte) error {
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if (space == "" || key == "") && t.s.fault != emptyKeyOK {
		return keystore.ErrInvalidKey
	}
	switch {
	case t.s.fault == noSizeLimit:
	case t.s.fault == sizeOffByOne && len(value) >= keystore.MaxValueSize,
		len(value) > keystore.MaxValueSize:
		return keystore.ErrValueTooLarge
	}
	space, key = t.name(space, key)
	if _, ok := t.committed(space)[key]; ok && t.s.fault == putNoOverwrite {
		return nil
	}
	switch t.s.fault {
	case putNoCopy:
	case nilValueDeletes:
		value = slices.Clone(value)
	default:
		value = append(make([]byte, 0, len(value)), value...)
	}
	t.set(space, key, value)
	return nil
}

func (t *refTx) Delete(space, key string) error {
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if (space == "" || key == "") && t.s.fault != emptyKeyOK {
		return keystore.ErrInvalidKey
	}
	if t.s.fault == deleteNoop {
		return nil
	}
	if t.s.fault == deleteMissingErrs {
		if _, err := t.Get(space, key); err != nil {
			return err
		}
	}
	space, key = t.name(space, key)
	t.set(space, key, nil)
	return nil
}

func (t *refTx) set(space, key string, v []byte) {
	if t.writes[space] == nil {
		t.writes[space] = map[string][]byte{}
	}
	t.writes[space][key] = v
	if t.s.fault == dirtyWrites {
		t.s.mu.Lock()
		old, had := t.s.data[space][key]
		t.s.apply(map[string]map[string][]byte{space: {key: v}})
		t.s.mu.Unlock()
		t.undoLog = append(t.undoLog, func() {
			if had {
				t.s.apply(map[string]map[string][]byte{space: {key: old}})
			} else {
				t.s.apply(map[string]map[string][]byte{space: {key: nil}})
			}
		})
	}
}

// undo reverts dirtyWrites's writes after fn failed.
func (t *refTx) undo() {
	if len(t.undoLog) == 0 {
		return
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	for _, f := range slices.Backward(t.undoLog) {
		f()
	}
}

func (t *refTx) List(space, prefix string) ([]string, error) {
	if space == "" {
		return nil, keystore.ErrInvalidKey
	}
	var flatPrefix string
	switch t.s.fault {
	case flatKeys:
		space, flatPrefix = "flat", space+"/"
		prefix = flatPrefix + prefix
	case ignoreSpace:
		space = "all"
	}
	match := func(k string) bool { return strings.HasPrefix(k, prefix) }
	switch t.s.fault {
	case listIgnoresPrefix:
		match = func(string) bool { return true }
	case listLike:
		match = func(k string) bool { return likePrefix(k, prefix) }
	}
	committed := t.committed(space)
	if committed == nil && t.s.fault == listMissingSpace {
		return nil, keystore.ErrNotFound
	}
	var keys, own []string
	for k := range committed {
		if v, ok := t.writes[space][k]; ok && v == nil && t.s.fault != listNoOwnWrites {
			continue
		}
		if match(k) {
			keys = append(keys, strings.TrimPrefix(k, flatPrefix))
		}
	}
	for k, v := range t.writes[space] {
		if _, ok := committed[k]; !ok && v != nil && match(k) && t.s.fault != listNoOwnWrites {
			own = append(own, strings.TrimPrefix(k, flatPrefix))
		}
	}
	slices.Sort(keys)
	slices.Sort(own)
	if t.s.fault == listUnsorted {
		return append(keys, own...), nil
	}
	return slices.Sorted(slices.Values(append(keys, own...))), nil
}

// likePrefix reports whether k matches the SQL pattern prefix+"%", in which
// "_" matches any byte and "%" any run of bytes.
func likePrefix(k, prefix string) bool {
	if prefix == "" {
		return true
	}
	switch prefix[0] {
	case '%':
		for i := 0; i <= len(k); i++ {
			if likePrefix(k[i:], prefix[1:]) {
				return true
			}
		}
		return false
	case '_':
		return k != "" && likePrefix(k[1:], prefix[1:])
	}
	return k != "" && k[0] == prefix[0] && likePrefix(k[1:], prefix[1:])
}
