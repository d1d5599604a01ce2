package franking_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/franking"
)

// message is one franked message as the three parties see it.
type message struct {
	content  franking.Content
	opening  franking.Opening
	com      franking.Commitment
	tag      franking.Tag
	received time.Time
}

var t0 = time.UnixMilli(1_760_000_000_123).UTC()

func newContent(body string) franking.Content {
	return franking.Content{
		Sender:      "alice.1",
		Recipient:   "bob.2",
		Sent:        t0,
		Body:        []byte(body),
		Attachments: [][32]byte{sha256.Sum256([]byte("blob one")), sha256.Sum256([]byte("blob two"))},
	}
}

// send runs the sender and the relay: commit, then tag in the relay's own
// context (the sender and recipient the content names, received 2 s later).
func send(t *testing.T, relay *franking.Relay, c franking.Content) *message {
	t.Helper()
	m := &message{content: c, opening: franking.NewOpening(), received: c.Sent.Add(2 * time.Second)}
	var err error
	m.com, err = m.opening.Commit(&m.content)
	require.NoError(t, err)
	// The recipient's check passes on what an honest sender sent.
	require.NoError(t, franking.Check(m.com, m.com, m.opening, &m.content))
	m.tag, err = relay.Tag(m.com, franking.Context{Sender: c.Sender, Recipient: c.Recipient, Received: m.received})
	require.NoError(t, err)
	return m
}

func (m *message) report() *franking.Report {
	return &franking.Report{Content: m.content, Opening: m.opening, Tag: m.tag, Received: m.received}
}

func newRelay(t *testing.T, keys ...franking.RelayKey) *franking.Relay {
	t.Helper()
	if len(keys) == 0 {
		keys = []franking.RelayKey{franking.GenerateRelayKey(1)}
	}
	r, err := franking.NewRelay(keys[0], keys[1:]...)
	require.NoError(t, err)
	return r
}

// verifyEncoded runs a report through its encoding, as the relay receives
// it, then Verify.
func verifyEncoded(t *testing.T, relay *franking.Relay, rep *franking.Report) error {
	t.Helper()
	b, err := rep.MarshalBinary()
	require.NoError(t, err)
	parsed, err := franking.ParseReport(b)
	require.NoError(t, err)
	again, err := parsed.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, again, "a report does not re-encode to its bytes")
	return relay.Verify(parsed)
}

func TestGenuineReportVerifies(t *testing.T) {
	relay := newRelay(t)
	m := send(t, relay, newContent("you will regret this"))
	require.NoError(t, relay.Verify(m.report()))
	require.NoError(t, verifyEncoded(t, relay, m.report()))

	// Without attachments and with an empty body, too.
	c := newContent("")
	c.Attachments = nil
	m = send(t, relay, c)
	require.NoError(t, verifyEncoded(t, relay, m.report()))
}

