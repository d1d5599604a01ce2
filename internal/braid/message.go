package braid

import (
	"fmt"

	"github.com/sotto-im/sotto/internal/erasure"
)

// ChunkSize is the size of the erasure-code chunk a payload carries.
const ChunkSize = erasure.ChunkSize

// PayloadType is what an SPQR message carries for the braid. The values are
// the type byte of the SPQR V1 wire message.
type PayloadType uint8

const (
	// None carries nothing.
	None PayloadType = 0
	// Hdr carries a chunk of the header ρ || H(ek) || MAC.
	Hdr PayloadType = 1
	// Ek carries a chunk of the ek vector ByteEncode12(t̂).
	Ek PayloadType = 2
	// EkCt1Ack carries a chunk of the ek vector and acknowledges ct1.
	EkCt1Ack PayloadType = 3
	// Ct1Ack acknowledges ct1 and carries no chunk.
	Ct1Ack PayloadType = 4
	// Ct1 carries a chunk of ct1, the compressed u.
	Ct1 PayloadType = 5
	// Ct2 carries a chunk of ct2 || MAC.
	Ct2 PayloadType = 6
)

// HasChunk reports whether payloads of type t carry a chunk index and a
// chunk.
func (t PayloadType) HasChunk() bool {
	switch t {
	case Hdr, Ek, EkCt1Ack, Ct1, Ct2:
		return true
	}
	return false
}

func (t PayloadType) valid() bool { return t <= Ct2 }

var payloadNames = [...]string{"None", "Hdr", "Ek", "EkCt1Ack", "Ct1Ack", "Ct1", "Ct2"}

func (t PayloadType) String() string {
	if t.valid() {
		return payloadNames[t]
	}
	return fmt.Sprintf("PayloadType(%d)", uint8(t))
}

// Message is the braid's part of one SPQR message: the epoch, the payload
// type and, for the types that carry one (HasChunk), the chunk index and
// the chunk. The SPQR wire framing (version byte, varints, the symmetric
// chain's message index) belongs to the caller.
//
// Send sets ChunkIndex and Chunk to zero for types without a chunk; Recv
// ignores them. Chunks are public: they travel in the clear, under the
// Signal message's MAC.
type Message struct {
	Epoch      uint64
	Type       PayloadType
	ChunkIndex uint16
	Chunk      [ChunkSize]byte
}

// Direction is a party's side of the session: the session initiator (who
// ran PQXDH on the peer's bundle) is A2B, the responder B2A. A2B is the ek
// sender in odd epochs, B2A in even ones.
type Direction uint8

const (
	A2B Direction = 0
	B2A Direction = 1
)

func (d Direction) String() string {
	switch d {
	case A2B:
		return "A2B"
	case B2A:
		return "B2A"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Role is what a party does in its current epoch.
type Role uint8

const (
	// SendEK: the party generates the epoch's ML-KEM key pair, sends its
	// header and ek vector, and decapsulates.
	SendEK Role = 0
	// SendCT: the party encapsulates to the peer's key and sends the
	// ciphertext.
	SendCT Role = 1
)

func (r Role) String() string {
	if r == SendEK {
		return "send_ek"
	}
	return "send_ct"
}

// roleFor is the role of a party of direction d in epoch e: A2B sends ek in
// odd epochs.
func roleFor(d Direction, e uint64) Role {
	if (e%2 == 1) == (d == A2B) {
		return SendEK
	}
	return SendCT
}

// Kind names the eleven states of the braid (ML-KEM Braid §2, in the order
// the protocol walks them). The first five belong to the send_ek role, the
// last six to send_ct.
type Kind uint8

const (
	// KeysUnsampled: send_ek, no key pair yet; the next Send generates it.
	KeysUnsampled Kind = iota + 1
	// KeysSampled: sending header chunks, waiting for the first ct1 chunk.
	KeysSampled
	// HeaderSent: sending ek chunks and collecting ct1.
	HeaderSent
	// Ct1Received: ct1 complete; sending ek chunks that acknowledge it.
	Ct1Received
	// EkSentCt1Received: the peer has the ek (it sends ct2); acknowledging
	// ct1 and collecting ct2.
	EkSentCt1Received
	// NoHeaderReceived: send_ct, collecting the peer's header.
	NoHeaderReceived
	// HeaderReceived: header verified; the next Send encapsulates.
	HeaderReceived
	// Ct1Sampled: sending ct1 chunks and collecting the ek vector.
	Ct1Sampled
	// EkReceivedCt1Sampled: ek complete; sending ct1 until it is
	// acknowledged.
	EkReceivedCt1Sampled
	// Ct1Acknowledged: ct1 acknowledged; collecting the rest of the ek.
	Ct1Acknowledged
	// Ct2Sampled: sending ct2 chunks until the peer moves to the next epoch.
	Ct2Sampled
)

var kindNames = [...]string{"", "KeysUnsampled", "KeysSampled", "HeaderSent", "Ct1Received",
	"EkSentCt1Received", "NoHeaderReceived", "HeaderReceived", "Ct1Sampled",
	"EkReceivedCt1Sampled", "Ct1Acknowledged", "Ct2Sampled"}

func (k Kind) valid() bool { return k >= KeysUnsampled && k <= Ct2Sampled }

func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Role returns the role the state belongs to.
func (k Kind) Role() Role {
	if k >= NoHeaderReceived {
		return SendCT
	}
	return SendEK
}
