package wire

import "google.golang.org/protobuf/encoding/protowire"

// Message versions (internal/wire/WIRE.md §2). The version byte that opens every
// 1:1 message is ((messageVersion & 0xF) << 4) | CurrentVersion; readers look
// only at the high nibble.
const (
	// CurrentVersion is the message version of PQXDH sessions, the only one
	// this package encodes or accepts. Its version byte is 0x44.
	CurrentVersion = 4
	// preKyberVersion is the X3DH message version, no longer accepted.
	preKyberVersion = 3
)

// Field numbers of PreKeySignalMessage in wire.proto.
const (
	preKeyIDField        protowire.Number = 1
	baseKeyField         protowire.Number = 2
	identityKeyField     protowire.Number = 3
	messageField         protowire.Number = 4
	registrationIDField  protowire.Number = 5
	signedPreKeyIDField  protowire.Number = 6
	kyberPreKeyIDField   protowire.Number = 7
	kyberCiphertextField protowire.Number = 8
)

// PreKeySignalMessage is the first message of a session: the initiator's
// PQXDH parameters wrapped around its first SignalMessage. On the wire it is
// versionByte || protobuf, with no MAC of its own; the wrapped SignalMessage
// carries the MAC.
//
// This type checks structure only: presence of the required fields, not the
// validity of the keys or ciphertext they hold, and not the wrapped message,
// which the caller must parse as a SignalMessage of the same version.
type PreKeySignalMessage struct {
	// Version is the message version, the high nibble of the version byte.
	// ParsePreKeySignalMessage only returns CurrentVersion.
	Version byte
	// RegistrationID is the sender's registration ID (0 if absent on the
	// wire).
	RegistrationID uint32
	// PreKeyID is the ID of the recipient's one-time prekey the sender used.
	// It is meaningful only if HasPreKeyID is set: one-time prekeys are
	// optional in PQXDH, and ID 0 is a valid ID.
	PreKeyID uint32
	// HasPreKeyID reports whether the message names a one-time prekey.
	HasPreKeyID bool
	// SignedPreKeyID is the ID of the recipient's signed prekey.
	SignedPreKeyID uint32
	// KyberPreKeyID is the ID of the recipient's Kyber prekey.
	KyberPreKeyID uint32
	// KyberCiphertext is the KEM ciphertext encapsulated to the Kyber
	// prekey, as serialized (type byte || ciphertext).
	KyberCiphertext []byte
	// BaseKey is the sender's ephemeral public key, serialized (0x05 || u).
	BaseKey []byte
	// IdentityKey is the sender's identity public key, serialized.
	IdentityKey []byte
	// Message is the wrapped SignalMessage in its full serialized form:
	// version byte, protobuf and MAC.
	Message []byte
}

// Marshal returns the wire form of m: the version byte
// ((m.Version & 0xF) << 4) | CurrentVersion followed by the protobuf fields in
// tag order. pre_key_id is written only if m.HasPreKeyID; every other field is
// always written, as libsignal writes it, even when zero or empty.
func (m *PreKeySignalMessage) Marshal() []byte {
	size := 1 +
		sizeBytesField(baseKeyField, m.BaseKey) +
		sizeBytesField(identityKeyField, m.IdentityKey) +
		sizeBytesField(messageField, m.Message) +
		sizeUint32Field(registrationIDField, m.RegistrationID) +
		sizeUint32Field(signedPreKeyIDField, m.SignedPreKeyID) +
		sizeUint32Field(kyberPreKeyIDField, m.KyberPreKeyID) +
		sizeBytesField(kyberCiphertextField, m.KyberCiphertext)
	if m.HasPreKeyID {
		size += sizeUint32Field(preKeyIDField, m.PreKeyID)
	}

	b := make([]byte, 0, size)
	b = append(b, versionByte(m.Version))
	if m.HasPreKeyID {
		b = appendUint32Field(b, preKeyIDField, m.PreKeyID)
	}
	b = appendBytesField(b, baseKeyField, m.BaseKey)
	b = appendBytesField(b, identityKeyField, m.IdentityKey)
	b = appendBytesField(b, messageField, m.Message)
	b = appendUint32Field(b, registrationIDField, m.RegistrationID)
	b = appendUint32Field(b, signedPreKeyIDField, m.SignedPreKeyID)
	b = appendUint32Field(b, kyberPreKeyIDField, m.KyberPreKeyID)
	b = appendBytesField(b, kyberCiphertextField, m.KyberCiphertext)
	return b
}

