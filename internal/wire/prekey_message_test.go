package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// vField and bField build single protobuf fields for test inputs,
// independently of the package's own encoder.
func vField(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

func bField(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// smallMessage is the message whose encoding smallEncoding gives by hand.
func smallMessage() *PreKeySignalMessage {
	return &PreKeySignalMessage{
		Version:         4,
		RegistrationID:  300,
		PreKeyID:        1,
		HasPreKeyID:     true,
		SignedPreKeyID:  2,
		KyberPreKeyID:   3,
		KyberCiphertext: []byte{0x08, 0xaa},
		BaseKey:         []byte{0x05, 0x01},
		IdentityKey:     []byte{0x05, 0x02},
		Message:         []byte{0x44, 0xff},
	}
}

// smallEncoding is smallMessage's wire form, worked out by hand: version byte
// 0x44, then tag (field<<3 | wire type) and value for fields 1 to 8.
const smallEncoding = "44" +
	"08 01" + // 1 pre_key_id = 1
	"12 02 0501" + // 2 base_key
	"1a 02 0502" + // 3 identity_key
	"22 02 44ff" + // 4 message
	"28 ac02" + // 5 registration_id = 300 = 0x2c | 0x80, 0x02
	"30 02" + // 6 signed_pre_key_id = 2
	"38 03" + // 7 kyber_pre_key_id = 3
	"42 02 08aa" // 8 kyber_ciphertext

// realisticMessage has libsignal's sizes: 33-byte keys, a 1,569-byte Kyber1024
// ciphertext and a short SignalMessage.
func realisticMessage() *PreKeySignalMessage {
	fill := func(n int, first, b byte) []byte {
		s := bytes.Repeat([]byte{b}, n)
		s[0] = first
		return s
	}
	return &PreKeySignalMessage{
		Version:         CurrentVersion,
		RegistrationID:  0x3fff,
		PreKeyID:        0xabcdef,
		HasPreKeyID:     true,
		SignedPreKeyID:  7,
		KyberPreKeyID:   math.MaxUint32,
		KyberCiphertext: fill(1569, 0x08, 0xc7),
		BaseKey:         fill(33, 0x05, 0xb1),
		IdentityKey:     fill(33, 0x05, 0x1d),
		Message:         fill(120, 0x44, 0x5e),
	}
}

// requiredFields returns the fields of a minimal valid message, in tag order,
// keyed by name, so a test can drop or alter one.
func requiredFields() []struct {
	name string
	enc  []byte
} {
	return []struct {
		name string
		enc  []byte
	}{
		{"base_key", bField(baseKeyField, []byte{0x05, 0x01})},
		{"identity_key", bField(identityKeyField, []byte{0x05, 0x02})},
		{"message", bField(messageField, []byte{0x44})},
		{"signed_pre_key_id", vField(signedPreKeyIDField, 2)},
		{"kyber_pre_key_id", vField(kyberPreKeyIDField, 3)},
		{"kyber_ciphertext", bField(kyberCiphertextField, []byte{0x08})},
	}
}

func minimalEncoding() []byte {
	b := []byte{0x44}
	for _, f := range requiredFields() {
		b = append(b, f.enc...)
	}
	return b
}

func mustParse(t *testing.T, b []byte) *PreKeySignalMessage {
	t.Helper()
	m, err := ParsePreKeySignalMessage(b)
	if err != nil {
		t.Fatalf("ParsePreKeySignalMessage: %v", err)
	}
	return m
}

func TestPreKeySignalMessageKnownEncoding(t *testing.T) {
	want := mustHex(t, smallEncoding)
	if got := smallMessage().Marshal(); !bytes.Equal(got, want) {
		t.Fatalf("Marshal = %x\nwant      %x", got, want)
	}
	if got := mustParse(t, want); !reflect.DeepEqual(got, smallMessage()) {
		t.Fatalf("Parse = %+v\nwant    %+v", got, smallMessage())
	}

	// Without a one-time prekey, field 1 is omitted; zero values of the other
	// fields are still written, and the largest uint32 takes five bytes.
	m := smallMessage()
	m.HasPreKeyID, m.PreKeyID = false, 0
	m.RegistrationID = 0
	m.SignedPreKeyID = math.MaxUint32
	want = mustHex(t, "44 12020501 1a020502 220244ff 2800 30ffffffff0f 3803 420208aa")
	if got := m.Marshal(); !bytes.Equal(got, want) {
		t.Fatalf("Marshal without pre_key_id = %x\nwant                         %x", got, want)
	}
	if got := mustParse(t, want); !reflect.DeepEqual(got, m) {
		t.Fatalf("Parse = %+v\nwant    %+v", got, m)
	}
}

// TestPreKeySignalMessageLibsignalPrefix checks the prefix observed on
// libsignal's PreKey messages: 44 08 <pre_key_id> 12 21 05.
func TestPreKeySignalMessageLibsignalPrefix(t *testing.T) {
	m := realisticMessage()
	m.PreKeyID = 9
	b := m.Marshal()
	if want := []byte{0x44, 0x08, 0x09, 0x12, 0x21, 0x05}; !bytes.HasPrefix(b, want) {
		t.Errorf("Marshal prefix = %x, want %x", b[:len(want)], want)
	}
}

func TestPreKeySignalMessageRoundTrip(t *testing.T) {
	for name, m := range map[string]*PreKeySignalMessage{
		"small":     smallMessage(),
		"realistic": realisticMessage(),
		"pre_key_id zero": func() *PreKeySignalMessage {
			m := smallMessage()
			m.PreKeyID = 0 // present and zero is not absent
			return m
		}(),
		"empty byte fields": {
			Version: 4, KyberCiphertext: []byte{}, BaseKey: []byte{}, IdentityKey: []byte{}, Message: []byte{},
		},
	} {
		b := m.Marshal()
		got, err := ParsePreKeySignalMessage(b)
		if err != nil {
			t.Errorf("%s: Parse(Marshal) error: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: Parse(Marshal) = %+v, want %+v", name, got, m)
		}
		if again := got.Marshal(); !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs", name)
		}
	}
}

func TestPreKeySignalMessageNoAliasing(t *testing.T) {
	b := mustHex(t, smallEncoding)
	m := mustParse(t, b)
	for i := range b {
		b[i] = 0
	}
	if !reflect.DeepEqual(m, smallMessage()) {
		t.Error("parsed message changed when its input was overwritten")
	}
}

func TestPreKeySignalMessageVersions(t *testing.T) {
	body := minimalEncoding()[1:]
	for _, tc := range []struct {
		vb   byte
		want error
	}{
		{0x00, ErrLegacyVersion},
		{0x04, ErrLegacyVersion},
		{0x22, ErrLegacyVersion},
		{0x24, ErrLegacyVersion},
		{0x33, ErrUnsupportedVersion},
		{0x34, ErrUnsupportedVersion},
		{0x54, ErrUnknownVersion},
		{0x55, ErrUnknownVersion},
		{0xf4, ErrUnknownVersion},
		// The low nibble (the sender's highest version) is not checked.
		{0x44, nil},
		{0x40, nil},
		{0x4f, nil},
	} {
		m, err := ParsePreKeySignalMessage(append([]byte{tc.vb}, body...))
		if !errors.Is(err, tc.want) {
			t.Errorf("version byte %#02x: error %v, want %v", tc.vb, err, tc.want)
		}
		if err == nil && (m.Version != CurrentVersion || m.Marshal()[0] != 0x44) {
			t.Errorf("version byte %#02x: Version %d, re-encoded %#02x", tc.vb, m.Version, m.Marshal()[0])
		}
	}
}

func TestPreKeySignalMessageMissingFields(t *testing.T) {
	fields := requiredFields()
	for i, drop := range fields {
		b := []byte{0x44}
		for j, f := range fields {
			if j != i {
				b = append(b, f.enc...)
			}
		}
		_, err := ParsePreKeySignalMessage(b)
		if !errors.Is(err, ErrMissingField) || !errors.Is(err, ErrMalformed) {
			t.Errorf("without %s: error %v, want ErrMissingField and ErrMalformed", drop.name, err)
		} else if !strings.Contains(err.Error(), drop.name) {
			t.Errorf("without %s: error %q does not name the field", drop.name, err)
		}
	}
	// Both Kyber fields missing: the v3 (X3DH) shape under a v4 version byte.
	_, err := ParsePreKeySignalMessage(cat([]byte{0x44}, fields[0].enc, fields[1].enc, fields[2].enc, fields[3].enc))
	if !errors.Is(err, ErrMissingField) {
		t.Errorf("without Kyber: error %v, want ErrMissingField", err)
	}
	// Optional fields may be absent.
	m := mustParse(t, minimalEncoding())
	if m.HasPreKeyID || m.PreKeyID != 0 || m.RegistrationID != 0 {
		t.Errorf("absent optional fields parsed as %+v", m)
	}
}

func TestPreKeySignalMessageMalformed(t *testing.T) {
	valid := minimalEncoding()
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"pre_key_id as bytes", cat(valid, bField(preKeyIDField, []byte{1}))},
		{"registration_id as fixed32", cat(valid, protowire.AppendFixed32(protowire.AppendTag(nil, registrationIDField, protowire.Fixed32Type), 1))},
		{"signed_pre_key_id as fixed64", cat(valid, protowire.AppendFixed64(protowire.AppendTag(nil, signedPreKeyIDField, protowire.Fixed64Type), 1))},
		{"kyber_pre_key_id as bytes", cat(valid, bField(kyberPreKeyIDField, nil))},
		{"base_key as varint", cat(valid, vField(baseKeyField, 5))},
		{"identity_key as varint", cat(valid, vField(identityKeyField, 5))},
		{"message as fixed32", cat(valid, protowire.AppendTag(nil, messageField, protowire.Fixed32Type), []byte{1, 2, 3, 4})},
		{"kyber_ciphertext as varint", cat(valid, vField(kyberCiphertextField, 8))},
		{"pre_key_id over 32 bits", cat(valid, vField(preKeyIDField, 1<<32))},
		{"registration_id max uint64", cat(valid, vField(registrationIDField, math.MaxUint64))},
		{"truncated varint", cat(valid, []byte{0x08, 0x80})},
		{"truncated tag", cat(valid, []byte{0x80})},
		{"truncated fixed32", cat(valid, []byte{0x1d, 1, 2, 3})},
		{"truncated fixed64", cat(valid, []byte{0x19, 1, 2, 3, 4, 5, 6, 7})},
		{"length past end", cat(valid, []byte{0x12, 0x05, 0x05, 0x01})},
		{"length past end of huge", cat(valid, []byte{0x12, 0xff, 0xff, 0xff, 0xff, 0x0f})},
		{"eleven-byte varint", cat(valid, []byte{0x08}, bytes.Repeat([]byte{0x80}, 10), []byte{0x00})},
		{"ten-byte varint overflow", cat(valid, []byte{0x08}, bytes.Repeat([]byte{0xff}, 9), []byte{0x02})},
		{"non-minimal value", cat(valid, []byte{0x08, 0x81, 0x00})},
		{"non-minimal zero", cat(valid, []byte{0x30, 0x80, 0x80, 0x00})},
		{"non-minimal tag", cat(valid, []byte{0x88, 0x00, 0x01})},
		{"non-minimal length", cat(valid, []byte{0x12, 0x81, 0x00, 0x05})},
		{"non-minimal unknown field", cat(valid, []byte{0x48, 0x80, 0x00})},
		{"field number 0", cat(valid, []byte{0x00, 0x01})},
		{"field number 0 bytes", cat(valid, []byte{0x02, 0x00})},
		{"tag over 32 bits", cat(valid, protowire.AppendVarint(nil, 1<<32|uint64(protowire.VarintType)), []byte{0x01})},
		{"start group", cat(valid, []byte{0x4b, 0x4c})},
		{"end group", cat(valid, []byte{0x4c})},
		{"wire type 6", cat(valid, []byte{0x4e, 0x00})},
		{"wire type 7", cat(valid, []byte{0x4f, 0x00})},
	} {
		m, err := ParsePreKeySignalMessage(tc.in)
		if m != nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse = %v, %v; want nil, ErrMalformed", tc.name, m, err)
		}
	}
}

