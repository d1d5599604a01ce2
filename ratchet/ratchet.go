package ratchet

import (
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/ratchetcore"
)

// Bounds on what a peer can make a State store or compute, libsignal's
// constants.
const (
	// MaxForwardJump is how far ahead of its chain a message counter may
	// be; further messages fail with ErrTooFarAhead. The SPQR chain has the
	// same bound (ErrSPQRKeyJump).
	MaxForwardJump = ratchetcore.MaxForwardJump
	// MaxSkippedKeys is how many skipped message keys are stored per
	// receiver chain; the oldest is evicted first. An SPQR index further
	// behind than this fails with ErrSPQRKeyTrimmed.
	MaxSkippedKeys = ratchetcore.MaxSkippedKeys
	// MaxReceiverChains is how many receiver chains a State keeps; the
	// oldest is evicted first.
	MaxReceiverChains = ratchetcore.MaxReceiverChains
)

// InitialKeys is the output of the key agreement (PQXDH) that seeds a
// session: root key, first chain key and the SPQR authentication key, bytes
// [0:32], [32:64] and [64:96] of the PQXDH HKDF output.
type InitialKeys struct {
	Root, Chain, SPQR [32]byte
}

// Wipe zeroes the keys.
func (k *InitialKeys) Wipe() {
	clear(k.Root[:])
	clear(k.Chain[:])
	clear(k.SPQR[:])
}

// String redacts the keys.
func (k InitialKeys) String() string { return "ratchet.InitialKeys{REDACTED}" }

// GoString redacts the keys.
func (k InitialKeys) GoString() string { return k.String() }

// Format redacts the keys under every verb.
func (k InitialKeys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// InitiatorParams are the inputs of the session initiator ("Alice", the
// party that processed a prekey bundle). All keys are X25519 keys.
type InitiatorParams struct {
	Keys InitialKeys
	// TheirRatchetKey is the responder's signed prekey.
	TheirRatchetKey *ecdh.PublicKey
	// LocalIdentity and RemoteIdentity are the two identity keys, which
	// every message's MAC covers in their serialized form 0x05 || u.
	LocalIdentity, RemoteIdentity *ecdh.PublicKey
}

// ResponderParams are the inputs of the session responder ("Bob", the party
// that received a PreKeySignalMessage). All keys are X25519 keys.
type ResponderParams struct {
	Keys InitialKeys
	// OurRatchetKey is the responder's signed prekey pair.
	OurRatchetKey *ecdh.PrivateKey
	// LocalIdentity and RemoteIdentity are the two identity keys.
	LocalIdentity, RemoteIdentity *ecdh.PublicKey
}

// ErrInvalidParams is returned by NewInitiator and NewResponder for a
// missing key or one that is not an X25519 key.
var ErrInvalidParams = errors.New("ratchet: missing or non-X25519 key in parameters")

// State is one party's Double Ratchet and SPQR state for one session.
//
// Encrypt and Decrypt change the State only when they succeed: a message
// that fails to decrypt for any reason leaves it, and its MarshalBinary
// encoding, exactly as it was. A State is not safe for concurrent use.
//
// A State must not be copied (go vet reports copies): a copy would share
// the original's skipped keys. Clone makes an independent one.
type State struct {
	_ noCopy
	s ratchetcore.State
}

// noCopy makes go vet's copylocks check report copies of a State.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// NewInitiator creates the initiator's state (Double Ratchet section 3.3
// with libsignal's PQXDH parameters): it generates a sending ratchet key S
// and derives the first sending chain from DH(S, their ratchet key); the
// PQXDH chain key becomes the receiving chain of the responder's signed
// prekey.
func NewInitiator(p *InitiatorParams) (*State, error) {
	if p == nil {
		return nil, ErrInvalidParams
	}
	their, err1 := publicKey(p.TheirRatchetKey)
	local, err2 := publicKey(p.LocalIdentity)
	remote, err3 := publicKey(p.RemoteIdentity)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, ErrInvalidParams
	}
	cp := ratchetcore.InitiatorParams{Keys: ratchetcore.InitialKeys(p.Keys), TheirRatchetKey: their,
		LocalIdentity: local, RemoteIdentity: remote}
	defer cp.Keys.Wipe()
	s, err := ratchetcore.NewInitiator(&cp, rand.Reader)
	if err != nil {
		return nil, err
	}
	return wrap(s), nil
}

