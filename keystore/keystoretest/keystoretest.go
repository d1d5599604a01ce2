// Package keystoretest checks that a keystore.Store honours the contract
// documented in package keystore, as testing/fstest.TestFS does for an
// fs.FS. Every store, in this module or outside it, runs the same suite with
// one call from its own tests:
//
//	func TestConformance(t *testing.T) {
//		keystoretest.TestStore(t, func(t *testing.T) keystore.Store {
//			s, err := mystore.Open(filepath.Join(t.TempDir(), "keys.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// open must return a new, empty store each time it is called: TestStore
// opens one for every check, so checks never see each other's data, and a
// store that needs closing registers that with t.Cleanup.
//
// The checks are subtests named for the part of the contract they test, so a
// single one can be rerun with -run, e.g. 'TestConformance/Isolation/WriteSkew':
//
//   - Get, Put, Delete, List: reads and writes of committed data, sorted
//     listing by byte-wise prefix, values that are copies on the way in and
//     out, empty and binary values;
//   - Spaces: spaces are independent namespaces and never collide with keys;
//   - Tx: a transaction sees its own writes; an error or a panic in fn
//     commits nothing; fn's error and panic reach the caller unchanged;
//   - View: read-only (keystore.ErrReadOnly);
//   - Isolation: a concurrent View never sees uncommitted or half-committed
//     writes, a View reads one snapshot, and concurrent Updates are
//     serializable (no lost updates, no write skew);
//   - Cancel: a context cancelled before or during fn commits nothing and
//     its error is returned;
//   - Limits: keystore.MaxValueSize is accepted and one byte more rejected
//     with keystore.ErrValueTooLarge; Put and Delete reject an empty space or
//     key with keystore.ErrInvalidKey.
//
// The concurrency checks are probabilistic (a store that breaks isolation
// only rarely can pass them by luck) and are most useful under the race
// detector. A check that waits on the store fails, rather than hangs, when
// the store deadlocks (for example after fn panics). The suite allocates a
// few values of keystore.MaxValueSize (16 MiB) and takes about a second
// with the in-memory store.
//
// Every check can fail: the package's own tests inject one fault at a time
// into a reference store (a lost update, a non-atomic commit, a LIKE-based
// List, ...) and require the matching check to catch it.
//
// The suite calls fn on the store's terms: it does not assume fn runs on the
// calling goroutine, and it never uses a Tx after its function returns.
package keystoretest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
)

// TestStore runs the conformance suite against the stores returned by open,
// each check as a subtest on a fresh store. open must return a new, empty
// store each time it is called.
func TestStore(t *testing.T, open func(t *testing.T) keystore.Store) {
	t.Helper()
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.checks {
				t.Run(c.name, func(t *testing.T) {
					s := open(t)
					if s == nil {
						t.Fatal("open returned a nil Store")
					}
					c.fn(t, s)
				})
			}
		})
	}
}

type check struct {
	name string
	fn   func(t *testing.T, s keystore.Store)
}

// groups lists every check, grouped by the part of the contract it tests.
// The group and check names are the subtest names.
var groups = []struct {
	name   string
	checks []check
}{
	{"Get", []check{
		{"Missing", testGetMissing},
		{"RoundTrip", testGetRoundTrip},
		{"Overwrite", testGetOverwrite},
		{"EmptyValue", testGetEmptyValue},
		{"BinaryData", testGetBinaryData},
		{"ReturnsCopy", testGetReturnsCopy},
	}},
	{"Put", []check{
		{"CopiesInput", testPutCopiesInput},
	}},
	{"Delete", []check{
		{"Committed", testDeleteCommitted},
		{"Missing", testDeleteMissing},
	}},
	{"List", []check{
		{"Sorted", testListSorted},
		{"Prefix", testListPrefix},
		{"PrefixWildcards", testListPrefixWildcards},
		{"EmptySpace", testListEmptySpace},
	}},
	{"Spaces", []check{
		{"Independent", testSpacesIndependent},
		{"NoCollision", testSpacesNoCollision},
	}},
	{"Tx", []check{
		{"OwnWrites", testTxOwnWrites},
		{"Rollback", testTxRollback},
		{"ErrorReturned", testTxErrorReturned},
		{"Panic", testTxPanic},
	}},
	{"View", []check{
		{"ReadOnly", testViewReadOnly},
	}},
	{"Isolation", []check{
		{"Uncommitted", testIsolationUncommitted},
		{"AllOrNothing", testIsolationAllOrNothing},
		{"Snapshot", testIsolationSnapshot},
		{"LostUpdates", testIsolationLostUpdates},
		{"WriteSkew", testIsolationWriteSkew},
	}},
	{"Cancel", []check{
		{"Before", testCancelBefore},
		{"DuringFn", testCancelDuringFn},
	}},
	{"Limits", []check{
		{"MaxValueSize", testLimitsMaxValueSize},
		{"TooLarge", testLimitsTooLarge},
		{"InvalidKey", testLimitsInvalidKey},
	}},
}

