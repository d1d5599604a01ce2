package curve

// This file holds the twisted Edwards view of X25519 public keys: the
// birational map from Montgomery u to Edwards points that XEdDSA needs
// (XEdDSA spec sections 2.3 and 5), and the canonicality check libsignal
// applies to PQXDH base keys.

import (
	"crypto/subtle"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// IsCanonical reports whether p is a canonical X25519 public key, the check
// libsignal makes of the base key in a PQXDH PreKey message:
//
//   - u is the canonical encoding of a field element: u < p = 2^255 - 19,
//     which also means the top bit (bit 255) is clear;
//   - u is the coordinate of a point on Curve25519 itself, not on its twist
//     (and not u = -1, where the map to Edwards form is undefined);
//   - that point is torsion-free: it lies in the prime-order subgroup of
//     order q, so low-order points and points with a low-order component are
//     rejected.
//
// Keys made by GenerateKey (clamped scalar times the base point) always pass.
// Public keys are not secret, so the check runs in variable time.
func (p *PublicKey) IsCanonical() bool {
	// Canonical encoding: decoding ignores bit 255 and reduces mod p, so the
	// value is canonical exactly when re-encoding gives the same bytes.
	fu, err := new(field.Element).SetBytes(p.u[:])
	if err != nil || subtle.ConstantTimeCompare(fu.Bytes(), p.u[:]) != 1 {
		return false
	}

	// On the curve: the Edwards form exists. Either sign of x gives a point
	// with the same torsion component, so the sign does not matter here.
	P, ok := montgomeryToEdwards(&p.u, 0)
	if !ok {
		return false
	}
	return isTorsionFree(P)
}

// scalarMinusOne is q - 1 as a canonical scalar, q the order of the base point.
var scalarMinusOne = func() *edwards25519.Scalar {
	var one [32]byte
	one[0] = 1
	s, err := edwards25519.NewScalar().SetCanonicalBytes(one[:])
	if err != nil {
		panic("curve: scalar 1 is not canonical")
	}
	return edwards25519.NewScalar().Negate(s)
}()

// isTorsionFree reports whether qP is the identity, that is whether P has no
// component in the small (order 8) subgroup.
//
// Scalars are reduced mod q, so q itself cannot be passed to ScalarMult;
// instead this checks (q-1)P == -P. Writing P = Q + T with Q of order q and T
// of order dividing 8, (q-1)P = -Q + (q-1)T, which equals -P = -Q - T exactly
// when qT is the identity, that is (q being odd and coprime to 8) when T is.
// The multiplication works on the integer q-1, so it is exact on points with
// torsion. It runs in variable time: P is public.
func isTorsionFree(P *edwards25519.Point) bool {
	lhs := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(scalarMinusOne, P, edwards25519.NewScalar())
	rhs := new(edwards25519.Point).Negate(P)
	return lhs.Equal(rhs) == 1
}

// feOne is the field element 1.
var feOne = new(field.Element).One()

// montgomeryToEdwards is convert_mont (section 2.3) with an explicit sign bit:
// it maps the Montgomery u-coordinate to the twisted Edwards point whose
// y = u_to_y(u) = (u - 1) * inv(u + 1) (section 5) and whose x has the given
// sign. It fails for u = -1, where the birational map is undefined, and for u
// that has no point on the curve (a point on the twist).
//
// u is decoded as in RFC 7748: the top bit is ignored and values of p or more
// are reduced.
func montgomeryToEdwards(u *[32]byte, sign byte) (*edwards25519.Point, bool) {
	fu, err := new(field.Element).SetBytes(u[:])
	if err != nil {
		return nil, false
	}
	den := new(field.Element).Add(fu, feOne)
	if den.Equal(new(field.Element)) == 1 {
		return nil, false // u = -1
	}
	num := new(field.Element).Subtract(fu, feOne)
	y := new(field.Element).Multiply(num, den.Invert(den))

	var enc [32]byte
	copy(enc[:], y.Bytes())
	enc[31] |= (sign & 1) << 7
	A, err := new(edwards25519.Point).SetBytes(enc[:])
	if err != nil {
		return nil, false
	}
	return A, true
}
