package relay

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Address names one device of one user, as session.Address does.
type Address struct {
	Name     string `json:"name"`
	DeviceID uint32 `json:"device_id"`
}

// String returns "name.device", as session.Address does.
func (a Address) String() string { return a.Name + "." + strconv.FormatUint(uint64(a.DeviceID), 10) }

// MaxNameSize bounds the length of an address's name, in bytes (the bound of
// session.Address).
const MaxNameSize = 1024

// valid reports whether a can be registered: a non-empty name of valid UTF-8
// (names travel as JSON strings, which cannot carry other bytes unchanged),
// at most MaxNameSize bytes, and a non-zero device id.
func (a Address) valid() bool {
	return a.Name != "" && len(a.Name) <= MaxNameSize && utf8.ValidString(a.Name) && a.DeviceID != 0
}

// ChallengePrefix is prepended to every challenge before it is signed, so that
// an authentication signature can never be taken for a prekey signature or
// any other use of the identity key. It equals session.ChallengePrefix.
const ChallengePrefix = "sotto-relay-auth-v1\x00"

// Signer proves possession of an identity key; *session.Account satisfies it.
type Signer interface {
	// IdentityKey returns the 33-byte serialized X25519 key (0x05 || u).
	IdentityKey() []byte
	// SignChallenge returns the XEdDSA signature by the identity key over
	// ChallengePrefix || challenge.
	SignChallenge(challenge []byte) ([]byte, error)
}

// PreKey is the public part of a one-time EC prekey.
type PreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"` // 33 bytes: 0x05 || u
}

// SignedPreKey is the public part of a signed EC prekey.
type SignedPreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"` // 33 bytes: 0x05 || u
	Signature []byte `json:"signature"`  // XEdDSA by the identity key over PublicKey
}

// KyberPreKey is the public part of a signed Kyber1024 prekey, one-time or
// last-resort.
type KyberPreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"` // 1569 bytes: 0x08 || key
	Signature []byte `json:"signature"`  // XEdDSA by the identity key over PublicKey
}

// Keys is what a device uploads so that others can start sessions with it.
// Nil or zero fields are left as they are on the relay: RegistrationID 0
// keeps the stored one, a nil SignedPreKey or LastResortKyber keeps the
// current one, and the one-time keys are added to those already there (a
// key with the id of one already there replaces it).
type Keys struct {
	RegistrationID  uint32        `json:"registration_id,omitempty"`
	SignedPreKey    *SignedPreKey `json:"signed_prekey,omitempty"`
	LastResortKyber *KyberPreKey  `json:"last_resort_kyber,omitempty"`
	PreKeys         []PreKey      `json:"prekeys,omitempty"`
	KyberPreKeys    []KyberPreKey `json:"kyber_prekeys,omitempty"`
}

// Bundle is the prekey bundle the relay hands out for one device: the same
// fields as session.Bundle, so that one converts to the other field by field.
type Bundle struct {
	RegistrationID uint32 `json:"registration_id"`
	DeviceID       uint32 `json:"device_id"`

	// PreKeyID and PreKey are a one-time EC prekey; PreKey is nil when the
	// device has none left.
	PreKeyID uint32 `json:"prekey_id,omitempty"`
	PreKey   []byte `json:"prekey,omitempty"`

	SignedPreKeyID        uint32 `json:"signed_prekey_id"`
	SignedPreKey          []byte `json:"signed_prekey"`
	SignedPreKeySignature []byte `json:"signed_prekey_signature"`

	IdentityKey []byte `json:"identity_key"`

	// The Kyber prekey is a one-time key while the device has one, and its
	// last-resort key after that.
	KyberPreKeyID        uint32 `json:"kyber_prekey_id"`
	KyberPreKey          []byte `json:"kyber_prekey"`
	KyberPreKeySignature []byte `json:"kyber_prekey_signature"`
}

// Envelope is one message in a mailbox. Body is the ciphertext exactly as
// the sender gave it; Type travels with it unchanged (session.MessageType).
type Envelope struct {
	ID       string    `json:"id"` // chosen by the relay: unique, opaque
	From     Address   `json:"from"`
	Type     uint8     `json:"type"`
	Body     []byte    `json:"body"`
	Received time.Time `json:"received"` // when the relay accepted it, to the millisecond
}
