package interop

// Independent, minimal knowledge of the wire format (internal/wire/WIRE.md,
// sections 1, 6, 13), used to check messages and to tamper with them. This is
// deliberately not Sotto code: the tests must not trust the implementation
// under test.

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const (
	versionByte = 0x44 // message version 4, current version 4
	macLen      = 8
)

// pbField is one field of a protobuf message: for varints val holds the value,
// for length-delimited fields b[start:end] is the payload.
type pbField struct {
	num, wire  int
	val        uint64
	start, end int
}

// parsePB splits a protobuf message into its fields (varint, fixed64, bytes
// and fixed32 wire types; groups are rejected).
func parsePB(b []byte) ([]pbField, error) {
	var fields []pbField
	for i := 0; i < len(b); {
		key, n := binary.Uvarint(b[i:])
		if n <= 0 {
			return nil, fmt.Errorf("bad tag varint at %d", i)
		}
		i += n
		f := pbField{num: int(key >> 3), wire: int(key & 7)}
		if f.num == 0 {
			return nil, fmt.Errorf("field number 0 at %d", i)
		}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b[i:])
			if n <= 0 {
				return nil, fmt.Errorf("field %d: bad varint", f.num)
			}
			f.val, f.start, f.end = v, i, i+n
			i += n
		case 1:
			if len(b)-i < 8 {
				return nil, fmt.Errorf("field %d: truncated fixed64", f.num)
			}
			f.val, f.start, f.end = binary.LittleEndian.Uint64(b[i:]), i, i+8
			i += 8
		case 2:
			l, n := binary.Uvarint(b[i:])
			if n <= 0 || l > uint64(len(b)-i-n) {
				return nil, fmt.Errorf("field %d: bad length", f.num)
			}
			f.start, f.end = i+n, i+n+int(l)
			i = f.end
		case 5:
			if len(b)-i < 4 {
				return nil, fmt.Errorf("field %d: truncated fixed32", f.num)
			}
			f.val, f.start, f.end = uint64(binary.LittleEndian.Uint32(b[i:])), i, i+4
			i += 4
		default:
			return nil, fmt.Errorf("field %d: unsupported wire type %d", f.num, f.wire)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// pbMsg gives by-number access to a parsed message (last occurrence wins).
type pbMsg struct {
	b      []byte
	fields map[int]pbField
}

func newPBMsg(b []byte) (pbMsg, error) {
	fs, err := parsePB(b)
	if err != nil {
		return pbMsg{}, err
	}
	m := pbMsg{b: b, fields: map[int]pbField{}}
	for _, f := range fs {
		m.fields[f.num] = f
	}
	return m, nil
}

func (m pbMsg) bytesField(num int) ([]byte, bool) {
	f, ok := m.fields[num]
	if !ok || f.wire != 2 {
		return nil, false
	}
	return m.b[f.start:f.end], true
}

func (m pbMsg) varint(num int) (uint64, bool) {
	f, ok := m.fields[num]
	if !ok || f.wire != 0 {
		return 0, false
	}
	return f.val, true
}

// SignalMessage fields.
const (
	smRatchetKey = 1
	smCounter    = 2
	smPrevious   = 3
	smCiphertext = 4
	smPQRatchet  = 5
	smAddresses  = 6
)

// PreKeySignalMessage fields.
const (
	pkPreKeyID       = 1
	pkBaseKey        = 2
	pkIdentityKey    = 3
	pkMessage        = 4
	pkRegistrationID = 5
	pkSignedPreKeyID = 6
	pkKyberPreKeyID  = 7
	pkKyberCT        = 8
)

// parseSignalMessage splits a serialized SignalMessage into its protobuf
// (without version byte and MAC).
func parseSignalMessage(b []byte) (pbMsg, error) {
	if len(b) < 1+macLen+1 {
		return pbMsg{}, fmt.Errorf("SignalMessage too short (%d bytes)", len(b))
	}
	if b[0] != versionByte {
		return pbMsg{}, fmt.Errorf("SignalMessage version byte %#02x, want %#02x", b[0], versionByte)
	}
	return newPBMsg(b[1 : len(b)-macLen])
}

// expectedAddresses is the SignalMessage addresses field for a message from
// sender to recipient: ServiceIdFixedWidthBinary (ACI kind 0x00 || UUID) and
// device id of each.
func expectedAddresses(from, to Address) ([]byte, error) {
	var out []byte
	for _, a := range []Address{from, to} {
		u, err := uuidBytes(a.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, 0x00)
		out = append(out, u...)
		out = append(out, byte(a.DeviceID))
	}
	return out, nil
}

func uuidBytes(s string) ([]byte, error) {
	u, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(u) != 16 {
		return nil, fmt.Errorf("not a UUID: %q", s)
	}
	return u, nil
}

// checkSignalMessage checks the framing of a SignalMessage from sender to
// recipient. The addresses field is required in PreKey messages and, when
// present, must name sender and recipient.
func checkSignalMessage(b []byte, from, to *peer, inPreKey bool) error {
	m, err := parseSignalMessage(b)
	if err != nil {
		return err
	}
	if rk, ok := m.bytesField(smRatchetKey); !ok || !isECPublic(rk) {
		return fmt.Errorf("SignalMessage: ratchet_key missing or not a 33-byte 0x05 key")
	}
	if _, ok := m.varint(smCounter); !ok {
		return errors.New("SignalMessage: counter missing")
	}
	if c, ok := m.bytesField(smCiphertext); !ok || len(c) == 0 || len(c)%16 != 0 {
		return fmt.Errorf("SignalMessage: ciphertext missing or not a non-zero multiple of 16 bytes (%d)", len(c))
	}
	if pq, ok := m.bytesField(smPQRatchet); !ok || len(pq) < 4 || pq[0] != 0x01 {
		return fmt.Errorf("SignalMessage: pq_ratchet (SPQR V1) missing or malformed: %x", pq)
	}
	want, err := expectedAddresses(from.addr, to.addr)
	if err != nil {
		return err
	}
	got, ok := m.bytesField(smAddresses)
	if inPreKey && !ok {
		return errors.New("SignalMessage inside a PreKey message: addresses field missing")
	}
	if ok && !bytes.Equal(got, want) {
		return fmt.Errorf("SignalMessage: addresses %x, want %x", got, want)
	}
	return nil
}

// spqrEpoch returns the SPQR epoch of a Whisper message (from its
// pq_ratchet field: 0x01 || varint epoch || ...).
func spqrEpoch(ct Ciphertext) (uint64, bool) {
	if ct.Type != typeWhisper {
		return 0, false
	}
	m, err := parseSignalMessage(ct.Body)
	if err != nil {
		return 0, false
	}
	pq, ok := m.bytesField(smPQRatchet)
	if !ok || len(pq) < 2 || pq[0] != 0x01 {
		return 0, false
	}
	e, n := binary.Uvarint(pq[1:])
	return e, n > 0
}

// checkMessage checks the framing of an encrypt result from sender to
// recipient.
func checkMessage(ct Ciphertext, from, to *peer) error {
	switch ct.Type {
	case typeWhisper:
		return checkSignalMessage(ct.Body, from, to, false)
	case typePreKey:
		m, err := parsePreKeyMessage(ct.Body)
		if err != nil {
			return err
		}
		if id, ok := m.varint(pkRegistrationID); !ok || uint32(id) != from.regID {
			return fmt.Errorf("PreKey message: registration_id %d, sender's is %d", id, from.regID)
		}
		if ik, _ := m.bytesField(pkIdentityKey); !bytes.Equal(ik, from.identity) {
			return fmt.Errorf("PreKey message: identity_key %x is not the sender's %x", ik, from.identity)
		}
		if bk, _ := m.bytesField(pkBaseKey); !isECPublic(bk) {
			return fmt.Errorf("PreKey message: base_key missing or not a 33-byte 0x05 key")
		}
		if _, ok := m.varint(pkSignedPreKeyID); !ok {
			return errors.New("PreKey message: signed_pre_key_id missing")
		}
		if _, ok := m.varint(pkKyberPreKeyID); !ok {
			return errors.New("PreKey message: kyber_pre_key_id missing")
		}
		if kc, _ := m.bytesField(pkKyberCT); len(kc) != 1569 || kc[0] != 0x08 {
			return fmt.Errorf("PreKey message: kyber_ciphertext is not 1569 bytes of type 0x08 (%d bytes)", len(kc))
		}
		inner, ok := m.bytesField(pkMessage)
		if !ok {
			return errors.New("PreKey message: message missing")
		}
		return checkSignalMessage(inner, from, to, true)
	default:
		return fmt.Errorf("unknown message type %d", ct.Type)
	}
}

func parsePreKeyMessage(b []byte) (pbMsg, error) {
	if len(b) < 2 {
		return pbMsg{}, fmt.Errorf("PreKey message too short (%d bytes)", len(b))
	}
	if b[0] != versionByte {
		return pbMsg{}, fmt.Errorf("PreKey message version byte %#02x, want %#02x", b[0], versionByte)
	}
	m, err := newPBMsg(b[1:])
	if err != nil {
		return pbMsg{}, fmt.Errorf("PreKey message: %v", err)
	}
	return m, nil
}

// ---------------------------------------------------------------------------
// Tampering. All helpers return modified copies.

// flipBit flips bit (bit&7) of byte i of a copy of b.
func flipBit(b []byte, i int, bit uint) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1 << (bit & 7)
	return c
}

