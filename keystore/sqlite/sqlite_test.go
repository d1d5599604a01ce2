package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to inspect files behind the store's back

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/keystoretest"
	"github.com/sotto-im/sotto/keystore/sqlite"
)

func TestConformance(t *testing.T) {
	keystoretest.TestStore(t, func(t *testing.T) keystore.Store {
		return open(t, filepath.Join(t.TempDir(), "keys.db"))
	})
}

// open opens the store at path and closes it when the test ends.
func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func update(t testing.TB, s keystore.Store, fn func(keystore.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t testing.TB, s keystore.Store, fn func(keystore.Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// rawDB opens the file with the plain driver, without the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// files returns the contents of every file in dir, by name.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// wantUntouched checks that Open of path fails with want and leaves the
// directory holding it exactly as it was: the file's bytes, and no -wal,
// -shm or -journal file left behind.
func wantUntouched(t *testing.T, path string, want error) {
	t.Helper()
	before := files(t, filepath.Dir(path))
	s, err := sqlite.Open(path)
	if err == nil {
		s.Close()
		t.Fatalf("Open succeeded; want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("Open: %v; want %v", err, want)
	}
	t.Logf("Open: %v", err)
	after := files(t, filepath.Dir(path))
	if len(after) != len(before) {
		t.Errorf("Open left files %q; there were %q", slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(before)))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("Open changed %s", name)
		}
	}
}

// TestReopen checks that what an Update committed is there after Close and
// Open, and that Close folds the log into the file and removes it.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.db")
	big := make([]byte, 1<<20)
	rand.Read(big)
	kv := map[string][]byte{
		"identity":  []byte("private key bytes"),
		"empty":     {},
		"big":       big,
		"k\x00\xff": {0, 1, 2},
	}
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx keystore.Tx) error {
		for k, v := range kv {
			if err := tx.Put("sp", k, v); err != nil {
				return err
			}
		}
		return tx.Put("deleted", "k", []byte("v"))
	})
	update(t, s, func(tx keystore.Tx) error { return tx.Delete("deleted", "k") })
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err != nil {
			t.Errorf("while the store is open: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if names := slices.Sorted(maps.Keys(files(t, dir))); !slices.Equal(names, []string{"keys.db"}) {
		t.Errorf("after Close the directory holds %q, want only keys.db", names)
	}

	s = open(t, path)
	view(t, s, func(tx keystore.Tx) error {
		for k, v := range kv {
			got, err := tx.Get("sp", k)
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("Get(%q) after reopening: %d bytes, %v; want %d bytes", k, len(got), err, len(v))
			}
		}
		if _, err := tx.Get("deleted", "k"); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("Get of a deleted key after reopening: %v, want ErrNotFound", err)
		}
		keys, err := tx.List("sp", "")
		want := []string{"big", "empty", "identity", "k\x00\xff"}
		if err != nil || !slices.Equal(keys, want) {
			t.Errorf("List after reopening = %q, %v; want %q", keys, err, want)
		}
		return nil
	})
}

// TestPermissions checks that a new keystore, and its -wal and -shm files,
// are readable by their owner only.
func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	update(t, s, func(tx keystore.Tx) error { return tx.Put("sp", "k", []byte("v")) })
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has permissions %v; want none for group and others", filepath.Base(name), perm)
		}
	}
}

// TestSchema checks what Open writes in the file's header, that the
// schema is the documented one, and that opening again changes nothing.
func TestSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	s.Close()
	db := rawDB(t, path)
	var appID, version int
	var mode, schema string
	for q, dst := range map[string]any{
		"PRAGMA application_id": &appID,
		"PRAGMA user_version":   &version,
		"PRAGMA journal_mode":   &mode,
		"SELECT group_concat(name) FROM sqlite_schema WHERE type = 'table'": &schema,
	} {
		if err := db.QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if appID != 0x536f7474 || version != 1 || mode != "wal" || schema != "kv" {
		t.Errorf("application_id %#x, user_version %d, journal_mode %s, tables %s; want 0x536f7474, 1, wal, kv",
			appID, version, mode, schema)
	}
	db.Close()
	before := files(t, filepath.Dir(path))
	open(t, path).Close()
	if after := files(t, filepath.Dir(path)); !bytes.Equal(after["keys.db"], before["keys.db"]) {
		t.Error("opening and closing a current keystore changed the file")
	}
}

