package franking_test

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/franking"
)

// TestContentEncoding pins the layout FRANKING.md specifies, byte by byte.
func TestContentEncoding(t *testing.T) {
	c := franking.Content{Sender: "a.1", Recipient: "bo.2", Sent: time.UnixMilli(0x0102), Body: []byte("hi"),
		Attachments: [][32]byte{{0xaa}}}
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	want := []byte{0x01,
		1, 0, 0, 0, 3, 'a', '.', '1',
		2, 0, 0, 0, 4, 'b', 'o', '.', '2',
		3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2,
		4, 0, 0, 0, 2, 'h', 'i',
		5, 0, 0, 0, 32, 0xaa}
	want = append(want, make([]byte, 31)...)
	require.Equal(t, want, b)

	back, err := franking.ParseContent(b)
	require.NoError(t, err)
	require.Equal(t, c.Sender, back.Sender)
	require.Equal(t, c.Recipient, back.Recipient)
	require.True(t, c.Sent.Equal(back.Sent))
	require.Equal(t, c.Body, back.Body)
	require.Equal(t, c.Attachments, back.Attachments)

	// Sub-millisecond precision is not committed.
	c2 := c
	c2.Sent = c.Sent.Add(999 * time.Microsecond)
	b2, err := c2.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, b2)
}

// TestParseContentStrict: each defect of an otherwise good encoding is
// refused with ErrMalformed.
func TestParseContentStrict(t *testing.T) {
	good, err := (&franking.Content{Sender: "alice.1", Recipient: "bob.1", Sent: t0, Body: []byte("body"),
		Attachments: [][32]byte{{1}, {2}}}).MarshalBinary()
	require.NoError(t, err)
	_, err = franking.ParseContent(good)
	require.NoError(t, err)

	// offsets of the fields in good
	const senderLen, sentField = 1 + 1, 1 + 5 + 7 + 5 + 5
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":               {},
		"version 0":           edit(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":           edit(func(b []byte) []byte { b[0] = 2; return b }),
		"trailing byte":       append(bytes.Clone(good), 0),
		"truncated":           good[:len(good)-1],
		"only the version":    good[:1],
		"sender tag wrong":    edit(func(b []byte) []byte { b[1] = 2; return b }),
		"sender length long":  edit(func(b []byte) []byte { b[senderLen+3] = 0xff; return b }),
		"sender length huge":  edit(func(b []byte) []byte { b[senderLen] = 0xff; return b }),
		"sent of 7 bytes":     edit(func(b []byte) []byte { b[sentField+4] = 7; return b }),
		"sent of 2^63":        edit(func(b []byte) []byte { b[sentField+5] = 0x80; return b }),
		"fields reordered":    reorder(good),
		"attachments not x32": edit(func(b []byte) []byte { return append(b[:len(b)-64-4], 0, 0, 0, 31, 1) }),
		"empty sender":        mustEncodeRaw("", "bob.1"),
		"sender not UTF-8":    mustEncodeRaw("\xc3", "bob.1"),
		"recipient too long":  mustEncodeRaw("alice.1", strings.Repeat("b", franking.MaxAddressSize+1)),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := franking.ParseContent(b)
			require.ErrorIs(t, err, franking.ErrMalformed)
			require.Nil(t, c)
		})
	}
}

// reorder swaps the sender and recipient fields' tags' positions: the
// recipient field first.
func reorder(good []byte) []byte {
	sender := good[1 : 1+5+7]
	recipient := good[1+5+7 : 1+5+7+5+5]
	out := []byte{good[0]}
	out = append(out, recipient...)
	out = append(out, sender...)
	return append(out, good[1+5+7+5+5:]...)
}

// mustEncodeRaw writes a content encoding by hand, bypassing the bounds
// MarshalBinary enforces.
func mustEncodeRaw(sender, recipient string) []byte {
	field := func(b []byte, tag byte, v []byte) []byte {
		b = append(b, tag)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		return append(b, v...)
	}
	b := []byte{1}
	b = field(b, 1, []byte(sender))
	b = field(b, 2, []byte(recipient))
	b = field(b, 3, make([]byte, 8))
	b = field(b, 4, nil)
	return field(b, 5, nil)
}

func TestContentBounds(t *testing.T) {
	ok := newContent("x")
	for name, edit := range map[string]func(*franking.Content){
		"empty sender":       func(c *franking.Content) { c.Sender = "" },
		"empty recipient":    func(c *franking.Content) { c.Recipient = "" },
		"long sender":        func(c *franking.Content) { c.Sender = strings.Repeat("a", franking.MaxAddressSize+1) },
		"recipient not UTF8": func(c *franking.Content) { c.Recipient = "bob\xff" },
		"before 1970":        func(c *franking.Content) { c.Sent = time.UnixMilli(-1) },
		"body too large":     func(c *franking.Content) { c.Body = make([]byte, franking.MaxBodySize+1) },
		"too many digests":   func(c *franking.Content) { c.Attachments = make([][32]byte, franking.MaxAttachments+1) },
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			edit(&c)
			_, err := c.MarshalBinary()
			require.ErrorIs(t, err, franking.ErrInvalidContent)
			_, err = franking.NewOpening().Commit(&c)
			require.ErrorIs(t, err, franking.ErrInvalidContent)
		})
	}
	// The bounds themselves are allowed.
	c := ok
	c.Sender = strings.Repeat("a", franking.MaxAddressSize)
	c.Body = make([]byte, franking.MaxBodySize)
	c.Attachments = make([][32]byte, franking.MaxAttachments)
	b, err := c.MarshalBinary()
	require.NoError(t, err)
	back, err := franking.ParseContent(b)
	require.NoError(t, err)
	again, err := back.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, again)
}

func TestParseReportStrict(t *testing.T) {
	relay := newRelay(t)
	m := send(t, relay, newContent("report me"))
	good, err := m.report().MarshalBinary()
	require.NoError(t, err)
	_, err = franking.ParseReport(good)
	require.NoError(t, err)
	zeroOpening := bytes.Clone(good)
	n := int(binary.BigEndian.Uint32(good[1:5]))
	clear(zeroOpening[5+n : 5+n+32])
	for name, b := range map[string][]byte{
		"empty":           nil,
		"version 2":       append([]byte{2}, good[1:]...),
		"trailing byte":   append(bytes.Clone(good), 0),
		"truncated":       good[:len(good)-1],
		"content longer":  append(append([]byte{1}, binary.BigEndian.AppendUint32(nil, uint32(n+1))...), good[5:]...),
		"content shorter": append(append([]byte{1}, binary.BigEndian.AppendUint32(nil, uint32(n-1))...), good[5:]...),
		"zero opening":    zeroOpening,
		"time of 2^63":    append(bytes.Clone(good[:len(good)-8]), 0x80, 0, 0, 0, 0, 0, 0, 0),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := franking.ParseReport(b)
			require.ErrorIs(t, err, franking.ErrMalformed)
		})
	}
	bad := m.report()
	bad.Received = time.UnixMilli(-5)
	_, err = bad.MarshalBinary()
	require.ErrorIs(t, err, franking.ErrInvalidContent)
}
