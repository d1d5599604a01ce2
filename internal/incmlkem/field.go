package incmlkem

// The ring R_q = Z_q[X]/(X^256 + 1), q = 3329, and its NTT representation
// T_q (FIPS 203 §4.3).

const (
	q = 3329
	n = 256
	k = 3 // ML-KEM-768
	// nInv128 is 128⁻¹ mod q, the scaling of NTT⁻¹ (FIPS 203 Algorithm 10).
	nInv128 = 3303
)

// fieldElement is an integer modulo q, always reduced to [0, q).
type fieldElement uint16

// ringElement is a polynomial of R_q by its coefficients.
type ringElement [n]fieldElement

// nttElement is a polynomial of T_q, the NTT representation.
type nttElement [n]fieldElement

// fieldReduceOnce maps a in [0, 2q) to [0, q) without branching.
func fieldReduceOnce(a uint16) fieldElement {
	x := a - q
	x += (x >> 15) * q // x wrapped below zero: its top bit is set
	return fieldElement(x)
}

func fieldAdd(a, b fieldElement) fieldElement { return fieldReduceOnce(uint16(a) + uint16(b)) }

func fieldSub(a, b fieldElement) fieldElement { return fieldReduceOnce(uint16(a) - uint16(b) + q) }

// fieldMul uses division by the constant q, which compiles to a
// multiplication and shifts, not a data-dependent divide.
func fieldMul(a, b fieldElement) fieldElement {
	return fieldElement(uint32(a) * uint32(b) % q)
}

// bitRev7 reverses the 7 low bits of r.
func bitRev7(r uint8) uint8 {
	var b uint8
	for i := range 7 {
		b |= (r >> i & 1) << (6 - i)
	}
	return b
}

func fieldPow(a fieldElement, e int) fieldElement {
	r := fieldElement(1)
	for range e {
		r = fieldMul(r, a)
	}
	return r
}

// zetas[i] = ζ^BitRev7(i) and gammas[i] = ζ^(2·BitRev7(i)+1), ζ = 17, the
// constants of FIPS 203 Algorithms 9-11 (Appendix A lists them).
var zetas, gammas = func() (z, g [128]fieldElement) {
	for i := range 128 {
		z[i] = fieldPow(17, int(bitRev7(uint8(i))))
		g[i] = fieldPow(17, 2*int(bitRev7(uint8(i)))+1)
	}
	return z, g
}()

// ntt is FIPS 203 Algorithm 9.
func ntt(f ringElement) nttElement {
	i := 1
	for length := 128; length >= 2; length /= 2 {
		for start := 0; start < n; start += 2 * length {
			zeta := zetas[i]
			i++
			for j := start; j < start+length; j++ {
				t := fieldMul(zeta, f[j+length])
				f[j+length] = fieldSub(f[j], t)
				f[j] = fieldAdd(f[j], t)
			}
		}
	}
	return nttElement(f)
}

// inverseNTT is FIPS 203 Algorithm 10.
func inverseNTT(g nttElement) ringElement {
	f := ringElement(g)
	i := 127
	for length := 2; length <= 128; length *= 2 {
		for start := 0; start < n; start += 2 * length {
			zeta := zetas[i]
			i--
			for j := start; j < start+length; j++ {
				t := f[j]
				f[j] = fieldAdd(t, f[j+length])
				f[j+length] = fieldMul(zeta, fieldSub(f[j+length], t))
			}
		}
	}
	for j := range f {
		f[j] = fieldMul(f[j], nInv128)
	}
	return f
}

// multiplyNTTsAdd adds f̂ ∘ ĝ to acc: FIPS 203 Algorithm 11, with the
// BaseCaseMultiply of Algorithm 12 on each pair of coefficients.
func multiplyNTTsAdd(acc *nttElement, f, g *nttElement) {
	for i := range 128 {
		a0, a1 := f[2*i], f[2*i+1]
		b0, b1 := g[2*i], g[2*i+1]
		c0 := fieldAdd(fieldMul(a0, b0), fieldMul(fieldMul(a1, b1), gammas[i]))
		c1 := fieldAdd(fieldMul(a0, b1), fieldMul(a1, b0))
		acc[2*i] = fieldAdd(acc[2*i], c0)
		acc[2*i+1] = fieldAdd(acc[2*i+1], c1)
	}
}

func polyAdd(a, b ringElement) ringElement {
	for i := range a {
		a[i] = fieldAdd(a[i], b[i])
	}
	return a
}
