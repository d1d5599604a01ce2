package encrypted

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sotto-im/sotto/keystore"
)

func TestSwapRows(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sotto.session", map[string]string{"alice.1": "alice's record", "bob.1": "bob's record"})
	a := inner.raw(t, "sotto.session", "alice.1")
	b := inner.raw(t, "sotto.session", "bob.1")
	inner.setRaw(t, "sotto.session", "alice.1", b)
	inner.setRaw(t, "sotto.session", "bob.1", a)
	wantTampered(t, s, "sotto.session", "alice.1")
	wantTampered(t, s, "sotto.session", "bob.1")

	// Putting them back restores them: nothing else was bound.
	inner.setRaw(t, "sotto.session", "alice.1", a)
	inner.setRaw(t, "sotto.session", "bob.1", b)
	wantValue(t, s, "sotto.session", "alice.1", "alice's record")
}

func TestMoveBetweenSpaces(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sotto.identity", map[string]string{"alice.1": "trusted key"})
	put(t, s, "ab", map[string]string{"c": "value of ab/c"})
	inner.setRaw(t, "sotto.session", "alice.1", inner.raw(t, "sotto.identity", "alice.1"))
	wantTampered(t, s, "sotto.session", "alice.1")

	// Between spaces of the same length.
	put(t, s, "space1", map[string]string{"k": "value in space1"})
	inner.setRaw(t, "space2", "k", inner.raw(t, "space1", "k"))
	wantTampered(t, s, "space2", "k")

	// The space's length is bound too: ("ab", "c") is not ("a", "bc").
	inner.setRaw(t, "a", "bc", inner.raw(t, "ab", "c"))
	wantTampered(t, s, "a", "bc")
	wantValue(t, s, "ab", "c", "value of ab/c")
}

// TestMoveBetweenStores checks that a value sealed by one store does not open
// in another, even under the same passphrase.
func TestMoveBetweenStores(t *testing.T) {
	s1, inner1 := openSpy(t)
	s2, inner2 := openSpy(t)
	put(t, s1, "sp", map[string]string{"k": "from store 1"})
	put(t, s2, "sp", map[string]string{"k": "from store 2"})
	inner2.setRaw(t, "sp", "k", inner1.raw(t, "sp", "k"))
	wantTampered(t, s2, "sp", "k")
}

// TestBitFlip flips every bit of a stored value, and truncates and extends
// it: each must fail with ErrTampered, never return data, and change
// nothing.
func TestBitFlip(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "a short secret value"})
	orig := inner.raw(t, "sp", "k")
	for i := range len(orig) * 8 {
		v := bytes.Clone(orig)
		v[i/8] ^= 1 << (i % 8)
		inner.setRaw(t, "sp", "k", v)
		wantTampered(t, s, "sp", "k")
	}
	for _, v := range [][]byte{{}, {rowInline}, {rowSplit}, orig[:len(orig)-1], orig[:tinkPrefixSize+1], append(bytes.Clone(orig), 0)} {
		inner.setRaw(t, "sp", "k", v)
		wantTampered(t, s, "sp", "k")
	}
	inner.setRaw(t, "sp", "k", orig)
	wantValue(t, s, "sp", "k", "a short secret value")
}

// TestTamperedValueInUpdate checks that a tampered value fails inside
// Update too, and that the transaction can still roll back cleanly.
func TestTamperedValueInUpdate(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "v", "other": "w"})
	v := inner.raw(t, "sp", "k")
	v[len(v)-1] ^= 0x80
	inner.setRaw(t, "sp", "k", v)
	before := inner.snapshot(t)
	err := s.Update(t.Context(), func(tx keystore.Tx) error {
		if err := tx.Put("sp", "other", []byte("changed")); err != nil {
			return err
		}
		_, err := tx.Get("sp", "k")
		return err
	})
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("Update = %v; want ErrTampered", err)
	}
	inner.wantUnchanged(t, before)
}

