package encrypted

import (
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/memory"
)

// benchStores returns the bare memory store and an encrypted one over
// another memory store, to compare.
func benchStores(b *testing.B) []struct {
	name string
	s    keystore.Store
} {
	enc, err := OpenWithPassphrase(b.Context(), memory.New(), passphrase, cheap)
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		s    keystore.Store
	}{{"memory", memory.New()}, {"encrypted", enc}}
}

// The sizes are a small row (a prekey) and a session record.
var benchSizes = []int{64, 4 << 10}

func BenchmarkGet(b *testing.B) {
	for _, size := range benchSizes {
		for _, st := range benchStores(b) {
			b.Run(fmt.Sprintf("%s/%dB", st.name, size), func(b *testing.B) {
				v := make([]byte, size)
				rand.Read(v)
				err := st.s.Update(b.Context(), func(tx keystore.Tx) error { return tx.Put("sp", "k", v) })
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					err := st.s.View(b.Context(), func(tx keystore.Tx) error {
						_, err := tx.Get("sp", "k")
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkPut(b *testing.B) {
	for _, size := range benchSizes {
		for _, st := range benchStores(b) {
			b.Run(fmt.Sprintf("%s/%dB", st.name, size), func(b *testing.B) {
				v := make([]byte, size)
				rand.Read(v)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					err := st.s.Update(b.Context(), func(tx keystore.Tx) error { return tx.Put("sp", "k", v) })
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
