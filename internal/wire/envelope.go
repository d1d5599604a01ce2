package wire

import (
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The message envelope: what an application puts inside session encryption
// (internal/wire/WIRE.md §14). A version byte, then protobuf fields:
//
//	envelope = 0x01 || Envelope
//	message Envelope {
//	  uint32 kind                = 1;  // 1 text, 2 receipt, 3 timer update
//	  bytes  id                  = 2;  // 16 bytes, the sender's random message id
//	  uint64 sent                = 3;  // the sender's clock, Unix milliseconds
//	  bytes  body                = 4;  // UTF-8 text, at most MaxEnvelopeBody bytes
//	  uint32 timer_seconds       = 5;  // the conversation's disappearing timer; 0 off
//	  uint32 timer_version       = 6;  // its version: the latest change wins
//	  bytes  franking_opening    = 7;  // 32 bytes
//	  bytes  franking_commitment = 8;  // 32 bytes, as sent beside the ciphertext
//	  repeated bytes attachment  = 9;  // attachment pointers, in order
//	  repeated bytes receipt     = 10; // 16-byte ids a receipt acknowledges
//	}
//
// Fields this version does not know are kept, in order and byte for byte, and
// written back after the known ones, so that a newer peer's additions survive
// a round trip through an older one.

// EnvelopeVersion is the version byte of the envelope encoding.
const EnvelopeVersion = 1

// Bounds of an envelope. They bound what a peer can make a recipient
// decode and keep.
const (
	MaxEnvelopeSize        = 128 << 10 // the whole encoding, version byte included
	MaxEnvelopeBody        = 64 << 10
	MaxEnvelopeAttachments = 32
	MaxEnvelopeAttachment  = 2 << 10 // one attachment pointer's encoding
	MaxEnvelopeReceipts    = 1000
	MaxEnvelopeUnknown     = 4 << 10 // the unknown fields kept, in all
	EnvelopeIDSize         = 16
	envelopeKeySize        = 32
)

// ErrEnvelopeVersion is returned for an envelope whose version byte is not
// EnvelopeVersion.
var ErrEnvelopeVersion = errors.New("wire: unsupported envelope version")

const (
	envelopeKindField protowire.Number = 1 + iota
	envelopeIDField
	envelopeSentField
	envelopeBodyField
	envelopeTimerSecondsField
	envelopeTimerVersionField
	envelopeOpeningField
	envelopeCommitmentField
	envelopeAttachmentField
	envelopeReceiptField
)

// Envelope is the decoded envelope. Byte fields alias the input of
// ParseEnvelope; nil means absent.
type Envelope struct {
	Kind         uint32
	ID           []byte
	Sent         uint64
	Body         []byte
	TimerSeconds uint32
	TimerVersion uint32
	Opening      []byte
	Commitment   []byte
	Attachments  [][]byte
	Receipts     [][]byte
	// Unknown holds the fields this version does not know, as encoded.
	Unknown []byte
}

// Marshal appends the encoding of e to b. Zero scalars and nil byte fields
// are left out.
func (e *Envelope) Marshal(b []byte) []byte {
	b = append(b, EnvelopeVersion)
	if e.Kind != 0 {
		b = appendUint32Field(b, envelopeKindField, e.Kind)
	}
	if e.ID != nil {
		b = appendBytesField(b, envelopeIDField, e.ID)
	}
	if e.Sent != 0 {
		b = protowire.AppendTag(b, envelopeSentField, protowire.VarintType)
		b = protowire.AppendVarint(b, e.Sent)
	}
	if e.Body != nil {
		b = appendBytesField(b, envelopeBodyField, e.Body)
	}
	if e.TimerSeconds != 0 {
		b = appendUint32Field(b, envelopeTimerSecondsField, e.TimerSeconds)
	}
	if e.TimerVersion != 0 {
		b = appendUint32Field(b, envelopeTimerVersionField, e.TimerVersion)
	}
	if e.Opening != nil {
		b = appendBytesField(b, envelopeOpeningField, e.Opening)
	}
	if e.Commitment != nil {
		b = appendBytesField(b, envelopeCommitmentField, e.Commitment)
	}
	for _, a := range e.Attachments {
		b = appendBytesField(b, envelopeAttachmentField, a)
	}
	for _, r := range e.Receipts {
		b = appendBytesField(b, envelopeReceiptField, r)
	}
	return append(b, e.Unknown...)
}

// ParseEnvelope decodes an envelope strictly: the version byte, each known
// field at most once (attachments and receipts excepted) with its wire type
// and size, counts and sizes within the bounds above. It returns ErrTooLarge
// past a bound, ErrEnvelopeVersion for another version and ErrMalformed for
// anything else that is wrong.
func ParseEnvelope(b []byte) (*Envelope, error) {
	if len(b) > MaxEnvelopeSize {
		return nil, ErrTooLarge
	}
	if len(b) == 0 {
		return nil, ErrMalformed
	}
	if b[0] != EnvelopeVersion {
		return nil, ErrEnvelopeVersion
	}
	e := new(Envelope)
	var seen uint16
	d := decoder{b: b[1:]}
	start := d.b
	for d.next() {
		f := d.f
		// The field's encoding is what the decoder just stepped over.
		raw := start[:len(start)-len(d.b)]
		start = d.b
		if f.num >= envelopeKindField && f.num <= envelopeCommitmentField {
			bit := uint16(1) << f.num
			if seen&bit != 0 {
				return nil, ErrMalformed
			}
			seen |= bit
		}
		var err error
		switch f.num {
		case envelopeKindField:
			e.Kind, err = f.uint32Value()
		case envelopeIDField:
			e.ID, err = fixedBytes(f, EnvelopeIDSize)
		case envelopeSentField:
			if f.typ != protowire.VarintType || f.val > math.MaxInt64/2 {
				return nil, ErrMalformed
			}
			e.Sent = f.val
		case envelopeBodyField:
			if e.Body, err = f.bytesAlias(); err == nil && len(e.Body) > MaxEnvelopeBody {
				return nil, ErrTooLarge
			}
		case envelopeTimerSecondsField:
			e.TimerSeconds, err = f.uint32Value()
		case envelopeTimerVersionField:
			e.TimerVersion, err = f.uint32Value()
		case envelopeOpeningField:
			e.Opening, err = fixedBytes(f, envelopeKeySize)
		case envelopeCommitmentField:
			e.Commitment, err = fixedBytes(f, envelopeKeySize)
		case envelopeAttachmentField:
			var a []byte
			if a, err = f.bytesAlias(); err == nil {
				if len(e.Attachments) == MaxEnvelopeAttachments || len(a) > MaxEnvelopeAttachment {
					return nil, ErrTooLarge
				}
				e.Attachments = append(e.Attachments, a)
			}
		case envelopeReceiptField:
			var r []byte
			if r, err = fixedBytes(f, EnvelopeIDSize); err == nil {
				if len(e.Receipts) == MaxEnvelopeReceipts {
					return nil, ErrTooLarge
				}
				e.Receipts = append(e.Receipts, r)
			}
		default:
			if len(e.Unknown)+len(raw) > MaxEnvelopeUnknown {
				return nil, ErrTooLarge
			}
			e.Unknown = append(e.Unknown, raw...)
		}
		if err != nil {
			return nil, err
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return e, nil
}

// fixedBytes returns the payload of a bytes field of exactly n bytes,
// aliasing the input.
func fixedBytes(f field, n int) ([]byte, error) {
	v, err := f.bytesAlias()
	if err != nil || len(v) != n {
		return nil, ErrMalformed
	}
	return v, nil
}
