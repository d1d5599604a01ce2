package erasure

import "encoding/binary"

// Lagrange interpolation in barycentric form. For distinct points x_0..x_{n-1}
// with values y_k, the polynomial of degree < n through them is, at any x
// that is not a point,
//
//	p(x) = ℓ(x) · Σ_k w_k · y_k / (x - x_k),  ℓ(x) = Π_k (x - x_k),
//	w_k = 1 / Π_{m≠k} (x_k - x_m).
//
// In characteristic 2, subtraction is XOR. The weights depend only on the
// points, so one basis serves every target x and all 16 polynomials of a
// chunk.

// basis holds distinct points and the logarithms of their weights.
type basis struct {
	t    *gfTables
	xs   []uint16
	logW []uint32
}

// newBasis computes the weights of the distinct points xs in O(n²).
func newBasis(t *gfTables, xs []uint16) *basis {
	b := &basis{t: t, xs: xs, logW: make([]uint32, len(xs))}
	for k, xk := range xs {
		var s uint32 // log Π_{m≠k} (x_k - x_m)
		for m, xm := range xs {
			if m != k {
				s = addLog(s, uint32(t.log[xk^xm]))
			}
		}
		b.logW[k] = subLog(0, s)
	}
	return b
}

// evalChunk sets out to chunk x of the code whose chunks at the basis
// points are ys (32 bytes per point, in basis order): for each of the 16
// polynomials, its value at x, big-endian.
func (b *basis) evalChunk(x uint16, ys []byte, out *[ChunkSize]byte) {
	t := b.t
	var logL uint32 // log ℓ(x)
	for k, xk := range b.xs {
		if xk == x {
			copy(out[:], ys[ChunkSize*k:])
			return
		}
		logL = addLog(logL, uint32(t.log[x^xk]))
	}
	// logC[k] = log of the coefficient of y_k: w_k · ℓ(x) / (x - x_k).
	logC := make([]uint32, len(b.xs))
	for k, xk := range b.xs {
		logC[k] = subLog(addLog(b.logW[k], logL), uint32(t.log[x^xk]))
	}
	for j := range ChunkSize / 2 {
		var acc uint16
		for k, c := range logC {
			if y := binary.BigEndian.Uint16(ys[ChunkSize*k+2*j:]); y != 0 {
				acc ^= t.exp[addLog(c, uint32(t.log[y]))]
			}
		}
		binary.BigEndian.PutUint16(out[2*j:], acc)
	}
}
