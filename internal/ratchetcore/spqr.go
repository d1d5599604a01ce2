package ratchetcore

import (
	"encoding/binary"
	"errors"

	"github.com/sotto-im/sotto/internal/wire"
)

// The SPQR symmetric chain (Double Ratchet revision 3, section 5, "The
// Sparse Post-Quantum Ratchet"; its labels and rules in
// internal/wire/WIRE.md §10).
// Each chain epoch has a send and a receive KDF chain; every Signal message
// takes the next key of its chain, and that key salts the message-key HKDF.
//
// This version implements chain epoch 0, seeded from the PQXDH output, and
// the V1 wire format. Epochs are advanced by the ML-KEM braid (SCKA), which a
// later version adds as a component of pqState: its Send/Receive output
// epoch secrets that addEpoch folds into the chain. Until then Sotto sends
// "None" braid messages at epoch 1 and ignores the peer's braid chunks at
// epoch 1, which libsignal accepts indefinitely; a peer at epoch 2 or more
// yields ErrSPQRBraidRequired.

var (
	labelPQChainStart = []byte("Signal PQ Ratchet V1 Chain  Start") // two spaces, as in spqr
	labelPQChainNext  = []byte("Signal PQ Ratchet V1 Chain Next")
)

// Bounds of the SPQR chain, libsignal's chain parameters.
const (
	pqMaxJump    = MaxForwardJump
	pqMaxOOOKeys = MaxSkippedKeys
	// pqHistoryTrimAt is the history length at which old keys are dropped
	// (max_ooo*11/10+1 entries, as libsignal).
	pqHistoryTrimAt = pqMaxOOOKeys*11/10 + 1
)

// direction is an SPQR party's role: the session initiator sends A2B.
type direction uint8

const (
	dirA2B direction = 0
	dirB2A direction = 1
)

// pqKey is a stored out-of-order SPQR key.
type pqKey struct {
	index uint32
	key   [keySize]byte
}

// pqChainDir is one direction of one chain epoch.
type pqChainDir struct {
	ctr  uint32
	next [keySize]byte
	prev []pqKey // skipped keys, oldest first
}

// pqState is the SPQR state of one session. It is copied by value only
// through clone.
type pqState struct {
	dir      direction
	epoch    uint64 // current chain epoch; a message at SPQR epoch e uses chain epoch e-1
	nextRoot [keySize]byte
	send     pqChainDir
	recv     pqChainDir
}

// newPQState starts the chain from the PQXDH SPQR key: HKDF(ikm = pqrKey,
// info = "... Chain  Start", 96) -> next root, A2B chain, B2A chain.
func newPQState(pqrKey *[keySize]byte, dir direction) pqState {
	var out [3 * keySize]byte
	hkdf(out[:], nil, pqrKey[:], labelPQChainStart)
	defer clear(out[:])
	s := pqState{dir: dir}
	copy(s.nextRoot[:], out[0:32])
	a2b, b2a := out[32:64], out[64:96]
	if dir == dirA2B {
		copy(s.send.next[:], a2b)
		copy(s.recv.next[:], b2a)
	} else {
		copy(s.send.next[:], b2a)
		copy(s.recv.next[:], a2b)
	}
	return s
}

// pqChainStep is KDF_next: ctr+1 and HKDF(ikm = next, info = BE32(ctr) ||
// "Signal PQ Ratchet V1 Chain Next", 64) -> (next, key).
func pqChainStep(next *[keySize]byte, ctr uint32) (newNext, key [keySize]byte) {
	var be [4]byte
	binary.BigEndian.PutUint32(be[:], ctr)
	var out [2 * keySize]byte
	hkdf(out[:], nil, next[:], be[:], labelPQChainNext)
	copy(newNext[:], out[:32])
	copy(key[:], out[32:])
	clear(out[:])
	return newNext, key
}

// pqSendPlan is the outcome of pqState.planSend, applied only when the whole
// encryption succeeds.
type pqSendPlan struct {
	msg  wire.SPQRMessage
	ctr  uint32
	next [keySize]byte
	key  [keySize]byte
}

// planSend computes the next SPQR message and key without changing s.
func (s *pqState) planSend() pqSendPlan {
	ctr := s.send.ctr + 1
	next, key := pqChainStep(&s.send.next, ctr)
	return pqSendPlan{
		msg:  wire.SPQRMessage{Epoch: s.epoch + 1, Index: ctr, Type: wire.SPQRNone},
		ctr:  ctr,
		next: next,
		key:  key,
	}
}

func (s *pqState) applySend(p *pqSendPlan) {
	s.send.ctr = p.ctr
	s.send.next = p.next
}