// TestFramingAttempts: every way a recipient could try to make a report
// say something the sender did not send fails with ErrInvalidReport (or
// ErrUnknownKey for a key the relay does not hold).
func TestFramingAttempts(t *testing.T) {
	keyA, keyB := franking.GenerateRelayKey(1), franking.GenerateRelayKey(2)
	relay := newRelay(t, keyA)
	other := newRelay(t, keyB)
	m := send(t, relay, newContent("meet me at noon"))
	m2 := send(t, relay, newContent("a second, unrelated message"))

	for _, tc := range []struct {
		name string
		edit func(*franking.Report)
		want error
	}{
		{"altered body", func(r *franking.Report) { r.Content.Body = []byte("meet me at noon, or else") }, franking.ErrInvalidReport},
		{"truncated body", func(r *franking.Report) { r.Content.Body = r.Content.Body[:4] }, franking.ErrInvalidReport},
		{"another sender", func(r *franking.Report) { r.Content.Sender = "carol.1" }, franking.ErrInvalidReport},
		{"another sender device", func(r *franking.Report) { r.Content.Sender = "alice.2" }, franking.ErrInvalidReport},
		{"another recipient", func(r *franking.Report) { r.Content.Recipient = "dave.1" }, franking.ErrInvalidReport},
		{"sender and recipient swapped", func(r *franking.Report) {
			r.Content.Sender, r.Content.Recipient = r.Content.Recipient, r.Content.Sender
		}, franking.ErrInvalidReport},
		{"another relay time", func(r *franking.Report) { r.Received = r.Received.Add(time.Millisecond) }, franking.ErrInvalidReport},
		{"another sent time", func(r *franking.Report) { r.Content.Sent = r.Content.Sent.Add(-time.Hour) }, franking.ErrInvalidReport},
		{"attachment dropped", func(r *franking.Report) { r.Content.Attachments = r.Content.Attachments[:1] }, franking.ErrInvalidReport},
		{"attachment replaced", func(r *franking.Report) {
			r.Content.Attachments = [][32]byte{r.Content.Attachments[0], sha256.Sum256([]byte("abusive blob"))}
		}, franking.ErrInvalidReport},
		{"attachments reordered", func(r *franking.Report) {
			r.Content.Attachments = [][32]byte{r.Content.Attachments[1], r.Content.Attachments[0]}
		}, franking.ErrInvalidReport},
		{"swapped opening", func(r *franking.Report) { r.Opening = m2.opening }, franking.ErrInvalidReport},
		{"fresh opening", func(r *franking.Report) { r.Opening = franking.NewOpening() }, franking.ErrInvalidReport},
		{"tag of another message", func(r *franking.Report) { r.Tag = m2.tag }, franking.ErrInvalidReport},
		{"content and opening of another message", func(r *franking.Report) {
			r.Content, r.Opening = m2.content, m2.opening
		}, franking.ErrInvalidReport},
		{"tag flipped", func(r *franking.Report) { r.Tag.MAC[31] ^= 1 }, franking.ErrInvalidReport},
		{"tag from another relay key, relabelled", func(r *franking.Report) {
			tag, err := other.Tag(m.com, franking.Context{Sender: m.content.Sender, Recipient: m.content.Recipient, Received: m.received})
			require.NoError(t, err)
			tag.KeyID = keyA.ID()
			r.Tag = tag
		}, franking.ErrInvalidReport},
		{"tag from a key the relay does not hold", func(r *franking.Report) {
			tag, err := other.Tag(m.com, franking.Context{Sender: m.content.Sender, Recipient: m.content.Recipient, Received: m.received})
			require.NoError(t, err)
			r.Tag = tag
		}, franking.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := m.report()
			tc.edit(rep)
			err := relay.Verify(rep)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, tc.want.Error(), err.Error(), "the error carries more than the sentinel")
			require.ErrorIs(t, verifyEncoded(t, relay, rep), tc.want)
		})
	}
	// The untouched report still verifies: the edits above worked on copies.
	require.NoError(t, relay.Verify(m.report()))
}

// TestReportOfAMessageNeverSent: a recipient that invents a message, an
// opening and a tag (it cannot compute a real one) gets nothing verified,
// whichever key id it claims.
func TestReportOfAMessageNeverSent(t *testing.T) {
	keyA, keyB := franking.GenerateRelayKey(7), franking.GenerateRelayKey(8)
	relay := newRelay(t, keyB, keyA)
	for _, id := range []uint32{keyA.ID(), keyB.ID()} {
		rep := &franking.Report{Content: newContent("words alice never wrote"), Opening: franking.NewOpening(),
			Tag: franking.Tag{KeyID: id}, Received: t0}
		copy(rep.Tag.MAC[:], franking.NewOpening().Bytes()) // 32 random bytes
		require.ErrorIs(t, relay.Verify(rep), franking.ErrInvalidReport)
	}
	// The relay's tag on a message that was sent cannot be moved to one that
	// was not: the recipient holds the tag, not the key.
	m := send(t, relay, newContent("hello"))
	forged := m.report()
	forged.Content.Body = []byte("words alice never wrote")
	forged.Opening = franking.NewOpening()
	require.ErrorIs(t, relay.Verify(forged), franking.ErrInvalidReport)
}

