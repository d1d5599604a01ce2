package session

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/curve"
)

// Published libsignal safety-number vectors (the same values as
// libsignal-protocol-java's NumericFingerprintGeneratorTest), with
// 5200 iterations and E.164 stable identifiers.
const (
	vectorAliceIdentity = "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868"
	vectorBobIdentity   = "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b"
	vectorAliceID       = "+14152222222"
	vectorBobID         = "+14153333333"
	vectorIterations    = 5200

	vectorDisplayable = "300354477692869396892869876765458257569162576843440918079131"

	vectorAliceScannableV1 = "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"
	vectorBobScannableV1   = "080112220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"
	vectorAliceScannableV2 = "080212220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"
	vectorBobScannableV2   = "080212220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randomIdentityKey returns a fresh serialized identity public key.
func randomIdentityKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, curve.PublicKeySize)
	k[0] = curve.DjbType
	if _, err := rand.Read(k[1:]); err != nil {
		t.Fatal(err)
	}
	return k
}

// fingerprintPair returns Alice's and Bob's view of their safety number.
func fingerprintPair(t testing.TB, iterations, version int, aliceID, aliceKey, bobID, bobKey []byte) (alice, bob *Fingerprint) {
	t.Helper()
	alice, err := NewFingerprint(iterations, version, aliceID, aliceKey, bobID, bobKey)
	if err != nil {
		t.Fatalf("NewFingerprint(alice): %v", err)
	}
	bob, err = NewFingerprint(iterations, version, bobID, bobKey, aliceID, aliceKey)
	if err != nil {
		t.Fatalf("NewFingerprint(bob): %v", err)
	}
	return alice, bob
}

func TestFingerprintLibsignalVectors(t *testing.T) {
	aliceKey := mustHex(t, vectorAliceIdentity)
	bobKey := mustHex(t, vectorBobIdentity)
	for _, tc := range []struct {
		version            int
		aliceScan, bobScan string
	}{
		{1, vectorAliceScannableV1, vectorBobScannableV1},
		{2, vectorAliceScannableV2, vectorBobScannableV2},
	} {
		alice, bob := fingerprintPair(t, vectorIterations, tc.version,
			[]byte(vectorAliceID), aliceKey, []byte(vectorBobID), bobKey)
		if got := alice.Displayable(); got != vectorDisplayable {
			t.Errorf("v%d alice displayable = %s, want %s", tc.version, got, vectorDisplayable)
		}
		if got := bob.Displayable(); got != vectorDisplayable {
			t.Errorf("v%d bob displayable = %s, want %s", tc.version, got, vectorDisplayable)
		}
		if got := hex.EncodeToString(alice.Scannable()); got != tc.aliceScan {
			t.Errorf("v%d alice scannable = %s, want %s", tc.version, got, tc.aliceScan)
		}
		if got := hex.EncodeToString(bob.Scannable()); got != tc.bobScan {
			t.Errorf("v%d bob scannable = %s, want %s", tc.version, got, tc.bobScan)
		}
		// Each side accepts the other's published scannable bytes.
		for _, c := range []struct {
			f    *Fingerprint
			scan string
		}{{alice, tc.bobScan}, {bob, tc.aliceScan}} {
			ok, err := c.f.Compare(mustHex(t, c.scan))
			if err != nil || !ok {
				t.Errorf("v%d Compare(published peer vector) = %v, %v; want true, nil", tc.version, ok, err)
			}
		}
	}
}