// signalMessageFieldOffset returns the absolute offset range of a field's
// payload in a serialized SignalMessage.
func signalMessageFieldOffset(b []byte, num int) (start, end int, err error) {
	m, err := parseSignalMessage(b)
	if err != nil {
		return 0, 0, err
	}
	f, ok := m.fields[num]
	if !ok {
		return 0, 0, fmt.Errorf("SignalMessage has no field %d", num)
	}
	return 1 + f.start, 1 + f.end, nil
}

// preKeyFieldOffset returns the absolute offset range of a field's payload
// in a serialized PreKeySignalMessage.
func preKeyFieldOffset(b []byte, num int) (start, end int, err error) {
	m, err := parsePreKeyMessage(b)
	if err != nil {
		return 0, 0, err
	}
	f, ok := m.fields[num]
	if !ok {
		return 0, 0, fmt.Errorf("PreKey message has no field %d", num)
	}
	return 1 + f.start, 1 + f.end, nil
}

// ---------------------------------------------------------------------------
// Safety numbers (section 13), computed independently.

func fingerprintHash(iterations int, key, stableID []byte) []byte {
	buf := append([]byte{0x00, 0x00}, key...)
	buf = append(buf, stableID...)
	h := sha512.New()
	for range iterations {
		h.Reset()
		h.Write(buf)
		h.Write(key)
		buf = h.Sum(nil)
	}
	return buf
}

