package curve

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/sotto-im/sotto/internal/wptest"
)

// TestWycheproofX25519 runs Wycheproof's X25519 vectors through NewPrivateKey,
// NewPublicKeyFromU and ECDH. Valid and acceptable cases must agree on the
// shared secret, except that Sotto, like libsignal, refuses an all-zero
// result (low-order public keys) with ErrInvalidKeyAgreement.
func TestWycheproofX25519(t *testing.T) {
	type group struct {
		Curve string `json:"curve"`
		Tests []struct {
			wptest.Case
			Public  wptest.Hex `json:"public"`
			Private wptest.Hex `json:"private"`
			Shared  wptest.Hex `json:"shared"`
		} `json:"tests"`
	}
	f := wptest.Load[group](t, "x25519_test.json")
	n, zero := 0, 0
	for _, g := range f.TestGroups {
		if g.Curve != "curve25519" {
			t.Fatalf("unexpected curve %q", g.Curve)
		}
		for _, tc := range g.Tests {
			n++
			priv, err := NewPrivateKey(tc.Private)
			if err != nil {
				t.Errorf("tcId %d: private key refused: %v", tc.TcID, err)
				continue
			}
			pub, err := NewPublicKeyFromU(tc.Public)
			if err != nil {
				t.Errorf("tcId %d: public key refused: %v", tc.TcID, err)
				continue
			}
			shared, err := priv.ECDH(pub)
			if bytes.Equal(tc.Shared, make([]byte, 32)) {
				zero++
				if !errors.Is(err, ErrInvalidKeyAgreement) || !slices.Contains(tc.Flags, "ZeroSharedSecret") {
					t.Errorf("tcId %d (%s): all-zero shared secret not refused: %v", tc.TcID, tc.Comment, err)
				}
				continue
			}
			if err != nil || !bytes.Equal(shared, tc.Shared) || tc.Result == "invalid" {
				t.Errorf("tcId %d (%s, %s): shared %x, %v; want %x", tc.TcID, tc.Comment, tc.Result, shared, err, []byte(tc.Shared))
			}
		}
	}
	t.Logf("%d Wycheproof X25519 cases, %d with an all-zero result refused", n, zero)
}
