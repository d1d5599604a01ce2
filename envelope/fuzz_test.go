package envelope

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sotto-im/sotto/session"
)

// FuzzParse checks that Parse never panics, that every error it returns is in
// the invalid-message class, and that whatever it accepts marshals to an
// encoding it accepts again and that re-encodes to itself.
func FuzzParse(f *testing.F) {
	seeds := []*Envelope{
		{Kind: KindText, ID: NewID(), Body: "hello", Sent: time.UnixMilli(1), Timer: Timer{time.Hour, 2}},
		{Kind: KindReceipt, ID: NewID(), Receipts: []ID{NewID()}},
		{Kind: KindTimer, ID: NewID(), Timer: Timer{0, 9}},
	}
	fr := &Envelope{Kind: KindText, ID: NewID(), Body: "franked", Sent: time.UnixMilli(5)}
	if _, err := fr.Frank("a.1", "b.1"); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, fr)
	for _, e := range seeds {
		b, err := e.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		raw, _ := unpad(b)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			if !errors.Is(err, session.ErrInvalidMessage) {
				t.Fatalf("error outside the invalid-message class: %v", err)
			}
			return
		}
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("accepted envelope does not marshal: %v", err)
		}
		e2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoding refused: %v", err)
		}
		out2, err := e2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("re-encoding is not stable")
		}
	})
}
