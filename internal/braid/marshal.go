package braid

import (
	"encoding/binary"
	"slices"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
)

// The persisted state, canonical (a state has exactly one encoding):
//
//	"brd" || version 0x01 || direction (1) || kind (1) || BE64(epoch)
//	|| auth root key (32) || auth MAC key (32) || the kind's fields
//
// with the kind's fields, in this order (next is the BE16 index of the next
// chunk to send, dec an incoming stream's chunks: a count below the
// stream's chunk count, then count × (BE16 chunk index || 32-byte chunk),
// in arrival order, indices distinct):
//
//	KeysUnsampled         -
//	KeysSampled           seed (64) || next || header stream (96) || ek vector (1152)
//	HeaderSent            seed || next || ek vector (1152) || dec(ct1)
//	Ct1Received           seed || next || ek vector || ct1 (960)
//	EkSentCt1Received     seed || ct1 || dec(ct2 || MAC)
//	NoHeaderReceived      dec(header || MAC)
//	HeaderReceived        header (64) || dec(ek)
//	Ct1Sampled            encaps state (96) || next || ct1 || dec(ek)
//	EkReceivedCt1Sampled  encaps state || next || ct1 || ek vector
//	Ct1Acknowledged       encaps state || ct1 || dec(ek)
//	Ct2Sampled            next || ct2 stream (160)
//
// The largest state, Ct1Sampled holding 35 of the 36 ek chunks, is 2,327
// bytes; the common header is 78.
const (
	stateMagic   = "brd"
	stateVersion = 1
	maxStateSize = 2327
)

// MarshalBinary encodes the state. The encoding holds secrets.
func (s *State) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the state's encoding to b.
func (s *State) AppendBinary(b []byte) ([]byte, error) {
	if !s.kind.valid() {
		panic("braid: marshalling a wiped or invalid state")
	}
	b = slices.Grow(b, maxStateSize)
	b = append(b, stateMagic...)
	b = append(b, stateVersion, byte(s.dir), byte(s.kind))
	b = binary.BigEndian.AppendUint64(b, s.epoch)
	b = append(b, s.auth.root[:]...)
	b = append(b, s.auth.mac[:]...)
	next := func() { b = binary.BigEndian.AppendUint16(b, s.next) }
	stream := func() { b = s.enc.AppendMessage(b) }
	es := func() { e := s.es.Bytes(); b = append(b, e[:]...) }
	switch s.kind {
	case KeysSampled:
		b = append(b, s.seed[:]...)
		next()
		stream()
		b = append(b, s.ek[:]...)
	case HeaderSent:
		b = append(b, s.seed[:]...)
		next()
		stream()
		b = appendDecoder(b, s.dec)
	case Ct1Received:
		b = append(b, s.seed[:]...)
		next()
		stream()
		b = append(b, s.ct1[:]...)
	case EkSentCt1Received:
		b = append(b, s.seed[:]...)
		b = append(b, s.ct1[:]...)
		b = appendDecoder(b, s.dec)
	case NoHeaderReceived:
		b = appendDecoder(b, s.dec)
	case HeaderReceived:
		b = append(b, s.header[:]...)
		b = appendDecoder(b, s.dec)
	case Ct1Sampled:
		es()
		next()
		b = append(b, s.ct1[:]...)
		b = appendDecoder(b, s.dec)
	case EkReceivedCt1Sampled:
		es()
		next()
		b = append(b, s.ct1[:]...)
		b = append(b, s.ek[:]...)
	case Ct1Acknowledged:
		es()
		b = append(b, s.ct1[:]...)
		b = appendDecoder(b, s.dec)
	case Ct2Sampled:
		next()
		stream()
	}
	return b, nil
}

func appendDecoder(b []byte, d *erasure.Decoder) []byte {
	b = append(b, byte(d.Received()))
	for k := range d.Received() {
		c, ch := d.Point(k)
		b = binary.BigEndian.AppendUint16(b, c)
		b = append(b, ch[:]...)
	}
	return b
}

// UnmarshalBinary decodes a state written by MarshalBinary. It checks the
// magic and version, the direction, the kind and that the kind's role fits
// the direction and epoch, the epoch's range, every length, the decoders'
// bounds (fewer chunks than needed, distinct indices), that a stored ek
// vector matches the header it goes with (KeysSampled,
// EkReceivedCt1Sampled), and that nothing follows. On error it returns
// ErrMalformedState and leaves s unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	n, ok := parseState(data)
	if !ok {
		return ErrMalformedState
	}
	*s = *n
	return nil
}