func TestFingerprintSymmetry(t *testing.T) {
	aliceKey, bobKey := randomIdentityKey(t), randomIdentityKey(t)
	aliceID, bobID := []byte("alice-aci-uuid-1"), []byte("bob-aci-uuid-002")
	alice, bob := fingerprintPair(t, DefaultFingerprintIterations, FingerprintVersion, aliceID, aliceKey, bobID, bobKey)

	if alice.Displayable() != bob.Displayable() {
		t.Errorf("displayable differs: %s vs %s", alice.Displayable(), bob.Displayable())
	}
	if d := alice.Displayable(); len(d) != 60 || strings.Trim(d, "0123456789") != "" {
		t.Errorf("displayable %q is not 60 digits", d)
	}
	if bytes.Equal(alice.Scannable(), bob.Scannable()) {
		t.Error("scannable forms should mirror, not be equal")
	}
	for _, c := range []struct {
		name string
		f    *Fingerprint
		scan []byte
		want bool
	}{
		{"alice scans bob", alice, bob.Scannable(), true},
		{"bob scans alice", bob, alice.Scannable(), true},
		// Scanning one's own code must not verify.
		{"alice scans herself", alice, alice.Scannable(), false},
		{"bob scans himself", bob, bob.Scannable(), false},
	} {
		ok, err := c.f.Compare(c.scan)
		if err != nil || ok != c.want {
			t.Errorf("%s: Compare = %v, %v; want %v, nil", c.name, ok, err, c.want)
		}
	}
}

func TestFingerprintMismatch(t *testing.T) {
	aliceKey, bobKey, mitmKey := randomIdentityKey(t), randomIdentityKey(t), randomIdentityKey(t)
	aliceID, bobID := []byte(vectorAliceID), []byte(vectorBobID)
	const it = 1024

	for _, tc := range []struct {
		name string
		// views returns Alice's and Bob's fingerprints when they disagree.
		views func() (alice, bob *Fingerprint)
	}{
		{name: "substituted key", views: func() (*Fingerprint, *Fingerprint) {
			a, _ := fingerprintPair(t, it, 1, aliceID, aliceKey, bobID, mitmKey)
			_, b := fingerprintPair(t, it, 1, aliceID, aliceKey, bobID, bobKey)
			return a, b
		}},
		{name: "different identifier", views: func() (*Fingerprint, *Fingerprint) {
			a, _ := fingerprintPair(t, it, 1, []byte("+141512222222"), aliceKey, bobID, bobKey)
			_, b := fingerprintPair(t, it, 1, aliceID, aliceKey, bobID, bobKey)
			return a, b
		}},
	} {
		a, b := tc.views()
		if a.Displayable() == b.Displayable() {
			t.Errorf("%s: displayable numbers agree", tc.name)
		}
		for _, c := range []struct {
			f    *Fingerprint
			scan []byte
		}{{a, b.Scannable()}, {b, a.Scannable()}} {
			ok, err := c.f.Compare(c.scan)
			if err != nil || ok {
				t.Errorf("%s: Compare = %v, %v; want false, nil", tc.name, ok, err)
			}
		}
	}
}

func TestFingerprintCompareVersionMismatch(t *testing.T) {
	aliceKey := mustHex(t, vectorAliceIdentity)
	bobKey := mustHex(t, vectorBobIdentity)
	alice, _ := fingerprintPair(t, vectorIterations, 2, []byte(vectorAliceID), aliceKey, []byte(vectorBobID), bobKey)

	ok, err := alice.Compare(mustHex(t, vectorBobScannableV1))
	var mismatch *FingerprintVersionMismatchError
	if ok || !errors.As(err, &mismatch) {
		t.Fatalf("Compare(v1 against v2) = %v, %v; want false, *FingerprintVersionMismatchError", ok, err)
	}
	if mismatch.Theirs != 1 || mismatch.Ours != 2 {
		t.Errorf("mismatch = %+v, want theirs 1, ours 2", mismatch)
	}

	// A missing version decodes as 0 and is a mismatch too.
	noVersion := mustHex(t, vectorBobScannableV2)[2:]
	if _, err := alice.Compare(noVersion); !errors.As(err, &mismatch) || mismatch.Theirs != 0 {
		t.Errorf("Compare(no version) error = %v, want version mismatch with theirs 0", err)
	}
}

