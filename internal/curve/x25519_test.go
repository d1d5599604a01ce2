package curve

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestECDHRoundTrip(t *testing.T) {
	for range 16 {
		a, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		b, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		ab, err := a.ECDH(b.PublicKey())
		require.NoError(t, err)
		ba, err := b.ECDH(a.PublicKey())
		require.NoError(t, err)
		assert.Len(t, ab, SharedSecretSize)
		assert.Equal(t, ab, ba)
	}
}

// TestECDHLowOrder: X25519 against a low-order point gives all zeros, which
// libsignal reports as InvalidKeyAgreement. x25519.json has the full list.
func TestECDHLowOrder(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	for _, u := range []byte{0, 1} {
		b := make([]byte, PublicKeySize)
		b[0], b[1] = DjbType, u
		pub, err := ParsePublicKey(b)
		require.NoError(t, err)
		shared, err := priv.ECDH(pub)
		assert.ErrorIs(t, err, ErrInvalidKeyAgreement, "u = %d", u)
		assert.Nil(t, shared)
	}
}

func TestECDHInvalidPublic(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, err = priv.ECDH(nil)
	assert.ErrorIs(t, err, ErrInvalidPublicKey)
	_, err = priv.ECDH(&PublicKey{})
	assert.ErrorIs(t, err, ErrInvalidPublicKey)
}

func TestParsePublicKeyRejects(t *testing.T) {
	good := make([]byte, PublicKeySize)
	good[0], good[1] = DjbType, 9
	_, err := ParsePublicKey(good)
	require.NoError(t, err)

	for name, b := range map[string][]byte{
		"nil":       nil,
		"empty":     {},
		"type only": {DjbType},
		"raw u":     good[1:],
		"short":     good[:32],
		"long":      append(bytes.Clone(good), 0),
		"type 0x00": append([]byte{0x00}, good[1:]...),
		"type 0x04": append([]byte{0x04}, good[1:]...),
		"type 0x06": append([]byte{0x06}, good[1:]...),
		"type 0x08": append([]byte{0x08}, good[1:]...),
	} {
		pub, err := ParsePublicKey(b)
		assert.ErrorIs(t, err, ErrInvalidPublicKey, name)
		assert.Nil(t, pub, name)
	}
	for _, n := range []int{0, 31, 33} {
		_, err := NewPublicKeyFromU(make([]byte, n))
		assert.ErrorIs(t, err, ErrInvalidPublicKey, "u of %d bytes", n)
	}
}

func TestPublicKeyEncoding(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	pub := priv.PublicKey()

	b := pub.Bytes()
	require.Len(t, b, PublicKeySize)
	assert.Equal(t, byte(DjbType), b[0])
	u := pub.U()
	assert.Equal(t, u[:], b[1:])
	assert.Equal(t, append([]byte("prefix"), b...), pub.AppendBytes([]byte("prefix")))

	parsed, err := ParsePublicKey(b)
	require.NoError(t, err)
	assert.True(t, parsed.Equal(pub))
	assert.False(t, parsed.Equal(nil))

	b[1] ^= 1 // Bytes returns a copy
	assert.True(t, parsed.Equal(pub))
	other, err := ParsePublicKey(b)
	require.NoError(t, err)
	assert.False(t, other.Equal(pub))
}

func TestPrivateKeyEncoding(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		_, err := NewPrivateKey(make([]byte, n))
		assert.ErrorIs(t, err, ErrInvalidPrivateKey, "%d bytes", n)
	}

	raw := bytes.Repeat([]byte{0xFF}, PrivateKeySize)
	priv, err := NewPrivateKey(raw)
	require.NoError(t, err)
	b := priv.Bytes()
	assert.Equal(t, byte(0xF8), b[0], "clamped low bits")
	assert.Equal(t, byte(0x7F), b[31], "clamped high bits")
	assert.Equal(t, byte(0xFF), raw[0], "caller's bytes untouched")

	b[5] ^= 1 // Bytes returns a copy
	assert.NotEqual(t, b, priv.Bytes())

	again, err := NewPrivateKey(priv.Bytes())
	require.NoError(t, err)
	assert.True(t, again.PublicKey().Equal(priv.PublicKey()))
}

func TestGenerateKeyRandFailure(t *testing.T) {
	priv, err := GenerateKey(failingReader{})
	assert.ErrorIs(t, err, errNoEntropy)
	assert.Nil(t, priv)
}

