package franking

import (
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// Version is the franking version: the first byte of a content encoding and
// of a report, and the version byte of every reporting tag's input.
const Version = 1

// Bounds of what one franked message may commit to. A Content outside them
// cannot be encoded (ErrInvalidContent) and an encoding outside them does
// not parse (ErrMalformed), so a hostile payload or report never makes the
// recipient or the relay hash or allocate more than about MaxBodySize.
const (
	// MaxAddressSize bounds a sender or recipient address, in bytes: the
	// relay's 1,024-byte names with a device suffix fit.
	MaxAddressSize = 2048
	// MaxBodySize bounds the committed body, in bytes.
	MaxBodySize = 1 << 20
	// MaxAttachments bounds the attachment digests of one message.
	MaxAttachments = 100
	// DigestSize is the size of an attachment digest: SHA-256 of the whole
	// encrypted blob (attachment.Pointer.Digest).
	DigestSize = 32
)

// Field tags of the content encoding, in the order they must appear.
const (
	fieldSender      = 1
	fieldRecipient   = 2
	fieldSent        = 3
	fieldBody        = 4
	fieldAttachments = 5
)

// fieldHeaderSize is a field's tag byte and 4-byte length.
const fieldHeaderSize = 1 + 4

// Content is what a franking commitment binds: who sent what to whom and
// when, by the sender's account, and the digests of the attachments the
// message carries. The recipient fills Sender and Recipient from what it
// knows (the authenticated session peer and itself), never from the
// payload, and takes Sent, Body and Attachments from the decrypted payload.
type Content struct {
	// Sender and Recipient are the parties' addresses, in the form the relay
	// authenticates and records (for Sotto's relay, relay.Address.String():
	// "name.device"), so that the relay can compare them with its own view.
	Sender, Recipient string
	// Sent is the sender's clock when it sent the message; it is committed
	// at millisecond precision (Unix milliseconds, 1970 or later).
	Sent time.Time
	// Body is the message as the application encodes it (opaque here).
	Body []byte
	// Attachments are the SHA-256 digests of the encrypted attachment blobs,
	// in the order the message lists them. Package attachment's blobs are
	// key committing, so a digest pins down the attachment's plaintext too.
	Attachments [][DigestSize]byte
}

// MarshalBinary returns the canonical encoding of c, the input of the
// commitment (FRANKING.md, "Content encoding"):
//
//	content = 0x01 field(1, sender) field(2, recipient) field(3, BE64(sent ms))
//	          field(4, body) field(5, digest_1 || ... || digest_n)
//	field(t, v) = t (1 byte) || BE32(len(v)) || v
//
// It returns ErrInvalidContent if c is out of bounds.
func (c *Content) MarshalBinary() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	n := 1 + 5*fieldHeaderSize + len(c.Sender) + len(c.Recipient) + 8 + len(c.Body) + DigestSize*len(c.Attachments)
	b := make([]byte, 0, n)
	b = append(b, Version)
	b = appendField(b, fieldSender, []byte(c.Sender))
	b = appendField(b, fieldRecipient, []byte(c.Recipient))
	b = appendField(b, fieldSent, binary.BigEndian.AppendUint64(nil, uint64(c.Sent.UnixMilli())))
	b = appendField(b, fieldBody, c.Body)
	b = append(b, fieldAttachments)
	b = binary.BigEndian.AppendUint32(b, uint32(DigestSize*len(c.Attachments)))
	for _, d := range c.Attachments {
		b = append(b, d[:]...)
	}
	return b, nil
}

func appendField(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// validate checks c against the bounds.
func (c *Content) validate() error {
	if !validAddress(c.Sender) || !validAddress(c.Recipient) || !validTime(c.Sent) ||
		len(c.Body) > MaxBodySize || len(c.Attachments) > MaxAttachments {
		return ErrInvalidContent
	}
	return nil
}

// validAddress reports whether a is a non-empty UTF-8 address within
// MaxAddressSize.
func validAddress(a string) bool {
	return a != "" && len(a) <= MaxAddressSize && utf8.ValidString(a)
}

// validTime reports whether t is at or after the Unix epoch, at
// millisecond resolution.
func validTime(t time.Time) bool { return t.UnixMilli() >= 0 }

// ParseContent parses a content encoding strictly: version 1, the five
// fields each exactly once and in order, every bound respected, nothing
// after the last field. The result re-encodes to exactly b. Sent is in UTC;
// an empty Body or attachment list is nil.
func ParseContent(b []byte) (*Content, error) {
	c, rest, ok := parseContent(b)
	if !ok || len(rest) != 0 {
		return nil, ErrMalformed
	}
	return c, nil
}

// parseContent reads one content encoding from the front of b.
func parseContent(b []byte) (c *Content, rest []byte, ok bool) {
	if len(b) < 1 || b[0] != Version {
		return nil, nil, false
	}
	b = b[1:]
	var f [fieldAttachments + 1][]byte
	for tag := byte(fieldSender); tag <= fieldAttachments; tag++ {
		if f[tag], b, ok = readField(b, tag); !ok {
			return nil, nil, false
		}
	}
	c = &Content{Sender: string(f[fieldSender]), Recipient: string(f[fieldRecipient])}
	if len(f[fieldSent]) != 8 {
		return nil, nil, false
	}
	ms := binary.BigEndian.Uint64(f[fieldSent])
	if ms > 1<<63-1 {
		return nil, nil, false
	}
	c.Sent = time.UnixMilli(int64(ms)).UTC()
	if len(f[fieldBody]) > 0 {
		c.Body = append([]byte(nil), f[fieldBody]...)
	}
	digests := f[fieldAttachments]
	if len(digests)%DigestSize != 0 || len(digests) > MaxAttachments*DigestSize {
		return nil, nil, false
	}
	for len(digests) > 0 {
		c.Attachments = append(c.Attachments, [DigestSize]byte(digests[:DigestSize]))
		digests = digests[DigestSize:]
	}
	if c.validate() != nil {
		return nil, nil, false
	}
	return c, b, true
}

// readField reads the field tag from the front of b. Lengths are checked
// against the largest field (the body) before slicing, so a hostile length
// never allocates.
func readField(b []byte, tag byte) (v, rest []byte, ok bool) {
	if len(b) < fieldHeaderSize || b[0] != tag {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b[1:fieldHeaderSize])
	b = b[fieldHeaderSize:]
	if n > MaxBodySize || uint64(n) > uint64(len(b)) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}
