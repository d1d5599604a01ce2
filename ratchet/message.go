package ratchet

import (
	"bytes"
	"crypto/ecdh"

	"github.com/sotto-im/sotto/internal/ratchetcore"
)

// Wire constants of libsignal's SignalMessage.
const (
	// CurrentVersion is the only message version Sotto speaks: PQXDH and
	// SPQR, as libsignal 0.103.
	CurrentVersion = ratchetcore.CurrentVersion
	// MACSize is the size of the truncated HMAC-SHA256 that ends a
	// SignalMessage.
	MACSize = ratchetcore.MACSize
	// MaxMessageSize bounds a serialized SignalMessage; larger inputs are
	// rejected before any parsing.
	MaxMessageSize = ratchetcore.MaxMessageSize
	// MaxPlaintextSize bounds what Encrypt accepts, leaving room for
	// padding, SPQR data and the framing under MaxMessageSize.
	MaxPlaintextSize = ratchetcore.MaxPlaintextSize
	// AddressesSize is the size of the optional addresses field: sender
	// and recipient as 17-byte fixed-width service ids, each followed by a
	// one-byte device id.
	AddressesSize = ratchetcore.AddressesSize
)

// SignalMessage is a parsed Double Ratchet message:
// versionByte || protobuf || MAC[8]. Parsing checks the framing only; the
// MAC is checked by State.DecryptMessage, which knows the identities it
// covers. The zero SignalMessage is not a message: DecryptMessage rejects it.
type SignalMessage struct {
	m ratchetcore.Message
}

// ParseSignalMessage parses a serialized SignalMessage. It accepts only
// version 4 (ErrUnsupportedVersion otherwise) and fails with
// ErrMalformedMessage for input over MaxMessageSize, missing required fields
// (ratchet key, counter, ciphertext), a field of the wrong wire type or a
// ratchet key that is not a 33-byte 0x05 key. The message keeps b: do not
// modify b while the message is in use.
func ParseSignalMessage(b []byte) (*SignalMessage, error) {
	m := new(SignalMessage)
	if err := m.m.Parse(b); err != nil {
		return nil, err
	}
	return m, nil
}

// Version returns the message version (always CurrentVersion).
func (m *SignalMessage) Version() int { return int(m.m.Version) }

// RatchetKey returns the sender's current ratchet public key, or nil for a
// zero SignalMessage.
func (m *SignalMessage) RatchetKey() *ecdh.PublicKey {
	k := m.m.RatchetPublicKey()
	if k == nil {
		return nil
	}
	u := k.U()
	pub, err := ecdh.X25519().NewPublicKey(u[:])
	if err != nil {
		panic("ratchet: " + err.Error()) // any 32 bytes are an X25519 public key
	}
	return pub
}

// Counter returns the message's index in the sender's chain.
func (m *SignalMessage) Counter() uint32 { return m.m.Counter }

// PreviousCounter returns the length of the sender's previous chain,
// carried for compatibility and not used for decryption.
func (m *SignalMessage) PreviousCounter() uint32 { return m.m.PreviousCounter }

// Ciphertext returns a copy of the AES-256-CBC ciphertext.
func (m *SignalMessage) Ciphertext() []byte { return bytes.Clone(m.m.Ciphertext) }

// PQRatchet returns a copy of the SPQR message (never empty in a message
// that decrypts).
func (m *SignalMessage) PQRatchet() []byte { return bytes.Clone(m.m.PQRatchet) }

// Addresses returns a copy of the addresses field, nil if the message has
// none.
func (m *SignalMessage) Addresses() []byte { return bytes.Clone(m.m.Addresses) }

// Bytes returns the serialized message as parsed. It aliases the input.
func (m *SignalMessage) Bytes() []byte { return m.m.Serialized }
