// Package kdf implements HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869)
// for the short inputs of the Signal Protocol's key schedule, without heap
// allocations: inputs are assembled in stack buffers and hashed with
// sha256.Sum256. Long inputs fall back to a streaming hash.
//
// The results are those of crypto/hmac and crypto/hkdf; tests check this,
// and the Wycheproof vectors run against this package.
package kdf

import (
	"crypto/sha256"
	"errors"
)

const (
	blockSize = sha256.BlockSize
	// Size is the output size of HMAC-SHA256 and of an HKDF pseudorandom key.
	Size = sha256.Size
	// MaxExpand is the most HKDF-SHA256 can expand one key to.
	MaxExpand = 255 * Size
	// shortInput is the largest message hashed on the stack.
	shortInput = 256
)

// ErrTooLong is returned by Expand and Key for an output over MaxExpand.
var ErrTooLong = errors.New("kdf: HKDF output too long")

// HMAC returns HMAC-SHA256(key, parts[0] || parts[1] || ...).
func HMAC(key []byte, parts ...[]byte) [Size]byte {
	var k [blockSize]byte
	if len(key) > blockSize {
		h := sha256.Sum256(key)
		copy(k[:], h[:])
		clear(h[:])
	} else {
		copy(k[:], key)
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var inner [Size]byte
	if n <= shortInput {
		var buf [blockSize + shortInput]byte
		for i := range k {
			buf[i] = k[i] ^ 0x36
		}
		off := blockSize
		for _, p := range parts {
			off += copy(buf[off:], p)
		}
		inner = sha256.Sum256(buf[:off])
		clear(buf[:off])
	} else {
		var pad [blockSize]byte
		for i := range k {
			pad[i] = k[i] ^ 0x36
		}
		h := sha256.New()
		h.Write(pad[:])
		for _, p := range parts {
			h.Write(p)
		}
		h.Sum(inner[:0])
		clear(pad[:])
	}
	var outer [blockSize + Size]byte
	for i := range k {
		outer[i] = k[i] ^ 0x5c
	}
	copy(outer[blockSize:], inner[:])
	sum := sha256.Sum256(outer[:])
	clear(k[:])
	clear(outer[:])
	clear(inner[:])
	return sum
}

// Extract is HKDF-Extract: HMAC(salt, ikm). A nil salt means Size zero
// bytes, as RFC 5869 says.
func Extract(salt, ikm []byte) [Size]byte {
	if salt == nil {
		var zero [Size]byte
		return HMAC(zero[:], ikm)
	}
	return HMAC(salt, ikm)
}

// Expand is HKDF-Expand: it fills out with T(1) || T(2) || ..., where
// T(i) = HMAC(prk, T(i-1) || info || i) and info is the concatenation of
// the info parts.
func Expand(out []byte, prk *[Size]byte, info ...[]byte) error {
	if len(out) > MaxExpand {
		return ErrTooLong
	}
	n := 0
	for _, p := range info {
		n += len(p)
	}
	if n > shortInput-Size-1 {
		return ErrTooLong
	}
	var buf [shortInput]byte
	var t [Size]byte
	for i, off := byte(1), 0; off < len(out); i++ {
		m := 0
		if i > 1 {
			m = copy(buf[:], t[:])
		}
		for _, p := range info {
			m += copy(buf[m:], p)
		}
		buf[m] = i
		t = HMAC(prk[:], buf[:m+1])
		off += copy(out[off:], t[:])
	}
	clear(buf[:])
	clear(t[:])
	return nil
}

// Key is HKDF: Expand(Extract(salt, ikm), info) into out.
func Key(out, salt, ikm []byte, info ...[]byte) error {
	prk := Extract(salt, ikm)
	defer clear(prk[:])
	return Expand(out, &prk, info...)
}
