package testvectors

import (
	"bytes"

	"github.com/sotto-im/sotto/internal/curve"
)

// xeddsa.json and x25519.json run against internal/curve, the X25519 and
// XEdDSA code every other part of Sotto uses.

func verifyXEdDSA(data []byte, r *fileReport) error {
	f, err := decodeFile[xeddsaGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkXEdDSA(g, t) }))
		}
	}
	return nil
}

// checkXEdDSA: a sign case must be reproduced byte for byte by SignWithRandom
// and by Sign reading Z from a reader; every case's signature must verify or
// not as its result says.
func checkXEdDSA(g *xeddsaGroup, t *xeddsaTest) error {
	pub, err := curve.ParsePublicKey(g.Public)
	if err != nil {
		return errorf("public key does not parse: %v", err)
	}
	if err := equal("re-encoded public key", pub.Bytes(), g.Public); err != nil {
		return err
	}
	switch g.Type {
	case typeXEdDSASign:
		priv, err := curve.NewPrivateKey(g.Private)
		if err != nil {
			return errorf("private key does not parse: %v", err)
		}
		if !priv.PublicKey().Equal(pub) {
			return errorf("public key of the private key = %x, want %x", priv.PublicKey().Bytes(), []byte(g.Public))
		}
		if len(t.Random) != 64 {
			return errorf("random is %d bytes, want 64", len(t.Random))
		}
		if err := equal("SignWithRandom", priv.SignWithRandom(t.Msg, (*[64]byte)(t.Random)), t.Sig); err != nil {
			return err
		}
		sig, err := priv.Sign(bytes.NewReader(t.Random), t.Msg)
		if err != nil {
			return errorf("Sign: %v", err)
		}
		if err := equal("Sign", sig, t.Sig); err != nil {
			return err
		}
	case typeXEdDSAVerify:
	default:
		return errorf("unknown group type %q", g.Type)
	}
	ok := pub.Verify(t.Msg, t.Sig)
	switch {
	case t.Result == resultValid && !ok:
		return errorf("Verify rejected a valid signature")
	case t.Result == resultInvalid && ok:
		return errorf("Verify accepted the signature; want %q", t.Error)
	case t.Result == resultInvalid && t.Error != classInvalidSignature:
		return errorf("a rejected signature is %q, not %q", classInvalidSignature, t.Error)
	}
	return nil
}

func verifyX25519(data []byte, r *fileReport) error {
	f, err := decodeFile[x25519Group](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkX25519(g.Type, t) }))
		}
	}
	return nil
}

func checkX25519(typ string, t *x25519Test) error {
	switch typ {
	case typeX25519KeyPair:
		// private -> clamped scalar and serialized public key.
		priv, err := curve.NewPrivateKey(t.Private)
		if err != nil {
			return expect(&t.caseResult, err)
		}
		pub, err := curve.ParsePublicKey(t.Public)
		if err != nil {
			return errorf("public key does not parse: %v", err)
		}
		return first(
			equal("clamped private key", priv.Bytes(), t.Clamped),
			equal("public key", priv.PublicKey().Bytes(), t.Public),
			equal("re-encoded public key", pub.Bytes(), t.Public),
			expect(&t.caseResult, nil),
		)

	case typeX25519PublicKey:
		// Parsing the serialized form 0x05 || u.
		pub, err := curve.ParsePublicKey(t.Public)
		if err == nil {
			if err := equal("re-encoded public key", pub.Bytes(), t.Public); err != nil {
				return err
			}
		}
		return expect(&t.caseResult, err)

	case typeX25519Agreement:
		// X25519(private, peer), with the peer as a serialized key and as a
		// raw u-coordinate.
		priv, err := curve.NewPrivateKey(t.Private)
		if err != nil {
			return errorf("private key does not parse: %v", err)
		}
		peer, err := curve.ParsePublicKey(t.Peer)
		if err != nil {
			return expect(&t.caseResult, err)
		}
		fromU, err := curve.NewPublicKeyFromU(t.Peer[1:])
		if err != nil {
			return errorf("NewPublicKeyFromU: %v", err)
		}
		for _, p := range []*curve.PublicKey{peer, fromU} {
			shared, err := priv.ECDH(p)
			if err := expect(&t.caseResult, err); err != nil {
				return err
			}
			if t.Result == resultValid {
				if err := equal("shared secret", shared, t.Shared); err != nil {
					return err
				}
			} else if shared != nil {
				return errorf("a failed agreement returned bytes")
			}
		}
		return nil

	case typeX25519Canonical:
		// IsCanonical, the check PQXDH applies to base keys.
		pub, err := curve.ParsePublicKey(t.Public)
		if err != nil {
			return errorf("public key does not parse: %v", err)
		}
		ok := pub.IsCanonical()
		switch {
		case t.Result == resultValid && !ok:
			return errorf("IsCanonical = false, want true")
		case t.Result == resultInvalid && ok:
			return errorf("IsCanonical = true, want false (%s)", t.Error)
		case t.Result == resultInvalid && t.Error != classInvalidKey:
			return errorf("a non-canonical key is %q, not %q", classInvalidKey, t.Error)
		}
		return nil
	}
	return errorf("unknown group type %q", typ)
}
