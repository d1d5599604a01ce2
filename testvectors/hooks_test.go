package testvectors

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/vectorgen"
	"github.com/sotto-im/sotto/ratchet"
)

// swap replaces the entry point name with fn for the rest of the test.
func swap(t *testing.T, name string, fn any) {
	t.Helper()
	orig, ok, err := vectorgen.Lookup[any](name)
	if err != nil || !ok {
		t.Fatalf("session does not register %q: %v", name, err)
	}
	vectorgen.Unregister(name)
	vectorgen.Register(name, fn)
	t.Cleanup(func() {
		vectorgen.Unregister(name)
		vectorgen.Register(name, orig)
	})
}

// TestHooks checks that the verifier really uses session's deterministic
// entry points: with them all vectors pass, and a wrong entry point, or one
// of the wrong type, makes vectors fail.
func TestHooks(t *testing.T) {
	var out bytes.Buffer
	if passed, failed, err := Verify(FS, &out); err != nil || failed != 0 || passed == 0 {
		t.Fatalf("with entry points: %d passed, %d failed, %v\n%s", passed, failed, err, &out)
	}

	t.Run("wrong PQXDH", func(t *testing.T) {
		swap(t, hookPQXDHRespond, pqxdhRespondFunc(func(*curve.PrivateKey, *curve.PrivateKey, *curve.PrivateKey,
			*kem.PrivateKey, *curve.PublicKey, *curve.PublicKey, []byte) (ratchet.InitialKeys, error) {
			return ratchet.InitialKeys{}, nil
		}))
		out.Reset()
		_, failed, err := Verify(FS, &out)
		if err != nil || failed == 0 || !strings.Contains(out.String(), "session root key") {
			t.Errorf("a wrong pqxdhRespond went unnoticed: %d failed, %v", failed, err)
		}
	})
	t.Run("wrong type", func(t *testing.T) {
		swap(t, hookCreateAccount, func() {})
		out.Reset()
		_, failed, err := Verify(FS, &out)
		if err != nil || failed == 0 || !strings.Contains(out.String(), "vectorgen:") {
			t.Errorf("an entry point of the wrong type went unnoticed: %d failed, %v", failed, err)
		}
	})
}
