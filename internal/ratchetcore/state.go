package ratchet

import (
	"crypto/rand"
	"errors"
	"io"
	"math"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/detrand"
)

// Bounds on what a peer can make a State store or compute, libsignal's
// constants (rust/protocol/src/consts.rs).
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

// ErrChainExhausted is returned by Encrypt when the sending chain has used
// all 2^32 counters (a new session is needed).
var ErrChainExhausted = errors.New("ratchet: sending chain exhausted")

// ErrAddressMismatch is returned by Decrypt when a message carries an
// addresses field that differs from the expected sender and recipient.
var ErrAddressMismatch = errors.New("ratchet: message addresses do not match")

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

// InitiatorParams are the inputs of the session initiator ("Alice", the
// party that processed a prekey bundle).
type InitiatorParams struct {
	Keys InitialKeys
	// TheirRatchetKey is the responder's signed prekey.
	TheirRatchetKey *curve.PublicKey
	// LocalIdentity and RemoteIdentity are the two identity keys, which
	// every message's MAC covers.
	LocalIdentity, RemoteIdentity *curve.PublicKey

	rand io.Reader
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

func init() {
	detrand.Register(func(s *State, r io.Reader) { s.rand = r })
	detrand.Register(func(p *InitiatorParams, r io.Reader) { p.rand = r })
}

// State is one party's Double Ratchet and SPQR state for one session.
//
// Encrypt and Decrypt change the State only when they succeed: a message
// that fails to decrypt for any reason leaves it, and its MarshalBinary
// encoding, exactly as it was. A State is not safe for concurrent use.
type State struct {
	localIdentity, remoteIdentity [identitySize]byte

	rootKey         [keySize]byte
	sender          senderChain
	previousCounter uint32
	receivers       []receiverChain // oldest first, at most MaxReceiverChains
	pq              pqState

	rand io.Reader // nil means crypto/rand
}

// senderChain is our current ratchet key pair and sending chain.
type senderChain struct {
	raw   [curve.PrivateKeySize]byte // the private key, as persisted
	priv  *curve.PrivateKey          // parsed from raw on first use; nil after UnmarshalBinary
	pub   *curve.PublicKey
	key   [keySize]byte
	index uint32
}

func newSenderChain(priv *curve.PrivateKey, key [keySize]byte) senderChain {
	c := senderChain{priv: priv, pub: priv.PublicKey(), key: key}
	copy(c.raw[:], priv.Bytes())
	return c
}

// privateKey returns the ratchet private key, parsing it on first use so
// that loading a state costs no scalar multiplication.
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
	key        [keySize]byte
	index      uint32       // counter of the next message in order
	skipped    []skippedKey // oldest first, at most MaxSkippedKeys
}

// skippedKey is the message-key seed of a message not yet received. Seeds,
// not final keys, are stored because the final keys also depend on the SPQR
// key the message carries.
type skippedKey struct {
	index uint32
	seed  [keySize]byte
}

// NewInitiator creates the initiator's state (Double Ratchet §3.3 with
// libsignal's PQXDH parameters): it generates a sending ratchet key S and
// derives the first sending chain from DH(S, their ratchet key); the
// PQXDH chain key becomes the receiving chain of the responder's signed
// prekey.
func NewInitiator(p *InitiatorParams) (*State, error) {
	if p.TheirRatchetKey == nil || p.LocalIdentity == nil || p.RemoteIdentity == nil {
		return nil, errors.New("ratchet: missing initiator parameter")
	}
	r := p.rand
	if r == nil {
		r = rand.Reader
	}
	ours, err := curve.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	dh, err := ours.ECDH(p.TheirRatchetKey)
	if err != nil {
		return nil, err
	}
	root, sendKey := kdfRK(&p.Keys.Root, dh)
	clear(dh)
	s := &State{
		rootKey: root,
		sender:  newSenderChain(ours, sendKey),
		receivers: []receiverChain{{
			ratchetKey: p.TheirRatchetKey,
			key:        p.Keys.Chain,
		}},
		pq: newPQState(&p.Keys.SPQR, dirA2B),
	}
	copy(s.localIdentity[:], p.LocalIdentity.Bytes())
	copy(s.remoteIdentity[:], p.RemoteIdentity.Bytes())
	return s, nil
}

// NewResponder creates the responder's state: the PQXDH root key, and a
// sending chain on the signed prekey with the PQXDH chain key. The first
// message received performs the first DH ratchet step.
func NewResponder(p *ResponderParams) (*State, error) {
	if p.OurRatchetKey == nil || p.LocalIdentity == nil || p.RemoteIdentity == nil {
		return nil, errors.New("ratchet: missing responder parameter")
	}
	s := &State{
		rootKey: p.Keys.Root,
		sender:  newSenderChain(p.OurRatchetKey, p.Keys.Chain),
		pq:      newPQState(&p.Keys.SPQR, dirB2A),
	}
	copy(s.localIdentity[:], p.LocalIdentity.Bytes())
	copy(s.remoteIdentity[:], p.RemoteIdentity.Bytes())
	return s, nil
}

func (s *State) rng() io.Reader {
	if s.rand != nil {
		return s.rand
	}
	return rand.Reader
}

// LocalIdentity returns our identity key as the MAC covers it (33 bytes).
func (s *State) LocalIdentity() []byte { return append([]byte(nil), s.localIdentity[:]...) }

// RemoteIdentity returns the peer's identity key (33 bytes).
func (s *State) RemoteIdentity() []byte { return append([]byte(nil), s.remoteIdentity[:]...) }

// SenderRatchetKey returns our current ratchet public key.
func (s *State) SenderRatchetKey() *curve.PublicKey { return s.sender.pub }

// Encrypt encrypts plaintext as the next message of the sending chain and
// returns the serialized SignalMessage. addresses, if not nil, must be
// AddressesSize bytes and is sent in the message's addresses field (libsignal
// sends it only in messages wrapped as PreKeySignalMessages).
//
// The State advances before Encrypt returns, so persist it before sending
// the message: a message key must never be used twice.
func (s *State) Encrypt(plaintext, addresses []byte) ([]byte, error) {
	return s.encrypt(plaintext, addresses, nil)
}

// encrypt is Encrypt with a hook that lets tests rewrite the SPQR message
// before it is serialized (to play a peer that sends braid chunks).
func (s *State) encrypt(plaintext, addresses []byte, tweakPQ func(*pqMessage)) ([]byte, error) {
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
	var pqBuf [64]byte
	pqMsg := appendPQMessage(pqBuf[:0], &pqp.msg)
	ctLen := (len(plaintext)/16 + 1) * 16
	size := signalMessageSize(s.sender.index, s.previousCounter, ctLen, len(pqMsg), len(addresses))
	out := make([]byte, 0, size)
	ciphertext := encryptCBC(make([]byte, 0, ctLen), &mk, plaintext)
	out = appendSignalMessage(out, s.sender.pub, s.sender.index, s.previousCounter, ciphertext, pqMsg, addresses)
	mac := computeMAC(&mk.macKey, &s.localIdentity, &s.remoteIdentity, out)
	out = append(out, mac[:]...)
	mk.wipe()

	// Commit: nothing can fail past this point.
	s.sender.key = nextCK
	s.sender.index++
	s.pq.applySend(&pqp)
	clear(pqp.key[:])
	return out, nil
}
