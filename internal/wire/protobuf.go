package wire

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// field is one protobuf field as read off the wire.
type field struct {
	num protowire.Number
	typ protowire.Type
	// val holds the value of a varint, fixed32 or fixed64 field.
	val uint64
	// buf holds the payload of a length-delimited field. It aliases the input.
	buf []byte
}

// walkFields decodes b as a sequence of protobuf fields and calls visit for
// each, in wire order. It stops at the first error, from decoding or from
// visit. Decoding errors are ErrMalformed.
func walkFields(b []byte, visit func(f field) error) error {
	d := decoder{b: b}
	for d.next() {
		if err := visit(d.f); err != nil {
			return err
		}
	}
	return d.err
}

// decoder reads protobuf fields one at a time without allocating:
//
//	d := decoder{b: b}
//	for d.next() { use d.f }
//	if d.err != nil { ... }
//
// It is the one protobuf decoder of the module, so every wire message is read
// with one policy. Beyond protowire's own checks it rejects non-minimal varints
// (in tags, lengths and values) and group wire types, so every field it
// accepts has exactly one encoding.
type decoder struct {
	b   []byte
	f   field
	err error
}

// next decodes the next field into d.f. It returns false at the end of the
// input or at the first error, which it leaves in d.err.
func (d *decoder) next() bool {
	if d.err != nil || len(d.b) == 0 {
		return false
	}
	f, n, err := consumeField(d.b)
	if err != nil {
		d.err = err
		return false
	}
	d.b, d.f = d.b[n:], f
	return true
}

// consumeField decodes one field from the front of b and returns it with its
// encoded length.
func consumeField(b []byte) (field, int, error) {
	tag, n, err := consumeVarint(b)
	if err != nil {
		return field{}, 0, err
	}
	// A tag is a 32-bit value: field number (1 to 2^29-1) and wire type.
	if tag > math.MaxUint32 {
		return field{}, 0, ErrMalformed
	}
	num, typ := protowire.DecodeTag(tag)
	if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
		return field{}, 0, ErrMalformed
	}
	f := field{num: num, typ: typ}
	rest := b[n:]
	var m int
	switch typ {
	case protowire.VarintType:
		f.val, m, err = consumeVarint(rest)
		if err != nil {
			return field{}, 0, err
		}
	case protowire.Fixed32Type:
		var v uint32
		v, m = protowire.ConsumeFixed32(rest)
		if m < 0 {
			return field{}, 0, ErrMalformed
		}
		f.val = uint64(v)
	case protowire.Fixed64Type:
		f.val, m = protowire.ConsumeFixed64(rest)
		if m < 0 {
			return field{}, 0, ErrMalformed
		}
	case protowire.BytesType:
		var l uint64
		l, m, err = consumeVarint(rest)
		if err != nil {
			return field{}, 0, err
		}
		if l > uint64(len(rest)-m) {
			return field{}, 0, ErrMalformed
		}
		f.buf = rest[m : m+int(l)]
		m += int(l)
	default:
		// StartGroup, EndGroup and the undefined types 6 and 7.
		return field{}, 0, ErrMalformed
	}
	return f, n + m, nil
}

// consumeVarint reads one minimally encoded varint from the front of b and
// returns it with its length.
func consumeVarint(b []byte) (uint64, int, error) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 || n != protowire.SizeVarint(v) {
		return 0, 0, ErrMalformed
	}
	return v, n, nil
}

// uint32Value returns the value of a uint32 field. It must have the varint
// wire type and fit in 32 bits.
func (f field) uint32Value() (uint32, error) {
	if f.typ != protowire.VarintType || f.val > math.MaxUint32 {
		return 0, ErrMalformed
	}
	return uint32(f.val), nil
}

// bytesValue returns a copy of the payload of a bytes field, which must have
// the length-delimited wire type. The copy is never nil, so a present but
// empty field stays distinguishable from an absent one.
func (f field) bytesValue() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, ErrMalformed
	}
	return append([]byte{}, f.buf...), nil
}

// bytesAlias returns the payload of a bytes field without copying: it
// aliases the input. The result is never nil, so a present but empty field
// stays distinguishable from an absent one.
func (f field) bytesAlias() ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, ErrMalformed
	}
	if f.buf == nil {
		return []byte{}, nil
	}
	return f.buf, nil
}

// appendUint32Field appends field num with varint value v.
func appendUint32Field(b []byte, num protowire.Number, v uint32) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// appendBytesField appends field num with length-delimited payload v.
func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// sizeUint32Field is the encoded size of appendUint32Field's output.
func sizeUint32Field(num protowire.Number, v uint32) int {
	return protowire.SizeTag(num) + protowire.SizeVarint(uint64(v))
}

// sizeBytesField is the encoded size of appendBytesField's output.
func sizeBytesField(num protowire.Number, v []byte) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(len(v))
}