func TestFingerprintCompareMalformed(t *testing.T) {
	aliceKey := mustHex(t, vectorAliceIdentity)
	bobKey := mustHex(t, vectorBobIdentity)
	alice, _ := fingerprintPair(t, vectorIterations, 1, []byte(vectorAliceID), aliceKey, []byte(vectorBobID), bobKey)
	bobScan := mustHex(t, vectorBobScannableV1)

	for _, tc := range []struct {
		name string
		scan []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a fingerprint at all")},
		{"truncated", bobScan[:len(bobScan)-1]},
		{"remote missing", bobScan[:2+2+0x22]},
		{"local missing", append([]byte{0x08, 0x01}, bobScan[2+2+0x22:]...)},
		{"version as bytes", append([]byte{0x0a, 0x01, 0x01}, bobScan[2:]...)},
		{"overlong varint", append([]byte{0x08, 0x81, 0x00}, bobScan[2:]...)},
		{"too large", make([]byte, 1<<20)},
	} {
		ok, err := alice.Compare(tc.scan)
		if ok || !errors.Is(err, ErrFingerprintMalformed) {
			t.Errorf("%s: Compare = %v, %v; want false, ErrFingerprintMalformed", tc.name, ok, err)
		}
	}

	// Decodable but wrong-sized contents are a mismatch, not an error.
	short := []byte{0x08, 0x01, 0x12, 0x00, 0x1a, 0x00}
	if ok, err := alice.Compare(short); ok || err != nil {
		t.Errorf("Compare(empty contents) = %v, %v; want false, nil", ok, err)
	}
	// Unknown fields are ignored.
	extended := append(bytes.Clone(bobScan), 0x20, 0x07, 0x2a, 0x01, 0xff)
	if ok, err := alice.Compare(extended); !ok || err != nil {
		t.Errorf("Compare(with unknown fields) = %v, %v; want true, nil", ok, err)
	}
}

func TestNewFingerprintRejects(t *testing.T) {
	key := mustHex(t, vectorAliceIdentity)
	id := []byte(vectorAliceID)
	for _, tc := range []struct {
		name          string
		it, version   int
		local, remote []byte
		want          error
	}{
		{"iterations 0", 0, 2, key, key, ErrFingerprintIterations},
		{"iterations 1", 1, 2, key, key, ErrFingerprintIterations},
		{"iterations negative", -5200, 2, key, key, ErrFingerprintIterations},
		{"iterations over max", 1_000_001, 2, key, key, ErrFingerprintIterations},
		{"version 0", 5200, 0, key, key, ErrFingerprintVersion},
		{"version 3", 5200, 3, key, key, ErrFingerprintVersion},
		{"short local key", 5200, 2, key[:32], key, curve.ErrInvalidPublicKey},
		{"long remote key", 5200, 2, key, append(bytes.Clone(key), 0), curve.ErrInvalidPublicKey},
		{"raw 32-byte key", 5200, 2, key, key[1:], curve.ErrInvalidPublicKey},
		{"wrong key type", 5200, 2, append([]byte{0x08}, key[1:]...), key, curve.ErrInvalidPublicKey},
		{"nil key", 5200, 2, nil, key, curve.ErrInvalidPublicKey},
	} {
		f, err := NewFingerprint(tc.it, tc.version, id, tc.local, id, tc.remote)
		if f != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: NewFingerprint = %v, %v; want nil, %v", tc.name, f, err, tc.want)
		}
	}
	// The boundaries themselves are accepted.
	for _, it := range []int{2, 1_000_000} {
		if testing.Short() && it > 2 {
			continue
		}
		if _, err := NewFingerprint(it, 2, id, key, id, key); err != nil {
			t.Errorf("iterations %d: %v", it, err)
		}
	}
}

// TestFingerprintErrorsCarryNoKeys checks that no error shows key or
// fingerprint bytes.
func TestFingerprintErrorsCarryNoKeys(t *testing.T) {
	key := mustHex(t, vectorAliceIdentity)
	_, err := NewFingerprint(5200, 2, nil, key[:20], nil, key)
	if err == nil || strings.Contains(err.Error(), vectorAliceIdentity[2:12]) {
		t.Errorf("error %v", err)
	}
	alice, _ := fingerprintPair(t, vectorIterations, 2, []byte(vectorAliceID), key, []byte(vectorBobID), mustHex(t, vectorBobIdentity))
	_, err = alice.Compare(mustHex(t, vectorBobScannableV1))
	if err == nil || strings.Contains(err.Error(), "d62cbf73") || strings.Contains(err.Error(), "1e301a03") {
		t.Errorf("error %v", err)
	}
}