// TestSchemaTooNew checks that a keystore from a newer version of the
// package is refused and left alone.
func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s := open(t, path)
	update(t, s, func(tx keystore.Tx) error { return tx.Put("sp", "k", []byte("v")) })
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec("PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantUntouched(t, path, sqlite.ErrSchemaTooNew)
}

// TestNotADatabase checks that files that are not SQLite databases are
// refused with ErrCorrupt and left alone.
func TestNotADatabase(t *testing.T) {
	random := make([]byte, 8192)
	rand.Read(random)
	for name, content := range map[string][]byte{
		"random":      random,
		"short":       []byte("garbage"),
		"text":        bytes.Repeat([]byte("this is not a database\n"), 1000),
		"age file":    []byte("age-encryption.org/v1\n-> X25519 abc\n--- def\n"),
		"header only": append([]byte("SQLite format 3\x00"), random[:84]...),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			wantUntouched(t, path, sqlite.ErrCorrupt)
		})
	}
}

// TestCorrupt checks that a keystore whose structure was damaged is
// refused with ErrCorrupt and left alone: pages overwritten, which SQLite
// finds reading them, and a bad page number in the header, which only
// PRAGMA quick_check finds.
func TestCorrupt(t *testing.T) {
	const pageSize = 4096
	for name, damage := range map[string]struct{ off, n int }{
		"pages":    {3 * pageSize, 2 * pageSize},
		"freelist": {32, 8}, // the header's first freelist trunk page and count
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.db")
			s := open(t, path)
			update(t, s, func(tx keystore.Tx) error {
				for i := range 500 {
					if err := tx.Put("sp", fmt.Sprintf("key%04d", i), bytes.Repeat([]byte{byte(i)}, 300)); err != nil {
						return err
					}
				}
				return nil
			})
			s.Close()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 8*pageSize {
				t.Fatalf("the file has %d bytes; want several pages", len(b))
			}
			for i := damage.off; i < damage.off+damage.n; i++ {
				b[i] = 0xa5
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			wantUntouched(t, path, sqlite.ErrCorrupt)
		})
	}
}

// TestNotKeystore checks that another program's SQLite database is refused
// and left alone, whether it has tables or only a header of its own.
func TestNotKeystore(t *testing.T) {
	for name, setup := range map[string]string{
		"tables":         "CREATE TABLE notes (body TEXT)",
		"application id": "PRAGMA application_id = 1234; CREATE TABLE t (x)",
		"user version":   "PRAGMA user_version = 1",
		"kv table":       "CREATE TABLE kv (space TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (space, key))",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.db")
			db := rawDB(t, path)
			if _, err := db.Exec(setup); err != nil {
				t.Fatal(err)
			}
			db.Close()
			wantUntouched(t, path, sqlite.ErrNotKeystore)
		})
	}
}

// TestOpenErrors checks paths that cannot be a keystore.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for name, path := range map[string]string{
		"empty":          "",
		"directory":      dir,
		"missing parent": filepath.Join(dir, "missing", "keys.db"),
	} {
		if s, err := sqlite.Open(path); err == nil {
			s.Close()
			t.Errorf("Open of %s path %q succeeded", name, path)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

// TestPathCharacters checks that a path is a path, whatever it contains:
// nothing in it is taken for a URI parameter or escape.
func TestPathCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%20chars&_pragma=query_only(1)")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "keys?.db")
	s := open(t, path)
	update(t, s, func(tx keystore.Tx) error { return tx.Put("sp", "k", []byte("v")) })
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the keystore is not where it was asked to be: %v", err)
	}
	view(t, open(t, path), func(tx keystore.Tx) error {
		if v, err := tx.Get("sp", "k"); err != nil || string(v) != "v" {
			t.Errorf("Get after reopening = %q, %v", v, err)
		}
		return nil
	})
}

