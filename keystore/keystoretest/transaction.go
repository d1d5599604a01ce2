package keystoretest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
)

// Checks of a single transaction: its own writes, rollback on error, panic
// and cancellation, read-only Views, and the limits on names and values.

// testTxOwnWrites checks that a transaction reads through its own pending
// writes, deletions included, in Get and List.
func testTxOwnWrites(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1", "c": "3", "f": "6"})
	check := func(tx keystore.Tx) {
		t.Helper()
		wantGet(t, tx, "sp", "a", []byte("9"))
		wantGet(t, tx, "sp", "b", []byte("22"))
		wantGet(t, tx, "sp", "c", nil)
		wantGet(t, tx, "sp", "d", nil)
		wantGet(t, tx, "sp", "e", []byte("5"))
		wantGet(t, tx, "sp", "f", []byte("7"))
		wantList(t, tx, "sp", "", "a", "b", "e", "f")
		wantList(t, tx, "sp", "b", "b")
		wantList(t, tx, "sp", "c")
		wantList(t, tx, "sp", "d")
		wantGet(t, tx, "other", "a", []byte("o"))
		wantList(t, tx, "other", "", "a")
	}
	update(t, s, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "b", []byte("2")) // a new key
		mustPut(t, tx, "sp", "a", []byte("9")) // over a committed key
		mustDelete(t, tx, "sp", "c")           // a committed key
		mustPut(t, tx, "sp", "d", []byte("4")) // put, then deleted
		mustDelete(t, tx, "sp", "d")
		mustDelete(t, tx, "sp", "e") // deleted while missing, then put
		mustPut(t, tx, "sp", "e", []byte("5"))
		mustDelete(t, tx, "sp", "f") // committed, deleted, put again
		mustPut(t, tx, "sp", "f", []byte("7"))
		mustPut(t, tx, "sp", "b", []byte("22")) // over its own write
		mustPut(t, tx, "other", "a", []byte("o"))
		check(tx)
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		check(tx)
		return nil
	})
}

var errRollback = errors.New("keystoretest: fn failed on purpose")

// testTxRollback checks that nothing fn wrote is committed when fn returns
// an error: puts, overwrites and deletions, in every space.
func testTxRollback(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1", "b": "2"})
	err := s.Update(t.Context(), func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "a", []byte("9"))
		mustDelete(t, tx, "sp", "b")
		mustPut(t, tx, "sp", "c", []byte("3"))
		mustPut(t, tx, "other", "x", []byte("x"))
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Errorf("Update whose fn failed returned %v, want fn's error", err)
	}
	check := func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("1"))
		wantGet(t, tx, "sp", "b", []byte("2"))
		wantGet(t, tx, "sp", "c", nil)
		wantList(t, tx, "sp", "", "a", "b")
		wantList(t, tx, "other", "")
		return nil
	}
	view(t, s, check)
	// The next Update starts from the committed state, not the abandoned one.
	update(t, s, check)
}

// testTxErrorReturned checks that Update and View return fn's error so that
// errors.Is finds it, whether fn made it or passed on one from the store.
func testTxErrorReturned(t *testing.T, s keystore.Store) {
	wrapped := fmt.Errorf("keystoretest: wrapped: %w", errRollback)
	ops := map[string]func(context.Context, func(keystore.Tx) error) error{
		"Update": s.Update,
		"View":   s.View,
	}
	for name, run := range ops {
		if err := run(t.Context(), func(keystore.Tx) error { return wrapped }); !errors.Is(err, errRollback) {
			t.Errorf("%s returned %v, want fn's error %v", name, err, wrapped)
		}
		err := run(t.Context(), func(tx keystore.Tx) error {
			_, err := tx.Get("sp", "absent")
			return err
		})
		if !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("%s returned %v, want the keystore.ErrNotFound fn returned", name, err)
		}
	}
}

// panicValue is what the suite's functions panic with.
type panicValue struct{ where string }

// catch calls fn and returns what it panicked with, or nil.
func catch(fn func()) (recovered any) {
	defer func() { recovered = recover() }()
	fn()
	return nil
}

