package incmlkem

import "crypto/sha3"

const (
	// xofBlock is the SHAKE128 rate: SampleNTT squeezes a block at a time,
	// which reads the same stream as squeezing 3 bytes at a time.
	xofBlock = 168
	// prfSize is PRF_η's output for η = 2: 64·η bytes.
	prfSize = 128
)

// sampleNTT is FIPS 203 Algorithm 7: rejection sampling of a uniform
// element of T_q from SHAKE128(ρ || a || b). Â[i][j] is sampleNTT(ρ, j, i)
// (Algorithm 13, step 5). Branching here depends on ρ only, which is public.
func sampleNTT(rho *[32]byte, a, b byte) nttElement {
	var seed [34]byte
	copy(seed[:], rho[:])
	seed[32], seed[33] = a, b
	xof := sha3.NewSHAKE128()
	xof.Write(seed[:])
	var f nttElement
	var buf [xofBlock]byte
	off := len(buf)
	for j := 0; j < n; {
		if off == len(buf) {
			xof.Read(buf[:])
			off = 0
		}
		c := buf[off : off+3]
		off += 3
		d1 := uint16(c[0]) | uint16(c[1]&0x0f)<<8
		d2 := uint16(c[1])>>4 | uint16(c[2])<<4
		if d1 < q {
			f[j] = fieldElement(d1)
			j++
		}
		if d2 < q && j < n {
			f[j] = fieldElement(d2)
			j++
		}
	}
	return f
}

// prf is PRF_2(s, b) = SHAKE256(s || b, 128 bytes) (FIPS 203 §4.1, eq. 4.3).
func prf(s *[32]byte, b byte, out *[prfSize]byte) {
	var in [33]byte
	copy(in[:], s[:])
	in[32] = b
	h := sha3.NewSHAKE256()
	h.Write(in[:])
	h.Read(out[:])
	clear(in[:])
}

// samplePolyCBD2 is FIPS 203 Algorithm 8 for η = 2: coefficient i is
// (b[4i] + b[4i+1]) - (b[4i+2] + b[4i+3]) mod q over the little-endian
// bits b of the 128 input bytes. Constant-time: the input is secret.
func samplePolyCBD2(in *[prfSize]byte) ringElement {
	var f ringElement
	for i := range n {
		nib := in[i/2] >> (4 * (i % 2))
		x := nib&1 + nib>>1&1
		y := nib>>2&1 + nib>>3&1
		f[i] = fieldSub(fieldElement(x), fieldElement(y))
	}
	return f
}

// sampleNoiseNTT returns NTT(CBD2(PRF(r, nonce))).
func sampleNoiseNTT(r *[32]byte, nonce byte) nttElement {
	var buf [prfSize]byte
	prf(r, nonce, &buf)
	f := samplePolyCBD2(&buf)
	clear(buf[:])
	return ntt(f)
}

// sampleNoise returns CBD2(PRF(r, nonce)).
func sampleNoise(r *[32]byte, nonce byte) ringElement {
	var buf [prfSize]byte
	prf(r, nonce, &buf)
	f := samplePolyCBD2(&buf)
	clear(buf[:])
	return f
}
