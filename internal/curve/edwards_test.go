package curve

import (
	"crypto/rand"
	"math/big"
	"testing"

	"filippo.io/edwards25519"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canonical.json holds the fixed cases (u ≥ p, top bit, low order, mixed
// order, twist); these tests add randomized ones.

func TestIsCanonicalGeneratedKeys(t *testing.T) {
	for range 200 {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		require.True(t, priv.PublicKey().IsCanonical())
	}
}

func TestIsCanonicalRejectsMixedOrder(t *testing.T) {
	t2, t4, t8 := torsionPoints()
	for range 32 {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		a, err := edwards25519.NewScalar().SetBytesWithClamping(priv.Bytes())
		require.NoError(t, err)
		A := new(edwards25519.Point).ScalarBaseMult(a)
		for _, T := range []*edwards25519.Point{t2, t4, t8} {
			pub, err := NewPublicKeyFromU(new(edwards25519.Point).Add(A, T).BytesMontgomery())
			require.NoError(t, err)
			assert.False(t, pub.IsCanonical())
		}
	}
}

func TestIsCanonicalRejectsTopBitAndOverflow(t *testing.T) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	u := priv.PublicKey().U()
	u[31] |= 0x80
	pub, err := NewPublicKeyFromU(u[:])
	require.NoError(t, err)
	assert.False(t, pub.IsCanonical(), "top bit set")

	for _, n := range []int64{0, 1, 9, 18} {
		pub, err := NewPublicKeyFromU(leBytes(new(big.Int).Add(bigP, big.NewInt(n))))
		require.NoError(t, err)
		assert.False(t, pub.IsCanonical(), "u = p + %d", n)
	}
}

// TestMontgomeryToEdwards checks convert_mont against the Edwards public key
// computed directly from the scalar, for both signs, and that u = -1 fails.
func TestMontgomeryToEdwards(t *testing.T) {
	for range 32 {
		priv, err := GenerateKey(rand.Reader)
		require.NoError(t, err)
		a, err := edwards25519.NewScalar().SetBytesWithClamping(priv.Bytes())
		require.NoError(t, err)
		A := new(edwards25519.Point).ScalarBaseMult(a)
		sign := A.Bytes()[31] >> 7

		u := priv.PublicKey().U()
		got, ok := montgomeryToEdwards(&u, sign)
		require.True(t, ok)
		assert.Equal(t, 1, got.Equal(A))
		neg, ok := montgomeryToEdwards(&u, sign^1)
		require.True(t, ok)
		assert.Equal(t, 1, neg.Equal(new(edwards25519.Point).Negate(A)))
	}
	minusOne := [32]byte(leBytes(new(big.Int).Sub(bigP, big.NewInt(1))))
	_, ok := montgomeryToEdwards(&minusOne, 0)
	assert.False(t, ok)
}

func TestIsTorsionFree(t *testing.T) {
	assert.True(t, isTorsionFree(edwards25519.NewIdentityPoint()))
	assert.True(t, isTorsionFree(edwards25519.NewGeneratorPoint()))
	t2, t4, t8 := torsionPoints()
	for _, T := range []*edwards25519.Point{t2, t4, t8} {
		assert.False(t, isTorsionFree(T))
	}
}

func BenchmarkIsCanonical(b *testing.B) {
	priv, err := GenerateKey(rand.Reader)
	require.NoError(b, err)
	pub := priv.PublicKey()
	for b.Loop() {
		if !pub.IsCanonical() {
			b.Fatal("not canonical")
		}
	}
}