// TestCorruptedKeyset damages the keyset record bit by bit: opening must
// fail with a clear error and change nothing.
func TestCorruptedKeyset(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "v"})
	orig := inner.raw(t, spaceMeta, metaKey)
	before := inner.snapshot(t)

	// The memory field's high bits would ask for up to 2 GiB legitimately
	// (a wrong-passphrase answer after a slow derivation); flip only its
	// low byte.
	memHigh := func(i int) bool {
		off := len(metaMagic) + 1 + saltSize + 4
		return i/8 >= off && i/8 < off+3
	}
	for i := range len(orig) * 8 {
		if memHigh(i) {
			continue
		}
		v := bytes.Clone(orig)
		v[i/8] ^= 1 << (i % 8)
		inner.setRaw(t, spaceMeta, metaKey, v)
		_, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongPassphrase) {
			t.Fatalf("bit %d flipped: OpenWithPassphrase = %v; want ErrTampered or ErrWrongPassphrase", i, err)
		}
		// The salt, the parameters and the check value derive the
		// KEK; the rest is checked by it.
		if i/8 >= headerSizePassphrase && !errors.Is(err, ErrTampered) {
			t.Fatalf("bit %d of the sealed keyset flipped: %v; want ErrTampered", i, err)
		}
	}
	for _, v := range [][]byte{{}, orig[:headerSizeAEAD], orig[:headerSizePassphrase], orig[:len(orig)-1], append(bytes.Clone(orig), 0)} {
		inner.setRaw(t, spaceMeta, metaKey, v)
		if _, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap); !errors.Is(err, ErrTampered) {
			t.Errorf("keyset record of %d bytes: OpenWithPassphrase = %v; want ErrTampered", len(v), err)
		}
	}
	inner.setRaw(t, spaceMeta, metaKey, orig)
	inner.wantUnchanged(t, before)

	// Out-of-bounds parameters are refused before argon2id runs.
	for _, p := range []Options{{Time: 0, Memory: 8, Threads: 1}, {Time: 1, Memory: maxMemory + 1, Threads: 1}, {Time: 1, Memory: 8, Threads: 0}} {
		h, _, _ := parseMeta(orig)
		v := appendHeaderPassphrase(nil, h.salt, p, h.check)
		v = append(v, orig[headerSizePassphrase:]...)
		inner.setRaw(t, spaceMeta, metaKey, v)
		if _, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap); !errors.Is(err, ErrTampered) {
			t.Errorf("stored parameters %+v: OpenWithPassphrase = %v; want ErrTampered", p, err)
		}
	}

	// A deleted keyset record is not silently replaced by a new keyset.
	inner.setRaw(t, spaceMeta, metaKey, nil)
	if _, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap); !errors.Is(err, ErrTampered) {
		t.Errorf("keyset record deleted: OpenWithPassphrase = %v; want ErrTampered", err)
	}
	inner.setRaw(t, spaceMeta, metaKey, orig)
	s2, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s2, "sp", "k", "v")
}

// TestCorruptedKeysetInUse checks that maintenance operations refuse a
// keyset record damaged while the store is open.
func TestCorruptedKeysetInUse(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "v"})
	v := inner.raw(t, spaceMeta, metaKey)
	v[len(v)-1] ^= 1
	inner.setRaw(t, spaceMeta, metaKey, v)
	before := inner.snapshot(t)
	if err := s.Rotate(t.Context()); !errors.Is(err, ErrTampered) {
		t.Errorf("Rotate = %v; want ErrTampered", err)
	}
	if err := s.ChangePassphrase(t.Context(), passphrase, []byte("new")); !errors.Is(err, ErrTampered) {
		t.Errorf("ChangePassphrase = %v; want ErrTampered", err)
	}
	inner.wantUnchanged(t, before)
	wantValue(t, s, "sp", "k", "v") // the keyset in memory still works
}