func TestPreKeySignalMessageTruncations(t *testing.T) {
	for _, full := range [][]byte{mustHex(t, smallEncoding), realisticMessage().Marshal()} {
		for n := range len(full) {
			if _, err := ParsePreKeySignalMessage(full[:n]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("prefix of %d/%d bytes: error %v, want ErrMalformed", n, len(full), err)
			}
		}
	}
}

func TestPreKeySignalMessageSizeLimit(t *testing.T) {
	m := realisticMessage()
	// Grow the wrapped message until the encoding is exactly MaxMessageSize.
	overhead := len(m.Marshal()) - len(m.Message)
	m.Message = make([]byte, MaxMessageSize-overhead)
	if b := m.Marshal(); len(b) != MaxMessageSize {
		// The length prefix grew by a byte; take it back from the payload.
		m.Message = m.Message[:len(m.Message)-(len(b)-MaxMessageSize)]
	}
	b := m.Marshal()
	if len(b) != MaxMessageSize {
		t.Fatalf("test setup: encoding is %d bytes", len(b))
	}
	if _, err := ParsePreKeySignalMessage(b); err != nil {
		t.Errorf("message of exactly MaxMessageSize: %v", err)
	}
	if _, err := ParsePreKeySignalMessage(append(b, 0x08)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("message of MaxMessageSize+1: error %v, want ErrTooLarge", err)
	}
	// A first message wrapping the largest SignalMessage the ratchet package
	// produces (1 MiB), with every ID at its widest, still fits.
	m = realisticMessage()
	m.RegistrationID, m.PreKeyID, m.SignedPreKeyID = math.MaxUint32, math.MaxUint32, math.MaxUint32
	m.Message = make([]byte, 1<<20)
	if _, err := ParsePreKeySignalMessage(m.Marshal()); err != nil {
		t.Errorf("PreKeySignalMessage wrapping a 1 MiB SignalMessage: %v", err)
	}
	// The size is checked before anything else.
	if _, err := ParsePreKeySignalMessage(make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized zeros: error %v, want ErrTooLarge", err)
	}
}

