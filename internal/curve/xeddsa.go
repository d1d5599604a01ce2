package curve

import (
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"io"

	"filippo.io/edwards25519"
)

// This file implements XEdDSA over Curve25519 ("XEd25519") as specified in
// "The XEdDSA and VXEdDSA Signature Schemes", revision 1
// (https://signal.org/docs/specifications/xeddsa/), with the deviations
// libsignal makes (the first for compatibility with its Java ancestor):
//
//   - The spec's calculate_key_pair (section 2.3) negates the private scalar
//     so that the Edwards public key A always has sign bit 0. libsignal does
//     not negate. It signs with the clamped scalar as is and carries A's sign
//     bit in the otherwise unused top bit of the last signature byte
//     (s < 2^253, so bits 253..255 of s are always zero).
//   - The verifier therefore rebuilds A from the Montgomery u-coordinate with
//     the sign bit taken from the signature instead of forcing it to 0.
//   - The nonce hash_1 input is the clamped private key as stored (k), not
//     the reduced, possibly negated scalar a of calculate_key_pair.
//   - The verifier reads u as RFC 7748 does (bit 255 ignored, values of p and
//     above reduced) where the spec rejects u ≥ p; it fails only where the map
//     to Edwards form does (u = -1, or u on the twist). IsCanonical is the
//     strict check.
//
// Everything else (hash_1 nonce derivation, Ed25519-style h and s, the check
// on excess bits of s, cofactorless verification) follows the spec.

// SignatureSize is the size of an XEdDSA signature: R (32 bytes) || s (32 bytes).
const SignatureSize = 64

// signBitMask selects the bit of sig[63] that carries the sign of A.
const signBitMask = 0x80

// excessBitsMask selects bits 253 to 255 of s. Once libsignal's sign bit (bit
// 255) is cleared, testing it is the spec's "if s ≥ 2^|q|" check with
// |q| = 253 (section 3).
const excessBitsMask = 0xE0

// hash1Prefix is the 32-byte prefix of hash_1 (section 2.5): the little-endian
// encoding of 2^b - 1 - 1 with b = 256, that is 0xFE followed by 31 bytes 0xFF.
// It separates the nonce hash from the Ed25519 challenge hash.
var hash1Prefix = [32]byte{
	0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
}

// Sign returns a 64-byte XEdDSA signature of msg, drawing the 64 random bytes Z
// of xeddsa_sign from rand (normally crypto/rand.Reader).
func (k *PrivateKey) Sign(rand io.Reader, msg []byte) ([]byte, error) {
	var z [64]byte
	defer clear(z[:])
	if _, err := io.ReadFull(rand, z[:]); err != nil {
		return nil, fmt.Errorf("curve: reading signature randomness: %w", err)
	}
	return k.SignWithRandom(msg, &z), nil
}

// SignWithRandom is xeddsa_sign (section 3) with the random input Z given by
// the caller. It is deterministic and exists only for known-answer tests and
// vector generation; protocol code must use Sign, because fresh Z is what the
// spec relies on to blunt fault and side-channel attacks on the nonce
// (section 8).
func (k *PrivateKey) SignWithRandom(msg []byte, z *[64]byte) []byte {
	// calculate_key_pair (section 2.3), libsignal variant: a is the clamped
	// private scalar reduced mod q, A = aB, and A is NOT negated; its sign
	// bit travels in the signature instead.
	kb := k.k.Bytes() // clamped by NewPrivateKey
	defer clear(kb)
	a, err := edwards25519.NewScalar().SetBytesWithClamping(kb)
	if err != nil {
		panic("curve: private key is not 32 bytes") // unreachable: ecdh keys are 32 bytes
	}
	A := new(edwards25519.Point).ScalarBaseMult(a)
	aEnc := A.Bytes()
	signBit := aEnc[31] & signBitMask

	// r = hash_1(a || M || Z) (mod q). libsignal hashes the clamped private
	// key bytes k, not the spec's a = ±k (mod q); that choice is what makes
	// signatures byte-identical to libsignal's for a given Z.
	h := sha512.New()
	h.Write(hash1Prefix[:])
	h.Write(kb)
	h.Write(msg)
	h.Write(z[:])
	var digest [sha512.Size]byte
	defer clear(digest[:])
	r, _ := edwards25519.NewScalar().SetUniformBytes(h.Sum(digest[:0]))

	// R = rB
	R := new(edwards25519.Point).ScalarBaseMult(r)
	rEnc := R.Bytes()

	// h = hash(R || A || M) (mod q)
	hs := challenge(rEnc, aEnc, msg)

	// s = r + ha (mod q)
	s := edwards25519.NewScalar().MultiplyAdd(hs, a, r)

	sig := make([]byte, 0, SignatureSize)
	sig = append(sig, rEnc...)
	sig = append(sig, s.Bytes()...)
	sig[SignatureSize-1] |= signBit // libsignal: A's sign bit in bit 255 of s

	// Best-effort wiping of the secret scalars; Go may have copied them.
	a.Set(edwards25519.NewScalar())
	r.Set(edwards25519.NewScalar())
	return sig
}

// Verify reports whether sig is a valid XEdDSA signature of msg by p, following
// xeddsa_verify (section 3) in libsignal's variant: A is rebuilt from u with the
// sign bit carried in sig[63], s may not have bits 253 and above set, s is then
// reduced mod q, and the check is encode(sB - hA) == R, byte for byte and
// without cofactor multiplication.
//
// As in libsignal (and RFC 7748 decoding), u is read with its top bit ignored
// and non-canonical values reduced mod p; use IsCanonical to reject those.
func (p *PublicKey) Verify(msg, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}

	// A = convert_mont(u) with the sign bit from the signature.
	A, ok := montgomeryToEdwards(&p.u, sig[SignatureSize-1]>>7)
	if !ok {
		return false
	}

	// s: drop libsignal's sign bit, reject excess bits (s ≥ 2^253), then
	// reduce mod q (the spec does not require s to be fully reduced).
	var wide [64]byte
	copy(wide[:32], sig[32:])
	wide[31] &^= signBitMask
	if wide[31]&excessBitsMask != 0 {
		return false
	}
	s, _ := edwards25519.NewScalar().SetUniformBytes(wide[:])

	// h = hash(R || A || M) (mod q)
	rEnc := sig[:32]
	hs := challenge(rEnc, A.Bytes(), msg)

	// Rcheck = sB - hA
	minusA := new(edwards25519.Point).Negate(A)
	check := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(hs, minusA, s)

	// if bytes_equal(R, Rcheck) return true. Comparing encodings also rejects
	// any non-canonical encoding of R.
	return subtle.ConstantTimeCompare(check.Bytes(), rEnc) == 1
}

// challenge computes h = hash(R || A || M) (mod q), the Ed25519 challenge.
func challenge(rEnc, aEnc, msg []byte) *edwards25519.Scalar {
	h := sha512.New()
	h.Write(rEnc)
	h.Write(aEnc)
	h.Write(msg)
	var digest [sha512.Size]byte
	s, _ := edwards25519.NewScalar().SetUniformBytes(h.Sum(digest[:0]))
	return s
}
