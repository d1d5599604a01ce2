package kem

import (
	"bytes"
	"crypto/mlkem"
	"crypto/rand"
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSizes(t *testing.T) {
	// libsignal's serialized sizes for type 0x08.
	assert.Equal(t, 1569, PublicKeySize)
	assert.Equal(t, 3169, SecretKeySize)
	assert.Equal(t, 1569, CiphertextSize)
	assert.Equal(t, 32, SharedSecretSize)
}

func TestRoundTrip(t *testing.T) {
	for range 8 {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		ct, ss, err := priv.PublicKey().Encapsulate(rand.Reader)
		require.NoError(t, err)
		require.Len(t, ct, CiphertextSize)
		require.Len(t, ss, SharedSecretSize)
		assert.Equal(t, byte(TypeKyber1024), ct[0])

		got, err := priv.Decapsulate(ct)
		require.NoError(t, err)
		assert.Equal(t, ss, got)

		other, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		wrong, err := other.Decapsulate(ct)
		require.NoError(t, err, "implicit rejection is not an error")
		assert.NotEqual(t, ss, wrong)
	}
}

func TestSerializationRoundTrip(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	pb, sb := priv.PublicKey().Bytes(), priv.Bytes()
	require.Len(t, pb, PublicKeySize)
	require.Len(t, sb, SecretKeySize)
	assert.Equal(t, byte(TypeKyber1024), pb[0])
	assert.Equal(t, byte(TypeKyber1024), sb[0])

	pub, err := ParsePublicKey(pb)
	require.NoError(t, err)
	assert.Equal(t, pb, pub.Bytes())
	assert.True(t, pub.Equal(priv.PublicKey()))
	assert.False(t, pub.Equal(nil))

	priv2, err := ParsePrivateKey(sb)
	require.NoError(t, err)
	assert.Equal(t, sb, priv2.Bytes())
	assert.Equal(t, pb, priv2.PublicKey().Bytes())

	// Keys survive the trip: encapsulate to the parsed public key, decapsulate
	// with the parsed private key.
	ct, ss, err := pub.Encapsulate(rand.Reader)
	require.NoError(t, err)
	got, err := priv2.Decapsulate(ct)
	require.NoError(t, err)
	assert.Equal(t, ss, got)

	// Bytes returns copies, and parsing copies its input.
	pb[10] ^= 1
	sb[10] ^= 1
	assert.NotEqual(t, pb, pub.Bytes())
	assert.NotEqual(t, sb, priv2.Bytes())
	in := priv.PublicKey().Bytes()
	pub3, err := ParsePublicKey(in)
	require.NoError(t, err)
	in[10] ^= 1
	assert.True(t, pub3.Equal(priv.PublicKey()))
}

func TestParseRejects(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	pb, sb := priv.PublicKey().Bytes(), priv.Bytes()

	withType := func(b []byte, typ byte) []byte {
		c := bytes.Clone(b)
		c[0] = typ
		return c
	}
	badPublic := map[string][]byte{
		"nil":             nil,
		"type only":       {TypeKyber1024},
		"raw (no type)":   pb[1:],
		"short":           pb[:PublicKeySize-1],
		"long":            append(bytes.Clone(pb), 0),
		"secret key":      sb,
		"type Kyber768":   withType(pb, 0x07),
		"type ML-KEM1024": withType(pb, 0x0A),
		"type X25519":     withType(pb, 0x05),
		"type 0":          withType(pb, 0x00),
	}
	for name, b := range badPublic {
		k, err := ParsePublicKey(b)
		assert.ErrorIs(t, err, ErrInvalidKey, name)
		assert.Nil(t, k, name)
	}

	hashMismatch := bytes.Clone(sb)
	hashMismatch[skHashOffset] ^= 1
	publicMismatch := bytes.Clone(sb)
	publicMismatch[skPublicOffset] ^= 1
	badSecret := map[string][]byte{
		"nil":             nil,
		"type only":       {TypeKyber1024},
		"raw (no type)":   sb[1:],
		"short":           sb[:SecretKeySize-1],
		"long":            append(bytes.Clone(sb), 0),
		"public key":      pb,
		"type Kyber768":   withType(sb, 0x07),
		"type ML-KEM1024": withType(sb, 0x0A),
		"H(pk) modified":  hashMismatch,
		"pk modified":     publicMismatch,
	}
	for name, b := range badSecret {
		k, err := ParsePrivateKey(b)
		assert.ErrorIs(t, err, ErrInvalidKey, name)
		assert.Nil(t, k, name)
	}
}

func TestDecapsulateRejectsMalformed(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	ct, _, err := priv.PublicKey().Encapsulate(rand.Reader)
	require.NoError(t, err)

	withType := bytes.Clone(ct)
	withType[0] = 0x07
	mlkemType := bytes.Clone(ct)
	mlkemType[0] = 0x0A
	for name, c := range map[string][]byte{
		"nil":           nil,
		"type only":     {TypeKyber1024},
		"raw (no type)": ct[1:],
		"short":         ct[:CiphertextSize-1],
		"long":          append(bytes.Clone(ct), 0),
		"type 0x07":     withType,
		"type 0x0A":     mlkemType,
	} {
		ss, err := priv.Decapsulate(c)
		assert.ErrorIs(t, err, ErrInvalidCiphertext, name)
		assert.Nil(t, ss, name)
	}
}

// TestImplicitRejection: a mutated ciphertext decapsulates without error to
// round 3's rejection secret KDF(z || H(c)) = SHAKE-256(z || SHA3-256(c)),
// where FIPS 203 would use SHAKE-256(z || c).
func TestImplicitRejection(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	ct, ss, err := priv.PublicKey().Encapsulate(rand.Reader)
	require.NoError(t, err)
	z := priv.Bytes()[SecretKeySize-32:]

	for _, pos := range []int{1, 2, CiphertextSize / 2, CiphertextSize - 1} {
		bad := bytes.Clone(ct)
		bad[pos] ^= 0x01
		got, err := priv.Decapsulate(bad)
		require.NoError(t, err, "byte %d", pos)
		assert.NotEqual(t, ss, got, "byte %d", pos)

		hc := sha3.Sum256(bad[1:])
		want := sha3.SumSHAKE256(append(bytes.Clone(z), hc[:]...), SharedSecretSize)
		assert.Equal(t, want, got, "byte %d: rejection secret", pos)

		again, err := priv.Decapsulate(bad)
		require.NoError(t, err)
		assert.Equal(t, got, again, "rejection is deterministic")
	}
}

func TestDeterministic(t *testing.T) {
	kseed := bytes.Repeat([]byte{0x42}, KeySeedSize)
	a, err := GenerateKeyDeterministic(kseed)
	require.NoError(t, err)
	b, err := GenerateKeyDeterministic(kseed)
	require.NoError(t, err)
	assert.Equal(t, a.Bytes(), b.Bytes())

	eseed := bytes.Repeat([]byte{0x17}, EncapsulationSeedSize)
	ct1, ss1, err := a.PublicKey().EncapsulateDeterministic(eseed)
	require.NoError(t, err)
	ct2, ss2, err := b.PublicKey().EncapsulateDeterministic(eseed)
	require.NoError(t, err)
	assert.Equal(t, ct1, ct2)
	assert.Equal(t, ss1, ss2)
	got, err := a.Decapsulate(ct1)
	require.NoError(t, err)
	assert.Equal(t, ss1, got)

	eseed[0] ^= 1
	ct3, ss3, err := a.PublicKey().EncapsulateDeterministic(eseed)
	require.NoError(t, err)
	assert.NotEqual(t, ct1, ct3)
	assert.NotEqual(t, ss1, ss3)

	for _, n := range []int{0, 31, 33, 64} {
		_, _, err := a.PublicKey().EncapsulateDeterministic(make([]byte, n))
		assert.ErrorIs(t, err, ErrInvalidSeed, "encapsulation seed of %d bytes", n)
	}
	for _, n := range []int{0, 32, 63, 65} {
		_, err := GenerateKeyDeterministic(make([]byte, n))
		assert.ErrorIs(t, err, ErrInvalidSeed, "key seed of %d bytes", n)
	}
}

// TestNotMLKEM: from the same 64-byte seed d || z, FIPS 203 ML-KEM-1024 makes a
// different encapsulation key (its G(d || k) adds domain separation).
func TestNotMLKEM(t *testing.T) {
	seed := bytes.Repeat([]byte{0x01}, KeySeedSize)
	ours, err := GenerateKeyDeterministic(seed)
	require.NoError(t, err)
	fips, err := mlkem.NewDecapsulationKey1024(seed)
	require.NoError(t, err)
	ek := fips.EncapsulationKey().Bytes()
	require.Len(t, ek, PublicKeySize-1, "same encoded size")
	assert.NotEqual(t, ek, ours.PublicKey().Bytes()[1:])
}

type failingReader struct{}

var errNoEntropy = errors.New("no entropy")

func (failingReader) Read([]byte) (int, error) { return 0, errNoEntropy }

func TestRandFailure(t *testing.T) {
	_, err := GenerateKey(failingReader{})
	assert.ErrorIs(t, err, errNoEntropy)
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	ct, ss, err := priv.PublicKey().Encapsulate(failingReader{})
	assert.ErrorIs(t, err, errNoEntropy)
	assert.Nil(t, ct)
	assert.Nil(t, ss)
}

func TestPrivateKeyNotPrinted(t *testing.T) {
	priv, err := GenerateKeyDeterministic(bytes.Repeat([]byte{0xA5, 0x3C}, KeySeedSize/2))
	require.NoError(t, err)
	sk := priv.Bytes()
	// Pieces of the secret part: the IND-CPA key and z.
	secrets := []string{
		hex.EncodeToString(sk[1:17]),
		strings.ToUpper(hex.EncodeToString(sk[1:17])),
		hex.EncodeToString(sk[SecretKeySize-16:]),
		strings.Trim(fmt.Sprint(sk[1:9]), "[]"),
	}
	require.Contains(t, fmt.Sprintf("%x", sk), secrets[0], "detector works")

	type exported struct{ Key *PrivateKey }
	type byValue struct{ Key PrivateKey }
	for name, v := range map[string]any{
		"pointer": priv, "value": *priv, "exported": exported{priv},
		"by value": byValue{*priv}, "slice": []*PrivateKey{priv},
	} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%X", "%s", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s printed with %s leaks key bytes", name, verb)
			}
		}
	}
	assert.Equal(t, redacted, fmt.Sprint(priv))
	assert.Equal(t, redacted, fmt.Sprintf("%#v", *priv))
}

