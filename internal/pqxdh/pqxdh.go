package session

import (
	"io"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kdf"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/ratchet"
)

// PQXDH (https://signal.org/docs/specifications/pqxdh/) as libsignal 0.103
// runs it (signal-wire.md §4): the X3DH DHs plus a Kyber1024 shared secret,
// hashed with one HKDF into the root key, the first chain key and the SPQR
// authentication key.

// labelPQXDH is the HKDF info of libsignal's PQXDH: the curve, hash and KEM.
var labelPQXDH = []byte("WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024")

// discontinuity is the 32 0xFF bytes that open the secret input (PQXDH §2.2,
// "F"), separating it from any X25519-based signature scheme input.
var discontinuity = [32]byte{
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
}

// pqxdhInitiatorInput is what the initiator (Alice) uses: her identity and
// fresh base key, and the responder's published keys.
type pqxdhInitiatorInput struct {
	ourIdentity        *curve.PrivateKey
	ourBase            *curve.PrivateKey
	theirIdentity      *curve.PublicKey
	theirSignedPreKey  *curve.PublicKey
	theirOneTimePreKey *curve.PublicKey // nil without a one-time prekey
	theirKyberPreKey   *kem.PublicKey
}

// pqxdhInitiate computes
//
//	SK = KDF(F || DH(IK_A, SPK_B) || DH(EK_A, IK_B) || DH(EK_A, SPK_B) [|| DH(EK_A, OPK_B)] || SS)
//
// with (CT, SS) = Encaps(PQPK_B), and returns the initial keys and CT.
func pqxdhInitiate(in *pqxdhInitiatorInput, rand io.Reader) (ratchet.InitialKeys, []byte, error) {
	ct, ss, err := in.theirKyberPreKey.Encapsulate(rand)
	if err != nil {
		return ratchet.InitialKeys{}, nil, err
	}
	defer clear(ss)
	return pqxdhInitiateWith(in, ct, ss)
}

// pqxdhInitiateWith is pqxdhInitiate with the encapsulation already done
// (deterministic, for vectors).
func pqxdhInitiateWith(in *pqxdhInitiatorInput, ct, ss []byte) (ratchet.InitialKeys, []byte, error) {
	secrets := make([]byte, 0, 32*6)
	secrets = append(secrets, discontinuity[:]...)
	for _, dh := range []struct {
		priv *curve.PrivateKey
		pub  *curve.PublicKey
	}{
		{in.ourIdentity, in.theirSignedPreKey},
		{in.ourBase, in.theirIdentity},
		{in.ourBase, in.theirSignedPreKey},
		{in.ourBase, in.theirOneTimePreKey},
	} {
		if dh.pub == nil { // no one-time prekey
			continue
		}
		s, err := dh.priv.ECDH(dh.pub)
		if err != nil {
			clear(secrets)
			return ratchet.InitialKeys{}, nil, err
		}
		secrets = append(secrets, s...)
		clear(s)
	}
	secrets = append(secrets, ss...)
	return deriveInitialKeys(secrets), ct, nil
}

// pqxdhResponderInput is what the responder (Bob) uses: his identity and
// prekeys, and the initiator's identity, base key and Kyber ciphertext.
type pqxdhResponderInput struct {
	ourIdentity      *curve.PrivateKey
	ourSignedPreKey  *curve.PrivateKey
	ourOneTimePreKey *curve.PrivateKey // nil without a one-time prekey
	ourKyberPreKey   *kem.PrivateKey
	theirIdentity    *curve.PublicKey
	theirBase        *curve.PublicKey
	kyberCiphertext  []byte
}

// pqxdhRespond mirrors pqxdhInitiate:
//
//	SK = KDF(F || DH(SPK_B, IK_A) || DH(IK_B, EK_A) || DH(SPK_B, EK_A) [|| DH(OPK_B, EK_A)] || Decaps(CT))
func pqxdhRespond(in *pqxdhResponderInput) (ratchet.InitialKeys, error) {
	ss, err := in.ourKyberPreKey.Decapsulate(in.kyberCiphertext)
	if err != nil {
		return ratchet.InitialKeys{}, err
	}
	defer clear(ss)
	secrets := make([]byte, 0, 32*6)
	secrets = append(secrets, discontinuity[:]...)
	for _, dh := range []struct {
		priv *curve.PrivateKey
		pub  *curve.PublicKey
	}{
		{in.ourSignedPreKey, in.theirIdentity},
		{in.ourIdentity, in.theirBase},
		{in.ourSignedPreKey, in.theirBase},
		{in.ourOneTimePreKey, in.theirBase},
	} {
		if dh.priv == nil {
			continue
		}
		s, err := dh.priv.ECDH(dh.pub)
		if err != nil {
			clear(secrets)
			return ratchet.InitialKeys{}, err
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
func deriveInitialKeys(secrets []byte) ratchet.InitialKeys {
	var out [96]byte
	if err := kdf.Key(out[:], nil, secrets, labelPQXDH); err != nil {
		panic("session: " + err.Error())
	}
	clear(secrets)
	var k ratchet.InitialKeys
	copy(k.Root[:], out[0:32])
	copy(k.Chain[:], out[32:64])
	copy(k.SPQR[:], out[64:96])
	clear(out[:])
	return k
}
