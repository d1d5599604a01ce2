package envelope

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/attachment"
	"github.com/sotto-im/sotto/franking"
	"github.com/sotto-im/sotto/session"
)

func textEnvelope(t *testing.T) *Envelope {
	t.Helper()
	var blob bytes.Buffer
	p, err := attachment.Encrypt(&blob, strings.NewReader("a file"), 6)
	require.NoError(t, err)
	p.BlobID = "blob-1"
	return &Envelope{
		Kind:        KindText,
		ID:          NewID(),
		Sent:        time.UnixMilli(1_700_000_000_123),
		Body:        "hello, wörld",
		Timer:       Timer{Duration: time.Hour, Version: 3},
		Attachments: []*attachment.Pointer{p},
	}
}

func TestRoundTrip(t *testing.T) {
	e := textEnvelope(t)
	_, err := e.Frank("alice.1", "bob.1")
	require.NoError(t, err)
	b, err := e.Marshal()
	require.NoError(t, err)
	assert.Zero(t, len(b)%PaddingBlock, "padded to a multiple of the block")

	got, err := Parse(b)
	require.NoError(t, err)
	assert.Equal(t, e.Kind, got.Kind)
	assert.Equal(t, e.ID, got.ID)
	assert.True(t, e.Sent.Equal(got.Sent))
	assert.Equal(t, e.Body, got.Body)
	assert.Equal(t, e.Timer, got.Timer)
	assert.Equal(t, e.Opening.Bytes(), got.Opening.Bytes())
	assert.Equal(t, *e.Commitment, *got.Commitment)
	require.Len(t, got.Attachments, 1)
	assert.Equal(t, e.Attachments[0].Digest, got.Attachments[0].Digest)
	assert.Equal(t, "blob-1", got.Attachments[0].BlobID)

	again, err := got.Marshal()
	require.NoError(t, err)
	assert.Equal(t, b, again, "parse then marshal is the identity")

	r := &Envelope{Kind: KindReceipt, ID: NewID(), Receipts: []ID{NewID(), NewID()}}
	b, err = r.Marshal()
	require.NoError(t, err)
	got, err = Parse(b)
	require.NoError(t, err)
	assert.Equal(t, r.Receipts, got.Receipts)
	assert.Nil(t, got.Opening)
}

// A field a newer version adds survives a round trip through this one.
func TestUnknownFieldsKept(t *testing.T) {
	e := &Envelope{Kind: KindText, ID: NewID(), Body: "hi"}
	b, err := e.Marshal()
	require.NoError(t, err)
	raw, ok := unpad(b)
	require.True(t, ok)
	extra := protowire.AppendTag(nil, 42, protowire.BytesType)
	extra = protowire.AppendBytes(extra, []byte("future"))
	extra = protowire.AppendTag(extra, 43, protowire.VarintType)
	extra = protowire.AppendVarint(extra, 7)
	raw = append(append([]byte{}, raw...), extra...)

	got, err := Parse(pad(raw))
	require.NoError(t, err)
	assert.True(t, got.HasUnknownFields())
	out, err := got.Marshal()
	require.NoError(t, err)
	back, ok := unpad(out)
	require.True(t, ok)
	assert.True(t, bytes.HasSuffix(back, extra), "unknown fields written back byte for byte")

	// Bounded: more unknown bytes than MaxUnknownSize are refused.
	big := protowire.AppendTag(nil, 44, protowire.BytesType)
	big = protowire.AppendBytes(big, make([]byte, MaxUnknownSize))
	_, err = Parse(pad(append(append([]byte{}, raw...), big...)))
	assert.ErrorIs(t, err, ErrTooLarge)
}

func TestParseRefuses(t *testing.T) {
	e := &Envelope{Kind: KindText, ID: NewID(), Body: "hi"}
	good, err := e.Marshal()
	require.NoError(t, err)
	raw, _ := unpad(good)
	field := func(num protowire.Number, v []byte) []byte {
		b := protowire.AppendTag(nil, num, protowire.BytesType)
		return protowire.AppendBytes(b, v)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	cases := map[string]struct {
		in   []byte
		want error
	}{
		"empty":             {nil, ErrMalformed},
		"no padding marker": {raw, ErrMalformed},
		"all zeros":         {make([]byte, 160), ErrMalformed},
		"version 2":         {pad(append([]byte{2}, raw[1:]...)), ErrUnsupportedVersion},
		"duplicate body":    {pad(cat(raw, field(4, []byte("x")))), ErrMalformed},
		"short id":          {pad(cat([]byte{1}, protowire.AppendVarint([]byte{0x08}, 1), field(2, make([]byte, 15)))), ErrMalformed},
		"no id":             {pad(cat([]byte{1}, protowire.AppendVarint([]byte{0x08}, 1))), ErrMalformed},
		"unknown kind":      {pad(cat([]byte{1}, protowire.AppendVarint([]byte{0x08}, 9), field(2, make([]byte, 16)))), ErrMalformed},
		"body not UTF-8":    {pad(cat(raw, field(4, []byte{0xff}))[:0]), ErrMalformed},
		"opening alone":     {pad(cat(raw, field(7, make([]byte, 32)))), ErrMalformed},
		"bad attachment":    {pad(cat(raw, field(9, []byte{1, 2, 3}))), ErrMalformed},
		"group wire type":   {pad(cat(raw, []byte{0x5b, 0x5c})), ErrMalformed},
		"truncated":         {pad(raw[:len(raw)-1]), ErrMalformed},
		"oversized":         {make([]byte, maxPadded+1), ErrTooLarge},
		"body too large":    {pad(cat([]byte{1}, field(4, bytes.Repeat([]byte("a"), MaxBodySize+1)))), ErrTooLarge},
	}
	// A body that is not UTF-8, built on a message without a body.
	noBody, _ := (&Envelope{Kind: KindText, ID: NewID()}).Marshal()
	nb, _ := unpad(noBody)
	cases["body not UTF-8"] = struct {
		in   []byte
		want error
	}{pad(cat(nb, field(4, []byte{0xff}))), ErrMalformed}

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.in)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.ErrorIs(t, err, session.ErrInvalidMessage, "a message fault under the error contract")
		})
	}
}