// TestRFC7748 checks section 6.1's key pairs and shared secret through
// NewPrivateKey, PublicKey and ECDH.
func TestRFC7748(t *testing.T) {
	alice, err := NewPrivateKey(mustHex(rfcAlicePriv))
	require.NoError(t, err)
	bob, err := NewPrivateKey(mustHex(rfcBobPriv))
	require.NoError(t, err)
	require.Equal(t, rfcAlicePublic, hex.EncodeToString(alice.PublicKey().Bytes()[1:]))
	require.Equal(t, rfcBobPublic, hex.EncodeToString(bob.PublicKey().Bytes()[1:]))
	s1, err := alice.ECDH(bob.PublicKey())
	require.NoError(t, err)
	s2, err := bob.ECDH(alice.PublicKey())
	require.NoError(t, err)
	require.Equal(t, rfcShared, hex.EncodeToString(s1))
	require.Equal(t, s1, s2)
}

// TestPrivateKeyNotPrinted: no fmt verb shows private key bytes, whether the
// key is printed directly, by value, or inside other values.
func TestPrivateKeyNotPrinted(t *testing.T) {
	priv, err := NewPrivateKey(mustHex(rfcAlicePriv))
	require.NoError(t, err)
	kb := priv.Bytes()
	secrets := []string{
		hex.EncodeToString(kb),
		strings.ToUpper(hex.EncodeToString(kb)),
		hex.EncodeToString(kb[:8]),
		string(kb[:8]),
		strings.Trim(fmt.Sprint(kb[:8]), "[]"),
	}

	for _, verb := range []string{"%x", "%v", "%s"} { // the detector itself works
		assert.True(t, strings.Contains(fmt.Sprintf(verb, kb), secrets[0]) ||
			strings.Contains(fmt.Sprintf(verb, kb), secrets[3]) ||
			strings.Contains(fmt.Sprintf(verb, kb), secrets[4]), verb)
	}

	type exported struct{ Key *PrivateKey }
	type unexported struct{ key *PrivateKey }
	type byValue struct{ Key PrivateKey }
	values := map[string]any{
		"pointer":    priv,
		"value":      *priv,
		"exported":   exported{priv},
		"unexported": unexported{priv},
		"by value":   byValue{*priv},
		"slice":      []*PrivateKey{priv},
		"map":        map[string]*PrivateKey{"k": priv},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%X", "%s", "%q", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				assert.NotContains(t, out, s, "%s printed with %s leaks key bytes: %s", name, verb, out)
			}
		}
	}
	assert.Equal(t, redacted, fmt.Sprint(priv))
	assert.Equal(t, redacted, fmt.Sprintf("%#v", *priv))
	assert.Equal(t, redacted, priv.String())
	assert.Equal(t, redacted, priv.GoString())
}

// FuzzParsePublicKey: ParsePublicKey never panics, accepts exactly the 33-byte
// 0x05 forms, and re-encodes what it accepts byte for byte.
func FuzzParsePublicKey(f *testing.F) {
	// Generated keys and the edge cases of the u-coordinate: 0, 1, p-1, p,
	// p+1, 2^255-1, each with and without the top bit. (The published
	// vectors seed FuzzPublicKeyFromVectors.)
	for i := range 8 {
		k, err := NewPrivateKey(stream(fmt.Sprint("fuzz seed ", i), 32))
		require.NoError(f, err)
		f.Add(k.PublicKey().Bytes())
	}
	for _, n := range []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(bigP, big.NewInt(1)), bigP,
		new(big.Int).Add(bigP, big.NewInt(1)), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1))} {
		u := leBytes(n)
		f.Add(serialized(u))
		f.Add(serialized(withTopBit(u)))
	}
	f.Add([]byte{})
	f.Add([]byte{DjbType})
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKey(b)
		if err != nil {
			if err != ErrInvalidPublicKey {
				t.Fatalf("unexpected error %v", err)
			}
			if len(b) == PublicKeySize && b[0] == DjbType {
				t.Fatal("rejected a well-formed key")
			}
			return
		}
		if !bytes.Equal(pub.Bytes(), b) {
			t.Fatal("re-encoding differs")
		}
		_ = pub.IsCanonical()
		_ = pub.Verify(b, make([]byte, SignatureSize))
	})
}

func BenchmarkECDH(b *testing.B) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(b, err)
	peer, err := GenerateKey(rand.Reader)
	require.NoError(b, err)
	pub := peer.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := priv.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
}
