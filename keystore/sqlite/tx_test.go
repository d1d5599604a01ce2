package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sotto-im/sotto/keystore"
)

// TestStickyError checks that once a statement of an Update fails, every
// later call of its Tx returns that error and the Update commits nothing,
// even though fn ignores the error and returns nil. The failure is made by
// renaming the table behind the transaction's back.
func TestStickyError(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var failed error
	err = s.Update(ctx, func(ktx keystore.Tx) error {
		tx := ktx.(*tx)
		if err := tx.Put("sp", "before", []byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := tx.c.exec(ctx, "ALTER TABLE kv RENAME TO gone"); err != nil {
			t.Fatal(err)
		}
		failed = tx.Put("sp", "during", []byte("2"))
		if failed == nil {
			t.Fatal("Put into a missing table succeeded")
		}
		if err := tx.c.exec(ctx, "ALTER TABLE gone RENAME TO kv"); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"Put":    tx.Put("sp", "after", []byte("3")),
			"Delete": tx.Delete("sp", "before"),
			"Get":    func() error { _, err := tx.Get("sp", "before"); return err }(),
			"List":   func() error { _, err := tx.List("sp", ""); return err }(),
		} {
			if err != failed {
				t.Errorf("%s after a failed statement returned %v, want the first failure %v", name, err, failed)
			}
		}
		return nil // as if fn had ignored the error
	})
	if err != failed {
		t.Errorf("Update returned %v, want the failed statement's error %v", err, failed)
	}
	err = s.View(ctx, func(tx keystore.Tx) error {
		keys, err := tx.List("sp", "")
		if err != nil || len(keys) != 0 {
			t.Errorf("after the failed Update, List = %q, %v; want nothing committed", keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The store goes on.
	if err := s.Update(ctx, func(tx keystore.Tx) error { return tx.Put("sp", "k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	if errors.Is(failed, ErrCorrupt) {
		t.Errorf("a missing table was reported as corruption: %v", failed)
	}
}
