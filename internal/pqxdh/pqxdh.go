// Package pqxdh implements the PQXDH key agreement
// (https://signal.org/docs/specifications/pqxdh/) as libsignal 0.103 runs it
// (internal/wire/WIRE.md §4): the X3DH Diffie-Hellman values plus a
// Kyber1024 shared secret, hashed with one HKDF into the root key, the first
// chain key and the SPQR authentication key.
//
// Package session runs it; the functions take every key as an argument, so
// the vector generator and verifier call the same code with chosen keys.
package pqxdh

import (
	"errors"
	"io"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kdf"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/ratchetcore"
)

// labelPQXDH is the HKDF info of libsignal's PQXDH: the curve, hash and KEM.
var labelPQXDH = []byte("WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024")

// discontinuity is the 32 0xFF bytes that open the secret input (PQXDH §2.2,
// "F"), separating it from any X25519-based signature scheme input.
var discontinuity = [32]byte{
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
}

// InitiatorInput is what the initiator (Alice) uses: her identity and
// fresh base key, and the responder's published keys.
type InitiatorInput struct {
	OurIdentity        *curve.PrivateKey
	OurBase            *curve.PrivateKey
	TheirIdentity      *curve.PublicKey
	TheirSignedPreKey  *curve.PublicKey
	TheirOneTimePreKey *curve.PublicKey // nil without a one-time prekey
	TheirKyberPreKey   *kem.PublicKey
}

// Errors of the agreement. Neither carries key material.
var (
	// ErrInvalidKeyAgreement is returned when one of the Diffie-Hellman
	// values is all zero: a key of low order. For the initiator it is a
	// defect of the bundle, for the responder one of the message.
	ErrInvalidKeyAgreement = errors.New("pqxdh: invalid key agreement (low-order key)")
	// ErrInvalidCiphertext is returned by Respond for a Kyber ciphertext
	// that does not decapsulate.
	ErrInvalidCiphertext = errors.New("pqxdh: invalid Kyber ciphertext")
)

// Initiate computes
//
//	SK = KDF(F || DH(IK_A, SPK_B) || DH(EK_A, IK_B) || DH(EK_A, SPK_B) [|| DH(EK_A, OPK_B)] || SS)
//
// with (CT, SS) = Encaps(PQPK_B), and returns the initial keys and CT.
func Initiate(in *InitiatorInput, rand io.Reader) (ratchetcore.InitialKeys, []byte, error) {
	ct, ss, err := in.TheirKyberPreKey.Encapsulate(rand)
	if err != nil {
		return ratchetcore.InitialKeys{}, nil, err
	}
	defer clear(ss)
	return InitiateWith(in, ct, ss)
}

// InitiateWith is Initiate with the encapsulation already done: the
// derandomized entry point of the vector generator and verifier.
func InitiateWith(in *InitiatorInput, ct, ss []byte) (ratchetcore.InitialKeys, []byte, error) {
	secrets := make([]byte, 0, 32*6)
	secrets = append(secrets, discontinuity[:]...)
	for _, dh := range []struct {
		priv *curve.PrivateKey
		pub  *curve.PublicKey
	}{
		{in.OurIdentity, in.TheirSignedPreKey},
		{in.OurBase, in.TheirIdentity},
		{in.OurBase, in.TheirSignedPreKey},
		{in.OurBase, in.TheirOneTimePreKey},
	} {
		if dh.pub == nil { // no one-time prekey
			continue
		}
		s, err := dh.priv.ECDH(dh.pub)
		if err != nil {
			clear(secrets)
			return ratchetcore.InitialKeys{}, nil, ErrInvalidKeyAgreement
		}
		secrets = append(secrets, s...)
		clear(s)
	}
	secrets = append(secrets, ss...)
	return deriveInitialKeys(secrets), ct, nil
}

// ResponderInput is what the responder (Bob) uses: his identity and
// prekeys, and the initiator's identity, base key and Kyber ciphertext.
type ResponderInput struct {
	OurIdentity      *curve.PrivateKey
	OurSignedPreKey  *curve.PrivateKey
	OurOneTimePreKey *curve.PrivateKey // nil without a one-time prekey
	OurKyberPreKey   *kem.PrivateKey
	TheirIdentity    *curve.PublicKey
	TheirBase        *curve.PublicKey
	KyberCiphertext  []byte
}

// Respond mirrors Initiate:
//
//	SK = KDF(F || DH(SPK_B, IK_A) || DH(IK_B, EK_A) || DH(SPK_B, EK_A) [|| DH(OPK_B, EK_A)] || Decaps(CT))
func Respond(in *ResponderInput) (ratchetcore.InitialKeys, error) {
	ss, err := in.OurKyberPreKey.Decapsulate(in.KyberCiphertext)
	if err != nil {
		return ratchetcore.InitialKeys{}, ErrInvalidCiphertext
	}
	defer clear(ss)
	secrets := make([]byte, 0, 32*6)
	secrets = append(secrets, discontinuity[:]...)
	for _, dh := range []struct {
		priv *curve.PrivateKey
		pub  *curve.PublicKey
	}{
		{in.OurSignedPreKey, in.TheirIdentity},
		{in.OurIdentity, in.TheirBase},
		{in.OurSignedPreKey, in.TheirBase},
		{in.OurOneTimePreKey, in.TheirBase},
	} {
		if dh.priv == nil {
			continue
		}
		s, err := dh.priv.ECDH(dh.pub)
		if err != nil {
			clear(secrets)
			return ratchetcore.InitialKeys{}, ErrInvalidKeyAgreement
		}
		secrets = append(secrets, s...)
		clear(s)
	}
	secrets = append(secrets, ss...)
	return deriveInitialKeys(secrets), nil
}

// deriveInitialKeys is PQXDH's KDF: HKDF-SHA256 with no salt (32 zero
// bytes) and libsignal's info, 96 bytes split into root, chain and SPQR keys.
// It wipes secrets.
func deriveInitialKeys(secrets []byte) ratchetcore.InitialKeys {
	var out [96]byte
	if err := kdf.Key(out[:], nil, secrets, labelPQXDH); err != nil {
		panic("pqxdh: " + err.Error())
	}
	clear(secrets)
	var k ratchetcore.InitialKeys
	copy(k.Root[:], out[0:32])
	copy(k.Chain[:], out[32:64])
	copy(k.SPQR[:], out[64:96])
	clear(out[:])
	return k
}
