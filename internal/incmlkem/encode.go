package incmlkem

// Compression and byte encodings (FIPS 203 §4.2.1, Algorithms 5 and 6).

// compress is Compress_d (eq. 4.7): round(2^d/q · x) mod 2^d, computed as
// ⌊(2^d·x + ⌊q/2⌋)/q⌋, which is the same integer because q is odd.
// Division by the constant q is constant-time.
func compress(x fieldElement, d uint) uint16 {
	return uint16((uint32(x)<<d+q/2)/q) & (1<<d - 1)
}

// decompress1 is Decompress_1 (eq. 4.8) for a bit: 0 or round(q/2) = 1665,
// without branching on the secret bit.
func decompress1(bit byte) fieldElement {
	return fieldElement(-uint16(bit&1) & 1665)
}

// byteEncode is ByteEncode_d (Algorithm 5) of 256 values below 2^d (or q
// for d = 12): bit j of value i lands at bit i·d + j of the output, least
// significant bit first. dst must be 32·d bytes.
func byteEncode(dst []byte, f *[n]uint16, d uint) {
	var acc uint32
	var bits uint
	o := 0
	for _, v := range f {
		acc |= uint32(v) << bits
		bits += d
		for bits >= 8 {
			dst[o] = byte(acc)
			o++
			acc >>= 8
			bits -= 8
		}
	}
}

// byteDecode12 is ByteDecode_12 (Algorithm 6) followed by FIPS 203's
// modulus check (§7.2, "Encapsulation key check"): it reports false if any
// 12-bit value is q or more, that is if ByteEncode12(ByteDecode12(b)) would
// differ from b. b must be 384 bytes.
func byteDecode12(b []byte) (nttElement, bool) {
	var f nttElement
	ok := true
	for i := range n / 2 {
		x := uint16(b[3*i]) | uint16(b[3*i+1]&0x0f)<<8
		y := uint16(b[3*i+1])>>4 | uint16(b[3*i+2])<<4
		ok = ok && x < q && y < q // public data: an early decision is fine
		f[2*i], f[2*i+1] = fieldElement(x), fieldElement(y)
	}
	return f, ok
}

// encodeCompressed returns ByteEncode_d(Compress_d(f)) into dst (32·d bytes).
func encodeCompressed(dst []byte, f *ringElement, d uint) {
	var c [n]uint16
	for i, x := range f {
		c[i] = compress(x, d)
	}
	byteEncode(dst, &c, d)
	clear(c[:])
}
