package wire

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// The SPQR V1 message carried in SignalMessage field 5 (internal/wire/WIRE.md §10).
// It is not protobuf but a framing of its own:
//
//	version (1) || varint(epoch) || varint(index) || type (1) [|| varint(chunk index) || chunk (32)]
//
// The chunk is present for the types that carry one. Bytes after the frame
// are ignored, as libsignal ignores them.

// SPQR versions and framing sizes.
const (
	// SPQRVersionNone is the version byte of a peer without SPQR (an empty
	// field reads the same).
	SPQRVersionNone = 0x00
	// SPQRVersionV1 is the only SPQR version there is.
	SPQRVersionV1 = 0x01
	// SPQRChunkSize is the size of an erasure-code chunk.
	SPQRChunkSize = 32
	// SPQRMaxChunkIndex is the largest chunk index (a 16-bit code point).
	SPQRMaxChunkIndex = 65535
	// MaxSPQRMessageSize is the largest frame Append writes: version, three
	// 10-byte varints at most, type and chunk.
	MaxSPQRMessageSize = 1 + 10 + 5 + 1 + 3 + SPQRChunkSize
)

// SPQRType is the braid payload type of an SPQR message.
type SPQRType byte

// The SPQR payload types.
const (
	SPQRNone SPQRType = iota
	SPQRHdr
	SPQREk
	SPQREkCt1Ack
	SPQRCt1Ack
	SPQRCt1
	SPQRCt2
	spqrTypeMax = SPQRCt2
)

// HasChunk reports whether messages of type t carry an erasure-code chunk.
func (t SPQRType) HasChunk() bool {
	switch t {
	case SPQRHdr, SPQREk, SPQREkCt1Ack, SPQRCt1, SPQRCt2:
		return true
	}
	return false
}

// SPQRMessage is a decoded SPQR V1 message. Chunk aliases the input.
type SPQRMessage struct {
	Epoch      uint64
	Index      uint32
	Type       SPQRType
	ChunkIndex uint16
	Chunk      []byte // SPQRChunkSize bytes when Type.HasChunk(), else nil
}

// Errors of SPQRMessage.Unmarshal beyond ErrMalformed.
var (
	// ErrSPQRNone is returned for an empty SPQR field or version 0: a peer
	// that does not speak SPQR.
	ErrSPQRNone = errors.New("wire: no SPQR data (version 0)")
	// ErrSPQRVersion is returned for an unknown SPQR version byte.
	ErrSPQRVersion = errors.New("wire: unknown SPQR version")
)

// Unmarshal decodes an SPQR message into m. An empty input or version 0 is
// ErrSPQRNone, another unknown version ErrSPQRVersion, and anything else that
// is not a well-formed V1 frame ErrMalformed: an epoch of 0, an index over 32
// bits, an unknown type, a chunk index over 65535 or a short chunk. Varints
// must be minimally encoded, as in the protobuf decoder.
func (m *SPQRMessage) Unmarshal(b []byte) error {
	*m = SPQRMessage{}
	if len(b) == 0 || b[0] == SPQRVersionNone {
		return ErrSPQRNone
	}
	if b[0] != SPQRVersionV1 {
		return ErrSPQRVersion
	}
	b = b[1:]
	epoch, n, err := consumeVarint(b)
	if err != nil || epoch == 0 {
		return ErrMalformed
	}
	b = b[n:]
	index, n, err := consumeVarint(b)
	if err != nil || index > 0xFFFFFFFF {
		return ErrMalformed
	}
	b = b[n:]
	if len(b) == 0 || SPQRType(b[0]) > spqrTypeMax {
		return ErrMalformed
	}
	r := SPQRMessage{Epoch: epoch, Index: uint32(index), Type: SPQRType(b[0])}
	b = b[1:]
	if r.Type.HasChunk() {
		ci, n, err := consumeVarint(b)
		if err != nil || ci > SPQRMaxChunkIndex {
			return ErrMalformed
		}
		b = b[n:]
		if len(b) < SPQRChunkSize {
			return ErrMalformed
		}
		r.ChunkIndex = uint16(ci)
		r.Chunk = b[:SPQRChunkSize:SPQRChunkSize]
	}
	*m = r
	return nil
}

// Append appends the V1 encoding of m to dst. m.Chunk must be SPQRChunkSize
// bytes when m.Type carries a chunk.
func (m *SPQRMessage) Append(dst []byte) []byte {
	dst = append(dst, SPQRVersionV1)
	dst = protowire.AppendVarint(dst, m.Epoch)
	dst = protowire.AppendVarint(dst, uint64(m.Index))
	dst = append(dst, byte(m.Type))
	if m.Type.HasChunk() {
		dst = protowire.AppendVarint(dst, uint64(m.ChunkIndex))
		dst = append(dst, m.Chunk...)
	}
	return dst
}
