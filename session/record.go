package session

import (
	"encoding/binary"
	"errors"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/ratchet"
)

// Limits of session records, libsignal's.
const (
	// MaxArchivedSessions is how many previous sessions a record keeps for
	// trial decryption; the oldest is dropped first.
	MaxArchivedSessions = 40
)

// ErrMalformedRecord is returned when stored bytes are not a record this
// version wrote.
var ErrMalformedRecord = errors.New("session: malformed stored record")

// sessionState is one session: the ratchet plus what Sesame and PQXDH need
// around it.
type sessionState struct {
	ratchet              *ratchet.State
	aliceBaseKey         [curve.PublicKeySize]byte // identifies the session in PreKey messages
	remoteRegistrationID uint32
	localRegistrationID  uint32
	created              int64 // Unix seconds
	pending              *pendingPreKey
}

// pendingPreKey is set on the initiator's session until the first message
// from the responder arrives: until then every message is wrapped in a
// PreKeySignalMessage carrying these values.
type pendingPreKey struct {
	hasPreKeyID     bool
	preKeyID        uint32
	signedPreKeyID  uint32
	kyberPreKeyID   uint32
	kyberCiphertext []byte
	baseKey         [curve.PublicKeySize]byte
	timestamp       int64 // Unix seconds of session creation
}

// record is everything stored for one remote address: the current session
// and archived ones, newest first, kept serialized until needed.
type record struct {
	current  *sessionState
	previous [][]byte
}

// archiveCurrent moves the current session to the front of the archive.
func (r *record) archiveCurrent() {
	if r.current == nil {
		return
	}
	b := r.current.marshal()
	r.previous = append([][]byte{b}, r.previous...)
	if len(r.previous) > MaxArchivedSessions {
		r.previous = r.previous[:MaxArchivedSessions]
	}
	r.current = nil
}

// promote makes archived session i current, archiving the current one.
func (r *record) promote(i int, s *sessionState) {
	r.previous = append(r.previous[:i:i], r.previous[i+1:]...)
	r.archiveCurrent()
	r.current = s
}

// Encoding: "SOTS" 0x01, then the current session (length-prefixed, empty
// if none), then the number of archived sessions and each length-prefixed.
// A session: "SOTs" 0x01 | flags(1) | alice base key (33) | remote reg id |
// local reg id | created | [pending] | ratchet state (length-prefixed).
// Integers are uvarints.

const (
	recordMagic  = "SOTS"
	sessionMagic = "SOTs"
	formatV1     = 1

	flagPending  = 1 << 0
	flagPreKeyID = 1 << 1
)

func (r *record) marshal() []byte {
	var b []byte
	b = append(b, recordMagic...)
	b = append(b, formatV1)
	var cur []byte
	if r.current != nil {
		cur = r.current.marshal()
	}
	b = binary.AppendUvarint(b, uint64(len(cur)))
	b = append(b, cur...)
	b = binary.AppendUvarint(b, uint64(len(r.previous)))
	for _, p := range r.previous {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func parseRecord(b []byte) (*record, error) {
	rd := reader{b: b}
	if string(rd.bytes(len(recordMagic))) != recordMagic || rd.byte() != formatV1 {
		return nil, ErrMalformedRecord
	}
	r := &record{}
	if cur := rd.lenPrefixed(); len(cur) > 0 {
		s, err := parseSessionState(cur)
		if err != nil {
			return nil, err
		}
		r.current = s
	}
	n := rd.uvarint()
	if n > MaxArchivedSessions {
		return nil, ErrMalformedRecord
	}
	for range n {
		p := rd.lenPrefixed()
		if rd.err != nil {
			break
		}
		r.previous = append(r.previous, p)
	}
	if rd.err != nil || len(rd.b) != 0 {
		return nil, ErrMalformedRecord
	}
	return r, nil
}

func (s *sessionState) marshal() []byte {
	st, err := s.ratchet.MarshalBinary()
	if err != nil {
		panic("session: " + err.Error())
	}
	var b []byte
	b = append(b, sessionMagic...)
	b = append(b, formatV1)
	var flags byte
	if s.pending != nil {
		flags |= flagPending
		if s.pending.hasPreKeyID {
			flags |= flagPreKeyID
		}
	}
	b = append(b, flags)
	b = append(b, s.aliceBaseKey[:]...)
	b = binary.AppendUvarint(b, uint64(s.remoteRegistrationID))
	b = binary.AppendUvarint(b, uint64(s.localRegistrationID))
	b = binary.AppendVarint(b, s.created)
	if p := s.pending; p != nil {
		b = binary.AppendUvarint(b, uint64(p.preKeyID))
		b = binary.AppendUvarint(b, uint64(p.signedPreKeyID))
		b = binary.AppendUvarint(b, uint64(p.kyberPreKeyID))
		b = append(b, p.kyberCiphertext...)
		b = append(b, p.baseKey[:]...)
		b = binary.AppendVarint(b, p.timestamp)
	}
	b = binary.AppendUvarint(b, uint64(len(st)))
	b = append(b, st...)
	clear(st)
	return b
}

func parseSessionState(b []byte) (*sessionState, error) {
	rd := reader{b: b}
	if string(rd.bytes(len(sessionMagic))) != sessionMagic || rd.byte() != formatV1 {
		return nil, ErrMalformedRecord
	}
	flags := rd.byte()
	if flags&^(flagPending|flagPreKeyID) != 0 {
		return nil, ErrMalformedRecord
	}
	s := &sessionState{}
	rd.array(s.aliceBaseKey[:])
	s.remoteRegistrationID = rd.u32()
	s.localRegistrationID = rd.u32()
	s.created = rd.varint()
	if flags&flagPending != 0 {
		p := &pendingPreKey{hasPreKeyID: flags&flagPreKeyID != 0}
		p.preKeyID = rd.u32()
		p.signedPreKeyID = rd.u32()
		p.kyberPreKeyID = rd.u32()
		p.kyberCiphertext = append([]byte(nil), rd.bytes(kem.CiphertextSize)...)
		rd.array(p.baseKey[:])
		p.timestamp = rd.varint()
		s.pending = p
	}
	st := rd.lenPrefixed()
	if rd.err != nil || len(rd.b) != 0 {
		return nil, ErrMalformedRecord
	}
	s.ratchet = new(ratchet.State)
	if err := s.ratchet.UnmarshalBinary(st); err != nil {
		return nil, ErrMalformedRecord
	}
	return s, nil
}

// reader decodes stored records with a sticky error.
type reader struct {
	b   []byte
	err error
}

var errShortRecord = errors.New("short record")

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errShortRecord
		return make([]byte, max(n, 0))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) array(dst []byte) { copy(dst, r.bytes(len(dst))) }
func (r *reader) byte() byte       { return r.bytes(1)[0] }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) u32() uint32 {
	v := r.uvarint()
	if v > 0xFFFFFFFF {
		r.err = errShortRecord
	}
	return uint32(v)
}

func (r *reader) lenPrefixed() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = errShortRecord
		return nil
	}
	return r.bytes(int(n))
}