// stuck is how long the suite waits on a store call that should return
// promptly before it reports a deadlock. The mutation tests shorten it.
var stuck = 10 * time.Second

// update runs fn in s.Update and fails the test if Update returns an error.
func update(t *testing.T, s keystore.Store, fn func(tx keystore.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in s.View and fails the test if View returns an error.
func view(t *testing.T, s keystore.Store, fn func(tx keystore.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// putAll commits every key of kv in space in one Update.
func putAll(t *testing.T, s keystore.Store, space string, kv map[string]string) {
	t.Helper()
	update(t, s, func(tx keystore.Tx) error {
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			if err := tx.Put(space, k, []byte(kv[k])); err != nil {
				return fmt.Errorf("Put(%q, %q): %w", space, k, err)
			}
		}
		return nil
	})
}

// mustPut reports an error if tx.Put fails. Checks inside fn use t.Errorf,
// never t.Fatal: the store may run fn on another goroutine.
func mustPut(t *testing.T, tx keystore.Tx, space, key string, value []byte) {
	t.Helper()
	if err := tx.Put(space, key, value); err != nil {
		t.Errorf("Put(%q, %q): %v", space, key, err)
	}
}

// mustDelete reports an error if tx.Delete fails.
func mustDelete(t *testing.T, tx keystore.Tx, space, key string) {
	t.Helper()
	if err := tx.Delete(space, key); err != nil {
		t.Errorf("Delete(%q, %q): %v", space, key, err)
	}
}

// wantGet reports an error unless tx.Get(space, key) returns want, or
// keystore.ErrNotFound if want is nil. Use []byte{} for an empty value.
func wantGet(t *testing.T, tx keystore.Tx, space, key string, want []byte) {
	t.Helper()
	got, err := tx.Get(space, key)
	switch {
	case want == nil && !errors.Is(err, keystore.ErrNotFound):
		t.Errorf("Get(%q, %q) = %q, %v; want keystore.ErrNotFound", space, key, trim(got), err)
	case want != nil && err != nil:
		t.Errorf("Get(%q, %q): %v; want %q", space, key, err, trim(want))
	case want != nil && !bytes.Equal(got, want):
		t.Errorf("Get(%q, %q) = %q; want %q", space, key, trim(got), trim(want))
	}
}

// wantList reports an error unless tx.List(space, prefix) returns exactly
// want, in that order.
func wantList(t *testing.T, tx keystore.Tx, space, prefix string, want ...string) {
	t.Helper()
	got, err := tx.List(space, prefix)
	if err != nil {
		t.Errorf("List(%q, %q): %v", space, prefix, err)
		return
	}
	if !slices.Equal(got, want) {
		t.Errorf("List(%q, %q) = %q; want %q", space, prefix, got, want)
	}
}

// trim shortens a value for an error message.
func trim(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}

// within runs fn on a new goroutine and fails the test if fn has not
// returned after stuck, naming what it was waiting for.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(stuck):
		t.Fatalf("%s did not return within %v: the store is deadlocked or stuck", what, stuck)
	}
}

// progressing waits for done to be closed, and fails the test if count,
// the number of transactions finished, stops growing for stuck. It reports a
// deadlock, never slowness: a durable store may take long over many commits.
func progressing(t *testing.T, what string, count *atomic.Int64, done <-chan struct{}) {
	t.Helper()
	tick := time.NewTicker(stuck)
	defer tick.Stop()
	last := count.Load()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			n := count.Load()
			if n == last {
				t.Fatalf("%s made no progress for %v: the store is deadlocked or stuck", what, stuck)
			}
			last = n
		}
	}
}

// closeWhenDone returns a channel closed once wg.Wait returns.
func closeWhenDone(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}
