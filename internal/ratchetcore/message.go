package ratchet

import (
	"crypto/hmac"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kdf"
)

// Wire constants of libsignal's SignalMessage (rust/protocol/src/protocol.rs).
const (
	// CurrentVersion is the only message version Sotto speaks: PQXDH and
	// SPQR, as libsignal 0.103.
	CurrentVersion = 4
	// versionByte is ((message version & 0xF) << 4) | current version.
	versionByte = CurrentVersion<<4 | CurrentVersion
	// MACSize is the size of the truncated HMAC-SHA256 that ends a
	// SignalMessage.
	MACSize = 8
	// MaxMessageSize bounds a serialized SignalMessage; larger inputs are
	// rejected before any parsing.
	MaxMessageSize = 1 << 20
	// MaxPlaintextSize bounds what Encrypt accepts, leaving room for
	// padding, SPQR data and the framing under MaxMessageSize.
	MaxPlaintextSize = MaxMessageSize - 4096
	// AddressesSize is the size of the optional addresses field: sender
	// and recipient as 17-byte fixed-width service ids, each followed by a
	// one-byte device id.
	AddressesSize = 36
)

// Protobuf field numbers of SignalMessage (wire.proto).
const (
	fieldRatchetKey      = 1
	fieldCounter         = 2
	fieldPreviousCounter = 3
	fieldCiphertext      = 4
	fieldPQRatchet       = 5
	fieldAddresses       = 6
)

// SignalMessage is a parsed Double Ratchet message:
// versionByte || protobuf || MAC[8]. Parsing checks the framing only; the
// MAC is checked by State.Decrypt, which knows the identities it covers.
type SignalMessage struct {
	// Version is the message version from the high nibble of the first byte.
	Version int
	// RatchetKey is the sender's current ratchet public key.
	RatchetKey *curve.PublicKey
	// Counter is the message's index in the sender's chain.
	Counter uint32
	// PreviousCounter is the length of the sender's previous chain (carried
	// for compatibility; not used for decryption).
	PreviousCounter uint32
	// Ciphertext is the AES-256-CBC ciphertext.
	Ciphertext []byte
	// PQRatchet is the SPQR message (never empty in a valid v4 message).
	PQRatchet []byte
	// Addresses, when present, binds the message to sender and recipient
	// addresses (AddressesSize bytes).
	Addresses []byte

	serialized []byte // the whole message as received
}

// Bytes returns the serialized message. It aliases the parsed input.
func (m *SignalMessage) Bytes() []byte { return m.serialized }

// ParseSignalMessage parses a serialized SignalMessage. It accepts only
// version 4 and rejects inputs over MaxMessageSize, missing required fields
// (ratchet key, counter, ciphertext), fields of the wrong wire type, counters
// over 32 bits and ratchet keys that are not 33-byte 0x05 keys. Unknown fields
// are skipped, and a repeated field keeps its last value, as in protobuf.
func ParseSignalMessage(b []byte) (*SignalMessage, error) {
	if len(b) > MaxMessageSize {
		return nil, ErrMalformedMessage
	}
	if len(b) < 1+MACSize {
		return nil, ErrMalformedMessage
	}
	if v := int(b[0] >> 4); v != CurrentVersion {
		return nil, ErrUnsupportedVersion
	}
	m := &SignalMessage{Version: CurrentVersion, serialized: b}
	body := b[1 : len(b)-MACSize]
	var haveKey, haveCounter, haveCiphertext bool
	var rawKey []byte
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, ErrMalformedMessage
		}
		body = body[n:]
		switch num {
		case fieldRatchetKey, fieldCiphertext, fieldPQRatchet, fieldAddresses:
			if typ != protowire.BytesType {
				return nil, ErrMalformedMessage
			}
			v, n := protowire.ConsumeBytes(body)
			if n < 0 {
				return nil, ErrMalformedMessage
			}
			body = body[n:]
			switch num {
			case fieldRatchetKey:
				rawKey, haveKey = v, true
			case fieldCiphertext:
				m.Ciphertext, haveCiphertext = v, true
			case fieldPQRatchet:
				m.PQRatchet = v
			case fieldAddresses:
				m.Addresses = v
			}
		case fieldCounter, fieldPreviousCounter:
			if typ != protowire.VarintType {
				return nil, ErrMalformedMessage
			}
			v, n := protowire.ConsumeVarint(body)
			if n < 0 || v > 0xFFFFFFFF {
				return nil, ErrMalformedMessage
			}
			body = body[n:]
			if num == fieldCounter {
				m.Counter, haveCounter = uint32(v), true
			} else {
				m.PreviousCounter = uint32(v)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, body)
			if n < 0 {
				return nil, ErrMalformedMessage
			}
			body = body[n:]
		}
	}
	if !haveKey || !haveCounter || !haveCiphertext {
		return nil, ErrMalformedMessage
	}
	if m.Addresses != nil && len(m.Addresses) != AddressesSize {
		return nil, ErrMalformedMessage
	}
	key, err := curve.ParsePublicKey(rawKey)
	if err != nil {
		return nil, ErrMalformedMessage
	}
	m.RatchetKey = key
	return m, nil
}