func TestPreKeySignalMessageUnknownFields(t *testing.T) {
	want := smallMessage()
	enc := mustHex(t, smallEncoding)
	unknown := cat(
		vField(9, 1),
		bField(15, []byte("future")),
		protowire.AppendFixed32(protowire.AppendTag(nil, 16, protowire.Fixed32Type), 7),
		protowire.AppendFixed64(protowire.AppendTag(nil, 17, protowire.Fixed64Type), 7),
		vField(protowire.MaxValidNumber, math.MaxUint64),
		bField(19500, nil), // a reserved number still parses as an unknown field
	)
	for name, b := range map[string][]byte{
		"appended":    cat(enc, unknown),
		"prepended":   cat(enc[:1], unknown, enc[1:]),
		"interleaved": cat(enc[:3], unknown[:2], enc[3:7], unknown[2:], enc[7:]),
	} {
		if got := mustParse(t, b); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Parse = %+v, want %+v", name, got, want)
		}
	}
}

func TestPreKeySignalMessageDuplicateFields(t *testing.T) {
	enc := mustHex(t, smallEncoding)
	// Later occurrences override earlier ones, whatever the order of fields.
	b := cat(enc,
		vField(preKeyIDField, 77),
		bField(baseKeyField, []byte{0x05, 0x99}),
		bField(messageField, []byte{0x44, 0x01, 0x02}),
		vField(registrationIDField, 1),
		vField(kyberPreKeyIDField, 5),
		bField(kyberCiphertextField, []byte{0x08, 0x01}),
		vField(preKeyIDField, 78),
	)
	want := smallMessage()
	want.PreKeyID = 78
	want.BaseKey = []byte{0x05, 0x99}
	want.Message = []byte{0x44, 0x01, 0x02}
	want.RegistrationID = 1
	want.KyberPreKeyID = 5
	want.KyberCiphertext = []byte{0x08, 0x01}
	if got := mustParse(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %+v\nwant    %+v", got, want)
	}
	// A later empty value still replaces an earlier one.
	if got := mustParse(t, cat(enc, bField(messageField, nil))); len(got.Message) != 0 {
		t.Errorf("message = %x, want empty", got.Message)
	}
}

