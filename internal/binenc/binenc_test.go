package binenc

import (
	"encoding/binary"
	"testing"
)

func TestReader(t *testing.T) {
	var b []byte
	b = append(b, "ab"...)
	b = binary.AppendUvarint(b, 300)
	b = binary.AppendVarint(b, -5)
	b = binary.AppendUvarint(b, 3)
	b = append(b, "xyz"...)
	r := NewReader(b)
	if string(r.Bytes(2)) != "ab" || r.Uvarint() != 300 || r.Varint() != -5 || string(r.LenPrefixed()) != "xyz" || !r.Done() {
		t.Fatal("round trip failed")
	}
	// Every truncation is an error, never a panic.
	for n := range len(b) {
		r := NewReader(b[:n])
		r.Bytes(2)
		r.Uvarint()
		r.Varint()
		r.LenPrefixed()
		if r.Done() {
			t.Fatalf("prefix %d accepted", n)
		}
	}
	r = NewReader(binary.AppendUvarint(nil, 1<<32))
	r.U32()
	if r.Err() == nil {
		t.Fatal("33-bit value accepted as u32")
	}
	r = NewReader(binary.AppendUvarint(nil, 10))
	if r.LenPrefixed(); r.Err() == nil {
		t.Fatal("length past the end accepted")
	}
	r = NewReader(nil)
	r.Fail()
	if r.Byte() != 0 || r.Err() == nil {
		t.Fatal("Fail did not stick")
	}
}
