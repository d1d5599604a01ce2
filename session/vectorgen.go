package session

import (
	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/vectorgen"
	"github.com/sotto-im/sotto/ratchet"
)

// Deterministic entry points for the test-vector generator and verifier
// (package testvectors), through internal/vectorgen: an account whose
// identity key and registration id come from a seeded stream, and the
// PQXDH key schedule with chosen keys. Applications cannot reach them.
func init() {
	vectorgen.Register("session.createAccount", createAccount)
	vectorgen.Register("session.pqxdhInitiate", func(ourIdentity, ourBase *curve.PrivateKey,
		theirIdentity, theirSignedPreKey, theirOneTimePreKey *curve.PublicKey, theirKyberPreKey *kem.PublicKey,
		encapsulationSeed []byte) (ratchet.InitialKeys, []byte, error) {
		ct, ss, err := theirKyberPreKey.EncapsulateDeterministic(encapsulationSeed)
		if err != nil {
			return ratchet.InitialKeys{}, nil, err
		}
		defer clear(ss)
		return pqxdhInitiateWith(&pqxdhInitiatorInput{ourIdentity: ourIdentity, ourBase: ourBase,
			theirIdentity: theirIdentity, theirSignedPreKey: theirSignedPreKey,
			theirOneTimePreKey: theirOneTimePreKey, theirKyberPreKey: theirKyberPreKey}, ct, ss)
	})
	vectorgen.Register("session.pqxdhRespond", func(ourIdentity, ourSignedPreKey, ourOneTimePreKey *curve.PrivateKey,
		ourKyberPreKey *kem.PrivateKey, theirIdentity, theirBase *curve.PublicKey,
		kyberCiphertext []byte) (ratchet.InitialKeys, error) {
		return pqxdhRespond(&pqxdhResponderInput{ourIdentity: ourIdentity, ourSignedPreKey: ourSignedPreKey,
			ourOneTimePreKey: ourOneTimePreKey, ourKyberPreKey: ourKyberPreKey, theirIdentity: theirIdentity,
			theirBase: theirBase, kyberCiphertext: kyberCiphertext})
	})
}