// testTxPanic checks that a panic in fn propagates to the caller of Update
// or View unchanged, commits nothing, and leaves the store usable.
func testTxPanic(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1"})
	ctx := t.Context()

	pv := &panicValue{"Update"}
	var got any
	within(t, "Update whose fn panics", func() {
		got = catch(func() {
			_ = s.Update(ctx, func(tx keystore.Tx) error {
				mustPut(t, tx, "sp", "a", []byte("9"))
				mustPut(t, tx, "sp", "b", []byte("2"))
				panic(pv)
			})
		})
	})
	if got != pv {
		t.Errorf("Update whose fn panicked with %v: the caller recovered %v; want the panic to propagate unchanged", pv, got)
	}
	var err error
	within(t, "View after an Update whose fn panicked", func() {
		err = s.View(ctx, func(tx keystore.Tx) error {
			wantGet(t, tx, "sp", "a", []byte("1"))
			wantGet(t, tx, "sp", "b", nil)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View after an Update whose fn panicked: %v", err)
	}
	within(t, "Update after an Update whose fn panicked", func() {
		err = s.Update(ctx, func(tx keystore.Tx) error {
			return tx.Put("sp", "c", []byte("3"))
		})
	})
	if err != nil {
		t.Fatalf("Update after an Update whose fn panicked: %v", err)
	}

	pv = &panicValue{"View"}
	within(t, "View whose fn panics", func() {
		got = catch(func() {
			_ = s.View(ctx, func(keystore.Tx) error { panic(pv) })
		})
	})
	if got != pv {
		t.Errorf("View whose fn panicked with %v: the caller recovered %v; want the panic to propagate unchanged", pv, got)
	}
	within(t, "Update after a View whose fn panicked", func() {
		err = s.Update(ctx, func(tx keystore.Tx) error {
			return tx.Put("sp", "d", []byte("4"))
		})
	})
	if err != nil {
		t.Fatalf("Update after a View whose fn panicked: %v", err)
	}
	view(t, s, func(tx keystore.Tx) error {
		wantList(t, tx, "sp", "", "a", "c", "d")
		return nil
	})
}

// testViewReadOnly checks that Put and Delete in a View fail with
// keystore.ErrReadOnly and change nothing.
func testViewReadOnly(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1"})
	view(t, s, func(tx keystore.Tx) error {
		for _, op := range []struct {
			name string
			err  error
		}{
			{"Put over a key", tx.Put("sp", "a", []byte("2"))},
			{"Put of a new key", tx.Put("sp", "b", []byte("2"))},
			{"Put in a new space", tx.Put("new", "b", []byte("2"))},
			{"Delete of a key", tx.Delete("sp", "a")},
			{"Delete of a missing key", tx.Delete("sp", "missing")},
		} {
			if !errors.Is(op.err, keystore.ErrReadOnly) {
				t.Errorf("%s in a View returned %v, want keystore.ErrReadOnly", op.name, op.err)
			}
		}
		wantGet(t, tx, "sp", "a", []byte("1"))
		wantGet(t, tx, "sp", "b", nil)
		wantList(t, tx, "sp", "", "a")
		return nil
	})
	check := func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("1"))
		wantGet(t, tx, "sp", "b", nil)
		wantList(t, tx, "new", "")
		return nil
	}
	view(t, s, check)
	update(t, s, check)
}

// testCancelBefore checks that a context already done when Update or View
// is called makes it return ctx.Err() without running fn.
func testCancelBefore(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1"})
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"expired", expired, context.DeadlineExceeded},
	} {
		var called atomic.Bool
		err := s.Update(c.ctx, func(tx keystore.Tx) error {
			called.Store(true)
			_ = tx.Put("sp", "u", []byte("x"))
			_ = tx.Delete("sp", "a")
			return nil
		})
		if !errors.Is(err, c.want) {
			t.Errorf("Update with a %s context returned %v, want %v", c.name, err, c.want)
		}
		if called.Load() {
			t.Errorf("Update with a %s context ran fn; a store must check ctx before starting", c.name)
		}
		called.Store(false)
		err = s.View(c.ctx, func(keystore.Tx) error {
			called.Store(true)
			return nil
		})
		if !errors.Is(err, c.want) {
			t.Errorf("View with a %s context returned %v, want %v", c.name, err, c.want)
		}
		if called.Load() {
			t.Errorf("View with a %s context ran fn; a store must check ctx before starting", c.name)
		}
	}
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("1"))
		wantGet(t, tx, "sp", "u", nil)
		return nil
	})
}

