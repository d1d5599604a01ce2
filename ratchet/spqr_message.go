package ratchet

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// The SPQR V1 wire message, carried in SignalMessage field 5. It is not
// protobuf (spqr's chunked serialization):
//
//	0x01 (V1) || varint(epoch >= 1) || varint(index) || type(1) [|| varint(chunk index) || chunk(32)]
//
// Trailing bytes are ignored, as by libsignal.

const (
	pqVersionV0 = 0x00
	pqVersionV1 = 0x01

	pqChunkSize     = 32
	pqMaxChunkIndex = 65535
)

// pqMsgType is the braid payload type of an SPQR message.
type pqMsgType byte

const (
	pqTypeNone pqMsgType = iota
	pqTypeHdr
	pqTypeEk
	pqTypeEkCt1Ack
	pqTypeCt1Ack
	pqTypeCt1
	pqTypeCt2
	pqTypeMax = pqTypeCt2
)

// hasChunk reports whether messages of this type carry an erasure-code chunk.
func (t pqMsgType) hasChunk() bool {
	switch t {
	case pqTypeHdr, pqTypeEk, pqTypeEkCt1Ack, pqTypeCt1, pqTypeCt2:
		return true
	}
	return false
}

// pqMessage is a parsed SPQR V1 message.
type pqMessage struct {
	epoch      uint64
	index      uint32
	typ        pqMsgType
	chunkIndex uint16
	chunk      []byte // pqChunkSize bytes when typ.hasChunk()
}

// parsePQMessage parses an SPQR message. An empty message or version 0 is a
// peer without SPQR, which is rejected (SPQR is mandatory, no downgrade).
func parsePQMessage(b []byte) (*pqMessage, error) {
	if len(b) == 0 || b[0] == pqVersionV0 {
		return nil, spqrErr(ErrSPQRMinimumVersion)
	}
	if b[0] != pqVersionV1 {
		return nil, spqrErr(ErrSPQRVersion)
	}
	b = b[1:]
	epoch, n := protowire.ConsumeVarint(b)
	if n < 0 || epoch == 0 {
		return nil, spqrErr(ErrSPQRDecode)
	}
	b = b[n:]
	index, n := protowire.ConsumeVarint(b)
	if n < 0 || index > 0xFFFFFFFF {
		return nil, spqrErr(ErrSPQRDecode)
	}
	b = b[n:]
	if len(b) == 0 || pqMsgType(b[0]) > pqTypeMax {
		return nil, spqrErr(ErrSPQRDecode)
	}
	m := &pqMessage{epoch: epoch, index: uint32(index), typ: pqMsgType(b[0])}
	b = b[1:]
	if m.typ.hasChunk() {
		ci, n := protowire.ConsumeVarint(b)
		if n < 0 || ci > pqMaxChunkIndex {
			return nil, spqrErr(ErrSPQRDecode)
		}
		b = b[n:]
		if len(b) < pqChunkSize {
			return nil, spqrErr(ErrSPQRDecode)
		}
		m.chunkIndex = uint16(ci)
		m.chunk = b[:pqChunkSize]
	}
	return m, nil
}

// appendPQMessage serializes m into dst.
func appendPQMessage(dst []byte, m *pqMessage) []byte {
	dst = append(dst, pqVersionV1)
	dst = protowire.AppendVarint(dst, m.epoch)
	dst = protowire.AppendVarint(dst, uint64(m.index))
	dst = append(dst, byte(m.typ))
	if m.typ.hasChunk() {
		dst = protowire.AppendVarint(dst, uint64(m.chunkIndex))
		dst = append(dst, m.chunk...)
	}
	return dst
}
