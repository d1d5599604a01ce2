package curve_test

import (
	"bytes"
	"testing"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/testvectors"
)

// FuzzPublicKeyFromVectors starts from every public key in the published
// vectors: parsing never panics, a parsed key re-serializes to its input,
// and the canonical-encoding check never panics either.
func FuzzPublicKeyFromVectors(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedPublicKey) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := curve.ParsePublicKey(b)
		if err != nil {
			return
		}
		if !bytes.Equal(k.Bytes(), b) {
			t.Fatal("key does not re-serialize to its input")
		}
		_ = k.IsCanonical()
	})
}