func TestErrorsArePrefixed(t *testing.T) {
	for _, err := range []error{
		ErrTooLarge, ErrMalformed, ErrMissingField, ErrLegacyVersion, ErrUnsupportedVersion,
		ErrUnknownVersion, &missingFieldError{"base_key"},
	} {
		if !strings.HasPrefix(err.Error(), "wire: ") {
			t.Errorf("error %q lacks the wire: prefix", err)
		}
	}
}

// TestErrorsCarryNoBytes checks that errors about messages with recognisable
// key bytes never show them.
func TestErrorsCarryNoBytes(t *testing.T) {
	m := realisticMessage()
	m.BaseKey = bytes.Repeat([]byte{0xb1}, 33)
	b := m.Marshal()
	for _, in := range [][]byte{b[:len(b)-1], append(b, 0x08), append([]byte{0x34}, b[1:]...)} {
		_, err := ParsePreKeySignalMessage(in)
		if err == nil {
			t.Fatal("expected an error")
		}
		if s := err.Error(); strings.Contains(s, "b1b1") || strings.Contains(s, "\xb1\xb1") {
			t.Errorf("error %q shows key bytes", s)
		}
	}
}

func FuzzParsePreKeySignalMessage(f *testing.F) {
	seeds := [][]byte{
		mustHex(f, smallEncoding),
		minimalEncoding(),
		realisticMessage().Marshal(),
		cat(mustHex(f, smallEncoding), vField(9, 1), bField(15, []byte("x"))),
		cat(mustHex(f, smallEncoding), vField(preKeyIDField, 2)),
		append([]byte{0x34}, minimalEncoding()[1:]...),
		{0x44},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParsePreKeySignalMessage(b)
		if err != nil {
			if m != nil {
				t.Fatal("non-nil message with an error")
			}
			return
		}
		enc := m.Marshal()
		m2, err := ParsePreKeySignalMessage(enc)
		if err != nil {
			t.Fatalf("re-parse of Marshal output: %v", err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, m2)
		}
		if !bytes.Equal(m2.Marshal(), enc) {
			t.Fatal("Marshal is not stable")
		}
	})
}
