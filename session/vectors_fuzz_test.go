package session_test

import (
	"testing"

	"github.com/sotto-im/sotto/session"
	"github.com/sotto-im/sotto/testvectors"
)

// FuzzBundleFromVectors starts from every bundle in the published vectors:
// decoding never panics, and a decoded bundle re-encodes stably.
func FuzzBundleFromVectors(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedBundle) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var bundle session.Bundle
		if bundle.UnmarshalBinary(b) != nil {
			return
		}
		out, err := bundle.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var again session.Bundle
		if err := again.UnmarshalBinary(out); err != nil {
			t.Fatalf("re-encoded bundle does not decode: %v", err)
		}
		out2, _ := again.MarshalBinary()
		if string(out) != string(out2) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzFingerprintFromVectors starts from every scannable fingerprint in the
// published vectors: comparing never panics.
func FuzzFingerprintFromVectors(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedFingerprint) {
		f.Add(s)
	}
	key := append([]byte{0x05}, make([]byte, 32)...)
	key[1] = 9
	fp, err := session.NewFingerprint(2, session.FingerprintVersion, []byte("a"), key, []byte("b"), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = fp.Compare(b)
	})
}
