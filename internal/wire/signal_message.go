package wire

import "google.golang.org/protobuf/encoding/protowire"

// SignalMessage framing (internal/wire/WIRE.md §1): versionByte || protobuf || MAC,
// where the protobuf is wire.proto's SignalMessage. The MAC covers the
// version byte and the protobuf as received, so the decoder keeps the input.

// Sizes of SignalMessage's framing.
const (
	// MACSize is the size of the truncated HMAC-SHA256 that ends a
	// SignalMessage.
	MACSize = 8
	// MaxSignalMessageSize bounds a serialized SignalMessage; larger inputs
	// are rejected before any parsing. MaxMessageSize (a PreKeySignalMessage)
	// leaves room for one of these plus the PQXDH fields.
	MaxSignalMessageSize = 1 << 20
	// AddressesSize is the size of the optional addresses field: sender and
	// recipient as 17-byte fixed-width service ids, each followed by a
	// one-byte device id.
	AddressesSize = 36
	// PublicKeySize is the size of a serialized X25519 public key,
	// 0x05 || u.
	PublicKeySize = 33
)

// Field numbers of SignalMessage in wire.proto.
const (
	ratchetKeyField      protowire.Number = 1
	counterField         protowire.Number = 2
	previousCounterField protowire.Number = 3
	ciphertextField      protowire.Number = 4
	pqRatchetField       protowire.Number = 5
	addressesField       protowire.Number = 6
)

// SignalMessage is a decoded Double Ratchet message. Its byte slices alias
// the input of Unmarshal, which the caller must not modify while the message
// is in use.
type SignalMessage struct {
	// Version is the message version, the high nibble of the version byte.
	Version byte
	// RatchetKey is the sender's ratchet public key as serialized: exactly
	// PublicKeySize bytes beginning with 0x05 (the decoder checks the size
	// and type byte; the caller parses the key).
	RatchetKey []byte
	// Counter is the message's index in the sender's chain.
	Counter uint32
	// PreviousCounter is the length of the sender's previous chain.
	PreviousCounter uint32
	// Ciphertext is the AES-256-CBC ciphertext.
	Ciphertext []byte
	// PQRatchet is the SPQR message, nil when the field is absent.
	PQRatchet []byte
	// Addresses is the addresses field, nil when absent; when present it is
	// exactly AddressesSize bytes.
	Addresses []byte
	// Serialized is the whole message as received, MAC included.
	Serialized []byte
}

// Unmarshal decodes a serialized SignalMessage into m, aliasing b.
//
// It returns ErrTooLarge past MaxSignalMessageSize; ErrLegacyVersion,
// ErrUnsupportedVersion or ErrUnknownVersion for a version other than
// CurrentVersion; an error matching ErrMissingField if ratchet_key, counter
// or ciphertext is absent; and ErrMalformed for input shorter than a version
// byte and a MAC, a malformed protobuf, or a ratchet key or addresses field
// of the wrong size. On error m is left zero.
func (m *SignalMessage) Unmarshal(b []byte) error {
	*m = SignalMessage{}
	if len(b) > MaxSignalMessageSize {
		return ErrTooLarge
	}
	if len(b) < 1+MACSize {
		return ErrMalformed
	}
	version, err := checkVersion(b)
	if err != nil {
		return err
	}
	var n SignalMessage
	var haveCounter bool
	d := decoder{b: b[1 : len(b)-MACSize]}
	for d.next() {
		f := d.f
		switch f.num {
		case ratchetKeyField:
			n.RatchetKey, err = f.bytesAlias()
		case counterField:
			n.Counter, err = f.uint32Value()
			haveCounter = true
		case previousCounterField:
			n.PreviousCounter, err = f.uint32Value()
		case ciphertextField:
			n.Ciphertext, err = f.bytesAlias()
		case pqRatchetField:
			n.PQRatchet, err = f.bytesAlias()
		case addressesField:
			n.Addresses, err = f.bytesAlias()
		}
		if err != nil {
			return err
		}
	}
	if d.err != nil {
		return d.err
	}
	switch {
	case n.RatchetKey == nil:
		return &missingFieldError{"ratchet_key"}
	case !haveCounter:
		return &missingFieldError{"counter"}
	case n.Ciphertext == nil:
		return &missingFieldError{"ciphertext"}
	}
	if len(n.RatchetKey) != PublicKeySize || n.RatchetKey[0] != djbType {
		return ErrMalformed
	}
	if n.Addresses != nil && len(n.Addresses) != AddressesSize {
		return ErrMalformed
	}
	n.Version, n.Serialized = version, b
	*m = n
	return nil
}

// djbType is the key-type byte of a serialized X25519 public key.
const djbType = 0x05

// AppendSignalMessage appends versionByte || protobuf of a SignalMessage
// (not its MAC) to dst, fields in tag order as libsignal's encoder writes
// them: previous_counter always, pq_ratchet and addresses only when
// non-empty. ratchetKey is the 32-byte u-coordinate; the 0x05 type byte is
// written here.
func AppendSignalMessage(dst []byte, ratchetKey *[32]byte, counter, previousCounter uint32,
	ciphertext, pqRatchet, addresses []byte) []byte {
	dst = AppendSignalMessagePrefix(dst, ratchetKey, counter, previousCounter, len(ciphertext))
	dst = append(dst, ciphertext...)
	return AppendSignalMessageSuffix(dst, pqRatchet, addresses)
}

// AppendSignalMessagePrefix appends what AppendSignalMessage writes before
// the ciphertext's bytes, up to and including its length, so that a caller
// can encrypt straight into dst and then call AppendSignalMessageSuffix.
func AppendSignalMessagePrefix(dst []byte, ratchetKey *[32]byte, counter, previousCounter uint32, ciphertextLen int) []byte {
	dst = append(dst, versionByte(CurrentVersion))
	dst = protowire.AppendTag(dst, ratchetKeyField, protowire.BytesType)
	dst = protowire.AppendVarint(dst, PublicKeySize)
	dst = append(dst, djbType)
	dst = append(dst, ratchetKey[:]...)
	dst = appendUint32Field(dst, counterField, counter)
	dst = appendUint32Field(dst, previousCounterField, previousCounter)
	dst = protowire.AppendTag(dst, ciphertextField, protowire.BytesType)
	return protowire.AppendVarint(dst, uint64(ciphertextLen))
}

// AppendSignalMessageSuffix appends the fields that follow the ciphertext.
func AppendSignalMessageSuffix(dst, pqRatchet, addresses []byte) []byte {
	if len(pqRatchet) > 0 {
		dst = appendBytesField(dst, pqRatchetField, pqRatchet)
	}
	if len(addresses) > 0 {
		dst = appendBytesField(dst, addressesField, addresses)
	}
	return dst
}

// SignalMessageSize is the exact size of a serialized SignalMessage with
// these field values and sizes, MAC included.
func SignalMessageSize(counter, previousCounter uint32, ciphertextLen, pqLen, addressesLen int) int {
	n := 1 + protowire.SizeTag(ratchetKeyField) + protowire.SizeBytes(PublicKeySize)
	n += sizeUint32Field(counterField, counter)
	n += sizeUint32Field(previousCounterField, previousCounter)
	n += protowire.SizeTag(ciphertextField) + protowire.SizeBytes(ciphertextLen)
	if pqLen > 0 {
		n += protowire.SizeTag(pqRatchetField) + protowire.SizeBytes(pqLen)
	}
	if addressesLen > 0 {
		n += protowire.SizeTag(addressesField) + protowire.SizeBytes(addressesLen)
	}
	return n + MACSize
}