func displayableHalf(hash []byte) string {
	var sb strings.Builder
	for i := 0; i < 30; i += 5 {
		var v uint64
		for _, c := range hash[i : i+5] {
			v = v<<8 | uint64(c)
		}
		fmt.Fprintf(&sb, "%05d", v%100000)
	}
	return sb.String()
}

// expectedFingerprint returns the displayable (60 digits) and scannable
// (CombinedFingerprints protobuf) safety number as computed by local.
func expectedFingerprint(iterations, version int, localID, localKey, remoteID, remoteKey []byte) (string, []byte) {
	lh := fingerprintHash(iterations, localKey, localID)
	rh := fingerprintHash(iterations, remoteKey, remoteID)
	ld, rd := displayableHalf(lh), displayableHalf(rh)
	disp := ld + rd
	if ld > rd {
		disp = rd + ld
	}
	fp := func(content []byte) []byte { // LogicalFingerprint{content = 1}
		return append([]byte{0x0a, byte(len(content))}, content...)
	}
	var sc []byte
	sc = append(sc, 0x08, byte(version))
	l, r := fp(lh[:32]), fp(rh[:32])
	sc = append(sc, 0x12, byte(len(l)))
	sc = append(sc, l...)
	sc = append(sc, 0x1a, byte(len(r)))
	sc = append(sc, r...)
	return disp, sc
}
