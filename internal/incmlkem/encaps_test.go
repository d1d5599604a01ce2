package incmlkem

import (
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/detrand"
)

// incremental runs Encaps1 from the header and Encaps2 from the ek vector
// of a whole encapsulation key.
func incremental(t testing.TB, ek []byte, m *[32]byte) (ct, key []byte) {
	t.Helper()
	h, v, err := SplitEncapsulationKey(ek)
	require.NoError(t, err)
	ct1, st, k1 := Encaps1(&h, m)
	ct2, err := Encaps2(&st, &v)
	require.NoError(t, err)
	return append(ct1[:], ct2[:]...), k1[:]
}

func TestIncrementalEqualsEncapsulate(t *testing.T) {
	r := detrand.New("incmlkem equivalence")
	for i := range 120 {
		var seed [64]byte
		var m [32]byte
		r.Read(seed[:])
		r.Read(m[:])
		dk, err := mlkem.NewDecapsulationKey768(seed[:])
		require.NoError(t, err)
		ek := dk.EncapsulationKey()
		wantKey, wantCt, err := mlkemtest.Encapsulate768(ek, m[:])
		require.NoError(t, err)
		ct, key := incremental(t, ek.Bytes(), &m)
		require.Equal(t, wantCt, ct, "ciphertext, trial %d", i)
		require.Equal(t, wantKey, key, "key, trial %d", i)
		got, err := dk.Decapsulate(ct)
		require.NoError(t, err)
		require.Equal(t, key, got, "decapsulation, trial %d", i)
	}
}

func TestHeaderIsRhoAndKeyHash(t *testing.T) {
	dk, err := mlkem.GenerateKey768()
	require.NoError(t, err)
	ek := dk.EncapsulationKey().Bytes()
	h, v, err := SplitEncapsulationKey(ek)
	require.NoError(t, err)
	require.Equal(t, ek[1152:], h.Rho()[:])
	// H(ek) is SHA3-256 of the standard t̂ || ρ order, not ρ || t̂.
	require.Equal(t, hexSHA3(ek), h.KeyHash()[:])
	require.Equal(t, ek[:1152], v[:])
	_, _, err = SplitEncapsulationKey(ek[:1183])
	require.ErrorIs(t, err, ErrInvalidLength)
}

func TestEncaps2RejectsWrongKey(t *testing.T) {
	r := detrand.New("incmlkem wrong key")
	ekOf := func() []byte {
		var seed [64]byte
		r.Read(seed[:])
		dk, err := mlkem.NewDecapsulationKey768(seed[:])
		require.NoError(t, err)
		return dk.EncapsulationKey().Bytes()
	}
	h, _, err := SplitEncapsulationKey(ekOf())
	require.NoError(t, err)
	_, other, err := SplitEncapsulationKey(ekOf())
	require.NoError(t, err)
	var m [32]byte
	_, st, _ := Encaps1(&h, &m)
	_, err = Encaps2(&st, &other)
	require.ErrorIs(t, err, ErrKeyHash)
	require.ErrorIs(t, CheckKey(&h, &other), ErrKeyHash)
}

// modulusKey sets value x at coefficient c of polynomial p of a valid ek
// vector, as CCTV's modulus generator does.
func modulusKey(v [EKVectorSize]byte, p, c int, x uint16) [EKVectorSize]byte {
	b := v[384*p+3*(c/2):]
	if c%2 == 0 {
		b[0] = byte(x)
		b[1] = b[1]&0xf0 | byte(x>>8)
	} else {
		b[1] = b[1]&0x0f | byte(x<<4)
		b[2] = byte(x >> 4)
	}
	return v
}

