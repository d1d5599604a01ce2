package encrypted

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sotto-im/sotto/keystore"
)

// FuzzGet stores arbitrary bytes as the inner row of a value: Get must
// return the original value for the original row and ErrTampered for
// anything else, without panicking. Seeds are real rows.
func FuzzGet(f *testing.F) {
	inner := newSpy()
	s, err := OpenWithAEAD(f.Context(), inner, newTinkKEK(f))
	if err != nil {
		f.Fatal(err)
	}
	err = s.Update(f.Context(), func(tx keystore.Tx) error {
		for _, v := range []string{"", "v", "a session record of some length"} {
			if err := tx.Put("sp", "seed"+v, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	for r, v := range inner.snapshot(f) {
		if r.space == "sp" {
			f.Add(v)
		}
	}
	put(f, s, "sp", map[string]string{"k": "the value"})
	orig := bytes.Clone(inner.raw(f, "sp", "k"))
	f.Add(orig)
	f.Add([]byte{rowSplit})
	f.Fuzz(func(t *testing.T, row []byte) {
		inner.setRaw(t, "sp", "k", row)
		v, err := get(t, s, "sp", "k")
		switch {
		case bytes.Equal(row, orig):
			if err != nil || string(v) != "the value" {
				t.Fatalf("original row: %q, %v", v, err)
			}
		case !errors.Is(err, ErrTampered) || v != nil:
			t.Fatalf("Get = %q, %v; want ErrTampered", v, err)
		}
	})
}

// FuzzOpenKeyset stores arbitrary bytes as the keyset record: opening must
// fail cleanly for anything but the original record. It opens with an
// application AEAD, so no argon2id runs whatever the record's parameters.
func FuzzOpenKeyset(f *testing.F) {
	kek := newTinkKEK(f)
	inner := newSpy()
	if _, err := OpenWithAEAD(f.Context(), inner, kek); err != nil {
		f.Fatal(err)
	}
	orig := inner.raw(f, spaceMeta, metaKey)
	f.Add(orig)
	pass := newSpy()
	if _, err := OpenWithPassphrase(f.Context(), pass, passphrase, cheap); err != nil {
		f.Fatal(err)
	}
	f.Add(pass.raw(f, spaceMeta, metaKey))
	f.Fuzz(func(t *testing.T, meta []byte) {
		if len(meta) == 0 {
			return // an empty row is a valid Put, but not what this tests
		}
		m := newSpy()
		m.setRaw(t, spaceMeta, metaKey, meta)
		_, err := OpenWithAEAD(t.Context(), m, kek)
		if bytes.Equal(meta, orig) {
			if err != nil {
				t.Fatalf("original record: %v", err)
			}
			return
		}
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongKey) {
			t.Fatalf("OpenWithAEAD = %v; want ErrTampered or ErrWrongKey", err)
		}
		// Parsing alone never panics either, and bounds the parameters.
		if h, _, err := parseMeta(meta); err == nil && h.kind == kindPassphrase {
			if err := h.params.check(); err != nil {
				t.Fatalf("parseMeta accepted %+v: %v", h.params, err)
			}
		}
	})
}
