package ratchetcore

import (
	"encoding/binary"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/internal/curve"
)

// The persisted form of a State: a magic-and-version prefix, then fixed-size
// keys and uvarint counters, in this order (no field is optional):
//
//	"SOTR" 0x01
//	session version (1) | local identity (33) | remote identity (33) | root key (32)
//	sender: private (32) | public (32) | chain key (32) | index
//	previous counter
//	SPQR: direction (1) | epoch | next root (32) | send dir | recv dir
//	  where dir = ctr | next (32) | n | n × (index | key (32))
//	receivers: n | n × (ratchet key (32) | chain key (32) | index | m | m × (index | seed (32)))
//
// Integers are uvarints. The encoding is canonical: equal states encode to
// equal bytes, so callers may compare encodings.

const (
	stateMagic   = "SOTR"
	stateVersion = 1
)

// MarshalBinary encodes the state, secrets included: store it encrypted.
func (s *State) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, s.SizeHint()))
}

// SizeHint estimates the size of the state's encoding.
func (s *State) SizeHint() int {
	n := 5 + 1 + 2*identitySize + keySize + 3*keySize + 10 + 2 + 10 + keySize
	n += 2 * (5 + keySize + 3 + 0)
	n += (len(s.pq.send.prev) + len(s.pq.recv.prev)) * (5 + keySize)
	n += 1
	for i := range s.receivers {
		n += 2*keySize + 5 + 3 + len(s.receivers[i].skipped)*(5+keySize)
	}
	return n
}

// AppendBinary appends the encoding of the state to b.
func (s *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateMagic...)
	b = append(b, stateVersion, CurrentVersion)
	b = append(b, s.localIdentity[:]...)
	b = append(b, s.remoteIdentity[:]...)
	b = append(b, s.rootKey[:]...)
	b = append(b, s.sender.raw[:]...)
	u := s.sender.pub.U()
	b = append(b, u[:]...)
	b = append(b, s.sender.key[:]...)
	b = binary.AppendUvarint(b, uint64(s.sender.index))
	b = binary.AppendUvarint(b, uint64(s.previousCounter))

	b = append(b, byte(s.pq.dir))
	b = binary.AppendUvarint(b, s.pq.epoch)
	b = append(b, s.pq.nextRoot[:]...)
	b = appendPQDir(b, &s.pq.send)
	b = appendPQDir(b, &s.pq.recv)

	b = binary.AppendUvarint(b, uint64(len(s.receivers)))
	for i := range s.receivers {
		c := &s.receivers[i]
		u := c.ratchetKey.U()
		b = append(b, u[:]...)
		b = append(b, c.key[:]...)
		b = binary.AppendUvarint(b, uint64(c.index))
		b = binary.AppendUvarint(b, uint64(len(c.skipped)))
		for _, k := range c.skipped {
			b = binary.AppendUvarint(b, uint64(k.index))
			b = append(b, k.seed[:]...)
		}
	}
	return b, nil
}

func appendPQDir(b []byte, d *pqChainDir) []byte {
	b = binary.AppendUvarint(b, uint64(d.ctr))
	b = append(b, d.next[:]...)
	b = binary.AppendUvarint(b, uint64(len(d.prev)))
	for _, k := range d.prev {
		b = binary.AppendUvarint(b, uint64(k.index))
		b = append(b, k.key[:]...)
	}
	return b
}

// UnmarshalBinary decodes a state written by MarshalBinary, replacing s. It
// checks the prefix, every length and bound, and that no bytes are left
// over; any failure returns ErrMalformedState and leaves s unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	var n State
	r := binenc.NewReader(data)
	if string(r.Bytes(len(stateMagic))) != stateMagic || r.Byte() != stateVersion || r.Byte() != CurrentVersion {
		return ErrMalformedState
	}
	r.Array(n.localIdentity[:])
	r.Array(n.remoteIdentity[:])
	r.Array(n.rootKey[:])
	if r.Err() == nil {
		if n.localIdentity[0] != curve.DjbType || n.remoteIdentity[0] != curve.DjbType {
			return ErrMalformedState
		}
	}
	r.Array(n.sender.raw[:])
	pub, err := curve.NewPublicKeyFromU(r.Bytes(32))
	if err != nil {
		return ErrMalformedState
	}
	n.sender.pub = pub
	r.Array(n.sender.key[:])
	n.sender.index = r.U32()
	n.previousCounter = r.U32()

	switch d := direction(r.Byte()); d {
	case dirA2B, dirB2A:
		n.pq.dir = d
	default:
		return ErrMalformedState
	}
	n.pq.epoch = r.Uvarint()
	if n.pq.epoch != 0 { // only chain epoch 0 exists without the braid
		return ErrMalformedState
	}
	r.Array(n.pq.nextRoot[:])
	readPQDir(r, &n.pq.send)
	readPQDir(r, &n.pq.recv)

	count := r.Uvarint()
	if count > MaxReceiverChains {
		return ErrMalformedState
	}
	for range count {
		var c receiverChain
		key, err := curve.NewPublicKeyFromU(r.Bytes(32))
		if err != nil {
			return ErrMalformedState
		}
		c.ratchetKey = key
		r.Array(c.key[:])
		c.index = r.U32()
		m := r.Uvarint()
		if m > MaxSkippedKeys {
			return ErrMalformedState
		}
		if m > 0 {
			c.skipped = make([]skippedKey, 0, m)
		}
		for range m {
			var k skippedKey
			k.index = r.U32()
			r.Array(k.seed[:])
			c.skipped = append(c.skipped, k)
		}
		n.receivers = append(n.receivers, c)
	}
	if !r.Done() {
		return ErrMalformedState
	}
	*s = n
	return nil
}

// readPQDir decodes one SPQR chain direction; errors stick to r.
func readPQDir(r *binenc.Reader, d *pqChainDir) {
	d.ctr = r.U32()
	r.Array(d.next[:])
	m := r.Uvarint()
	if m > pqHistoryTrimAt {
		r.Fail()
		return
	}
	for range m {
		var k pqKey
		k.index = r.U32()
		r.Array(k.key[:])
		if r.Err() != nil {
			return
		}
		d.prev = append(d.prev, k)
	}
}