// NewResponder creates the responder's state: the PQXDH root key, and a
// sending chain on the signed prekey with the PQXDH chain key. The first
// message received performs the first DH ratchet step.
func NewResponder(p *ResponderParams) (*State, error) {
	if p == nil || p.OurRatchetKey == nil || p.OurRatchetKey.Curve() != ecdh.X25519() {
		return nil, ErrInvalidParams
	}
	local, err1 := publicKey(p.LocalIdentity)
	remote, err2 := publicKey(p.RemoteIdentity)
	if errors.Join(err1, err2) != nil {
		return nil, ErrInvalidParams
	}
	raw := p.OurRatchetKey.Bytes()
	defer clear(raw)
	ours, err := curve.NewPrivateKey(raw)
	if err != nil {
		return nil, ErrInvalidParams
	}
	cp := ratchetcore.ResponderParams{Keys: ratchetcore.InitialKeys(p.Keys), OurRatchetKey: ours,
		LocalIdentity: local, RemoteIdentity: remote}
	defer cp.Keys.Wipe()
	s, err := ratchetcore.NewResponder(&cp)
	if err != nil {
		return nil, err
	}
	return wrap(s), nil
}

// publicKey converts an X25519 crypto/ecdh key.
func publicKey(k *ecdh.PublicKey) (*curve.PublicKey, error) {
	if k == nil || k.Curve() != ecdh.X25519() {
		return nil, ErrInvalidParams
	}
	return curve.NewPublicKeyFromU(k.Bytes())
}

// wrap moves a new core state, which nothing else references, into a State.
func wrap(c *ratchetcore.State) *State {
	s := new(State)
	s.s = *c
	return s
}

// Encrypt encrypts plaintext as the next message of the sending chain and
// returns the serialized SignalMessage. addresses, if not nil, must be
// AddressesSize bytes and is sent in the message's addresses field (libsignal
// sends it only in messages wrapped as PreKeySignalMessages).
//
// The State advances before Encrypt returns, so persist it before sending
// the message: a message key must never be used twice.
func (s *State) Encrypt(plaintext, addresses []byte) ([]byte, error) {
	return s.s.Encrypt(plaintext, addresses)
}

// Decrypt authenticates and decrypts a serialized SignalMessage.
//
// expectedAddresses is what the message's addresses field must equal if it
// has one (AddressesSize bytes: sender then recipient); a message without
// the field is accepted, as by libsignal. Pass nil if the addresses are not
// service ids, in which case a message carrying the field is rejected.
//
// On any error the State is unchanged. Every error a message can cause
// matches one of ErrMalformedMessage, ErrUnsupportedVersion,
// ErrAddressMismatch, ErrDuplicateMessage, ErrTooFarAhead, ErrSPQR (with a
// reason), ErrAuthentication, ErrBadPadding and ErrInvalidKey.
func (s *State) Decrypt(message, expectedAddresses []byte) ([]byte, error) {
	return s.s.Decrypt(message, expectedAddresses, rand.Reader)
}

// DecryptMessage is Decrypt for an already parsed message. A SignalMessage
// not made by ParseSignalMessage fails with ErrMalformedMessage.
func (s *State) DecryptMessage(m *SignalMessage, expectedAddresses []byte) ([]byte, error) {
	if m == nil {
		return nil, ErrMalformedMessage
	}
	return s.s.DecryptMessage(&m.m, expectedAddresses, rand.Reader)
}

// Clone returns an independent deep copy of s.
func (s *State) Clone() *State {
	c := new(State)
	c.s = *s.s.Clone()
	return c
}

// MarshalBinary encodes the state, secrets included: store it encrypted.
func (s *State) MarshalBinary() ([]byte, error) { return s.s.MarshalBinary() }

// AppendBinary appends the encoding of the state to b.
func (s *State) AppendBinary(b []byte) ([]byte, error) { return s.s.AppendBinary(b) }

// UnmarshalBinary decodes a state written by MarshalBinary, replacing s. It
// checks the prefix, every length and bound, and that no bytes are left
// over; any failure returns ErrMalformedState and leaves s unchanged.
func (s *State) UnmarshalBinary(data []byte) error { return s.s.UnmarshalBinary(data) }

// LocalIdentity returns our identity key as the MAC covers it (33 bytes,
// 0x05 || u).
func (s *State) LocalIdentity() []byte { return s.s.LocalIdentity() }

// RemoteIdentity returns the peer's identity key (33 bytes).
func (s *State) RemoteIdentity() []byte { return s.s.RemoteIdentity() }

// SenderRatchetKey returns our current ratchet public key.
func (s *State) SenderRatchetKey() *ecdh.PublicKey {
	u := s.s.SenderRatchetKey().U()
	k, err := ecdh.X25519().NewPublicKey(u[:])
	if err != nil {
		panic("ratchet: " + err.Error()) // any 32 bytes are an X25519 public key
	}
	return k
}

// String redacts the state: it holds secrets.
func (s *State) String() string { return "ratchet.State{REDACTED}" }

// GoString redacts the state.
func (s *State) GoString() string { return s.String() }

// Format redacts the state under every verb.
func (s *State) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
