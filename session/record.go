package session

import (
	"encoding/binary"
	"errors"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/ratchetcore"
)

// Limits of session records, libsignal's.
const (
	// MaxArchivedSessions is how many previous sessions a record keeps for
	// trial decryption; the oldest is dropped first.
	MaxArchivedSessions = 40
	// maxArchivedBytes bounds the archived sessions' total size, so that a
	// peer that fills every session with skipped keys (about 450 KB each)
	// cannot grow a record past what a store accepts: older sessions are
	// dropped first.
	maxArchivedBytes = 4 << 20
)

// ErrMalformedRecord is returned when stored bytes are not a record this
// version wrote.
var ErrMalformedRecord = errors.New("session: malformed stored record")

// sessionState is one session: the ratchet plus what Sesame and PQXDH need
// around it.
type sessionState struct {
	ratchet              *ratchetcore.State
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
	previous [][]byte // alias raw, or are copies made by archiveCurrent
	raw      []byte   // the stored bytes it was parsed from
}

// wipe clears the record's secrets: the current session and the
// serialized ones.
func (r *record) wipe() {
	if r.current != nil {
		r.current.ratchet.Wipe()
	}
	for _, p := range r.previous {
		clear(p)
	}
	clear(r.raw)
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
	total := 0
	for i, p := range r.previous {
		if total += len(p); total > maxArchivedBytes {
			r.previous = r.previous[:max(i, 1)]
			break
		}
	}
	r.current = nil
}

// has reports whether the current session or an archived one satisfies
// match. Archived sessions that do not parse are skipped.
func (r *record) has(match func(*sessionState) bool) bool {
	if r.current != nil && match(r.current) {
		return true
	}
	for _, b := range r.previous {
		if s, err := parseSessionState(b); err == nil && match(s) {
			return true
		}
	}
	return false
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

	flagPending  = 1 << 0
	flagPreKeyID = 1 << 1
)

func (r *record) marshal() []byte {
	size := len(recordMagic) + 1 + 10
	if r.current != nil {
		size += r.current.sizeHint() + 4
	}
	for _, p := range r.previous {
		size += len(p) + 4
	}
	b := make([]byte, 0, size)
	b = append(b, recordMagic...)
	b = append(b, formatV1)
	if r.current == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = appendLenPrefixed(b, r.current.sizeHint(), r.current.appendTo)
	}
	b = binary.AppendUvarint(b, uint64(len(r.previous)))
	for _, p := range r.previous {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func parseRecord(b []byte) (*record, error) {
	rd := binenc.NewReader(b)
	if string(rd.Bytes(len(recordMagic))) != recordMagic || rd.Byte() != formatV1 {
		return nil, ErrMalformedRecord
	}
	r := &record{}
	if cur := rd.LenPrefixed(); len(cur) > 0 {
		s, err := parseSessionState(cur)
		if err != nil {
			return nil, err
		}
		r.current = s
	}
	n := rd.Uvarint()
	if n > MaxArchivedSessions {
		return nil, ErrMalformedRecord
	}
	for range n {
		p := rd.LenPrefixed()
		if rd.Err() != nil {
			break
		}
		r.previous = append(r.previous, p)
	}
	if !rd.Done() {
		return nil, ErrMalformedRecord
	}
	return r, nil
}

// appendLenPrefixed appends a uvarint length and what add appends, without
// an intermediate buffer: it reserves the length's bytes from hint and moves
// the body only when the hint was wrong.
func appendLenPrefixed(b []byte, hint int, add func([]byte) []byte) []byte {
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(tmp[:], uint64(hint))
	start := len(b)
	b = append(b, make([]byte, n)...)
	b = add(b)
	body := len(b) - start - n
	if m := binary.PutUvarint(tmp[:], uint64(body)); m != n {
		// The hint's length prefix was of another size: shift the body.
		moved := append([]byte(nil), b[start+n:]...)
		b = binary.AppendUvarint(b[:start], uint64(body))
		return append(b, moved...)
	}
	binary.PutUvarint(b[start:start+n], uint64(body))
	return b
}

// sizeHint estimates the encoded size of s.
func (s *sessionState) sizeHint() int {
	return 64 + 1700 + s.ratchet.SizeHint()
}

func (s *sessionState) marshal() []byte {
	return s.appendTo(make([]byte, 0, s.sizeHint()))
}

func (s *sessionState) appendTo(b []byte) []byte {
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
	b = appendLenPrefixed(b, s.ratchet.SizeHint(), func(b []byte) []byte {
		b, err := s.ratchet.AppendBinary(b)
		if err != nil {
			panic("session: " + err.Error())
		}
		return b
	})
	return b
}

func parseSessionState(b []byte) (*sessionState, error) {
	rd := binenc.NewReader(b)
	if string(rd.Bytes(len(sessionMagic))) != sessionMagic || rd.Byte() != formatV1 {
		return nil, ErrMalformedRecord
	}
	flags := rd.Byte()
	if flags&^(flagPending|flagPreKeyID) != 0 {
		return nil, ErrMalformedRecord
	}
	s := &sessionState{}
	rd.Array(s.aliceBaseKey[:])
	s.remoteRegistrationID = rd.U32()
	s.localRegistrationID = rd.U32()
	s.created = rd.Varint()
	if flags&flagPending != 0 {
		p := &pendingPreKey{hasPreKeyID: flags&flagPreKeyID != 0}
		p.preKeyID = rd.U32()
		p.signedPreKeyID = rd.U32()
		p.kyberPreKeyID = rd.U32()
		p.kyberCiphertext = append([]byte(nil), rd.Bytes(kem.CiphertextSize)...)
		rd.Array(p.baseKey[:])
		p.timestamp = rd.Varint()
		s.pending = p
	}
	st := rd.LenPrefixed()
	if !rd.Done() {
		return nil, ErrMalformedRecord
	}
	s.ratchet = new(ratchetcore.State)
	if err := s.ratchet.UnmarshalBinary(st); err != nil {
		return nil, ErrMalformedRecord
	}
	return s, nil
}
