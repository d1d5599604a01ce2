package kem_test

import (
	"testing"

	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/testvectors"
)

// FuzzDecapsulateFromVectors starts from every Kyber ciphertext in the
// published vectors: decapsulation never panics, rejects exactly the
// inputs of the wrong size or type, and always yields a 32-byte secret.
func FuzzDecapsulateFromVectors(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedKyberCiphertext) {
		f.Add(s)
	}
	k, err := kem.GenerateKeyDeterministic(make([]byte, kem.KeySeedSize))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, ct []byte) {
		ss, err := k.Decapsulate(ct)
		wellFormed := len(ct) == kem.CiphertextSize && ct[0] == kem.TypeKyber1024
		if (err == nil) != wellFormed {
			t.Fatalf("well-formed %v, error %v", wellFormed, err)
		}
		if err == nil && len(ss) != kem.SharedSecretSize {
			t.Fatal("short shared secret")
		}
	})
}