// TestSenderCannotSendUnreportable: a sender whose commitment does not
// open, or who puts one commitment beside the ciphertext and another in the
// payload, is rejected by the recipient before the message is shown.
func TestSenderCannotSendUnreportable(t *testing.T) {
	relay := newRelay(t)
	c := newContent("abuse")
	o := franking.NewOpening()
	com, err := o.Commit(&c)
	require.NoError(t, err)
	benign := newContent("hi")
	benignCom, err := o.Commit(&benign)
	require.NoError(t, err)
	var zero franking.Commitment

	for _, tc := range []struct {
		name         string
		outer, inner franking.Commitment
		opening      franking.Opening
	}{
		{"outer commitment of other content", benignCom, com, o},
		{"inner commitment of other content", com, benignCom, o},
		{"both commitments of other content", benignCom, benignCom, o},
		{"another opening", com, com, franking.NewOpening()},
		{"random outer commitment", franking.Commitment(franking.NewOpening().Bytes()), com, o},
		{"zero commitments", zero, zero, o},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := franking.Check(tc.outer, tc.inner, tc.opening, &c)
			require.ErrorIs(t, err, franking.ErrCommitment)
			require.Equal(t, franking.ErrCommitment.Error(), err.Error())
		})
	}

	// What the recipient accepts is always reportable: the relay tagged the
	// outer commitment, which Check made equal to the inner one.
	require.NoError(t, franking.Check(com, com, o, &c))
	tag, err := relay.Tag(com, franking.Context{Sender: c.Sender, Recipient: c.Recipient, Received: t0})
	require.NoError(t, err)
	require.NoError(t, relay.Verify(&franking.Report{Content: c, Opening: o, Tag: tag, Received: t0}))

	// A payload that could never have been committed to is rejected too.
	bad := c
	bad.Sender = ""
	require.ErrorIs(t, franking.Check(com, com, o, &bad), franking.ErrInvalidContent)
	require.ErrorIs(t, franking.Check(com, com, franking.Opening{}, &c), franking.ErrInvalidKey)
}

// TestKeyRotation: reports on messages tagged under an older key verify as
// long as the relay keeps it, and never after it is retired.
func TestKeyRotation(t *testing.T) {
	k1, k2 := franking.GenerateRelayKey(1), franking.GenerateRelayKey(2)
	before := newRelay(t, k1)
	m := send(t, before, newContent("tagged under key 1"))
	require.Equal(t, uint32(1), m.tag.KeyID)

	rotated := newRelay(t, k2, k1)
	m2 := send(t, rotated, newContent("tagged under key 2"))
	require.Equal(t, uint32(2), m2.tag.KeyID)
	require.NoError(t, rotated.Verify(m.report()))
	require.NoError(t, rotated.Verify(m2.report()))

	retired := newRelay(t, k2)
	require.ErrorIs(t, retired.Verify(m.report()), franking.ErrUnknownKey)
	require.NoError(t, retired.Verify(m2.report()))

	// A key restored from its stored bytes is the same key.
	restored, err := franking.NewRelayKey(k1.ID(), k1.Bytes())
	require.NoError(t, err)
	require.NoError(t, newRelay(t, restored).Verify(m.report()))
	// The same secret under another id is not: the id is what the relay
	// looks up, the key what it MACs with.
	relabelled, err := franking.NewRelayKey(9, k1.Bytes())
	require.NoError(t, err)
	require.ErrorIs(t, newRelay(t, relabelled).Verify(m.report()), franking.ErrUnknownKey)
}

