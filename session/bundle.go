package session

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
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

// Field numbers of the bundle's publishing encoding.
const (
	bundleRegistrationID = 1 + iota
	bundleDeviceID
	bundlePreKeyID
	bundlePreKey
	bundleSignedPreKeyID
	bundleSignedPreKey
	bundleSignedPreKeySignature
	bundleIdentityKey
	bundleKyberPreKeyID
	bundleKyberPreKey
	bundleKyberPreKeySignature
)

// maxBundleSize bounds ParseBundle's input.
const maxBundleSize = 4096

// MarshalBinary encodes the bundle for publishing, as a protobuf message
// with fields 1-11 in the order of the struct.
func (b *Bundle) MarshalBinary() ([]byte, error) {
	var out []byte
	u := func(n protowire.Number, v uint32) {
		out = protowire.AppendTag(out, n, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(v))
	}
	by := func(n protowire.Number, v []byte) {
		if v == nil {
			return
		}
		out = protowire.AppendTag(out, n, protowire.BytesType)
		out = protowire.AppendBytes(out, v)
	}
	u(bundleRegistrationID, b.RegistrationID)
	u(bundleDeviceID, b.DeviceID)
	if b.PreKey != nil {
		u(bundlePreKeyID, b.PreKeyID)
		by(bundlePreKey, b.PreKey)
	}
	u(bundleSignedPreKeyID, b.SignedPreKeyID)
	by(bundleSignedPreKey, b.SignedPreKey)
	by(bundleSignedPreKeySignature, b.SignedPreKeySignature)
	by(bundleIdentityKey, b.IdentityKey)
	u(bundleKyberPreKeyID, b.KyberPreKeyID)
	by(bundleKyberPreKey, b.KyberPreKey)
	by(bundleKyberPreKeySignature, b.KyberPreKeySignature)
	return out, nil
}

// UnmarshalBinary decodes a bundle written by MarshalBinary. It checks the
// encoding and the key sizes, not the signatures (ProcessBundle does).
func (b *Bundle) UnmarshalBinary(data []byte) error {
	if len(data) > maxBundleSize {
		return ErrInvalidBundle
	}
	var n Bundle
	for len(data) > 0 {
		num, typ, l := protowire.ConsumeTag(data)
		if l < 0 {
			return ErrInvalidBundle
		}
		data = data[l:]
		switch typ {
		case protowire.VarintType:
			v, l := protowire.ConsumeVarint(data)
			if l < 0 || v > 0xFFFFFFFF {
				return ErrInvalidBundle
			}
			data = data[l:]
			switch num {
			case bundleRegistrationID:
				n.RegistrationID = uint32(v)
			case bundleDeviceID:
				n.DeviceID = uint32(v)
			case bundlePreKeyID:
				n.PreKeyID = uint32(v)
			case bundleSignedPreKeyID:
				n.SignedPreKeyID = uint32(v)
			case bundleKyberPreKeyID:
				n.KyberPreKeyID = uint32(v)
			}
		case protowire.BytesType:
			v, l := protowire.ConsumeBytes(data)
			if l < 0 {
				return ErrInvalidBundle
			}
			data = data[l:]
			v = append([]byte(nil), v...)
			switch num {
			case bundlePreKey:
				n.PreKey = v
			case bundleSignedPreKey:
				n.SignedPreKey = v
			case bundleSignedPreKeySignature:
				n.SignedPreKeySignature = v
			case bundleIdentityKey:
				n.IdentityKey = v
			case bundleKyberPreKey:
				n.KyberPreKey = v
			case bundleKyberPreKeySignature:
				n.KyberPreKeySignature = v
			}
		default:
			l := protowire.ConsumeFieldValue(num, typ, data)
			if l < 0 {
				return ErrInvalidBundle
			}
			data = data[l:]
		}
	}
	if n.PreKey == nil && n.PreKeyID != 0 {
		return ErrInvalidBundle // an id without its one-time prekey
	}
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