// ParseState is UnmarshalBinary into a new State.
func ParseState(data []byte) (*State, error) {
	n, ok := parseState(data)
	if !ok {
		return nil, ErrMalformedState
	}
	return n, nil
}

func parseState(data []byte) (*State, bool) {
	r := binenc.NewReader(data)
	if string(r.Bytes(len(stateMagic))) != stateMagic || r.Byte() != stateVersion {
		return nil, false
	}
	s := &State{dir: Direction(r.Byte()), kind: Kind(r.Byte())}
	s.epoch = binary.BigEndian.Uint64(r.Bytes(8))
	r.Array(s.auth.root[:])
	r.Array(s.auth.mac[:])
	if r.Err() != nil || s.dir > B2A || !s.kind.valid() || s.epoch == 0 || s.epoch > maxEpoch ||
		s.kind.Role() != roleFor(s.dir, s.epoch) {
		return nil, false
	}
	ok := true
	next := func() { s.next = binary.BigEndian.Uint16(r.Bytes(2)) }
	stream := func(size int) { s.enc = erasure.NewEncoder(r.Bytes(size)) }
	dec := func(size int) {
		d, good := readDecoder(r, size)
		s.dec, ok = d, ok && good
	}
	es := func() {
		e, err := incmlkem.ParseEncapsState(r.Bytes(incmlkem.EncapsStateSize))
		s.es, ok = e, ok && err == nil
	}
	switch s.kind {
	case KeysSampled:
		r.Array(s.seed[:])
		next()
		stream(hdrStreamSize)
		s.ek = new([incmlkem.EKVectorSize]byte)
		r.Array(s.ek[:])
		h := incmlkem.Header(s.enc.Message()[:incmlkem.HeaderSize])
		ok = r.Err() == nil && incmlkem.CheckKey(&h, s.ek) == nil
	case HeaderSent:
		r.Array(s.seed[:])
		next()
		stream(ekStreamSize)
		dec(ct1StreamSize)
	case Ct1Received:
		r.Array(s.seed[:])
		next()
		stream(ekStreamSize)
		s.ct1 = new([incmlkem.Ct1Size]byte)
		r.Array(s.ct1[:])
	case EkSentCt1Received:
		r.Array(s.seed[:])
		s.ct1 = new([incmlkem.Ct1Size]byte)
		r.Array(s.ct1[:])
		dec(ct2StreamSize)
	case NoHeaderReceived:
		dec(hdrStreamSize)
	case HeaderReceived:
		r.Array(s.header[:])
		dec(ekStreamSize)
	case Ct1Sampled:
		es()
		next()
		s.ct1 = new([incmlkem.Ct1Size]byte)
		r.Array(s.ct1[:])
		s.enc = erasure.NewEncoder(s.ct1[:])
		dec(ekStreamSize)
	case EkReceivedCt1Sampled:
		es()
		next()
		s.ct1 = new([incmlkem.Ct1Size]byte)
		r.Array(s.ct1[:])
		s.enc = erasure.NewEncoder(s.ct1[:])
		s.ek = new([incmlkem.EKVectorSize]byte)
		r.Array(s.ek[:])
		h := s.es.Header()
		ok = ok && r.Err() == nil && incmlkem.CheckKey(&h, s.ek) == nil
	case Ct1Acknowledged:
		es()
		s.ct1 = new([incmlkem.Ct1Size]byte)
		r.Array(s.ct1[:])
		dec(ekStreamSize)
	case Ct2Sampled:
		next()
		stream(ct2StreamSize)
	}
	if !ok || !r.Done() {
		s.Wipe()
		return nil, false
	}
	return s, true
}

// readDecoder reads a decoder of a stream of size bytes: fewer chunks than
// the stream needs (a complete stream is never stored: the state moves on
// as soon as it completes), distinct indices.
func readDecoder(r *binenc.Reader, size int) (*erasure.Decoder, bool) {
	d := erasure.NewDecoder(size)
	count := int(r.Byte())
	if r.Err() != nil || count >= d.Chunks() {
		return nil, false
	}
	for k := range count {
		c := binary.BigEndian.Uint16(r.Bytes(2))
		var ch [ChunkSize]byte
		r.Array(ch[:])
		d.Add(c, &ch)
		if d.Received() != k+1 {
			return nil, false // a repeated index
		}
	}
	return d, r.Err() == nil
}