// TestListBytes checks prefixes whose range has no simple end: bytes 0xff,
// where the successor of the prefix must drop them, and NUL.
func TestListBytes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keys.db"))
	keys := []string{"\xff", "\xff\x00", "\xff\xff", "\xff\xff\x01", "\xfe", "\xfe\xff", "a\xff", "a\xff\x00", "b", "a", "\x00", "\x00\x00"}
	update(t, s, func(tx keystore.Tx) error {
		for _, k := range keys {
			if err := tx.Put("sp", k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		for _, prefix := range []string{"", "\xff", "\xff\xff", "\xfe", "\xfe\xff", "a", "a\xff", "\x00", "\x00\x00", "\x01"} {
			var want []string
			for _, k := range slices.Sorted(slices.Values(keys)) {
				if strings.HasPrefix(k, prefix) {
					want = append(want, k)
				}
			}
			got, err := tx.List("sp", prefix)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("List(%q) = %q, %v; want %q", prefix, got, err, want)
			}
		}
		return nil
	})
}

// TestClose checks that a closed store refuses transactions and that Close
// waits for a View in progress.
func TestClose(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keys.db"))
	update(t, s, func(tx keystore.Tx) error { return tx.Put("sp", "k", []byte("v")) })
	inView, release := make(chan struct{}), make(chan struct{})
	viewDone := make(chan error, 1)
	go func() {
		viewDone <- s.View(context.Background(), func(tx keystore.Tx) error {
			close(inView)
			<-release
			_, err := tx.Get("sp", "k")
			return err
		})
	}()
	<-inView
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v while a View was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-viewDone; err != nil {
		t.Errorf("View running when Close was called: %v", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	called := false
	fn := func(keystore.Tx) error {
		called = true
		return nil
	}
	if err := s.Update(context.Background(), fn); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("Update after Close returned %v, want keystore.ErrClosed", err)
	}
	if err := s.View(context.Background(), fn); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("View after Close returned %v, want keystore.ErrClosed", err)
	}
	if called {
		t.Error("a transaction after Close ran fn")
	}
}

