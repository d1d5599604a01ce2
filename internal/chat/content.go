package chat

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"

	"github.com/sotto-im/sotto/internal/binenc"
)

// The content of a message: what the chat layer puts inside session's
// encryption. It is a compact binary encoding, padded before encryption:
//
//	content  = version(1) kind(1) body
//	text     = id(16) uvarint(sent, Unix ms) UTF-8 text (the rest)
//	receipt  = uvarint(n) n × id(16)
//	padded   = content 0x80 0x00* (to a multiple of paddingBlock bytes)
//
// The padding is Signal's: a 0x80 marker then zeros.

const (
	contentVersion = 1

	kindText    = 1
	kindReceipt = 2

	// paddingBlock is the size plaintexts are padded to a multiple of, as
	// Signal's apps pad (160 bytes).
	paddingBlock = 160

	// MaxTextSize is the largest text Send accepts and Run stores, in bytes.
	MaxTextSize = 64 << 10

	// maxReceiptIDs bounds the message ids one receipt may acknowledge.
	maxReceiptIDs = 1000
)

// errMalformedContent reports a decrypted message whose content does not
// parse: the peer's software is broken or hostile (authentication passed).
var errMalformedContent = errors.New("chat: malformed message content")

// msgID is a message's id, chosen at random by its sender and shared by
// both parties' histories.
type msgID [16]byte

type content struct {
	kind     byte
	id       msgID   // kindText
	sent     int64   // kindText: the sender's clock, Unix ms
	text     string  // kindText
	receipts []msgID // kindReceipt
}

func (c *content) marshal() []byte {
	b := []byte{contentVersion, c.kind}
	switch c.kind {
	case kindText:
		b = append(b, c.id[:]...)
		b = binary.AppendUvarint(b, uint64(max(c.sent, 0)))
		b = append(b, c.text...)
	case kindReceipt:
		b = binary.AppendUvarint(b, uint64(len(c.receipts)))
		for _, id := range c.receipts {
			b = append(b, id[:]...)
		}
	}
	return pad(b)
}

func parseContent(padded []byte) (*content, error) {
	b, ok := unpad(padded)
	if !ok || len(b) < 2 || b[0] != contentVersion {
		return nil, errMalformedContent
	}
	c := &content{kind: b[1]}
	r := binenc.NewReader(b[2:])
	switch c.kind {
	case kindText:
		if len(b) < 2+len(c.id) {
			return nil, errMalformedContent
		}
		copy(c.id[:], b[2:])
		v, n := binary.Uvarint(b[2+len(c.id):])
		if n <= 0 || v > 1<<62 {
			return nil, errMalformedContent
		}
		rest := b[2+len(c.id)+n:]
		if len(rest) > MaxTextSize || !utf8.Valid(rest) {
			return nil, errMalformedContent
		}
		c.sent, c.text = int64(v), string(rest)
	case kindReceipt:
		n := r.Uvarint()
		if n == 0 || n > maxReceiptIDs {
			return nil, errMalformedContent
		}
		c.receipts = make([]msgID, n)
		for i := range c.receipts {
			r.Array(c.receipts[i][:])
		}
		if !r.Done() {
			return nil, errMalformedContent
		}
	default:
		return nil, errMalformedContent
	}
	return c, nil
}

func pad(b []byte) []byte {
	b = append(b, 0x80)
	for len(b)%paddingBlock != 0 {
		b = append(b, 0)
	}
	return b
}

func unpad(b []byte) ([]byte, bool) {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case 0:
			continue
		case 0x80:
			return b[:i], true
		default:
			return nil, false
		}
	}
	return nil, false
}
