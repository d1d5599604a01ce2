// Package binenc reads the compact binary encodings Sotto persists: fixed
// byte strings and uvarints, read with a sticky error so decoders can read
// every field and check once at the end.
package binenc

import (
	"encoding/binary"
	"errors"
)

// ErrShort is the sticky error of a Reader that ran out of input or met a
// malformed varint.
var ErrShort = errors.New("binenc: truncated or malformed input")

// Reader consumes an encoding. After the first error every read returns
// zero values (never panics) and Err reports the error.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error met.
func (r *Reader) Err() error { return r.err }

// Fail makes the reader fail, for a decoder that found a value out of
// bounds.
func (r *Reader) Fail() { r.err = ErrShort }

// Done reports whether every byte was consumed without error.
func (r *Reader) Done() bool { return r.err == nil && len(r.b) == 0 }

// Bytes returns the next n bytes, aliasing the input, or n zero bytes after
// an error.
func (r *Reader) Bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = ErrShort
		return make([]byte, max(n, 0))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// Rest returns every byte left, aliasing the input, and consumes them.
func (r *Reader) Rest() []byte {
	if r.err != nil {
		return nil
	}
	v := r.b
	r.b = nil
	return v
}

// Array copies the next len(dst) bytes into dst.
func (r *Reader) Array(dst []byte) { copy(dst, r.Bytes(len(dst))) }

// Byte returns the next byte.
func (r *Reader) Byte() byte { return r.Bytes(1)[0] }

// Uvarint returns the next uvarint.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Varint returns the next zig-zag varint.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// U32 returns the next uvarint, which must fit in 32 bits.
func (r *Reader) U32() uint32 {
	v := r.Uvarint()
	if v > 0xFFFFFFFF {
		r.err = ErrShort
	}
	return uint32(v)
}

// LenPrefixed returns the next uvarint-length-prefixed byte string.
func (r *Reader) LenPrefixed() []byte {
	n := r.Uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		r.err = ErrShort
		return nil
	}
	return r.Bytes(int(n))
}
