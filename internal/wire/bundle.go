package wire

import "google.golang.org/protobuf/encoding/protowire"

// The prekey bundle's publishing encoding. libsignal has no wire form for a
// bundle (each server has its own); Sotto's is a protobuf message of its own,
// which session.Bundle marshals and the relay stores and serves as it is:
//
//	message Bundle {
//	  uint32 registration_id          = 1;
//	  uint32 device_id                = 2;
//	  uint32 pre_key_id               = 3;  // with pre_key, or both absent
//	  bytes  pre_key                  = 4;  // 33 bytes, 0x05 || u
//	  uint32 signed_pre_key_id        = 5;
//	  bytes  signed_pre_key           = 6;  // 33 bytes
//	  bytes  signed_pre_key_signature = 7;  // 64 bytes XEdDSA
//	  bytes  identity_key             = 8;  // 33 bytes
//	  uint32 kyber_pre_key_id         = 9;
//	  bytes  kyber_pre_key            = 10; // 1569 bytes, 0x08 || key
//	  bytes  kyber_pre_key_signature  = 11; // 64 bytes XEdDSA
//	}

// MaxBundleSize bounds the encoding ParseBundle accepts: a full bundle is
// about 1,800 bytes.
const MaxBundleSize = 4096

// Field numbers of Bundle.
const (
	bundleRegistrationIDField protowire.Number = 1 + iota
	bundleDeviceIDField
	bundlePreKeyIDField
	bundlePreKeyField
	bundleSignedPreKeyIDField
	bundleSignedPreKeyField
	bundleSignedPreKeySignatureField
	bundleIdentityKeyField
	bundleKyberPreKeyIDField
	bundleKyberPreKeyField
	bundleKyberPreKeySignatureField
)

// Bundle is the decoded publishing encoding of a prekey bundle. Key sizes
// are the caller's to check.
type Bundle struct {
	RegistrationID        uint32
	DeviceID              uint32
	PreKeyID              uint32
	PreKey                []byte // nil: no one-time prekey
	SignedPreKeyID        uint32
	SignedPreKey          []byte
	SignedPreKeySignature []byte
	IdentityKey           []byte
	KyberPreKeyID         uint32
	KyberPreKey           []byte
	KyberPreKeySignature  []byte
}

// Marshal returns the encoding of b, fields in tag order. The one-time
// prekey fields are written only when b.PreKey is not nil.
func (b *Bundle) Marshal() []byte {
	out := make([]byte, 0, 32+len(b.PreKey)+len(b.SignedPreKey)+len(b.SignedPreKeySignature)+
		len(b.IdentityKey)+len(b.KyberPreKey)+len(b.KyberPreKeySignature)+7*3)
	out = appendUint32Field(out, bundleRegistrationIDField, b.RegistrationID)
	out = appendUint32Field(out, bundleDeviceIDField, b.DeviceID)
	if b.PreKey != nil {
		out = appendUint32Field(out, bundlePreKeyIDField, b.PreKeyID)
		out = appendBytesField(out, bundlePreKeyField, b.PreKey)
	}
	out = appendUint32Field(out, bundleSignedPreKeyIDField, b.SignedPreKeyID)
	out = appendBytesField(out, bundleSignedPreKeyField, b.SignedPreKey)
	out = appendBytesField(out, bundleSignedPreKeySignatureField, b.SignedPreKeySignature)
	out = appendBytesField(out, bundleIdentityKeyField, b.IdentityKey)
	out = appendUint32Field(out, bundleKyberPreKeyIDField, b.KyberPreKeyID)
	out = appendBytesField(out, bundleKyberPreKeyField, b.KyberPreKey)
	out = appendBytesField(out, bundleKyberPreKeySignatureField, b.KyberPreKeySignature)
	return out
}

// ParseBundle decodes a bundle. It returns ErrTooLarge past MaxBundleSize,
// an error matching ErrMissingField when the signed prekey, its signature,
// the identity key, the Kyber prekey or its signature is absent (or a
// one-time prekey id comes without its key), and ErrMalformed for any other
// defect of the encoding. The result does not alias data.
func ParseBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, ErrTooLarge
	}
	var b Bundle
	var hasPreKeyID bool
	d := decoder{b: data}
	for d.next() {
		f := d.f
		var err error
		switch f.num {
		case bundleRegistrationIDField:
			b.RegistrationID, err = f.uint32Value()
		case bundleDeviceIDField:
			b.DeviceID, err = f.uint32Value()
		case bundlePreKeyIDField:
			b.PreKeyID, err = f.uint32Value()
			hasPreKeyID = true
		case bundlePreKeyField:
			b.PreKey, err = f.bytesValue()
		case bundleSignedPreKeyIDField:
			b.SignedPreKeyID, err = f.uint32Value()
		case bundleSignedPreKeyField:
			b.SignedPreKey, err = f.bytesValue()
		case bundleSignedPreKeySignatureField:
			b.SignedPreKeySignature, err = f.bytesValue()
		case bundleIdentityKeyField:
			b.IdentityKey, err = f.bytesValue()
		case bundleKyberPreKeyIDField:
			b.KyberPreKeyID, err = f.uint32Value()
		case bundleKyberPreKeyField:
			b.KyberPreKey, err = f.bytesValue()
		case bundleKyberPreKeySignatureField:
			b.KyberPreKeySignature, err = f.bytesValue()
		}
		if err != nil {
			return nil, err
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case hasPreKeyID != (b.PreKey != nil):
		return nil, &missingFieldError{"pre_key_id and pre_key together"}
	case b.SignedPreKey == nil:
		return nil, &missingFieldError{"signed_pre_key"}
	case b.SignedPreKeySignature == nil:
		return nil, &missingFieldError{"signed_pre_key_signature"}
	case b.IdentityKey == nil:
		return nil, &missingFieldError{"identity_key"}
	case b.KyberPreKey == nil:
		return nil, &missingFieldError{"kyber_pre_key"}
	case b.KyberPreKeySignature == nil:
		return nil, &missingFieldError{"kyber_pre_key_signature"}
	}
	return &b, nil
}
