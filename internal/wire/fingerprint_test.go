package wire

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// libsignalEncodingVector is the published CombinedFingerprints encoding from
// libsignal's fingerprint test suite: version 2, local content 32×0x12, remote 32×0xBA.
var libsignalEncodingVector = "080212220a20" + strings.Repeat("12", 32) + "1a220a20" + strings.Repeat("ba", 32)

func vectorFingerprints() *CombinedFingerprints {
	return &CombinedFingerprints{
		Version: 2,
		Local:   bytes.Repeat([]byte{0x12}, 32),
		Remote:  bytes.Repeat([]byte{0xba}, 32),
	}
}

func TestCombinedFingerprintsVector(t *testing.T) {
	want := mustHex(t, libsignalEncodingVector)
	if got := vectorFingerprints().Marshal(); !bytes.Equal(got, want) {
		t.Fatalf("Marshal = %x\nwant      %x", got, want)
	}
	got, err := ParseCombinedFingerprints(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, vectorFingerprints()) {
		t.Fatalf("Parse = %+v", got)
	}
}

func TestCombinedFingerprintsLenient(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want *CombinedFingerprints
	}{
		{"no version", "1200 1a00", &CombinedFingerprints{Local: []byte{}, Remote: []byte{}}},
		{"empty contents", "0801 1200 1a00", &CombinedFingerprints{Version: 1, Local: []byte{}, Remote: []byte{}}},
		// Unknown fields at both levels: a future field 4 outside and
		// LogicalFingerprint's old identifier field 2 inside.
		{"unknown fields", "0801 1203 0a01aa 1a03 0a01bb 2001", &CombinedFingerprints{Version: 1, Local: []byte{0xaa}, Remote: []byte{0xbb}}},
		{"identifier field", "0801 1206 0a01aa 1201ff 1a03 0a01bb", &CombinedFingerprints{Version: 1, Local: []byte{0xaa}, Remote: []byte{0xbb}}},
		// Repeated sub-messages merge: content from the last one that has it.
		{"merged", "0801 1203 0a01aa 1200 1a03 0a01bb 1a03 0a01cc", &CombinedFingerprints{Version: 1, Local: []byte{0xaa}, Remote: []byte{0xcc}}},
	} {
		got, err := ParseCombinedFingerprints(mustHex(t, tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Parse = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestCombinedFingerprintsRejects(t *testing.T) {
	valid := mustHex(t, libsignalEncodingVector)
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMissingField},
		{"no remote", valid[:2+2+34], ErrMissingField},
		{"no local", append([]byte{0x08, 0x02}, valid[2+2+34:]...), ErrMissingField},
		{"truncated", valid[:len(valid)-1], ErrMalformed},
		{"version as bytes", mustHex(t, "0a0102 1200 1a00"), ErrMalformed},
		{"local as varint", mustHex(t, "0801 1000 1a00"), ErrMalformed},
		{"content as varint", mustHex(t, "0801 1202 0800 1a00"), ErrMalformed},
		{"bad inner encoding", mustHex(t, "0801 1202 0a05 1a00"), ErrMalformed},
		{"version over 32 bits", mustHex(t, "08 8080808010 1200 1a00"), ErrMalformed},
		{"too large", make([]byte, maxFingerprintsSize+1), ErrTooLarge},
	} {
		got, err := ParseCombinedFingerprints(tc.in)
		if got != nil || !errors.Is(err, tc.want) {
			t.Errorf("%s: Parse = %+v, %v; want nil, %v", tc.name, got, err, tc.want)
		}
	}
}

func FuzzParseCombinedFingerprints(f *testing.F) {
	f.Add(mustHex(f, libsignalEncodingVector))
	f.Add(mustHex(f, "0801 1203 0a01aa 1200 1a03 0a01bb 1a03 0a01cc 2001"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCombinedFingerprints(b)
		if err != nil {
			return
		}
		c2, err := ParseCombinedFingerprints(c.Marshal())
		if err != nil {
			t.Fatalf("re-parse of Marshal output: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the value:\n%+v\n%+v", c, c2)
		}
	})
}
