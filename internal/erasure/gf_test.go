package erasure

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// clmul is the textbook product in GF(2^16): shift-and-add, reducing by
// 0x1100b whenever the degree reaches 16. It is the reference the tables
// must agree with.
func clmul(a, b uint16) uint16 {
	var r uint32
	x, y := uint32(a), uint32(b)
	for y != 0 {
		if y&1 != 0 {
			r ^= x
		}
		y >>= 1
		x <<= 1
		if x&0x10000 != 0 {
			x ^= 0x1100b
		}
	}
	return uint16(r)
}

func TestGFReduction(t *testing.T) {
	// x^15 · x = x^16 = x^12 + x^3 + x + 1 modulo the field polynomial.
	require.Equal(t, uint16(0x100b), clmul(0x8000, 2))
	require.Equal(t, uint16(0x100b), tables().mul(0x8000, 2))
}

func TestGFGeneratorOrder(t *testing.T) {
	// 2 must generate the whole group, or the log table has holes: every
	// non-zero element appears exactly once in exp.
	tb := tables()
	seen := make([]bool, order+1)
	for _, a := range tb.exp {
		require.NotZero(t, a)
		require.False(t, seen[a], "2^k repeats: 2 is not a generator")
		seen[a] = true
	}
}

func TestGFMulMatchesReference(t *testing.T) {
	tb := tables()
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		a, b := uint16(r.Uint32()), uint16(r.Uint32())
		if got, want := tb.mul(a, b), clmul(a, b); got != want {
			t.Fatalf("%#x·%#x = %#x, want %#x", a, b, got, want)
		}
	}
	for a := range 1 << 16 {
		if tb.mul(uint16(a), 0) != 0 || tb.mul(0, uint16(a)) != 0 || tb.mul(uint16(a), 1) != uint16(a) {
			t.Fatalf("0 or 1 times %#x is wrong", a)
		}
	}
}

func TestGFInverse(t *testing.T) {
	tb := tables()
	for a := 1; a < 1<<16; a++ {
		if clmul(uint16(a), tb.inv(uint16(a))) != 1 {
			t.Fatalf("%#x · inv(%#x) != 1", a, a)
		}
	}
	require.Panics(t, func() { tb.inv(0) })
}

func TestGFDistributive(t *testing.T) {
	tb := tables()
	r := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		a, b, c := uint16(r.Uint32()), uint16(r.Uint32()), uint16(r.Uint32())
		if tb.mul(a, b^c) != tb.mul(a, b)^tb.mul(a, c) || tb.mul(tb.mul(a, b), c) != tb.mul(a, tb.mul(b, c)) {
			t.Fatalf("field axioms fail for %#x, %#x, %#x", a, b, c)
		}
	}
}