func TestMarshalRefuses(t *testing.T) {
	for name, e := range map[string]*Envelope{
		"kind 0":        {ID: NewID()},
		"not UTF-8":     {Kind: KindText, Body: "\xff"},
		"body too long": {Kind: KindText, Body: strings.Repeat("a", MaxBodySize+1)},
		"negative":      {Kind: KindTimer, Timer: Timer{Duration: -time.Second}},
		"fractional":    {Kind: KindTimer, Timer: Timer{Duration: 1500 * time.Millisecond}},
		"too long":      {Kind: KindTimer, Timer: Timer{Duration: MaxTimer + time.Second}},
		"before 1970":   {Kind: KindText, Sent: time.Unix(-5, 0)},
	} {
		_, err := e.Marshal()
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}

func TestFranking(t *testing.T) {
	e := textEnvelope(t)
	outer, err := e.Frank("alice.1", "bob.1")
	require.NoError(t, err)
	b, err := e.Marshal()
	require.NoError(t, err)

	got, err := Parse(b)
	require.NoError(t, err)
	require.NoError(t, got.CheckFranking(outer, "alice.1", "bob.1"))

	// The recipient refuses whatever would not verify at the relay: another
	// sender, another recipient, another outer commitment, an altered body.
	assert.ErrorIs(t, got.CheckFranking(outer, "mallory.1", "bob.1"), franking.ErrCommitment)
	assert.ErrorIs(t, got.CheckFranking(outer, "alice.1", "carol.1"), franking.ErrCommitment)
	var other franking.Commitment
	other[0] = 1
	err = got.CheckFranking(other, "alice.1", "bob.1")
	assert.ErrorIs(t, err, franking.ErrCommitment)
	assert.ErrorIs(t, err, session.ErrInvalidMessage)

	got.Body += "!"
	assert.ErrorIs(t, got.CheckFranking(outer, "alice.1", "bob.1"), franking.ErrCommitment)

	// A message without franking is refused by a recipient that requires it.
	plain := &Envelope{Kind: KindText, ID: NewID(), Body: "x"}
	b, err = plain.Marshal()
	require.NoError(t, err)
	got, err = Parse(b)
	require.NoError(t, err)
	err = got.CheckFranking(outer, "alice.1", "bob.1")
	assert.ErrorIs(t, err, ErrNotFranked)
	assert.ErrorIs(t, err, session.ErrInvalidMessage)
}

// Two parties applying each other's timer changes in any order end on the
// same timer.
func TestTimerConverges(t *testing.T) {
	timers := []Timer{
		{0, 0}, {time.Hour, 1}, {0, 1}, {time.Minute, 1}, {time.Hour, 2}, {0, 2},
		{24 * time.Hour, 2}, {time.Second, 5}, {0, 5},
	}
	for _, a := range timers {
		for _, b := range timers {
			for _, start := range timers {
				// Alice holds start then learns a then b; Bob learns b then a.
				apply := func(cur Timer, ts ...Timer) Timer {
					for _, t := range ts {
						if t.Supersedes(cur) {
							cur = t
						}
					}
					return cur
				}
				x := apply(start, a, b)
				y := apply(start, b, a)
				require.Equal(t, x, y, "start %v, changes %v and %v", start, a, b)
			}
		}
	}
	cur := Timer{Duration: time.Hour, Version: 4}
	assert.Equal(t, Timer{Duration: time.Minute, Version: 5}, cur.Next(time.Minute+300*time.Millisecond))
	assert.True(t, cur.Next(0).Supersedes(cur), "turning the timer off is a change too")
	assert.False(t, cur.Supersedes(cur))

	sent := time.Unix(1000, 0)
	assert.Equal(t, sent.Add(time.Hour), cur.ExpiresAt(sent))
	assert.True(t, Timer{}.ExpiresAt(sent).IsZero())
}

func TestIDsDiffer(t *testing.T) {
	assert.NotEqual(t, NewID(), NewID())
	assert.False(t, errors.Is(ErrMalformed, session.ErrInvalidMessage), "only Parse's wrapped errors join the class")
}
