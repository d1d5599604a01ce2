package ratchetcore

import (
	"crypto/hmac"
	"errors"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kdf"
	"github.com/sotto-im/sotto/internal/wire"
)

// Wire constants of libsignal's SignalMessage (internal/wire/WIRE.md §1-2). The
// codec itself lives in internal/wire, with every other wire message.
const (
	// CurrentVersion is the only message version Sotto speaks: PQXDH and
	// SPQR, as libsignal 0.103.
	CurrentVersion = wire.CurrentVersion
	// MACSize is the size of the truncated HMAC-SHA256 that ends a
	// SignalMessage.
	MACSize = wire.MACSize
	// MaxMessageSize bounds a serialized SignalMessage; larger inputs are
	// rejected before any parsing.
	MaxMessageSize = wire.MaxSignalMessageSize
	// MaxPlaintextSize bounds what Encrypt accepts, leaving room for
	// padding, SPQR data and the framing under MaxMessageSize.
	MaxPlaintextSize = MaxMessageSize - 4096
	// AddressesSize is the size of the optional addresses field: sender
	// and recipient as 17-byte fixed-width service ids, each followed by a
	// one-byte device id.
	AddressesSize = wire.AddressesSize
)

// Message is a parsed SignalMessage with its ratchet key parsed. Parsing
// checks the framing only; the MAC is checked by State.Decrypt, which knows
// the identities it covers. Its byte slices alias the parsed input.
type Message struct {
	wire.SignalMessage
	ratchetKey *curve.PublicKey
}

// ParseMessage parses a serialized SignalMessage. It accepts only version 4
// and rejects inputs over MaxMessageSize, missing required fields (ratchet
// key, counter, ciphertext), anything internal/wire's decoder rejects, and
// ratchet keys that are not 33-byte 0x05 keys. Errors are
// ErrUnsupportedVersion for another version and ErrMalformedMessage for
// everything else.
func ParseMessage(b []byte) (*Message, error) {
	m := new(Message)
	if err := m.Parse(b); err != nil {
		return nil, err
	}
	return m, nil
}

// Parse is ParseMessage into m. On error m is left zero.
func (m *Message) Parse(b []byte) error {
	*m = Message{}
	if err := m.SignalMessage.Unmarshal(b); err != nil {
		if errors.Is(err, wire.ErrLegacyVersion) || errors.Is(err, wire.ErrUnsupportedVersion) ||
			errors.Is(err, wire.ErrUnknownVersion) {
			return ErrUnsupportedVersion
		}
		return ErrMalformedMessage
	}
	key, err := curve.ParsePublicKey(m.SignalMessage.RatchetKey)
	if err != nil {
		*m = Message{}
		return ErrMalformedMessage
	}
	m.ratchetKey = key
	return nil
}

// RatchetPublicKey returns the sender's parsed ratchet key.
func (m *Message) RatchetPublicKey() *curve.PublicKey { return m.ratchetKey }

// valid reports whether m came from Parse (a zero Message did not).
func (m *Message) valid() bool { return m != nil && m.ratchetKey != nil && m.Serialized != nil }

// computeMAC returns HMAC-SHA256(macKey, senderIdentity || receiverIdentity ||
// message) truncated to MACSize bytes, where the identities are 33-byte
// serialized public keys and message is versionByte || protobuf.
func computeMAC(macKey *macKey, sender, receiver *[identitySize]byte, message []byte) [MACSize]byte {
	sum := kdf.HMAC(macKey[:], sender[:], receiver[:], message)
	var mac [MACSize]byte
	copy(mac[:], sum[:MACSize])
	return mac
}

// verifyMAC checks the last MACSize bytes of a serialized message in
// constant time.
func verifyMAC(macKey *macKey, sender, receiver *[identitySize]byte, serialized []byte) bool {
	body := serialized[:len(serialized)-MACSize]
	want := computeMAC(macKey, sender, receiver, body)
	return hmac.Equal(want[:], serialized[len(serialized)-MACSize:])
}