func (p *pqSendPlan) wipe() {
	clear(p.next[:])
	clear(p.key[:])
}

// pqRecvPlan is the outcome of pqState.planRecv.
type pqRecvPlan struct {
	hasKey  bool
	key     [keySize]byte
	usedAt  int // index into recv.prev of a consumed stored key, or -1
	advance bool
	ctr     uint32
	next    [keySize]byte
	skipped []pqKey
}

func (p *pqRecvPlan) wipe() {
	clear(p.key[:])
	clear(p.next[:])
	clearPQKeys(p.skipped)
}

// planRecv parses an SPQR message and finds its key without changing s
// (internal/wire/WIRE.md §10: a jump of at most
// MaxForwardJump, stored keys for out-of-order messages, and keys more than
// MaxSkippedKeys behind the counter refused even while still stored).
func (s *pqState) planRecv(b []byte) (pqRecvPlan, error) {
	p := pqRecvPlan{usedAt: -1}
	var m wire.SPQRMessage
	if err := m.Unmarshal(b); err != nil {
		switch {
		case errors.Is(err, wire.ErrSPQRNone):
			return p, errSPQRMinimumVersion
		case errors.Is(err, wire.ErrSPQRVersion):
			return p, errSPQRVersion
		default:
			return p, errSPQRDecode
		}
	}
	// The braid is not implemented: any epoch beyond the first needs it.
	// Braid payloads at epoch 1 are ignored, which keeps the peer at epoch 1.
	if m.Epoch != s.epoch+1 {
		if m.Epoch > s.epoch+1 {
			return p, errSPQRBraidRequired
		}
		return p, errSPQRDecode
	}
	if m.Epoch == 1 && m.Index == 0 {
		// Epoch 1, index 0 carries no key: libsignal accepts it and uses
		// the unsalted message keys.
		return p, nil
	}
	r := &s.recv
	at := m.Index
	switch {
	case at > r.ctr:
		if at-r.ctr > pqMaxJump {
			return p, errSPQRKeyJump
		}
		next := r.next
		for i := r.ctr + 1; i < at; i++ {
			var k [keySize]byte
			next, k = pqChainStep(&next, i)
			if uint64(i)+pqMaxOOOKeys >= uint64(at) {
				p.skipped = append(p.skipped, pqKey{index: i, key: k})
			}
			clear(k[:])
		}
		p.next, p.key = pqChainStep(&next, at)
		clear(next[:])
		p.ctr, p.advance, p.hasKey = at, true, true
	case r.ctr-at > pqMaxOOOKeys:
		return p, errSPQRKeyTrimmed
	default:
		for i := range r.prev {
			if r.prev[i].index == at {
				p.usedAt, p.key, p.hasKey = i, r.prev[i].key, true
				return p, nil
			}
		}
		return p, errSPQRKeyUsed
	}
	return p, nil
}

func (s *pqState) applyRecv(p *pqRecvPlan) {
	r := &s.recv
	if p.usedAt >= 0 {
		clear(r.prev[p.usedAt].key[:])
		r.prev = append(r.prev[:p.usedAt], r.prev[p.usedAt+1:]...)
	}
	if !p.advance {
		return
	}
	if p.ctr-r.ctr > pqMaxOOOKeys {
		// A jump past the whole window leaves no stored key usable.
		clearPQKeys(r.prev)
		r.prev = r.prev[:0]
	}
	r.prev = append(r.prev, p.skipped...)
	clearPQKeys(p.skipped)
	p.skipped = nil
	r.ctr, r.next = p.ctr, p.next
	if len(r.prev) > pqHistoryTrimAt {
		kept := r.prev[:0]
		for _, k := range r.prev {
			if uint64(k.index)+pqMaxOOOKeys >= uint64(r.ctr) {
				kept = append(kept, k)
			}
		}
		clearPQKeys(r.prev[len(kept):])
		r.prev = kept
	}
}

func clearPQKeys(ks []pqKey) {
	for i := range ks {
		clear(ks[i].key[:])
	}
}

// wipe zeroes s's secrets.
func (s *pqState) wipe() {
	clear(s.nextRoot[:])
	clear(s.send.next[:])
	clear(s.recv.next[:])
	clearPQKeys(s.send.prev)
	clearPQKeys(s.recv.prev)
}

// clone returns a deep copy of s.
func (s *pqState) clone() pqState {
	c := *s
	c.send.prev = append([]pqKey(nil), s.send.prev...)
	c.recv.prev = append([]pqKey(nil), s.recv.prev...)
	return c
}