// TestTxAfterEnd checks that a Tx used after its function returned panics
// instead of reaching a connection that another transaction may be using.
func TestTxAfterEnd(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keys.db"))
	for name, run := range map[string]func(context.Context, func(keystore.Tx) error) error{
		"Update": s.Update,
		"View":   s.View,
	} {
		var leaked keystore.Tx
		if err := run(context.Background(), func(tx keystore.Tx) error {
			leaked = tx
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for op, call := range map[string]func(){
			"Get":    func() { leaked.Get("sp", "k") },
			"Put":    func() { leaked.Put("sp", "k", nil) },
			"Delete": func() { leaked.Delete("sp", "k") },
			"List":   func() { leaked.List("sp", "") },
		} {
			if msg := panicked(call); !strings.Contains(fmt.Sprint(msg), "after its transaction ended") {
				t.Errorf("%s on a Tx whose %s had returned: panic %v, want one saying the transaction ended", op, name, msg)
			}
		}
	}
	view(t, s, func(tx keystore.Tx) error {
		if _, err := tx.Get("sp", "k"); !errors.Is(err, keystore.ErrNotFound) {
			t.Errorf("a leaked Tx wrote: Get = %v", err)
		}
		return nil
	})
}

func panicked(fn func()) (v any) {
	defer func() { v = recover() }()
	fn()
	return nil
}

// TestViewDuringUpdate checks that Views do not wait for an Update: one
// runs to its end, seeing the last committed state, while an Update holds
// the write lock with uncommitted writes.
func TestViewDuringUpdate(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keys.db"))
	update(t, s, func(tx keystore.Tx) error { return tx.Put("sp", "k", []byte("old")) })
	viewed := make(chan error, 1)
	err := s.Update(context.Background(), func(tx keystore.Tx) error {
		if err := tx.Put("sp", "k", []byte("new")); err != nil {
			return err
		}
		go func() {
			viewed <- s.View(context.Background(), func(tx keystore.Tx) error {
				v, err := tx.Get("sp", "k")
				if err != nil || string(v) != "old" {
					return fmt.Errorf("a View during an Update read %q, %v; want the committed %q", v, err, "old")
				}
				return nil
			})
		}()
		select {
		case err := <-viewed:
			return err
		case <-time.After(10 * time.Second):
			return errors.New("a View waited for an Update in progress")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	view(t, s, func(tx keystore.Tx) error {
		if v, err := tx.Get("sp", "k"); err != nil || string(v) != "new" {
			t.Errorf("after the Update: %q, %v", v, err)
		}
		return nil
	})
}

// TestConcurrentViews runs Views that each see one consistent snapshot
// while Updates move amounts between two accounts: every View must see the
// same total, and each reader a version that never goes back.
func TestConcurrentViews(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "keys.db"))
	const total, updates, readers = 1000, 200, 4
	put := func(tx keystore.Tx, k string, n int) error { return tx.Put("bank", k, []byte(strconv.Itoa(n))) }
	get := func(tx keystore.Tx, k string) (int, error) {
		v, err := tx.Get("bank", k)
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(string(v))
	}
	update(t, s, func(tx keystore.Tx) error {
		return errors.Join(put(tx, "a", total), put(tx, "b", 0), put(tx, "version", 0))
	})

	var done atomic.Bool
	var views, intermediate atomic.Int64
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			last := 0
			for !done.Load() {
				err := s.View(context.Background(), func(tx keystore.Tx) error {
					version, err := get(tx, "version")
					if err != nil {
						return err
					}
					runtime.Gosched()
					a, err := get(tx, "a")
					if err != nil {
						return err
					}
					b, err := get(tx, "b")
					if err != nil {
						return err
					}
					if a+b != total {
						return fmt.Errorf("a View at version %d saw a = %d, b = %d: a total of %d, want %d", version, a, b, a+b, total)
					}
					if version < last {
						return fmt.Errorf("a View saw version %d after one saw %d", version, last)
					}
					if version > 0 && version < updates {
						intermediate.Add(1)
					}
					last = version
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				views.Add(1)
			}
		})
	}
	for i := 1; i <= updates; i++ {
		err := s.Update(context.Background(), func(tx keystore.Tx) error {
			a, err := get(tx, "a")
			if err != nil {
				return err
			}
			b, err := get(tx, "b")
			if err != nil {
				return err
			}
			amount := mrand.IntN(100)
			if err := put(tx, "a", a-amount); err != nil {
				return err
			}
			runtime.Gosched() // let a View read between the two writes
			return errors.Join(put(tx, "b", b+amount), put(tx, "version", i))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	done.Store(true)
	wg.Wait()
	t.Logf("%d Views alongside %d Updates, %d of them between the first and the last", views.Load(), updates, intermediate.Load())
}

// TestUpdateWaitCancelled checks that an Update waiting for another one
// gives up when its context ends, without running fn.
func TestUpdateWaitCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	for name, separate := range map[string]bool{"same store": false, "another store": true} {
		t.Run(name, func(t *testing.T) {
			s := open(t, path)
			other := s
			if separate {
				other = open(t, path)
			}
			inFn, release := make(chan struct{}), make(chan struct{})
			first := make(chan error, 1)
			go func() {
				first <- s.Update(context.Background(), func(tx keystore.Tx) error {
					close(inFn)
					<-release
					return tx.Put("sp", "first", []byte("1"))
				})
			}()
			<-inFn
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := other.Update(ctx, func(tx keystore.Tx) error {
				t.Error("an Update whose context ended while it waited ran fn")
				return nil
			})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Update whose deadline passed while waiting: %v, want context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Update took %v to notice its deadline", d)
			}
			close(release)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			// Both stores are still usable.
			update(t, other, func(tx keystore.Tx) error { return tx.Put("sp", "second", []byte("2")) })
			view(t, s, func(tx keystore.Tx) error {
				keys, err := tx.List("sp", "")
				if err != nil || !slices.Equal(keys, []string{"first", "second"}) {
					t.Errorf("List = %q, %v", keys, err)
				}
				return nil
			})
			update(t, s, func(tx keystore.Tx) error {
				return errors.Join(tx.Delete("sp", "first"), tx.Delete("sp", "second"))
			})
		})
	}
}

// TestTwoStores checks that two stores on one file, as two processes would
// have, serialize their Updates through SQLite's locks: no increment is
// lost.
func TestTwoStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	const perStore = 50
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 2 {
			wg.Go(func() {
				for range perStore / 2 {
					err := s.Update(context.Background(), func(tx keystore.Tx) error {
						n := 0
						if v, err := tx.Get("sp", "n"); err == nil {
							n, _ = strconv.Atoi(string(v))
						} else if !errors.Is(err, keystore.ErrNotFound) {
							return err
						}
						return tx.Put("sp", "n", []byte(strconv.Itoa(n+1)))
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	view(t, stores[1], func(tx keystore.Tx) error {
		if v, err := tx.Get("sp", "n"); err != nil || string(v) != strconv.Itoa(perStore*len(stores)) {
			t.Errorf("counter = %q, %v; want %d", v, err, perStore*len(stores))
		}
		return nil
	})
}

// The crash test runs Updates in a child process, this test binary run
// again with crashEnv set, and kills it with SIGKILL at random moments. The
// child prints each counter value after the Update that committed it
// returned; after each kill, the file must hold at least the last value
// printed, with both keys of that Update, and pass PRAGMA integrity_check.
// A killed process loses what it holds, not what it has handed to the
// kernel, so this shows that an acknowledged Update is written out in full
// before Update returns and that recovery from the log keeps it. It cannot
// show the fsync a power loss also needs (synchronous=FULL); strace -e fsync
// on BenchmarkUpdate shows one per commit.
const crashEnv = "SOTTO_SQLITE_CRASH_CHILD"

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "keys.db")
	const rounds = 20
	acked, maxSeen := 0, 0
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan int)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
					if n, err := strconv.Atoi(v); err == nil {
						lines <- n
					}
				}
			}
		}()
		// Kill at a random moment after the child's first commit, or now
		// and then during its start, while Open may be migrating the file.
		var kill <-chan time.Time
		if round%5 == 4 {
			kill = time.After(time.Duration(mrand.IntN(30)) * time.Millisecond)
		}
		printed := 0
	wait:
		for {
			select {
			case n, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: the child exited by itself: %v", round, cmd.Wait())
				}
				if n <= printed && printed > 0 {
					t.Fatalf("round %d: the child printed %d after %d", round, n, printed)
				}
				printed = n
				if kill == nil {
					kill = time.After(time.Duration(10+mrand.IntN(90)) * time.Millisecond)
				}
			case <-kill:
				break wait
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("round %d: the child printed nothing for 20s", round)
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		for n := range lines { // what the child printed before it died
			printed = n
		}
		cmd.Wait()
		if printed > 0 {
			acked = printed
		}

		// The file as a plain SQLite sees it, log and all.
		db := rawDB(t, path)
		var check string
		if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
		}
		db.Close()

		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatalf("round %d: Open after SIGKILL: %v", round, err)
		}
		var n, mirror int
		view(t, s, func(tx keystore.Tx) error {
			n, mirror = readCounter(t, tx, "counter"), readCounter(t, tx, "mirror")
			return nil
		})
		s.Close()
		if n != mirror {
			t.Fatalf("round %d: counter %d, mirror %d: an Update was committed in part", round, n, mirror)
		}
		if n < acked {
			t.Fatalf("round %d: the file holds %d, but the child had printed %d: a committed Update was lost", round, n, acked)
		}
		if n > acked+1 {
			t.Fatalf("round %d: the file holds %d, but the child had printed only %d: one Update at most may commit unacknowledged", round, n, acked)
		}
		maxSeen = n
		acked = n // the next child continues from what is stored
	}
	t.Logf("%d kills, counter at %d", rounds, maxSeen)
}

func readCounter(t *testing.T, tx keystore.Tx, key string) int {
	v, err := tx.Get("crash", key)
	if errors.Is(err, keystore.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashChild is the child of TestCrash: it increments the counter
// until it is killed, or for 30 s at most, and prints each value once the
// Update that stored it has returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrash only")
	}
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	filler := make([]byte, 64<<10)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := s.Update(context.Background(), func(tx keystore.Tx) error {
			n = readCounter(t, tx, "counter") + 1
			v := []byte(strconv.Itoa(n))
			// Values of varied sizes, so that commits span several pages
			// and checkpoints happen.
			rand.Read(filler)
			return errors.Join(
				tx.Put("crash", "counter", v),
				tx.Put("crash", fmt.Sprintf("filler%d", n%7), filler[:mrand.IntN(len(filler))]),
				tx.Put("crash", "mirror", v),
			)
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "committed %d\n", n)
	}
}
