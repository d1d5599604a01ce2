package encrypted

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/keystoretest"
	"github.com/sotto-im/sotto/keystore/memory"
)

func TestConformance(t *testing.T) {
	keystoretest.TestStore(t, func(t *testing.T) keystore.Store {
		inner := memory.New()
		t.Cleanup(func() { inner.Close() })
		s, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConformanceRotated runs the suite on a store whose keyset has been
// rotated, so values are sealed under a key other than the first.
func TestConformanceRotated(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite already runs once in TestConformance")
	}
	keystoretest.TestStore(t, func(t *testing.T) keystore.Store {
		s, err := OpenWithAEAD(t.Context(), memory.New(), newTinkKEK(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestReopen(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sotto.session", map[string]string{"alice.1": "record a", "bob.1": "record b", "bob.2": "record c"})
	put(t, s, "sotto.identity", map[string]string{"alice.1": "key a"})

	// Unlocking uses the stored parameters, whatever the Options say.
	s2, err := OpenWithPassphrase(t.Context(), inner, passphrase, &Options{Time: 2, Memory: 16, Threads: 2})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	wantValue(t, s2, "sotto.session", "alice.1", "record a")
	wantValue(t, s2, "sotto.session", "bob.2", "record c")
	wantValue(t, s2, "sotto.identity", "alice.1", "key a")
	err = s2.View(t.Context(), func(tx keystore.Tx) error {
		keys, err := tx.List("sotto.session", "bob.")
		if err != nil || fmt.Sprint(keys) != "[bob.1 bob.2]" {
			t.Errorf("List = %q, %v; want [bob.1 bob.2]", keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := parseMeta(inner.raw(t, spaceMeta, metaKey))
	if err != nil || h.params != *cheap {
		t.Errorf("stored parameters %+v, %v; want %+v", h.params, err, *cheap)
	}
}

func TestWrongPassphrase(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "v"})
	before := inner.snapshot(t)

	for _, pass := range [][]byte{[]byte("Correct horse battery staple"), []byte("x"), append(bytes.Clone(passphrase), 0)} {
		if _, err := OpenWithPassphrase(t.Context(), inner, pass, cheap); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("OpenWithPassphrase(%q) = %v; want ErrWrongPassphrase", pass, err)
		}
	}
	if _, err := OpenWithPassphrase(t.Context(), inner, nil, cheap); err == nil {
		t.Error("OpenWithPassphrase with an empty passphrase succeeded")
	}
	if _, err := OpenWithAEAD(t.Context(), inner, newTinkKEK(t)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("OpenWithAEAD of a passphrase store = %v; want ErrWrongKey", err)
	}
	inner.wantUnchanged(t, before)
}

func TestOptionsBounds(t *testing.T) {
	for _, o := range []Options{
		{Time: maxTime + 1, Memory: 8, Threads: 1},
		{Time: 1, Memory: 7, Threads: 1},
		{Time: 1, Memory: 8, Threads: 2}, // less than 8 KiB per thread
		{Time: 1, Memory: maxMemory + 1, Threads: 1},
	} {
		if _, err := OpenWithPassphrase(t.Context(), memory.New(), passphrase, &o); err == nil {
			t.Errorf("OpenWithPassphrase accepted %+v", o)
		}
	}
	if p, err := (*Options)(nil).resolve(); err != nil || p != (Options{Time: 3, Memory: 64 << 10, Threads: 4}) {
		t.Errorf("defaults = %+v, %v; want t=3 m=64MiB p=4", p, err)
	}
}

func TestOpenWithAEAD(t *testing.T) {
	inner := newSpy()
	kek := newTinkKEK(t)
	s, err := OpenWithAEAD(t.Context(), inner, kek)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "sp", map[string]string{"k": "v"})
	if err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	put(t, s, "sp", map[string]string{"k2": "v2"})

	s2, err := OpenWithAEAD(t.Context(), inner, kek)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	wantValue(t, s2, "sp", "k", "v")
	wantValue(t, s2, "sp", "k2", "v2")

	before := inner.snapshot(t)
	if _, err := OpenWithAEAD(t.Context(), inner, newTinkKEK(t)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("OpenWithAEAD with another key = %v; want ErrWrongKey", err)
	}
	if _, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("OpenWithPassphrase of an AEAD store = %v; want ErrWrongPassphrase", err)
	}
	if err := s2.ChangePassphrase(t.Context(), passphrase, []byte("new")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("ChangePassphrase of an AEAD store = %v; want ErrWrongPassphrase", err)
	}
	inner.wantUnchanged(t, before)
}

func TestReservedSpace(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "v"})
	before := inner.snapshot(t)
	for _, space := range []string{spaceMeta, spaceSpaces, spaceOverflow, ReservedPrefix + "other"} {
		_ = s.Update(t.Context(), func(tx keystore.Tx) error {
			for name, err := range map[string]error{
				"Put":    tx.Put(space, metaKey, []byte("x")),
				"Delete": tx.Delete(space, metaKey),
				"Get":    func() error { _, err := tx.Get(space, metaKey); return err }(),
				"List":   func() error { _, err := tx.List(space, ""); return err }(),
			} {
				if !errors.Is(err, ErrReservedSpace) || !errors.Is(err, keystore.ErrInvalidKey) {
					t.Errorf("%s in %q = %v; want ErrReservedSpace (and keystore.ErrInvalidKey)", name, space, err)
				}
			}
			return nil
		})
	}
	inner.wantUnchanged(t, before)
}

// TestNoPlaintextAtRest checks that no value, and not the passphrase,
// reaches the inner store in any Put, through every operation that writes.
func TestNoPlaintextAtRest(t *testing.T) {
	s, inner := openSpy(t)
	var values [][]byte
	for i := range 50 {
		v := make([]byte, 16+i*37)
		rand.Read(v)
		if i%2 == 0 { // structured, as records are
			v = fmt.Appendf(nil, "session record %d for alice.%d: %x", i, i, v)
		}
		values = append(values, v)
	}
	write := func(round int) {
		err := s.Update(t.Context(), func(tx keystore.Tx) error {
			for i, v := range values {
				if err := tx.Put(fmt.Sprintf("space%d", i%3), fmt.Sprintf("key%d", i), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	write(0)
	if err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	write(1)
	if err := s.ChangePassphrase(t.Context(), passphrase, []byte("another passphrase")); err != nil {
		t.Fatal(err)
	}
	if err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Reencrypt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveOldKeys(t.Context()); err != nil {
		t.Fatal(err)
	}

	secrets := append(values, passphrase, []byte("another passphrase"))
	scan := func(what string, data []byte) {
		for i, v := range secrets {
			if bytes.Contains(data, v) {
				t.Errorf("%s contains secret %d", what, i)
			}
		}
	}
	inner.mu.Lock()
	puts := inner.puts
	inner.mu.Unlock()
	if len(puts) < 3*len(values) {
		t.Fatalf("only %d Puts reached the inner store", len(puts))
	}
	for i, p := range puts {
		scan(fmt.Sprintf("Put %d", i), p)
	}
	for r, v := range inner.snapshot(t) {
		scan(fmt.Sprintf("row %q/%q", r.space, r.key), v)
	}
	for i, v := range values {
		wantValue(t, s, fmt.Sprintf("space%d", i%3), fmt.Sprintf("key%d", i), string(v))
	}
}

// TestLargeValue checks values around the size where a sealed value no
// longer fits in one inner row.
func TestLargeValue(t *testing.T) {
	s, inner := openSpy(t)
	const inline = keystore.MaxValueSize - 34 // the largest value that fits in one row
	for _, n := range []int{inline, inline + 1, keystore.MaxValueSize} {
		v := make([]byte, n)
		rand.Read(v)
		err := s.Update(t.Context(), func(tx keystore.Tx) error { return tx.Put("sp", "big", v) })
		if err != nil {
			t.Fatalf("Put of %d bytes: %v", n, err)
		}
		got, err := get(t, s, "sp", "big")
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("Get of %d bytes: %v", n, err)
		}
		r := inner.raw(t, "sp", "big")
		if len(r) > keystore.MaxValueSize {
			t.Errorf("%d-byte value: inner row of %d bytes", n, len(r))
		}
		_, err = get(t, inner, spaceOverflow, overflowKey("sp", "big"))
		if split := err == nil; split != (n > inline) {
			t.Errorf("%d-byte value: overflow row present = %v", n, split)
		}
	}

	// The overflow row is authenticated with the rest, and the split is
	// canonical: moving bytes between the two rows is tampering too.
	okey := overflowKey("sp", "big")
	main, tail := inner.raw(t, "sp", "big"), inner.raw(t, spaceOverflow, okey)
	for _, tamper := range []struct{ main, tail []byte }{
		{main, append(bytes.Clone(tail[:len(tail)-1]), tail[len(tail)-1]^1)},
		{main, tail[:len(tail)-1]},
		{main, nil},
		{main[:len(main)-1], append([]byte{main[len(main)-1]}, tail...)},
	} {
		inner.setRaw(t, "sp", "big", tamper.main)
		inner.setRaw(t, spaceOverflow, okey, tamper.tail)
		wantTampered(t, s, "sp", "big")
	}
	inner.setRaw(t, "sp", "big", main)
	inner.setRaw(t, spaceOverflow, okey, tail)
	if v, err := get(t, s, "sp", "big"); err != nil || len(v) != keystore.MaxValueSize {
		t.Fatalf("restored rows: %d bytes, %v", len(v), err)
	}

	// Overwriting with a small value, or deleting, drops the overflow row.
	put(t, s, "sp", map[string]string{"big": "small"})
	big := make([]byte, keystore.MaxValueSize)
	err := s.Update(t.Context(), func(tx keystore.Tx) error { return tx.Put("sp", "big2", big) })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx keystore.Tx) error { return tx.Delete("sp", "big2") })
	if err != nil {
		t.Fatal(err)
	}
	err = inner.View(t.Context(), func(tx keystore.Tx) error {
		keys, err := tx.List(spaceOverflow, "")
		if len(keys) != 0 {
			t.Errorf("overflow rows left: %q", keys)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "sp", "big", "small")
}

// TestSpacesRecordedOnCommit checks that the list of spaces Reencrypt walks
// follows commits, not attempts.
func TestSpacesRecordedOnCommit(t *testing.T) {
	s, inner := openSpy(t)
	errRollback := errors.New("rollback")
	err := s.Update(t.Context(), func(tx keystore.Tx) error {
		if err := tx.Put("rolled-back", "k", []byte("v")); err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatalf("Update = %v; want fn's error unchanged", err)
	}
	if _, ok := s.spaces.Load("rolled-back"); ok {
		t.Error("a rolled-back space is cached as recorded")
	}
	put(t, s, "rolled-back", map[string]string{"k": "v"})
	put(t, s, "other", map[string]string{"k": "v"})
	keys, err := s.list(t.Context(), spaceSpaces)
	if err != nil || fmt.Sprint(keys) != "[other rolled-back]" {
		t.Errorf("recorded spaces %q, %v; want [other rolled-back]", keys, err)
	}

	// A new Store learns the recorded spaces and does not write them again.
	s2, err := OpenWithPassphrase(t.Context(), inner, passphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := len(inner.puts)
	put(t, s2, "other", map[string]string{"k2": "v"})
	if got := len(inner.puts) - n; got != 1 {
		t.Errorf("a Put into a recorded space made %d inner Puts; want 1", got)
	}
}

func TestTxUseAfterEnd(t *testing.T) {
	s, _ := openSpy(t)
	var leaked keystore.Tx
	if err := s.View(t.Context(), func(tx keystore.Tx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Get on an ended Tx did not panic")
		}
	}()
	leaked.Get("sp", "k")
}

func TestFormatRedacts(t *testing.T) {
	s, _ := openSpy(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		if got := fmt.Sprintf(verb, s); got != "encrypted.Store{keys redacted}" {
			t.Errorf("Sprintf(%q) = %q", verb, got)
		}
	}
}
