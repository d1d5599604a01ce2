package testvectors

import (
	"bytes"

	"github.com/sotto-im/sotto/internal/kem"
)

// kyber1024.json runs against internal/kem: libsignal's type 0x08, round-3
// Kyber1024, with its type byte on every serialized object.

func verifyKyber(data []byte, r *fileReport) error {
	f, err := decodeFile[kyberGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkKyber(g, t) }))
		}
	}
	return nil
}

func checkKyber(g *kyberGroup, t *kyberTest) error {
	switch g.Type {
	case typeKyberKeyGen:
		// seed d || z -> key pair, through the deterministic entry point
		// and through GenerateKey reading the seed from a reader.
		k, err := kem.GenerateKeyDeterministic(t.Seed)
		if err != nil {
			return expect(&t.caseResult, err)
		}
		k2, err := kem.GenerateKey(bytes.NewReader(t.Seed))
		if err != nil {
			return errorf("GenerateKey: %v", err)
		}
		return first(
			equal("secret key", k.Bytes(), t.SecretKey),
			equal("public key", k.PublicKey().Bytes(), t.PublicKey),
			equal("GenerateKey secret key", k2.Bytes(), t.SecretKey),
			expect(&t.caseResult, nil),
		)

	case typeKyberEncapsulation:
		pk, err := kem.ParsePublicKey(g.PublicKey)
		if err != nil {
			return errorf("group public key does not parse: %v", err)
		}
		sk, err := kem.ParsePrivateKey(g.SecretKey)
		if err != nil {
			return errorf("group secret key does not parse: %v", err)
		}
		ct, ss, err := pk.EncapsulateDeterministic(t.Seed)
		if err != nil {
			return expect(&t.caseResult, err)
		}
		ct2, ss2, err := pk.Encapsulate(bytes.NewReader(t.Seed))
		if err != nil {
			return errorf("Encapsulate: %v", err)
		}
		dec, err := sk.Decapsulate(ct)
		if err != nil {
			return errorf("Decapsulate: %v", err)
		}
		return first(
			equal("ciphertext", ct, t.Ciphertext),
			equal("shared secret", ss, t.SharedSecret),
			equal("Encapsulate ciphertext", ct2, t.Ciphertext),
			equal("Encapsulate shared secret", ss2, t.SharedSecret),
			equal("decapsulated shared secret", dec, t.SharedSecret),
			expect(&t.caseResult, nil),
		)

	case typeKyberDecapsulation:
		sk, err := kem.ParsePrivateKey(g.SecretKey)
		if err != nil {
			return errorf("group secret key does not parse: %v", err)
		}
		ss, err := sk.Decapsulate(t.Ciphertext)
		if err := expect(&t.caseResult, err); err != nil {
			return err
		}
		if t.Result == resultValid {
			return equal("shared secret", ss, t.SharedSecret)
		}
		return nil

	case typeKyberPublicKey:
		pk, err := kem.ParsePublicKey(t.PublicKey)
		if err == nil {
			if err := equal("re-encoded public key", pk.Bytes(), t.PublicKey); err != nil {
				return err
			}
		}
		return expect(&t.caseResult, err)

	case typeKyberSecretKey:
		sk, err := kem.ParsePrivateKey(t.SecretKey)
		if err == nil {
			if err := equal("re-encoded secret key", sk.Bytes(), t.SecretKey); err != nil {
				return err
			}
		}
		return expect(&t.caseResult, err)
	}
	return errorf("unknown group type %q", g.Type)
}
