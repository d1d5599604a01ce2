// Package wptest loads Project Wycheproof's test vectors
// (https://github.com/C2SP/wycheproof, through its Go module) for the tests
// of the primitive wrappers Sotto owns: X25519 handling (internal/curve),
// AES-256-CBC with PKCS#7 unpadding (ratchet), HMAC-SHA256 and HKDF-SHA256
// (internal/kdf). Only tests import it.
package wptest

import (
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/c2sp/wycheproof"
)

// File is the common shape of a Wycheproof vector file; G is the file's
// test group type.
type File[G any] struct {
	Algorithm     string `json:"algorithm"`
	NumberOfTests int    `json:"numberOfTests"`
	TestGroups    []G    `json:"testGroups"`
}

// Case holds the fields every Wycheproof test case has.
type Case struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Result  string   `json:"result"` // "valid", "invalid" or "acceptable"
}

// Load decodes testvectors_v1/name into a File and fails the test if the
// file is missing, malformed, or holds no tests.
func Load[G any](t *testing.T, name string) *File[G] {
	t.Helper()
	b, err := fs.ReadFile(wycheproof.TestVectors, name)
	if err != nil {
		t.Fatalf("Wycheproof vectors %s: %v", name, err)
	}
	var f File[G]
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("Wycheproof vectors %s: %v", name, err)
	}
	if f.NumberOfTests == 0 || len(f.TestGroups) == 0 {
		t.Fatalf("Wycheproof vectors %s: no tests", name)
	}
	return &f
}

// Hex is a byte string that decodes from Wycheproof's hex.
type Hex []byte

// UnmarshalJSON decodes a JSON hex string.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}
