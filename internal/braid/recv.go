package braid

import (
	"crypto/mlkem"
	"fmt"

	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
)

// Recv processes the braid payload of a received Signal message and
// returns the state after it, leaving s unchanged: the caller commits next
// only if the whole Signal message authenticates and decrypts, and
// otherwise keeps s. out is not nil exactly when the message completes ct2
// (send_ek, EkSentCt1Received -> NoHeaderReceived(e+1)): out is epoch e's
// secret, which the chain adds before it looks up this message's key
// (still in chain epoch m.Epoch-1). next is never s itself.
//
// With e = s.Epoch():
//
//   - m.Epoch < e: the message is stale; next is a copy of s.
//   - m.Epoch > e: *EpochError (ErrFutureEpoch), except m.Epoch = e+1 in
//     Ct2Sampled, where the peer has decapsulated: -> KeysUnsampled(e+1).
//   - m.Epoch = e: the state's transition for m.Type, if it has one;
//     payloads a state does not expect are ignored (next is a copy of s).
//
// Errors, all caused by m: ErrMalformedMessage, *EpochError,
// ErrAuthentication (a header or ciphertext MAC), ErrErroneousData (an ek
// vector that fails the header hash or the modulus check).
func (s *State) Recv(m Message) (next *State, out *EpochSecret, err error) {
	if !m.Type.valid() || m.Epoch == 0 {
		return nil, nil, ErrMalformedMessage
	}
	if !s.kind.valid() {
		panic("braid: Recv on a wiped or invalid state")
	}
	switch {
	case m.Epoch < s.epoch:
		return s.clone(), nil, nil
	case m.Epoch > s.epoch:
		if s.kind == Ct2Sampled && m.Epoch-1 == s.epoch {
			// The peer decapsulated ct2 and, now the ct sender of e+1,
			// tells us so by its epoch: we become the ek sender of e+1.
			return s.successor(KeysUnsampled, s.epoch+1), nil, nil
		}
		return nil, nil, &EpochError{Epoch: m.Epoch, Current: s.epoch}
	}
	next = s.clone()
	switch s.kind {
	case KeysSampled:
		if m.Type == Ct1 {
			// The peer has the header: stop sending it, start the ek.
			next.Wipe()
			next = s.startEk()
			next.addCt1(&m)
		}
	case HeaderSent:
		if m.Type == Ct1 {
			next.addCt1(&m)
		}
	case Ct1Received:
		if m.Type == Ct2 {
			// The peer has the ek: stop sending it, acknowledge ct1 only.
			n := s.successor(EkSentCt1Received, s.epoch)
			n.seed, n.ct1 = s.seed, s.ct1
			n.dec = erasure.NewDecoder(ct2StreamSize)
			next.Wipe()
			next = n
			return next.addCt2(&m)
		}
	case EkSentCt1Received:
		if m.Type == Ct2 {
			return next.addCt2(&m)
		}
	case NoHeaderReceived:
		if m.Type == Hdr {
			return next.addHdr(&m)
		}
	case Ct1Sampled:
		if m.Type == Ek || m.Type == EkCt1Ack {
			return next.addEk(&m, m.Type == EkCt1Ack)
		}
	case EkReceivedCt1Sampled:
		if m.Type == Ct1Ack || m.Type == EkCt1Ack {
			return next.encaps2(next.ek)
		}
	case Ct1Acknowledged:
		if m.Type == Ek || m.Type == EkCt1Ack {
			return next.addEk(&m, true)
		}
	case KeysUnsampled, HeaderReceived, Ct2Sampled:
		// Nothing to receive: KeysUnsampled has sent nothing yet,
		// HeaderReceived has not sent ct1 (ek chunks cannot precede it),
		// Ct2Sampled waits for the peer's next epoch.
	}
	return next, nil, nil
}

// startEk is KeysSampled's first ct1 chunk: drop the header stream, start
// the ek stream and the ct1 decoder. -> HeaderSent.
func (s *State) startEk() *State {
	n := s.successor(HeaderSent, s.epoch)
	n.seed = s.seed
	n.enc = erasure.NewEncoder(s.ek[:])
	n.dec = erasure.NewDecoder(ct1StreamSize)
	return n
}

func chunkOf(m *Message) *[ChunkSize]byte { return &m.Chunk }

// addCt1 adds a ct1 chunk (HeaderSent); once ct1 is complete, store it.
// -> Ct1Received, still sending the ek, now acknowledging ct1.
func (s *State) addCt1(m *Message) {
	if !s.dec.Add(m.ChunkIndex, chunkOf(m)) {
		return
	}
	b, _ := s.dec.Message()
	ct1 := [incmlkem.Ct1Size]byte(b)
	s.kind, s.dec, s.ct1 = Ct1Received, nil, &ct1
}