func TestRelayKeys(t *testing.T) {
	k := franking.GenerateRelayKey(3)
	_, err := franking.NewRelay(k, franking.GenerateRelayKey(3))
	require.ErrorIs(t, err, franking.ErrInvalidKey, "two keys with one id")
	_, err = franking.NewRelay(franking.RelayKey{})
	require.ErrorIs(t, err, franking.ErrInvalidKey, "the zero key")
	for _, b := range [][]byte{nil, make([]byte, 31), make([]byte, 33), make([]byte, 32)} {
		_, err := franking.NewRelayKey(1, b)
		require.ErrorIs(t, err, franking.ErrInvalidKey)
	}
	// Bytes is a copy.
	b := k.Bytes()
	b[0] ^= 0xff
	require.NotEqual(t, b, k.Bytes())

	relay := newRelay(t, k)
	for _, ctx := range []franking.Context{
		{Sender: "", Recipient: "bob.1", Received: t0},
		{Sender: "alice.1", Recipient: "\xff", Received: t0},
		{Sender: "alice.1", Recipient: "bob.1", Received: time.UnixMilli(-1)},
	} {
		_, err := relay.Tag(franking.Commitment{}, ctx)
		require.ErrorIs(t, err, franking.ErrInvalidContent)
	}
}

func TestOpenings(t *testing.T) {
	a, b := franking.NewOpening(), franking.NewOpening()
	require.NotEqual(t, a.Bytes(), b.Bytes())
	p, err := franking.ParseOpening(a.Bytes())
	require.NoError(t, err)
	require.Equal(t, a.Bytes(), p.Bytes())
	for _, bad := range [][]byte{nil, make([]byte, 31), make([]byte, 33), make([]byte, 32)} {
		_, err := franking.ParseOpening(bad)
		require.ErrorIs(t, err, franking.ErrInvalidKey)
	}
	c := newContent("x")
	_, err = franking.Opening{}.Commit(&c)
	require.ErrorIs(t, err, franking.ErrInvalidKey)

	// The same content commits differently under every opening (hiding
	// needs that), identically under the same one.
	ca, _ := a.Commit(&c)
	cb, _ := b.Commit(&c)
	ca2, _ := a.Commit(&c)
	require.False(t, ca.Equal(cb))
	require.True(t, ca.Equal(ca2))

	_, err = franking.ParseCommitment(make([]byte, 31))
	require.ErrorIs(t, err, franking.ErrMalformed)
	got, err := franking.ParseCommitment(ca[:])
	require.NoError(t, err)
	require.True(t, got.Equal(ca))
}

// TestTagEncoding: the tag is FRANKING.md's HMAC, written out here; its
// 36 bytes round-trip; other sizes are refused.
func TestTagEncoding(t *testing.T) {
	key := franking.GenerateRelayKey(0x01020304)
	relay := newRelay(t, key)
	tag, err := relay.Tag(franking.Commitment{1}, franking.Context{Sender: "a.1", Recipient: "bob.1", Received: t0})
	require.NoError(t, err)
	m := hmac.New(sha256.New, key.Bytes())
	m.Write([]byte("sotto franking reporting tag\x00\x01"))
	m.Write(append([]byte{1}, make([]byte, 31)...))
	m.Write([]byte{0, 0, 0, 3, 'a', '.', '1', 0, 0, 0, 5, 'b', 'o', 'b', '.', '1'})
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(t0.UnixMilli())))
	require.Equal(t, m.Sum(nil), tag.MAC[:])
	b := tag.Bytes()
	require.Len(t, b, franking.TagSize)
	require.Equal(t, []byte{1, 2, 3, 4}, b[:4])
	back, err := franking.ParseTag(b)
	require.NoError(t, err)
	require.Equal(t, tag, back)
	for _, n := range []int{0, 35, 37} {
		_, err := franking.ParseTag(make([]byte, n))
		require.ErrorIs(t, err, franking.ErrMalformed)
	}
}
