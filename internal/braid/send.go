package braid

import (
	"crypto/mlkem"
	"fmt"
	"io"

	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
)

// Send returns the braid payload of the next outgoing Signal message and
// the state after sending it, leaving s unchanged. One Send per Signal
// message. out is not nil exactly when this message begins the ct1 stream
// (HeaderReceived -> Ct1Sampled): out is then epoch s.Epoch()'s secret,
// which the chain adds before it takes this message's key (the key still
// comes from chain epoch m.Epoch-1).
//
// rand supplies the key seed (64 bytes, in KeysUnsampled) and the
// encapsulation randomness m (32 bytes, in HeaderReceived); pass
// crypto/rand.Reader. Send fails only if rand does.
func (s *State) Send(rand io.Reader) (next *State, m Message, out *EpochSecret, err error) {
	switch s.kind {
	case KeysUnsampled:
		next, err = s.sampleKeys(rand)
	case HeaderReceived:
		next, out, err = s.encaps1(rand)
	default:
		if !s.kind.valid() {
			panic("braid: Send on a wiped or invalid state")
		}
		next = s.clone()
	}
	if err != nil {
		return nil, Message{}, nil, err
	}
	m = Message{Epoch: s.epoch, Type: sends[next.kind]}
	if m.Type.HasChunk() {
		m.ChunkIndex = next.next
		m.Chunk = next.enc.Chunk(next.next)
		next.next++ // a uint16: wraps after 65535, which only repeats chunks
	}
	return next, m, out, nil
}

// sends is the payload each state sends (ML-KEM Braid §2). KeysUnsampled
// and HeaderReceived send as the state their Send moves to: the first
// header chunk and the first ct1 chunk.
var sends = [...]PayloadType{
	KeysSampled:          Hdr,
	HeaderSent:           Ek,
	Ct1Received:          EkCt1Ack,
	EkSentCt1Received:    Ct1Ack,
	NoHeaderReceived:     None,
	Ct1Sampled:           Ct1,
	EkReceivedCt1Sampled: Ct1,
	Ct1Acknowledged:      None,
	Ct2Sampled:           Ct2,
}

// sampleKeys is KeysUnsampled's send: generate the epoch's ML-KEM-768 key
// pair, header = ρ || H(ek), and start the stream header || MAC_hdr(e,
// header). -> KeysSampled, keeping the ek vector for the ek stream.
func (s *State) sampleKeys(rand io.Reader) (*State, error) {
	n := s.successor(KeysSampled, s.epoch)
	if _, err := io.ReadFull(rand, n.seed[:]); err != nil {
		n.Wipe()
		return nil, fmt.Errorf("braid: reading randomness: %w", err)
	}
	h, ek, err := keyFromSeed(&n.seed)
	if err != nil {
		n.Wipe()
		return nil, err
	}
	n.ek = &ek
	mac := n.auth.headerMAC(n.epoch, &h)
	n.enc = erasure.NewEncoder(append(h[:], mac[:]...))
	return n, nil
}

// keyFromSeed returns the header and ek vector of the key pair of seed.
func keyFromSeed(seed *[seedSize]byte) (incmlkem.Header, [incmlkem.EKVectorSize]byte, error) {
	dk, err := mlkem.NewDecapsulationKey768(seed[:])
	if err != nil {
		return incmlkem.Header{}, [incmlkem.EKVectorSize]byte{}, fmt.Errorf("braid: %w", err)
	}
	return incmlkem.SplitEncapsulationKey(dk.EncapsulationKey().Bytes())
}

// encaps1 is HeaderReceived's send, done lazily on the first send after
// the header arrived: (ct1, K) = Encaps1(header, m), ss_e = KDF(K, e),
// auth.update(e, ss_e), start the ct1 stream, and output (e, ss_e).
// -> Ct1Sampled, keeping the ek decoder.
func (s *State) encaps1(rand io.Reader) (*State, *EpochSecret, error) {
	var m [incmlkem.RandomnessSize]byte
	defer clear(m[:])
	if _, err := io.ReadFull(rand, m[:]); err != nil {
		return nil, nil, fmt.Errorf("braid: reading randomness: %w", err)
	}
	n := s.successor(Ct1Sampled, s.epoch)
	ct1, es, key := incmlkem.Encaps1(&s.header, &m)
	out := &EpochSecret{Epoch: s.epoch, Key: epochSecret(s.epoch, &key)}
	clear(key[:])
	n.auth.update(s.epoch, &out.Key)
	n.es, n.ct1 = es, &ct1
	n.enc = erasure.NewEncoder(ct1[:])
	n.dec = s.dec.Clone()
	return n, out, nil
}