// ParsePreKeySignalMessage decodes the wire form of a PreKeySignalMessage.
//
// It returns ErrTooLarge past MaxMessageSize; ErrLegacyVersion,
// ErrUnsupportedVersion or ErrUnknownVersion for a version other than
// CurrentVersion; an error matching ErrMissingField (and ErrMalformed) if
// base_key, identity_key, message, signed_pre_key_id, kyber_pre_key_id or
// kyber_ciphertext is absent; and ErrMalformed for any other defect. Unknown
// fields are ignored. The returned message does not alias b.
func ParsePreKeySignalMessage(b []byte) (*PreKeySignalMessage, error) {
	if len(b) > MaxMessageSize {
		return nil, ErrTooLarge
	}
	version, err := checkVersion(b)
	if err != nil {
		return nil, err
	}

	m := &PreKeySignalMessage{Version: version}
	var hasSignedPreKeyID, hasKyberPreKeyID bool
	err = walkFields(b[1:], func(f field) error {
		var err error
		switch f.num {
		case preKeyIDField:
			m.PreKeyID, err = f.uint32Value()
			m.HasPreKeyID = true
		case baseKeyField:
			m.BaseKey, err = f.bytesValue()
		case identityKeyField:
			m.IdentityKey, err = f.bytesValue()
		case messageField:
			m.Message, err = f.bytesValue()
		case registrationIDField:
			m.RegistrationID, err = f.uint32Value()
		case signedPreKeyIDField:
			m.SignedPreKeyID, err = f.uint32Value()
			hasSignedPreKeyID = true
		case kyberPreKeyIDField:
			m.KyberPreKeyID, err = f.uint32Value()
			hasKyberPreKeyID = true
		case kyberCiphertextField:
			m.KyberCiphertext, err = f.bytesValue()
		}
		return err
	})
	if err != nil {
		return nil, err
	}

	// bytesValue never returns nil, so nil means absent.
	switch {
	case m.BaseKey == nil:
		return nil, &missingFieldError{"base_key"}
	case m.IdentityKey == nil:
		return nil, &missingFieldError{"identity_key"}
	case m.Message == nil:
		return nil, &missingFieldError{"message"}
	case !hasSignedPreKeyID:
		return nil, &missingFieldError{"signed_pre_key_id"}
	// Version 4 sessions are PQXDH: the Kyber prekey is mandatory
	// (libsignal: "Kyber pre key must be present for this session version").
	case !hasKyberPreKeyID:
		return nil, &missingFieldError{"kyber_pre_key_id"}
	case m.KyberCiphertext == nil:
		return nil, &missingFieldError{"kyber_ciphertext"}
	}
	return m, nil
}

// versionByte returns the version byte of a 1:1 message of the given version.
func versionByte(version byte) byte {
	return (version&0xF)<<4 | CurrentVersion
}

// checkVersion reads the message version from the high nibble of the version
// byte that opens b and accepts only CurrentVersion. The low nibble, the
// sender's highest supported version, is ignored, as libsignal ignores it.
func checkVersion(b []byte) (byte, error) {
	if len(b) == 0 {
		return 0, ErrMalformed
	}
	switch v := b[0] >> 4; {
	case v < preKyberVersion:
		return 0, ErrLegacyVersion
	case v == preKyberVersion:
		return 0, ErrUnsupportedVersion
	case v > CurrentVersion:
		return 0, ErrUnknownVersion
	default:
		return v, nil
	}
}
