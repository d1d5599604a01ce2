package curve

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"filippo.io/edwards25519"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestXEdDSAJavaVectorBitFlips is libsignal-protocol-java's
// Curve25519Test.testSignature, extended: the published signature verifies,
// and flipping any single bit of the signature or of the message breaks it.
func TestXEdDSAJavaVectorBitFlips(t *testing.T) {
	priv, err := NewPrivateKey(mustHex(javaIdentityPriv))
	require.NoError(t, err)
	pub, err := ParsePublicKey(mustHex(javaIdentityPublic))
	require.NoError(t, err)
	require.True(t, priv.PublicKey().Equal(pub), "identity public key does not match its private key")

	msg := mustHex(javaEphemeral)
	sig := mustHex(javaSignature)
	require.True(t, pub.Verify(msg, sig))

	for i := range len(sig) * 8 {
		s := slices.Clone(sig)
		s[i/8] ^= 1 << (i % 8)
		assert.False(t, pub.Verify(msg, s), "signature bit %d flipped still verifies", i)
	}
	for i := range len(msg) * 8 {
		m := slices.Clone(msg)
		m[i/8] ^= 1 << (i % 8)
		assert.False(t, pub.Verify(m, sig), "message bit %d flipped still verifies", i)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	other, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	for _, n := range []int{0, 1, 32, 33, 64, 1000} {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		pub := priv.PublicKey()
		msg := make([]byte, n)
		_, _ = rand.Read(msg)

		sig1, err := priv.Sign(rand.Reader, msg)
		require.NoError(t, err)
		require.Len(t, sig1, SignatureSize)
		sig2, err := priv.Sign(rand.Reader, msg)
		require.NoError(t, err)

		assert.True(t, pub.Verify(msg, sig1), "len %d", n)
		assert.True(t, pub.Verify(msg, sig2), "len %d", n)
		assert.NotEqual(t, sig1, sig2, "fresh Z must give a fresh nonce")
		assert.False(t, other.PublicKey().Verify(msg, sig1), "wrong key verifies")
	}
}

// TestSignBitVariant checks libsignal's deviation from the spec: A's sign bit
// travels in bit 255 of s, and flipping it breaks the signature, for keys of
// both signs.
func TestSignBitVariant(t *testing.T) {
	msg := []byte("sign bit")
	seen := [2]bool{}
	for i := 0; i < 64 || !seen[0] || !seen[1]; i++ {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		sig, err := priv.Sign(rand.Reader, msg)
		require.NoError(t, err)

		a, err := edwards25519.NewScalar().SetBytesWithClamping(priv.Bytes())
		require.NoError(t, err)
		A := new(edwards25519.Point).ScalarBaseMult(a).Bytes()
		require.Equal(t, A[31]>>7, sig[63]>>7, "sig[63] must carry A's sign bit")
		seen[sig[63]>>7] = true

		sig[63] ^= 0x80
		assert.False(t, priv.PublicKey().Verify(msg, sig))
	}
}

// TestSignaturesAreEd25519 cross-checks signing with an independent verifier:
// an XEdDSA signature is an Ed25519 signature under the Edwards form of the
// key, once libsignal's sign bit is moved from s back into A.
func TestSignaturesAreEd25519(t *testing.T) {
	for i := range 32 {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		msg := []byte{byte(i), 1, 2, 3}
		sig, err := priv.Sign(rand.Reader, msg)
		require.NoError(t, err)

		A, ok := montgomeryToEdwards(new(priv.PublicKey().U()), sig[63]>>7)
		require.True(t, ok)
		edSig := slices.Clone(sig)
		edSig[63] &^= 0x80
		assert.True(t, ed25519.Verify(ed25519.PublicKey(A.Bytes()), msg, edSig))
	}
}

func TestVerifyRejectsExcessBits(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	msg := []byte("excess bits")
	sig, err := priv.Sign(rand.Reader, msg)
	require.NoError(t, err)
	for _, bits := range []byte{0x20, 0x40, 0x60} {
		s := slices.Clone(sig)
		s[63] |= bits
		assert.False(t, priv.PublicKey().Verify(msg, s), "bits %#x", bits)
	}
}

func TestVerifyRejectsLength(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	msg := []byte("length")
	sig, err := priv.Sign(rand.Reader, msg)
	require.NoError(t, err)
	for _, s := range [][]byte{nil, {}, sig[:32], sig[:63], append(slices.Clone(sig), 0)} {
		assert.False(t, priv.PublicKey().Verify(msg, s), "len %d", len(s))
	}
}

func TestSignWithRandomDeterministic(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	msg := []byte("deterministic")
	var z1, z2 [64]byte
	z2[0] = 1
	a, b := priv.SignWithRandom(msg, &z1), priv.SignWithRandom(msg, &z1)
	c := priv.SignWithRandom(msg, &z2)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.True(t, priv.PublicKey().Verify(msg, c))
}

type failingReader struct{}

var errNoEntropy = errors.New("no entropy")

func (failingReader) Read([]byte) (int, error) { return 0, errNoEntropy }

func TestSignRandomFailure(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	sig, err := priv.Sign(failingReader{}, []byte("x"))
	assert.ErrorIs(t, err, errNoEntropy)
	assert.Nil(t, sig)

	_, err = priv.Sign(io.LimitReader(rand.Reader, 63), []byte("x"))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// FuzzVerify feeds arbitrary keys, messages and signatures to Verify, which
// must never panic and must be deterministic. Seeds are valid signatures by
// deterministic keys, and the same with the sign bit and high bits of s set.
func FuzzVerify(f *testing.F) {
	for i := range 8 {
		k, err := NewPrivateKey(stream(fmt.Sprint("fuzz signer ", i), 32))
		require.NoError(f, err)
		msg := stream(fmt.Sprint("fuzz message ", i), i*9)
		var z [64]byte
		copy(z[:], stream(fmt.Sprint("fuzz Z ", i), 64))
		sig := k.SignWithRandom(msg, &z)
		u := k.PublicKey().U()
		f.Add(u[:], msg, sig)
		bad := slices.Clone(sig)
		bad[63] ^= 0x80
		f.Add(u[:], msg, bad)
		bad = slices.Clone(sig)
		bad[63] |= 0x60
		f.Add(u[:], msg, bad)
	}
	f.Fuzz(func(t *testing.T, u, msg, sig []byte) {
		pub, err := NewPublicKeyFromU(u)
		if err != nil {
			return
		}
		ok := pub.Verify(msg, sig)
		if ok != pub.Verify(msg, sig) {
			t.Fatal("Verify is not deterministic")
		}
		if ok && len(sig) != SignatureSize {
			t.Fatalf("accepted a %d-byte signature", len(sig))
		}
	})
}

func BenchmarkSign(b *testing.B) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(b, err)
	msg := make([]byte, 33)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := priv.Sign(rand.Reader, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(b, err)
	msg := make([]byte, 33)
	sig, err := priv.Sign(rand.Reader, msg)
	require.NoError(b, err)
	pub := priv.PublicKey()
	b.ReportAllocs()
	for b.Loop() {
		if !pub.Verify(msg, sig) {
			b.Fatal("verify failed")
		}
	}
}
