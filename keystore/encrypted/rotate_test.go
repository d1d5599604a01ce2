package encrypted

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sotto-im/sotto/keystore"
)

func TestRotate(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"old": "written before Rotate"})
	first := s.ring.Load().primary
	if err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := s.ring.Load().primary
	if second == first || len(s.ring.Load().ids) != 2 {
		t.Fatalf("after Rotate: primary %d (was %d), %d keys", second, first, len(s.ring.Load().ids))
	}
	put(t, s, "sp", map[string]string{"new": "written after Rotate"})
	if got := keyIDOf(t, inner, "sp", "old"); got != first {
		t.Errorf("old value under key %d; want %d", got, first)
	}
	if got := keyIDOf(t, inner, "sp", "new"); got != second {
		t.Errorf("new value under key %d; want the new primary %d", got, second)
	}
	wantValue(t, s, "sp", "old", "written before Rotate")
	wantValue(t, s, "sp", "new", "written after Rotate")

	// The rotated keyset is what is stored.
	s2, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if s2.ring.Load().primary != second {
		t.Errorf("reopened primary %d; want %d", s2.ring.Load().primary, second)
	}
	wantValue(t, s2, "sp", "old", "written before Rotate")
	wantValue(t, s2, "sp", "new", "written after Rotate")
}

func TestReencryptAndRemoveOldKeys(t *testing.T) {
	s, inner := openSpy(t)
	for i := range 3 {
		kv := map[string]string{}
		for j := range reencryptBatch + 10 { // more than one batch
			kv[fmt.Sprintf("k%04d", j)] = fmt.Sprintf("value %d/%d", i, j)
		}
		put(t, s, fmt.Sprintf("space%d", i), kv)
	}
	oldRow := inner.raw(t, "space0", "k0000")
	if err := s.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	put(t, s, "space0", map[string]string{"k0001": "rewritten after Rotate"})

	// Old keys are still in use: RemoveOldKeys refuses and changes nothing.
	before := inner.snapshot(t)
	if err := s.RemoveOldKeys(t.Context()); !errors.Is(err, ErrOldKeysInUse) {
		t.Fatalf("RemoveOldKeys before Reencrypt = %v; want ErrOldKeysInUse", err)
	}
	inner.wantUnchanged(t, before)

	if err := s.Reencrypt(t.Context()); err != nil {
		t.Fatal(err)
	}
	primary := s.ring.Load().primary
	for r := range inner.snapshot(t) {
		if reserved(r.space) {
			continue
		}
		if got := keyIDOf(t, inner, r.space, r.key); got != primary {
			t.Errorf("after Reencrypt %q/%q is under key %d; want %d", r.space, r.key, got, primary)
		}
	}
	wantValue(t, s, "space0", "k0000", "value 0/0")
	wantValue(t, s, "space0", "k0001", "rewritten after Rotate")
	wantValue(t, s, "space2", fmt.Sprintf("k%04d", reencryptBatch+9), fmt.Sprintf("value 2/%d", reencryptBatch+9))

	// A second Reencrypt has nothing to do.
	n := len(inner.puts)
	if err := s.Reencrypt(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(inner.puts) != n {
		t.Errorf("second Reencrypt made %d Puts; want 0", len(inner.puts)-n)
	}

	if err := s.RemoveOldKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if ids := s.ring.Load().ids; len(ids) != 1 || ids[0] != primary {
		t.Errorf("keys after RemoveOldKeys: %v; want [%d]", ids, primary)
	}
	before = inner.snapshot(t)
	if err := s.RemoveOldKeys(t.Context()); err != nil {
		t.Fatalf("RemoveOldKeys with one key: %v", err)
	}
	inner.wantUnchanged(t, before)
	s2, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, s2, "space1", "k0005", "value 1/5")

	// A copy of a row sealed under the removed key no longer opens.
	inner.setRaw(t, "space0", "k0000", oldRow)
	wantTampered(t, s2, "space0", "k0000")
	if err := s2.Reencrypt(t.Context()); !errors.Is(err, ErrTampered) {
		t.Errorf("Reencrypt over a tampered row = %v; want ErrTampered", err)
	}
}

