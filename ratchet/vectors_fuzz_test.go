package ratchet_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

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
			require.True(t, errors.Is(err, ratchet.ErrMalformedMessage) || errors.Is(err, ratchet.ErrUnsupportedVersion),
				"unclassified error %v", err)
			return
		}
		require.Equal(t, b, m.Bytes())
		require.Equal(t, ratchet.CurrentVersion, m.Version())
		require.LessOrEqual(t, len(b), ratchet.MaxMessageSize)
		if a := m.Addresses(); a != nil {
			require.Len(t, a, ratchet.AddressesSize)
		}
	})
}