func TestModulusCheckOwnKeys(t *testing.T) {
	// Every value q..4095 at positions spread over the three polynomials,
	// with a header hash that matches, so only the modulus check can reject.
	dk, err := mlkem.GenerateKey768()
	require.NoError(t, err)
	_, v, err := SplitEncapsulationKey(dk.EncapsulationKey().Bytes())
	require.NoError(t, err)
	rho := dk.EncapsulationKey().Bytes()[1152:]
	for x := uint16(q - 1); x < 1<<12; x++ {
		for p, pos := range [][2]int{{int(x) % 3, int(x) % 256}, {0, 0}, {0, 255}, {1, 128}, {2, 1}, {2, 255}} {
			bad := modulusKey(v, pos[0], pos[1], x)
			ek := append(bad[:], rho...)
			h, _, err := SplitEncapsulationKey(ek)
			require.NoError(t, err)
			err = CheckKey(&h, &bad)
			if x == q-1 {
				require.NoError(t, err, "q-1 is a valid coefficient")
				continue
			}
			require.ErrorIs(t, err, ErrKeyModulus, "value %d at %v", x, pos)
			if p > 0 {
				continue
			}
			// One position per value through every path.
			_, err = mlkem.NewEncapsulationKey768(ek)
			require.Error(t, err, "crypto/mlkem agrees")
			var m [32]byte
			_, st, _ := Encaps1(&h, &m)
			_, err = Encaps2(&st, &bad)
			require.ErrorIs(t, err, ErrKeyModulus)
		}
	}
}

func TestEncapsStateRoundTrip(t *testing.T) {
	dk, err := mlkem.GenerateKey768()
	require.NoError(t, err)
	ek := dk.EncapsulationKey().Bytes()
	h, v, err := SplitEncapsulationKey(ek)
	require.NoError(t, err)
	m := [32]byte{1, 2, 3}
	ct1, st, key := Encaps1(&h, &m)
	b := st.Bytes()
	st2, err := ParseEncapsState(b[:])
	require.NoError(t, err)
	require.Equal(t, h, st2.Header())
	ct2, err := Encaps2(&st2, &v)
	require.NoError(t, err)
	got, err := dk.Decapsulate(append(ct1[:], ct2[:]...))
	require.NoError(t, err)
	require.Equal(t, key[:], got)
	_, err = ParseEncapsState(b[:95])
	require.ErrorIs(t, err, ErrInvalidLength)
	st2.Wipe()
	require.Equal(t, [EncapsStateSize]byte{}, st2.Bytes())
}

func TestEncapsStateRedacted(t *testing.T) {
	m := [32]byte{0xde, 0xad, 0xbe, 0xef}
	var h Header
	_, st, _ := Encaps1(&h, &m)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q"} {
		for _, v := range []any{st, &st} {
			out := fmt.Sprintf(verb, v)
			require.NotContains(t, out, "dead")
			require.NotContains(t, out, "DEAD")
			require.NotContains(t, out, "222")
		}
	}
}

func TestPrimitivesAgainstFormulas(t *testing.T) {
	// Compress_d against the exact rational rounding, and the NTT round trip.
	for x := range fieldElement(q) {
		for _, d := range []uint{1, 4, 10, 11} {
			// round(2^d·x/q) with ties impossible (q odd): ⌊(2^(d+1)·x + q) / 2q⌋.
			want := uint16((uint64(x)<<(d+1)+q)/(2*q)) % (1 << d)
			require.Equal(t, want, compress(x, d), "x=%d d=%d", x, d)
		}
	}
	require.Equal(t, fieldElement(0), decompress1(0))
	require.Equal(t, fieldElement(1665), decompress1(1))
	var f ringElement
	for i := range f {
		f[i] = fieldElement((i*1103 + 7) % q)
	}
	require.Equal(t, f, inverseNTT(ntt(f)))
	require.Equal(t, fieldElement(1), fieldMul(nInv128, 128))
	require.Equal(t, fieldElement(17), zetas[64]) // ζ^BitRev7(64) = ζ^1
	require.Equal(t, fieldElement(1), fieldPow(17, 256))
	require.NotEqual(t, fieldElement(1), fieldPow(17, 128)) // ζ is a primitive 256th root
	for a := range fieldElement(2 * q) {
		if a < q {
			require.Equal(t, a, fieldReduceOnce(uint16(a)))
		} else {
			require.Equal(t, a-q, fieldReduceOnce(uint16(a)))
		}
	}
}

func hexSHA3(b []byte) []byte {
	h := sha3Sum256(b)
	return h[:]
}
