package ratchet_test

import (
	"bytes"
	"testing"

	"github.com/sotto-im/sotto/ratchet"
	"github.com/sotto-im/sotto/testvectors"
)

// FuzzSignalMessageFromVectors starts from every SignalMessage in the
// published vectors (testvectors.Seeds panics if there are none): parsing
// never panics, and what parses keeps its bytes and its framing.
func FuzzSignalMessageFromVectors(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedSignalMessage) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ratchet.ParseSignalMessage(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Bytes(), b) || m.Version != ratchet.CurrentVersion || len(b) > ratchet.MaxMessageSize {
			t.Fatal("parsed message does not match its input")
		}
		if m.Addresses != nil && len(m.Addresses) != ratchet.AddressesSize {
			t.Fatal("addresses field of the wrong size accepted")
		}
	})
}
