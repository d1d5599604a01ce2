package curve

// Test helpers and published inputs. The vector files once generated here
// now live in package testvectors (xeddsa.json, x25519.json), which runs them
// against this package.

import (
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"

	"filippo.io/edwards25519"
)

// Published inputs (signalapp/libsignal-protocol-java, Curve25519Test,
// testSignature: Alice's identity key signs her serialized ephemeral key).
// Copying test vector bytes is fine; no code is copied. The other published
// vectors (libsignal-protocol-c's signature, testAgreement, RFC 7748) are in
// testvectors' xeddsa.json and x25519.json.
const (
	javaIdentityPriv   = "c097248412e58bf05df487968205132794178e367637f5818f81e0e6ce73e865"
	javaIdentityPublic = "05ab7e717d4a163b7d9a1d8071dfe9dcf8cdcd1cea3339b6356be84d887e322c64"
	javaEphemeral      = "05edce9d9c415ca78cb7252e72c2c4a554d3eb29485a0e1d503118d1a82d99fb4a"
	javaSignature      = "5de88ca9a89b4a115da79109c67c9c7464a3e4180274f1cb8c63c2984e286dfb" +
		"ede82deb9dcd9fae0bfbb821569b3d9001bd8130cd11d486cef047bd60b86e88"

	// RFC 7748, section 6.1.
	rfcAlicePriv   = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
	rfcAlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
	rfcBobPriv     = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
	rfcBobPublic   = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
	rfcShared      = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
)

// Curve constants as integers, for computing edge cases independently of the
// code under test.
var (
	bigP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	bigQ = func() *big.Int {
		q, _ := new(big.Int).SetString("27742317777372353535851937790883648493", 10)
		return q.Add(q, new(big.Int).Lsh(big.NewInt(1), 252))
	}()
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// leBytes encodes n as 32 little-endian bytes.
func leBytes(n *big.Int) []byte {
	b := n.FillBytes(make([]byte, 32))
	slices.Reverse(b)
	return b
}

// stream returns n deterministic bytes for the given label.
func stream(label string, n int) []byte {
	return sha3.SumSHAKE256([]byte("sotto curve test vectors: "+label), n)
}

func withTopBit(u []byte) []byte {
	c := slices.Clone(u)
	c[31] |= 0x80
	return c
}

func serialized(u []byte) []byte { return append([]byte{DjbType}, u...) }

// torsionPoints returns Edwards points of order 2, 4 and 8, found by
// multiplying deterministic curve points by q (which kills the prime-order
// part) until each order appears.
func torsionPoints() (t2, t4, t8 *edwards25519.Point) {
	for i := 0; t2 == nil || t4 == nil || t8 == nil; i++ {
		P, err := new(edwards25519.Point).SetBytes(stream(fmt.Sprint("torsion ", i), 32))
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

// mulBig computes nP by double-and-add on the integer n (vartime; tests only).
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

// order returns the order of a point of order dividing 8.
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
