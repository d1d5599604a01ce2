package braid

import (
	"fmt"

	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
)

// Sizes of the four erasure-coded streams of an epoch.
const (
	hdrStreamSize = incmlkem.HeaderSize + macSize // ρ || H(ek) || MAC_hdr: 3 chunks
	ekStreamSize  = incmlkem.EKVectorSize         // ByteEncode12(t̂): 36 chunks
	ct1StreamSize = incmlkem.Ct1Size              // 30 chunks
	ct2StreamSize = incmlkem.Ct2Size + macSize    // ct2 || MAC_ct: 5 chunks
	seedSize      = 64                            // ML-KEM-768 key seed d || z
)

// maxEpoch bounds the epoch of a state (and so of the messages it accepts)
// far beyond reach (an epoch takes tens of messages), so that e+1 never
// overflows.
const maxEpoch = 1 << 62

// State is one party's braid state. Send and Recv return a new State and
// leave the receiver as it was, so a caller can keep the old one until it
// decides to commit; only Wipe and UnmarshalBinary write to a State, so
// states may be read concurrently. States share no secret memory (only
// immutable public parts), so Wipe on one never affects another.
//
// Which fields are set depends on kind (the table in the package
// documentation); every transition builds the next state with exactly the
// fields it needs, so nothing from an earlier state lingers.
type State struct {
	dir   Direction
	kind  Kind
	epoch uint64
	auth  authenticator

	// seed is the ML-KEM-768 key seed d || z of the epoch's key pair
	// (send_ek, from KeysSampled on).
	seed [seedSize]byte
	// enc is the outgoing stream (header, ek, ct1 or ct2) and next the
	// index of the next chunk to send. Encoders are immutable and shared.
	enc  *erasure.Encoder
	next uint16
	// dec collects the incoming stream (header, ek, ct1 or ct2).
	dec *erasure.Decoder
	// ct1 is the epoch's ct1 once known (send_ek from Ct1Received, send_ct
	// from Ct1Sampled). Public and never modified: states share it.
	ct1 *[incmlkem.Ct1Size]byte
	// header is the peer's header (HeaderReceived); from Ct1Sampled on it
	// lives in es.
	header incmlkem.Header
	// es is the encapsulation state of Encaps1 (Ct1Sampled,
	// EkReceivedCt1Sampled, Ct1Acknowledged).
	es incmlkem.EncapsState
	// ek is the party's own ek vector (KeysSampled) or the peer's checked
	// one (EkReceivedCt1Sampled). Public and never modified: states share
	// it.
	ek *[incmlkem.EKVectorSize]byte
}

// New returns the initial state of a session's braid: authKey is the SPQR
// key from PQXDH (the same 32 bytes that start the SPQR symmetric chain),
// dir the party's side. A2B starts as the ek sender in KeysUnsampled(1),
// B2A as the ct sender in NoHeaderReceived(1).
func New(authKey *[32]byte, dir Direction) *State {
	if dir != A2B && dir != B2A {
		panic("braid: invalid direction")
	}
	s := &State{dir: dir, epoch: 1, auth: newAuthenticator(authKey)}
	if dir == A2B {
		s.kind = KeysUnsampled
	} else {
		s.kind = NoHeaderReceived
		s.dec = erasure.NewDecoder(hdrStreamSize)
	}
	return s
}

// Epoch returns the state's epoch: every message it sends carries it.
func (s *State) Epoch() uint64 { return s.epoch }

// Kind returns the state's name.
func (s *State) Kind() Kind { return s.kind }

// Role returns the party's role in the current epoch.
func (s *State) Role() Role { return s.kind.Role() }

// Direction returns the party's side.
func (s *State) Direction() Direction { return s.dir }

// clone returns an independent copy of s: secrets are copied, the decoder
// is cloned, the immutable public parts (encoder, ct1, ek) are shared.
func (s *State) clone() *State {
	c := *s
	if s.dec != nil {
		c.dec = s.dec.Clone()
	}
	return &c
}

// successor returns a new state of kind k in epoch e that keeps only the
// direction and the authenticator of s; the caller sets the fields k needs.
func (s *State) successor(k Kind, e uint64) *State {
	return &State{dir: s.dir, kind: k, epoch: e, auth: s.auth}
}

// Wipe zeroes the secrets of s (the authenticator keys, the key seed, the
// encapsulation state) and makes it unusable. Use it on a state the caller
// drops: the old state after committing a new one, or a new one not
// committed. Go gives no guarantee that no other copy of these bytes
// exists (the garbage collector may have moved them, and crypto/mlkem's
// key objects, which this package creates and drops, cannot be wiped).
func (s *State) Wipe() {
	s.auth.wipe()
	clear(s.seed[:])
	s.es.Wipe()
	s.kind = 0
	s.enc, s.dec = nil, nil
}

// String shows the state's name and epoch, which are not secret, and
// nothing else.
func (s *State) String() string {
	if s == nil {
		return "braid.State(nil)"
	}
	return fmt.Sprintf("braid.State{%v %v epoch %d, REDACTED}", s.dir, s.kind, s.epoch)
}

// GoString redacts the state.
func (s *State) GoString() string { return s.String() }

// Format redacts the state under every verb.
func (s *State) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }
