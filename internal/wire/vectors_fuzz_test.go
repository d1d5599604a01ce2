package wire_test

import (
	"bytes"
	"testing"

	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/testvectors"
)

// FuzzPreKeyMessageFromVectors starts from every PreKeySignalMessage in the
// published vectors: parsing never panics, and a parsed message re-encodes
// to bytes that parse to the same message.
func FuzzPreKeyMessageFromVectors(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedPreKeyMessage) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wire.ParsePreKeySignalMessage(b)
		if err != nil {
			return
		}
		again, err := wire.ParsePreKeySignalMessage(m.Marshal())
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if !bytes.Equal(again.Marshal(), m.Marshal()) {
			t.Fatal("encoding is not stable")
		}
	})
}