// FuzzParsePublicKey: never panics, accepts exactly the well-formed lengths and
// type byte, and re-encodes byte for byte. Seeds come from the KAT key.
func FuzzParsePublicKey(f *testing.F) {
	priv, _ := katKey(f)
	pb := priv.PublicKey().Bytes()
	f.Add(pb)
	f.Add(pb[:100])
	f.Add(append([]byte{0x0A}, pb[1:]...))
	f.Add([]byte{TypeKyber1024})
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKey(b)
		if err != nil {
			if len(b) == PublicKeySize && b[0] == TypeKyber1024 {
				t.Fatal("rejected a well-formed key")
			}
			return
		}
		if !bytes.Equal(pub.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
		if _, _, err := pub.EncapsulateDeterministic(make([]byte, EncapsulationSeedSize)); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecapsulate: never panics; malformed input is ErrInvalidCiphertext, and
// any well-formed input yields a 32-byte secret. Seeds come from the KAT.
func FuzzDecapsulate(f *testing.F) {
	priv, eseed := katKey(f)
	ct, _, err := priv.PublicKey().EncapsulateDeterministic(eseed)
	require.NoError(f, err)
	f.Add(ct)
	f.Add(ct[:CiphertextSize-1])
	f.Add(append([]byte{0x07}, ct[1:]...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, c []byte) {
		ss, err := priv.Decapsulate(c)
		wellFormed := len(c) == CiphertextSize && c[0] == TypeKyber1024
		switch {
		case wellFormed && (err != nil || len(ss) != SharedSecretSize):
			t.Fatalf("well-formed ciphertext: %v", err)
		case !wellFormed && !errors.Is(err, ErrInvalidCiphertext):
			t.Fatalf("malformed ciphertext accepted: %v", err)
		}
	})
}

func BenchmarkGenerateKey(b *testing.B) {
	for b.Loop() {
		if _, err := GenerateKey(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncapsulate(b *testing.B) {
	priv, _ := katKey(b)
	pub := priv.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := pub.Encapsulate(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecapsulate(b *testing.B) {
	priv, _ := katKey(b)
	ct, _, err := priv.PublicKey().Encapsulate(rand.Reader)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := priv.Decapsulate(ct); err != nil {
			b.Fatal(err)
		}
	}
}