// testCancelDuringFn checks that a context cancelled, or past its deadline,
// after fn started but before the commit commits nothing, even though fn
// returned nil, and makes Update return ctx.Err().
func testCancelDuringFn(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := s.Update(ctx, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "b", []byte("2"))
		mustDelete(t, tx, "sp", "a")
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update whose context was cancelled in fn returned %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err = s.Update(ctx, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "c", []byte("3"))
		<-ctx.Done()
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update whose deadline passed in fn returned %v, want context.DeadlineExceeded", err)
	}

	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("1"))
		wantGet(t, tx, "sp", "b", nil)
		wantGet(t, tx, "sp", "c", nil)
		return nil
	})
	// The store is still usable with a live context.
	putAll(t, s, "sp", map[string]string{"d": "4"})
	view(t, s, func(tx keystore.Tx) error {
		wantList(t, tx, "sp", "", "a", "d")
		return nil
	})
}

// testLimitsMaxValueSize checks that a value of exactly
// keystore.MaxValueSize bytes is stored and read back intact.
func testLimitsMaxValueSize(t *testing.T, s keystore.Store) {
	big := make([]byte, keystore.MaxValueSize)
	for i := range big {
		big[i] = byte(i*7 + i>>16)
	}
	update(t, s, func(tx keystore.Tx) error {
		return tx.Put("sp", "big", big)
	})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "big", big)
		return nil
	})
}

// testLimitsTooLarge checks that a value one byte over
// keystore.MaxValueSize is rejected with keystore.ErrValueTooLarge and
// stores nothing: not the value, and no change to the key's old value.
func testLimitsTooLarge(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"k": "old"})
	tooBig := make([]byte, keystore.MaxValueSize+1)
	// A store may refuse to commit a transaction in which a Put failed, so
	// Update's error is not checked; what matters is what is stored.
	_ = s.Update(t.Context(), func(tx keystore.Tx) error {
		if err := tx.Put("sp", "k", tooBig); !errors.Is(err, keystore.ErrValueTooLarge) {
			t.Errorf("Put of MaxValueSize+1 bytes over a key returned %v, want keystore.ErrValueTooLarge", err)
		}
		if err := tx.Put("sp", "new", tooBig); !errors.Is(err, keystore.ErrValueTooLarge) {
			t.Errorf("Put of MaxValueSize+1 bytes returned %v, want keystore.ErrValueTooLarge", err)
		}
		wantGet(t, tx, "sp", "k", []byte("old"))
		wantGet(t, tx, "sp", "new", nil)
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "k", []byte("old"))
		wantGet(t, tx, "sp", "new", nil)
		wantList(t, tx, "sp", "", "k")
		return nil
	})
}

// testLimitsInvalidKey checks that Get, Put, Delete and List reject an
// empty space or key with keystore.ErrInvalidKey and store nothing.
func testLimitsInvalidKey(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"k": "v"})
	names := [][2]string{{"", "k"}, {"sp", ""}, {"", ""}}
	noValue := func(tx keystore.Tx) {
		t.Helper()
		for _, n := range names {
			v, err := tx.Get(n[0], n[1])
			if !errors.Is(err, keystore.ErrInvalidKey) {
				t.Errorf("Get(%q, %q) = %q, %v; want keystore.ErrInvalidKey", n[0], n[1], v, err)
			}
		}
		keys, err := tx.List("", "")
		if !errors.Is(err, keystore.ErrInvalidKey) {
			t.Errorf("List(\"\", \"\") = %q, %v; want keystore.ErrInvalidKey", keys, err)
		}
		wantList(t, tx, "sp", "", "k")
	}
	// As in testLimitsTooLarge, Update's error is not checked.
	_ = s.Update(t.Context(), func(tx keystore.Tx) error {
		for _, n := range names {
			if err := tx.Put(n[0], n[1], []byte("x")); !errors.Is(err, keystore.ErrInvalidKey) {
				t.Errorf("Put(%q, %q) returned %v, want keystore.ErrInvalidKey", n[0], n[1], err)
			}
			if err := tx.Delete(n[0], n[1]); !errors.Is(err, keystore.ErrInvalidKey) {
				t.Errorf("Delete(%q, %q) returned %v, want keystore.ErrInvalidKey", n[0], n[1], err)
			}
		}
		noValue(tx)
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		noValue(tx)
		return nil
	})
}