// addCt2 adds a ct2 chunk (EkSentCt1Received). Once ct2 || MAC is complete:
// K = ML-KEM.Decaps(dk, ct1 || ct2), ss_e = KDF(K, e), auth.update(e, ss_e),
// and the ciphertext MAC must verify under the updated authenticator. Then
// output (e, ss_e). -> NoHeaderReceived(e+1): the party is now the ct
// sender and waits for the peer's next header.
func (s *State) addCt2(m *Message) (*State, *EpochSecret, error) {
	if !s.dec.Add(m.ChunkIndex, chunkOf(m)) {
		return s, nil, nil
	}
	b, _ := s.dec.Message()
	ct2 := (*[incmlkem.Ct2Size]byte)(b[:incmlkem.Ct2Size])
	dk, err := mlkem.NewDecapsulationKey768(s.seed[:])
	if err != nil {
		s.Wipe()
		return nil, nil, fmt.Errorf("braid: %w", err)
	}
	key, err := dk.Decapsulate(append(s.ct1[:], ct2[:]...))
	if err != nil {
		s.Wipe()
		return nil, nil, fmt.Errorf("braid: %w", err)
	}
	out := &EpochSecret{Epoch: s.epoch, Key: epochSecret(s.epoch, (*[32]byte)(key))}
	clear(key)
	auth := s.auth
	auth.update(s.epoch, &out.Key)
	if !auth.verifyCiphertext(s.epoch, s.ct1, ct2, b[incmlkem.Ct2Size:]) {
		auth.wipe()
		out.Wipe()
		s.Wipe()
		return nil, nil, ErrAuthentication
	}
	n := &State{dir: s.dir, kind: NoHeaderReceived, epoch: s.epoch + 1, auth: auth}
	n.dec = erasure.NewDecoder(hdrStreamSize)
	auth.wipe()
	s.Wipe()
	return n, out, nil
}

// addHdr adds a header chunk (NoHeaderReceived). Once header || MAC is
// complete the MAC must verify under the current authenticator; then keep
// the header and start the ek decoder. -> HeaderReceived: the next Send
// encapsulates.
func (s *State) addHdr(m *Message) (*State, *EpochSecret, error) {
	if !s.dec.Add(m.ChunkIndex, chunkOf(m)) {
		return s, nil, nil
	}
	b, _ := s.dec.Message()
	h := incmlkem.Header(b[:incmlkem.HeaderSize])
	if !s.auth.verifyHeader(s.epoch, &h, b[incmlkem.HeaderSize:]) {
		s.Wipe()
		return nil, nil, ErrAuthentication
	}
	n := s.successor(HeaderReceived, s.epoch)
	n.header = h
	n.dec = erasure.NewDecoder(ekStreamSize)
	s.Wipe()
	return n, nil, nil
}

// addEk adds an ek chunk (Ct1Sampled, Ct1Acknowledged); ack says that ct1
// is acknowledged (an EkCt1Ack chunk, or any ek chunk in Ct1Acknowledged).
// Once the ek is complete it must match the header and pass the modulus
// check; then, with ct1 acknowledged, Encaps2 (-> Ct2Sampled), else keep
// the ek (-> EkReceivedCt1Sampled). With the ek incomplete, an
// acknowledgement moves Ct1Sampled to Ct1Acknowledged (stop sending ct1).
func (s *State) addEk(m *Message, ack bool) (*State, *EpochSecret, error) {
	if !s.dec.Add(m.ChunkIndex, chunkOf(m)) {
		if ack && s.kind == Ct1Sampled {
			s.kind, s.enc, s.next = Ct1Acknowledged, nil, 0
		}
		return s, nil, nil
	}
	b, _ := s.dec.Message()
	ek := [incmlkem.EKVectorSize]byte(b)
	hdr := s.es.Header()
	if err := incmlkem.CheckKey(&hdr, &ek); err != nil {
		s.Wipe()
		return nil, nil, fmt.Errorf("%w: %w", ErrErroneousData, err)
	}
	if ack {
		return s.encaps2(&ek)
	}
	n := s.successor(EkReceivedCt1Sampled, s.epoch)
	n.es, n.ct1, n.ek = s.es, s.ct1, &ek
	n.enc, n.next = s.enc, s.next
	s.Wipe()
	return n, nil, nil
}

// encaps2 is ct2 = Encaps2(es, ek), MAC_ct(e, ct1 || ct2) under the
// authenticator updated at Encaps1, and the ct2 || MAC stream.
// -> Ct2Sampled.
func (s *State) encaps2(ek *[incmlkem.EKVectorSize]byte) (*State, *EpochSecret, error) {
	ct2, err := incmlkem.Encaps2(&s.es, ek)
	if err != nil {
		s.Wipe()
		return nil, nil, fmt.Errorf("%w: %w", ErrErroneousData, err)
	}
	mac := s.auth.ciphertextMAC(s.epoch, s.ct1, &ct2)
	n := s.successor(Ct2Sampled, s.epoch)
	n.enc = erasure.NewEncoder(append(ct2[:], mac[:]...))
	s.Wipe()
	return n, nil, nil
}
