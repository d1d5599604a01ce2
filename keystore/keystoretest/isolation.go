package keystoretest

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
)

// Checks of concurrent transactions. A store may run Updates one at a time
// and may make Views wait for an Update; none of these checks depends on
// two transactions actually overlapping, and a store that makes one wait
// for another is never reported as wrong for it.

// overlap is how long a check waits for a concurrent transaction that the
// store may instead make wait for the current one.
const overlap = 100 * time.Millisecond

// testIsolationUncommitted checks that the writes of an Update in progress
// are invisible to a concurrent View and to a concurrent Update. The Update
// ends by failing, so there is no moment at which its writes may be seen.
func testIsolationUncommitted(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"k": "old", "d": "committed"})
	ctx := t.Context()
	written, release := make(chan struct{}), make(chan struct{})
	var writerErr error
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		writerErr = s.Update(ctx, func(tx keystore.Tx) error {
			mustPut(t, tx, "sp", "k", []byte("uncommitted"))
			mustPut(t, tx, "sp", "n", []byte("uncommitted"))
			mustDelete(t, tx, "sp", "d")
			close(written)
			<-release
			return errRollback
		})
	}()
	select {
	case <-written:
	case <-writerDone:
		t.Fatalf("Update returned %v without running fn", writerErr)
	case <-time.After(stuck):
		t.Fatalf("Update did not run fn within %v", stuck)
	}

	check := func(tx keystore.Tx) {
		wantGet(t, tx, "sp", "k", []byte("old"))
		wantGet(t, tx, "sp", "n", nil)
		wantGet(t, tx, "sp", "d", []byte("committed"))
		wantList(t, tx, "sp", "", "d", "k")
	}
	var wg sync.WaitGroup
	var viewErr, updateErr error
	wg.Go(func() {
		viewErr = s.View(ctx, func(tx keystore.Tx) error {
			check(tx)
			return nil
		})
	})
	wg.Go(func() {
		updateErr = s.Update(ctx, func(tx keystore.Tx) error {
			check(tx)
			return nil
		})
	})
	readersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(readersDone)
	}()
	select {
	case <-readersDone:
	case <-time.After(overlap): // the store makes them wait for the writer
	}
	close(release)
	within(t, "an Update that failed, and a View and an Update concurrent with it", func() {
		<-writerDone
		<-readersDone
	})
	if !errors.Is(writerErr, errRollback) {
		t.Errorf("Update whose fn failed returned %v, want fn's error", writerErr)
	}
	if viewErr != nil {
		t.Errorf("View: %v", viewErr)
	}
	if updateErr != nil {
		t.Errorf("Update: %v", updateErr)
	}
	view(t, s, func(tx keystore.Tx) error {
		check(tx)
		return nil
	})
}

// testIsolationAllOrNothing checks that an Update's writes become visible at
// once: Views running alongside Updates that each write or delete every one
// of n keys must see none of them or all n, holding one Update's values.
// It runs for up to rounds Updates or budget, whichever ends first, but at
// least minRounds Updates.
func testIsolationAllOrNothing(t *testing.T, s keystore.Store) {
	const (
		n         = 16
		rounds    = 200
		minRounds = 20
		readers   = 3
		budget    = 2 * time.Second
	)
	key := func(i int) string { return fmt.Sprintf("k%02d", i) }
	ctx := t.Context()
	deadline := time.Now().Add(budget)
	var failed atomic.Bool
	var updates, views, finished atomic.Int64 // finished counts both
	writerDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(writerDone)
		for r := 1; r <= rounds && !failed.Load() && (r <= minRounds || time.Now().Before(deadline)); r++ {
			err := s.Update(ctx, func(tx keystore.Tx) error {
				for j := range n {
					i := j
					if r%2 == 1 {
						i = n - 1 - j
					}
					var err error
					if r%4 == 0 {
						err = tx.Delete("sp", key(i))
					} else {
						err = tx.Put("sp", key(i), []byte(strconv.Itoa(r)))
					}
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("Update: %v", err)
				failed.Store(true)
			}
			updates.Add(1)
			finished.Add(1)
		}
	})
	for range readers {
		wg.Go(func() {
			for !failed.Load() && time.Now().Before(deadline) {
				select {
				case <-writerDone:
					return
				default:
				}
				err := s.View(ctx, func(tx keystore.Tx) error {
					keys, err := tx.List("sp", "")
					if err != nil {
						return err
					}
					var values []string
					for i := range n {
						v, err := tx.Get("sp", key(i))
						switch {
						case err == nil:
							values = append(values, string(v))
						case !errors.Is(err, keystore.ErrNotFound):
							return err
						}
					}
					same := len(values) == 0 || !slices.ContainsFunc(values, func(v string) bool { return v != values[0] })
					if len(keys) != len(values) || len(values) != 0 && len(values) != n || !same {
						t.Errorf("a View saw part of an Update: List = %q, values %q; want none or all %d keys, with one value", keys, values, n)
						failed.Store(true)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					failed.Store(true)
				}
				views.Add(1)
				finished.Add(1)
			}
		})
	}
	progressing(t, "Updates and Views running together", &finished, closeWhenDone(&wg))
	t.Logf("%d Views alongside %d Updates", views.Load(), updates.Load())
}

// testIsolationSnapshot checks that a View reads one snapshot: an Update
// that commits while the View is running, after its first read, changes
// nothing the View reads afterwards.
func testIsolationSnapshot(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "0", "b": "0", "c": "0"})
	ctx := t.Context()
	var writerErr error
	writerDone := make(chan struct{})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("0"))
		go func() {
			defer close(writerDone)
			writerErr = s.Update(ctx, func(tx keystore.Tx) error {
				mustPut(t, tx, "sp", "a", []byte("1"))
				mustPut(t, tx, "sp", "b", []byte("1"))
				mustDelete(t, tx, "sp", "c")
				mustPut(t, tx, "sp", "d", []byte("1"))
				return nil
			})
		}()
		select {
		case <-writerDone:
		case <-time.After(overlap): // the store makes the Update wait for this View
		}
		wantGet(t, tx, "sp", "a", []byte("0"))
		wantGet(t, tx, "sp", "b", []byte("0"))
		wantGet(t, tx, "sp", "c", []byte("0"))
		wantGet(t, tx, "sp", "d", nil)
		wantList(t, tx, "sp", "", "a", "b", "c")
		return nil
	})
	within(t, "an Update concurrent with a View", func() { <-writerDone })
	if writerErr != nil {
		t.Fatalf("Update concurrent with a View: %v", writerErr)
	}
	view(t, s, func(tx keystore.Tx) error {
		wantList(t, tx, "sp", "", "a", "b", "d")
		return nil
	})
}

