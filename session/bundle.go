package session

import (
	"errors"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/wire"
)

// Bundle is the set of public keys a device publishes so that others can
// start sessions with it without it being online (PQXDH "prekey bundle").
// Keys are in their serialized forms: EC keys 33 bytes (0x05 || u), the
// Kyber1024 key 1569 bytes (0x08 || key), signatures 64 bytes of XEdDSA by
// the identity key over the serialized prekeys.
type Bundle struct {
	RegistrationID uint32
	DeviceID       uint32

	// PreKeyID and PreKey are the one-time prekey; PreKey is nil when the
	// bundle has none.
	PreKeyID uint32
	PreKey   []byte

	SignedPreKeyID        uint32
	SignedPreKey          []byte
	SignedPreKeySignature []byte

	IdentityKey []byte

	KyberPreKeyID        uint32
	KyberPreKey          []byte
	KyberPreKeySignature []byte
}

// ErrInvalidBundle is returned for a bundle with missing or malformed keys.
var ErrInvalidBundle = errors.New("session: invalid prekey bundle")

// ErrInvalidSignature is returned when a bundle's prekey signature does not
// verify under its identity key.
var ErrInvalidSignature = errors.New("session: invalid prekey signature")

// MarshalBinary encodes the bundle for publishing, in the protobuf form
// documented in internal/wire/WIRE.md (fields 1-11 in the order of the
// struct; the one-time prekey fields only when PreKey is not nil). A relay
// stores and serves these bytes as they are.
func (b *Bundle) MarshalBinary() ([]byte, error) {
	w := wire.Bundle(*b)
	return w.Marshal(), nil
}

// UnmarshalBinary decodes a bundle written by MarshalBinary. It checks the
// encoding and the key sizes, not the signatures (ProcessBundle does), and
// returns ErrInvalidBundle for any defect, leaving b unchanged.
func (b *Bundle) UnmarshalBinary(data []byte) error {
	w, err := wire.ParseBundle(data)
	if err != nil {
		return ErrInvalidBundle
	}
	n := Bundle(*w)
	if _, err := n.parse(); err != nil {
		return err
	}
	*b = n
	return nil
}

// parsedBundle is a bundle with its keys parsed.
type parsedBundle struct {
	identity, signedPreKey, preKey *curve.PublicKey
	kyberPreKey                    *kem.PublicKey
}

// parse checks sizes and parses the keys; it does not verify signatures.
func (b *Bundle) parse() (*parsedBundle, error) {
	var p parsedBundle
	var err error
	if p.identity, err = curve.ParsePublicKey(b.IdentityKey); err != nil {
		return nil, ErrInvalidBundle
	}
	if p.signedPreKey, err = curve.ParsePublicKey(b.SignedPreKey); err != nil {
		return nil, ErrInvalidBundle
	}
	if b.PreKey != nil {
		if p.preKey, err = curve.ParsePublicKey(b.PreKey); err != nil {
			return nil, ErrInvalidBundle
		}
	}
	if p.kyberPreKey, err = kem.ParsePublicKey(b.KyberPreKey); err != nil {
		return nil, ErrInvalidBundle
	}
	if len(b.SignedPreKeySignature) != curve.SignatureSize || len(b.KyberPreKeySignature) != curve.SignatureSize {
		return nil, ErrInvalidBundle
	}
	return &p, nil
}

// verify parses the bundle and checks both prekey signatures: XEdDSA by the
// identity key over the 33-byte signed prekey and the 1569-byte Kyber
// prekey, as libsignal's process_prekey_bundle does.
func (b *Bundle) verify() (*parsedBundle, error) {
	p, err := b.parse()
	if err != nil {
		return nil, err
	}
	if !p.identity.Verify(b.SignedPreKey, b.SignedPreKeySignature) ||
		!p.identity.Verify(b.KyberPreKey, b.KyberPreKeySignature) {
		return nil, ErrInvalidSignature
	}
	return p, nil
}