func TestChangePassphrase(t *testing.T) {
	s, inner := openSpy(t)
	put(t, s, "sp", map[string]string{"k": "v"})
	newPass := []byte("a new passphrase")
	stale, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
	if err != nil {
		t.Fatal(err)
	}

	before := inner.snapshot(t)
	if err := s.ChangePassphrase(t.Context(), []byte("not the passphrase"), newPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("ChangePassphrase with a wrong old passphrase = %v; want ErrWrongPassphrase", err)
	}
	inner.wantUnchanged(t, before)

	if err := s.ChangePassphrase(t.Context(), passphrase, newPass); err != nil {
		t.Fatal(err)
	}
	// Only the keyset record changed; the values were not rewritten.
	after := inner.snapshot(t)
	for r, v := range before {
		if r != (row{spaceMeta, metaKey}) && string(after[r]) != string(v) {
			t.Errorf("row %q/%q changed", r.space, r.key)
		}
	}
	oldH, _, _ := parseMeta(before[row{spaceMeta, metaKey}])
	newH, _, _ := parseMeta(after[row{spaceMeta, metaKey}])
	if string(oldH.salt) == string(newH.salt) {
		t.Error("ChangePassphrase kept the salt")
	}

	put(t, s, "sp", map[string]string{"k2": "after the change"}) // s keeps working
	if _, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("open with the old passphrase = %v; want ErrWrongPassphrase", err)
	}
	s2, err := OpenWithPassphrase(t.Context(), inner, newPass, cheap)
	if err != nil {
		t.Fatalf("open with the new passphrase: %v", err)
	}
	wantValue(t, s2, "sp", "k", "v")
	wantValue(t, s2, "sp", "k2", "after the change")
	if err := s2.Rotate(t.Context()); err != nil {
		t.Fatalf("Rotate after ChangePassphrase: %v", err)
	}

	// A Store opened before the change still reads, but its KEK is stale:
	// it refuses to re-seal the keyset.
	wantValue(t, stale, "sp", "k", "v")
	if err := stale.Rotate(t.Context()); !errors.Is(err, errResealed) {
		t.Errorf("Rotate through a Store opened before ChangePassphrase = %v; want errResealed", err)
	}
}

// TestTwoStores checks that a Store reads values sealed under a key another
// Store of the same inner store added, by reloading the keyset.
func TestTwoStores(t *testing.T) {
	a, inner := openSpy(t)
	b, err := OpenWithPassphrase(t.Context(), inner, passphrase, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	put(t, b, "sp", map[string]string{"k": "sealed under b's new key"})
	wantValue(t, a, "sp", "k", "sealed under b's new key")
	if a.ring.Load().primary != b.ring.Load().primary {
		t.Error("a did not adopt the reloaded keyset")
	}
	// a's own Rotate starts from the stored keyset, keeping b's key.
	if err := a.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(a.ring.Load().ids); n != 3 {
		t.Errorf("%d keys after two rotations; want 3", n)
	}
	wantValue(t, b, "sp", "k", "sealed under b's new key")
}

// TestRotateConcurrent rotates while other goroutines write and read; run
// it with -race.
func TestRotateConcurrent(t *testing.T) {
	s, _ := openSpy(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				key := fmt.Sprintf("g%d-%d", g, i)
				err := s.Update(t.Context(), func(tx keystore.Tx) error {
					if err := tx.Put("sp", key, []byte(key)); err != nil {
						return err
					}
					if i > 0 {
						prev := fmt.Sprintf("g%d-%d", g, i-1)
						v, err := tx.Get("sp", prev)
						if err != nil || string(v) != prev {
							return fmt.Errorf("Get(%q) = %q, %w", prev, v, err)
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := s.Rotate(t.Context()); err != nil {
				t.Error(err)
			}
		}
		if err := s.Reencrypt(t.Context()); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for g := range 4 {
		for i := range 50 {
			key := fmt.Sprintf("g%d-%d", g, i)
			wantValue(t, s, "sp", key, key)
		}
	}
}
