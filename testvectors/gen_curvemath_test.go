package testvectors

// Curve arithmetic for the edge cases of xeddsa.json, x25519.json and
// pqxdh.json, computed from the curve's definition with math/big and
// filippo.io/edwards25519 rather than with the code under test (the approach
// of internal/curve's own vectors), and the published inputs they start from.

import (
	"math/big"
	"slices"

	"filippo.io/edwards25519"

	"github.com/sotto-im/sotto/internal/curve"
)

// Published inputs (vector bytes only; no code is copied).
const (
	srcJavaSignature   = "signalapp/libsignal-protocol-java tests/src/test/java/org/whispersystems/libsignal/ecc/Curve25519Test.java testSignature"
	javaIdentityPriv   = "c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865"
	javaIdentityPublic = "05ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64"
	javaEphemeral      = "05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a"
	javaSignature      = "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfb" +
		"ede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88"

	srcCSignature = "signalapp/libsignal-protocol-c src/curve25519/ed25519/tests/internal_fast_tests.c curvesigs_fast_test"
	cSignature    = "cf873d0379ac20e8893e5567ee0f8951f8db840d26b243b463526689d01ca718" +
		"ac189fb1678574ebdde569330659448b0bd6c1973f7d780ab39518626803d782"

	srcJavaAgreement = "signalapp/libsignal-protocol-java tests/src/test/java/org/whispersystems/libsignal/ecc/Curve25519Test.java testAgreement"
	javaAlicePublic  = "051bb75966f2e93a3691dfff942bb2a466a1c08b8d78ca3f4d6df8b8bfa2e4ee28"
	javaAlicePriv    = "c806439dc9d2c476ffed8f2580c0888d58ab406bf7ae3698879021b96bb4bf59"
	javaBobPublic    = "05653614993d2b15ee9e5fd3d86ce719ef4ec1daae1886a87b3f5fa9565a27a22f"
	javaBobPriv      = "b03b34c33a1c44f225b662d2bf4859b8135411fa7b0386d45fb75dc5b91b4466"
	javaShared       = "325f239328941ced6e673b86ba41017448e99b649a9c3806c1dd7ca4c477e629"

	srcRFC7748_5_2 = "RFC 7748 section 5.2"
	rfcScalar      = "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"
	rfcU           = "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"
	rfcOut         = "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
	srcRFC7748_6_1 = "RFC 7748 section 6.1"
	rfcAlicePriv   = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
	rfcAlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
	rfcBobPriv     = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
	rfcBobPublic   = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
	rfcShared      = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
)

// Curve constants as integers.
var (
	bigP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	bigQ = func() *big.Int {
		q, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
		return q.Add(q, new(big.Int).Lsh(big.NewInt(1), 252))
	}()
	two253 = new(big.Int).Lsh(big.NewInt(1), 253)
)

func mustHex(s string) []byte { return must(hexDecode(s)) }

func hexDecode(s string) ([]byte, error) {
	var h hexBytes
	err := h.UnmarshalJSON([]byte(`"` + s + `"`))
	return h, err
}

// leBytes encodes n as 32 little-endian bytes; leInt decodes.
func leBytes(n *big.Int) []byte {
	b := n.FillBytes(make([]byte, 32))
	slices.Reverse(b)
	return b
}

func leInt(b []byte) *big.Int {
	c := slices.Clone(b)
	slices.Reverse(c)
	return new(big.Int).SetBytes(c)
}

func withTopBit(u []byte) []byte {
	c := slices.Clone(u)
	c[31] |= 0x80
	return c
}

func serialized(u []byte) []byte { return append([]byte{curve.DjbType}, u...) }

// onTwist reports whether u is the coordinate of a point on the quadratic
// twist, by Euler's criterion on u^3 + 486662u^2 + u.
func onTwist(u *big.Int) bool {
	v := new(big.Int).Exp(u, big.NewInt(3), bigP)
	v.Add(v, new(big.Int).Mul(big.NewInt(486662), new(big.Int).Mul(u, u)))
	v.Add(v, u).Mod(v, bigP)
	return big.Jacobi(v, bigP) == -1
}

// mulBig computes nP by double-and-add on the integer n (variable time).
func mulBig(P *edwards25519.Point, n *big.Int) *edwards25519.Point {
	R := edwards25519.NewIdentityPoint()
	for i := n.BitLen() - 1; i >= 0; i-- {
		R.Add(R, R)
		if n.Bit(i) == 1 {
			R.Add(R, P)
		}
	}
	return R
}

// order returns the order of a point of order dividing 8, or 0.
func order(T *edwards25519.Point) int {
	id := edwards25519.NewIdentityPoint()
	X := new(edwards25519.Point).Set(T)
	for o := 1; o <= 8; o *= 2 {
		if X.Equal(id) == 1 {
			return o
		}
		X.Add(X, X)
	}
	return 0
}

// torsionPoints returns Edwards points of order 2, 4 and 8, found by
// multiplying deterministic curve points by q.
func torsionPoints() (t2, t4, t8 *edwards25519.Point) {
	s := stream("torsion points")
	for t2 == nil || t4 == nil || t8 == nil {
		var b [32]byte
		s.Read(b[:])
		P, err := new(edwards25519.Point).SetBytes(b[:])
		if err != nil {
			continue
		}
		T := mulBig(P, bigQ)
		switch order(T) {
		case 2:
			t2 = T
		case 4:
			t4 = T
		case 8:
			t8 = T
		}
	}
	return
}

// lowOrderU returns the canonical u-coordinates of the points of order
// dividing 8 on the curve and its twist: 0, 1, the two order-8 points, p - 1.
func lowOrderU() [][]byte {
	_, _, t8 := torsionPoints()
	o8 := t8.BytesMontgomery()
	o8b := new(edwards25519.Point).Add(t8, new(edwards25519.Point).Add(t8, t8)).BytesMontgomery() // 3·T8
	return [][]byte{
		leBytes(big.NewInt(0)), leBytes(big.NewInt(1)), o8, o8b,
		leBytes(new(big.Int).Sub(bigP, big.NewInt(1))),
	}
}