// appendSignalMessage serializes a SignalMessage without its MAC into dst,
// fields in tag order, and returns the extended slice. The caller appends
// the MAC. dst should have capacity for the MAC too.
func appendSignalMessage(dst []byte, ratchetKey *curve.PublicKey, counter, previousCounter uint32,
	ciphertext, pqRatchet, addresses []byte) []byte {
	dst = append(dst, versionByte)
	dst = protowire.AppendTag(dst, fieldRatchetKey, protowire.BytesType)
	dst = protowire.AppendVarint(dst, curve.PublicKeySize)
	dst = ratchetKey.AppendBytes(dst)
	dst = protowire.AppendTag(dst, fieldCounter, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(counter))
	dst = protowire.AppendTag(dst, fieldPreviousCounter, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(previousCounter))
	dst = protowire.AppendTag(dst, fieldCiphertext, protowire.BytesType)
	dst = protowire.AppendBytes(dst, ciphertext)
	if len(pqRatchet) > 0 {
		dst = protowire.AppendTag(dst, fieldPQRatchet, protowire.BytesType)
		dst = protowire.AppendBytes(dst, pqRatchet)
	}
	if len(addresses) > 0 {
		dst = protowire.AppendTag(dst, fieldAddresses, protowire.BytesType)
		dst = protowire.AppendBytes(dst, addresses)
	}
	return dst
}

// signalMessageSize is the exact serialized size of a message with these
// field sizes, MAC included.
func signalMessageSize(counter, previousCounter uint32, ctLen, pqLen, addrLen int) int {
	n := 1 + 1 + 1 + curve.PublicKeySize
	n += 1 + protowire.SizeVarint(uint64(counter))
	n += 1 + protowire.SizeVarint(uint64(previousCounter))
	n += 1 + protowire.SizeBytes(ctLen)
	if pqLen > 0 {
		n += 1 + protowire.SizeBytes(pqLen)
	}
	if addrLen > 0 {
		n += 1 + protowire.SizeBytes(addrLen)
	}
	return n + MACSize
}

// computeMAC returns HMAC-SHA256(macKey, senderIdentity || receiverIdentity ||
// message) truncated to MACSize bytes, where the identities are 33-byte
// serialized public keys and message is versionByte || protobuf.
func computeMAC(macKey *[32]byte, sender, receiver *[identitySize]byte, message []byte) [MACSize]byte {
	sum := kdf.HMAC(macKey[:], sender[:], receiver[:], message)
	var mac [MACSize]byte
	copy(mac[:], sum[:MACSize])
	return mac
}

// verifyMAC checks the last MACSize bytes of a serialized message in
// constant time.
func verifyMAC(macKey *[32]byte, sender, receiver *[identitySize]byte, serialized []byte) bool {
	body := serialized[:len(serialized)-MACSize]
	want := computeMAC(macKey, sender, receiver, body)
	return hmac.Equal(want[:], serialized[len(serialized)-MACSize:])
}
