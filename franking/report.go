package franking

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// A Report is what a recipient hands the relay to report a message: the
// content it decrypted, the opening from the payload, the tag and the
// relay's timestamp that came with the message. The reporting context is
// the content's Sender and Recipient and Received.
type Report struct {
	Content  Content
	Opening  Opening
	Tag      Tag
	Received time.Time
}

// MarshalBinary encodes the report (FRANKING.md, "Report encoding"):
//
//	report = 0x01 || BE32(len(content)) || content || opening (32) || tag (36) ||
//	         BE64(received ms)
//
// It returns ErrInvalidContent if the content or the time is out of bounds.
func (r *Report) MarshalBinary() ([]byte, error) {
	enc, err := r.Content.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if !validTime(r.Received) {
		return nil, ErrInvalidContent
	}
	b := make([]byte, 0, 1+4+len(enc)+OpeningSize+TagSize+8)
	b = append(b, Version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
	b = append(b, enc...)
	b = append(b, r.Opening.k[:]...)
	b = append(b, r.Tag.Bytes()...)
	return binary.BigEndian.AppendUint64(b, uint64(r.Received.UnixMilli())), nil
}

// ParseReport parses a report strictly: version 1, a content that parses
// (ParseContent) and fills its length exactly, an opening that is not all
// zero, a tag, a time, and nothing after. It returns ErrMalformed for
// anything else. Parsing checks only the form; Relay.Verify checks the
// report.
func ParseReport(b []byte) (*Report, error) {
	const tail = OpeningSize + TagSize + 8
	if len(b) < 1+4 || b[0] != Version {
		return nil, ErrMalformed
	}
	n := binary.BigEndian.Uint32(b[1:5])
	b = b[5:]
	if uint64(n)+tail != uint64(len(b)) {
		return nil, ErrMalformed
	}
	c, err := ParseContent(b[:n])
	if err != nil {
		return nil, err
	}
	b = b[n:]
	o, err := ParseOpening(b[:OpeningSize])
	if err != nil {
		return nil, ErrMalformed
	}
	t, _ := ParseTag(b[OpeningSize : OpeningSize+TagSize]) // the size is right
	ms := binary.BigEndian.Uint64(b[OpeningSize+TagSize:])
	if ms > 1<<63-1 {
		return nil, ErrMalformed
	}
	return &Report{Content: *c, Opening: o, Tag: t, Received: time.UnixMilli(int64(ms)).UTC()}, nil
}

// String describes the report without its opening: the formatting methods
// exist because fmt does not call the Opening's own redaction in every case
// (a *Report nested in a struct and printed with %s or %x), and have value
// receivers so that a Report value is covered too.
func (r Report) String() string {
	return fmt.Sprintf("franking.Report{Sender: %q, Recipient: %q, Sent: %s, Body: %d bytes, Attachments: %d, "+
		"Opening: REDACTED, Tag: key %d, Received: %s}", r.Content.Sender, r.Content.Recipient,
		r.Content.Sent.UTC().Format(time.RFC3339Nano), len(r.Content.Body), len(r.Content.Attachments),
		r.Tag.KeyID, r.Received.UTC().Format(time.RFC3339Nano))
}

// GoString is String, for %#v.
func (r Report) GoString() string { return r.String() }

// Format prints String for every verb.
func (r Report) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

var (
	_ fmt.Formatter = Report{}
	_ fmt.Formatter = (*Report)(nil)
)