// testIsolationLostUpdates checks that concurrent read-modify-write Updates
// of one key behave as if run one after another: 8 goroutines each
// increment a counter 50 times, and it must end at exactly 400.
func testIsolationLostUpdates(t *testing.T, s keystore.Store) {
	const workers, increments = 8, 50
	ctx := t.Context()
	var wg sync.WaitGroup
	var finished atomic.Int64
	for range workers {
		wg.Go(func() {
			for range increments {
				err := s.Update(ctx, func(tx keystore.Tx) error {
					n := 0
					v, err := tx.Get("sp", "counter")
					switch {
					case err == nil:
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					case !errors.Is(err, keystore.ErrNotFound):
						return err
					}
					runtime.Gosched() // invite another Update in between
					return tx.Put("sp", "counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				finished.Add(1)
			}
		})
	}
	progressing(t, "concurrent Updates", &finished, closeWhenDone(&wg))
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "counter", []byte(strconv.Itoa(workers*increments)))
		return nil
	})
}

// testIsolationWriteSkew checks serializability where snapshot isolation is
// not enough: two concurrent Updates each read x and y and, if both are 0,
// set one of them (x for one, y for the other) to 1. Run one after the other,
// exactly one of them writes; a store that only detects write-write conflicts
// lets both commit.
func testIsolationWriteSkew(t *testing.T, s keystore.Store) {
	const rounds = 20
	ctx := t.Context()
	for r := range rounds {
		space := fmt.Sprintf("round%d", r)
		putAll(t, s, space, map[string]string{"x": "0", "y": "0"})
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, mine := range []string{"x", "y"} {
			wg.Go(func() {
				<-start
				err := s.Update(ctx, func(tx keystore.Tx) error {
					x, err := tx.Get(space, "x")
					if err != nil {
						return err
					}
					y, err := tx.Get(space, "y")
					if err != nil {
						return err
					}
					time.Sleep(time.Millisecond) // let the other Update read too, if it runs alongside
					if string(x) == "0" && string(y) == "0" {
						return tx.Put(space, mine, []byte("1"))
					}
					return nil
				})
				if err != nil {
					t.Errorf("Update: %v", err)
				}
			})
		}
		close(start)
		within(t, "two concurrent Updates", wg.Wait)
		view(t, s, func(tx keystore.Tx) error {
			x, errx := tx.Get(space, "x")
			y, erry := tx.Get(space, "y")
			if errx != nil || erry != nil {
				t.Errorf("Get: %v, %v", errx, erry)
			} else if string(x)+string(y) != "10" && string(x)+string(y) != "01" {
				t.Errorf("round %d: x = %s, y = %s; want exactly one set to 1: the Updates were not serializable (write skew)", r, x, y)
			}
			return nil
		})
		if t.Failed() {
			return
		}
	}
}
