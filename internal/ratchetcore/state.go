package ratchetcore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/wire"
)

// Bounds on what a peer can make a State store or compute, libsignal's
// constants (internal/wire/WIRE.md §9).
const (
	// MaxForwardJump is how far ahead of its chain a message counter may
	// be; further messages fail with ErrTooFarAhead.
	MaxForwardJump = 25000
	// MaxSkippedKeys is how many skipped message keys are stored per
	// receiver chain; the oldest is evicted first.
	MaxSkippedKeys = 2000
	// MaxReceiverChains is how many receiver chains a State keeps; the
	// oldest is evicted first.
	MaxReceiverChains = 5
)

const identitySize = curve.PublicKeySize

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
func (k InitialKeys) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// InitiatorParams are the inputs of the session initiator ("Alice", the
// party that processed a prekey bundle).
type InitiatorParams struct {
	Keys InitialKeys
	// TheirRatchetKey is the responder's signed prekey.
	TheirRatchetKey *curve.PublicKey
	// LocalIdentity and RemoteIdentity are the two identity keys, which
	// every message's MAC covers.
	LocalIdentity, RemoteIdentity *curve.PublicKey
}

// ResponderParams are the inputs of the session responder ("Bob", the party
// that received a PreKeySignalMessage).
type ResponderParams struct {
	Keys InitialKeys
	// OurRatchetKey is the responder's signed prekey pair.
	OurRatchetKey *curve.PrivateKey
	// LocalIdentity and RemoteIdentity are the two identity keys.
	LocalIdentity, RemoteIdentity *curve.PublicKey
}

// State is one party's Double Ratchet and SPQR state for one session
// (Double Ratchet section 3.2, with the SPQR chain of section 5).
//
// Encrypt and Decrypt change the State only when they succeed: a message
// that fails to decrypt for any reason leaves it, and its MarshalBinary
// encoding, exactly as it was. A State is not safe for concurrent use, and
// a copy made by assignment shares its slices: use Clone.
type State struct {
	localIdentity, remoteIdentity [identitySize]byte

	rootKey         rootKey
	sender          senderChain
	previousCounter uint32
	receivers       []receiverChain // oldest first, at most MaxReceiverChains
	pq              pqState
}

// senderChain is our current ratchet key pair and sending chain.
type senderChain struct {
	raw   [curve.PrivateKeySize]byte // the private key, as persisted
	priv  *curve.PrivateKey          // parsed from raw on first use; nil after UnmarshalBinary
	pub   *curve.PublicKey
	key   chainKey
	index uint32
}

func newSenderChain(priv *curve.PrivateKey, key chainKey) senderChain {
	c := senderChain{priv: priv, pub: priv.PublicKey(), key: key}
	copy(c.raw[:], priv.Bytes())
	return c
}

// privateKey returns the ratchet private key, parsing it on first use so
// that loading a state costs no scalar multiplication until a DH step needs
// the key.
func (c *senderChain) privateKey() (*curve.PrivateKey, error) {
	if c.priv == nil {
		k, err := curve.NewPrivateKey(c.raw[:])
		if err != nil {
			return nil, err
		}
		c.priv = k
	}
	return c.priv, nil
}

// receiverChain is a receiving chain for one of the peer's ratchet keys.
type receiverChain struct {
	ratchetKey *curve.PublicKey
	key        chainKey
	index      uint32       // counter of the next message in order
	skipped    []skippedKey // oldest first, at most MaxSkippedKeys
}

// skippedKey is the message-key seed of a message not yet received
// (MKSKIPPED of Double Ratchet section 3.2).
type skippedKey struct {
	index uint32
	seed  messageKeySeed
}

// NewInitiator creates the initiator's state (Double Ratchet section 3.3,
// RatchetInitAlice, with libsignal's PQXDH parameters): it generates a
// sending ratchet key S and derives the first sending chain from DH(S, their
// ratchet key); the PQXDH chain key becomes the receiving chain of the
// responder's signed prekey.
//
// The sending ratchet key is drawn from r; nil means crypto/rand. Only the
// module's tests and vector verifier pass anything else.
func NewInitiator(p *InitiatorParams, r io.Reader) (*State, error) {
	if p == nil || p.TheirRatchetKey == nil || p.LocalIdentity == nil || p.RemoteIdentity == nil {
		return nil, errors.New("ratchet: missing initiator parameter")
	}
	ours, err := curve.GenerateKey(orRand(r))
	if err != nil {
		return nil, err
	}
	dh, err := ours.ECDH(p.TheirRatchetKey)
	if err != nil {
		return nil, ErrInvalidKey
	}
	root := rootKey(p.Keys.Root)
	root, sendKey := kdfRK(&root, dh)
	clear(dh)
	s := &State{
		rootKey: root,
		sender:  newSenderChain(ours, sendKey),
		receivers: []receiverChain{{
			ratchetKey: p.TheirRatchetKey,
			key:        chainKey(p.Keys.Chain),
		}},
		pq: newPQState(&p.Keys.SPQR, dirA2B),
	}
	copy(s.localIdentity[:], p.LocalIdentity.Bytes())
	copy(s.remoteIdentity[:], p.RemoteIdentity.Bytes())
	return s, nil
}

// NewResponder creates the responder's state (RatchetInitBob): the PQXDH
// root key, and a sending chain on the signed prekey with the PQXDH chain
// key. The first message received performs the first DH ratchet step.
func NewResponder(p *ResponderParams) (*State, error) {
	if p == nil || p.OurRatchetKey == nil || p.LocalIdentity == nil || p.RemoteIdentity == nil {
		return nil, errors.New("ratchet: missing responder parameter")
	}
	s := &State{
		rootKey: rootKey(p.Keys.Root),
		sender:  newSenderChain(p.OurRatchetKey, chainKey(p.Keys.Chain)),
		pq:      newPQState(&p.Keys.SPQR, dirB2A),
	}
	copy(s.localIdentity[:], p.LocalIdentity.Bytes())
	copy(s.remoteIdentity[:], p.RemoteIdentity.Bytes())
	return s, nil
}

// orRand returns r, or crypto/rand's reader when r is nil.
func orRand(r io.Reader) io.Reader {
	if r != nil {
		return r
	}
	return rand.Reader
}

// Clone returns a deep copy of s that shares nothing with it.
func (s *State) Clone() *State {
	c := *s
	c.receivers = make([]receiverChain, len(s.receivers))
	for i, r := range s.receivers {
		r.skipped = append([]skippedKey(nil), r.skipped...)
		c.receivers[i] = r
	}
	c.pq = s.pq.clone()
	return &c
}

// Wipe zeroes the secrets s holds (best effort: copies the runtime made are
// out of reach). s must not be used afterwards.
func (s *State) Wipe() {
	clear(s.rootKey[:])
	s.sender.wipe()
	for i := range s.receivers {
		s.receivers[i].wipe()
	}
	s.pq.wipe()
}

// LocalIdentity returns our identity key as the MAC covers it (33 bytes).
func (s *State) LocalIdentity() []byte { return append([]byte(nil), s.localIdentity[:]...) }

// RemoteIdentity returns the peer's identity key (33 bytes).
func (s *State) RemoteIdentity() []byte { return append([]byte(nil), s.remoteIdentity[:]...) }

// RemoteIdentityRef returns the peer's identity key without copying; the
// caller must not modify it.
func (s *State) RemoteIdentityRef() []byte { return s.remoteIdentity[:] }

// RemoteIdentityEquals reports whether the peer's identity key is key,
// without copying.
func (s *State) RemoteIdentityEquals(key []byte) bool {
	return string(s.remoteIdentity[:]) == string(key)
}

// SenderRatchetKey returns our current ratchet public key.
func (s *State) SenderRatchetKey() *curve.PublicKey { return s.sender.pub }

// Encrypt encrypts plaintext as the next message of the sending chain
// (RatchetEncrypt, Double Ratchet section 3.4) and returns the serialized
// SignalMessage. addresses, if not nil, must be AddressesSize bytes and is
// sent in the message's addresses field (libsignal sends it only in
// messages wrapped as PreKeySignalMessages).
//
// The State advances before Encrypt returns, so persist it before sending
// the message: a message key must never be used twice.
func (s *State) Encrypt(plaintext, addresses []byte) ([]byte, error) {
	return s.encrypt(plaintext, addresses, nil)
}

// encrypt is Encrypt with a hook that lets tests rewrite the SPQR message
// before it is serialized (to play a peer that sends braid chunks).
func (s *State) encrypt(plaintext, addresses []byte, tweakPQ func(*wire.SPQRMessage)) ([]byte, error) {
	if len(plaintext) > MaxPlaintextSize {
		return nil, ErrPlaintextTooLarge
	}
	if addresses != nil && len(addresses) != AddressesSize {
		return nil, errors.New("ratchet: addresses must be 36 bytes")
	}
	if s.sender.index == math.MaxUint32 {
		return nil, ErrChainExhausted
	}
	seed, nextCK := kdfCK(&s.sender.key)
	pqp := s.pq.planSend()
	mk := deriveMessageKeys(&seed, pqp.key[:])
	clear(seed[:])

	if tweakPQ != nil {
		tweakPQ(&pqp.msg)
	}
	var pqBuf [wire.MaxSPQRMessageSize]byte
	pqMsg := pqp.msg.Append(pqBuf[:0])
	ctLen := (len(plaintext)/16 + 1) * 16
	size := wire.SignalMessageSize(s.sender.index, s.previousCounter, ctLen, len(pqMsg), len(addresses))
	u := s.sender.pub.U()
	out := wire.AppendSignalMessagePrefix(make([]byte, 0, size), &u, s.sender.index, s.previousCounter, ctLen)
	out = encryptCBC(out, &mk, plaintext)
	out = wire.AppendSignalMessageSuffix(out, pqMsg, addresses)
	mac := computeMAC(&mk.macKey, &s.localIdentity, &s.remoteIdentity, out)
	out = append(out, mac[:]...)
	mk.wipe()
	clear(pqBuf[:])

	// Commit: nothing can fail past this point.
	s.sender.key = nextCK
	s.sender.index++
	s.pq.applySend(&pqp)
	pqp.wipe()
	return out, nil
}
