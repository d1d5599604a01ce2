package testvectors

// Generator of franking.json: every value is computed by package franking
// and by the independent implementation below (written from
// franking/FRANKING.md with crypto/hmac), and generation fails if they
// differ; every expected rejection is checked against franking by running
// the verifier on the generated file.

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sotto-im/sotto/franking"
)

// specFrankingField is field(t, v) = t || BE32(len(v)) || v.
func specFrankingField(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// specFrankingContent is the content encoding, version 1, fields 1 to 5.
func specFrankingContent(sender, recipient string, sent int64, body []byte, digests []hexBytes) []byte {
	b := []byte{0x01}
	b = specFrankingField(b, 1, []byte(sender))
	b = specFrankingField(b, 2, []byte(recipient))
	b = specFrankingField(b, 3, binary.BigEndian.AppendUint64(nil, uint64(sent)))
	b = specFrankingField(b, 4, body)
	return specFrankingField(b, 5, slices.Concat(toBytes(digests)...))
}

func toBytes(hs []hexBytes) [][]byte {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		out[i] = h
	}
	return out
}

// specFrankingTag is BE32(id) || HMAC(relay key, label || 0x00 || 0x01 ||
// commitment || BE32(len) sender || BE32(len) recipient || BE64(received)).
func specFrankingTag(k relayKey, com []byte, sender, recipient string, received int64) []byte {
	in := slices.Concat([]byte("sotto franking reporting tag\x00\x01"), com,
		binary.BigEndian.AppendUint32(nil, uint32(len(sender))), []byte(sender),
		binary.BigEndian.AppendUint32(nil, uint32(len(recipient))), []byte(recipient),
		binary.BigEndian.AppendUint64(nil, uint64(received)))
	return slices.Concat(binary.BigEndian.AppendUint32(nil, k.ID), specHMAC(k.Key, in))
}

// specFrankingReport is 0x01 || BE32(len(content)) || content || opening ||
// tag || BE64(received).
func specFrankingReport(content, opening, tag []byte, received int64) []byte {
	return slices.Concat([]byte{0x01}, binary.BigEndian.AppendUint32(nil, uint32(len(content))), content, opening, tag,
		binary.BigEndian.AppendUint64(nil, uint64(received)))
}

// frankMsg is one message's franking values, computed both ways.
type frankMsg struct {
	sender, recipient string
	sent, received    int64
	body              []byte
	digests           []hexBytes
	opening           []byte
	content, com      []byte
}

// newFrankMsg draws an opening from label and computes the encoding and
// commitment with the spec, checked against package franking.
func newFrankMsg(label, sender, recipient string, sent int64, body []byte, digests []hexBytes) *frankMsg {
	m := &frankMsg{sender: sender, recipient: recipient, sent: sent, received: sent + 250, body: body, digests: digests,
		opening: randBytes("franking opening "+label, franking.OpeningSize)}
	m.content = specFrankingContent(sender, recipient, sent, body, digests)
	m.com = specHMAC(m.opening, m.content)
	t := &frankingTest{Sender: &m.sender, Recipient: &m.recipient, Sent: &m.sent, Body: body, Attachments: digests}
	c := must(frankingContent(t))
	o := must(franking.ParseOpening(m.opening))
	com := must(o.Commit(c))
	if !bytes.Equal(must(c.MarshalBinary()), m.content) || !bytes.Equal(com[:], m.com) {
		panic("generator: franking's commitment disagrees with the independent implementation")
	}
	return m
}

// tag computes m's tag under k with the spec, checked against franking.
func (m *frankMsg) tag(k relayKey) []byte {
	want := specFrankingTag(k, m.com, m.sender, m.recipient, m.received)
	relay := must(franking.NewRelay(must(franking.NewRelayKey(k.ID, k.Key))))
	got := must(relay.Tag(franking.Commitment(m.com), franking.Context{Sender: m.sender, Recipient: m.recipient,
		Received: time.UnixMilli(m.received)}))
	if !bytes.Equal(got.Bytes(), want) {
		panic("generator: franking's tag disagrees with the independent implementation")
	}
	return want
}

func digests(label string, n int) []hexBytes {
	out := make([]hexBytes, n)
	for i := range out {
		d := sha256.Sum256(randBytes(fmt.Sprintf("franking attachment %s %d", label, i), 100))
		out[i] = d[:]
	}
	return out
}

// frankingT0 is 2026-01-01T00:00:00Z, in Unix milliseconds.
const frankingT0 = 1767225600000

func i64(v int64) *int64   { return &v }
func str(s string) *string { return &s }

func genFranking() []byte {
	f := &vectorFile[frankingGroup]{fileHeader: fileHeader{
		Algorithm: algFranking,
		Header: []string{
			"Message franking (franking/FRANKING.md). Times are Unix milliseconds; digests are SHA-256 of attachment blobs.",
			"content = 0x01 || field(1, sender) || field(2, recipient) || field(3, BE64(sent)) || field(4, body) || field(5, digest_1 || ... || digest_n), field(t, v) = t || BE32(len(v)) || v.",
			"commitment = HMAC-SHA256(opening, content), opening 32 random bytes, never all zero.",
			"FrankingCommitment: the listed fields encode to content, which commits to commitment (invalid: fields out of bounds, invalid-parameter; an opening of the wrong size or all zero, invalid-key).",
			"FrankingContent: content parses to the listed fields and re-encodes to itself (invalid: malformed).",
			"FrankingCheck: the recipient accepts the message only if outer == inner and inner = HMAC(opening, content) (invalid: commitment).",
			"FrankingTag: tag = BE32(relayKey.id) || HMAC-SHA256(relayKey.key, \"sotto franking reporting tag\" || 0x00 || 0x01 || commitment || BE32(len(sender)) || sender || BE32(len(recipient)) || recipient || BE64(received)) (invalid: context out of bounds, invalid-parameter).",
			"FrankingReport: report = 0x01 || BE32(len(content)) || content || opening || tag || BE64(received), verified by a relay holding relayKeys (the first is current): the tag's key id names a key (else unknown-key) whose MAC over HMAC(opening, content), the content's sender and recipient and received matches (else invalid-report); malformed if it does not parse.",
		},
		Notes: map[string]string{
			"Genuine":        "What an honest sender, relay and recipient produce.",
			"Bounds":         "A value at or past a documented bound.",
			"Framing":        "A recipient's attempt to make a report say what the sender did not send.",
			"SenderBinding":  "A sender's attempt to send a message that would not verify when reported.",
			"Rotation":       "A tag made under an older or retired relay key.",
			"Encoding":       "An encoding that breaks one rule of the format.",
			"ZeroOpening":    "The all-zero opening, which is never drawn.",
			"MaxAttachments": "The largest number of attachment digests, 100.",
		},
	}}

	alice, bob := "alice.1", "bob.2"
	msg := newFrankMsg("text", alice, bob, frankingT0, []byte("you will regret this"), digests("text", 2))
	empty := newFrankMsg("empty", alice, bob, frankingT0+1, []byte{}, nil)
	aci := newFrankMsg("aci", "3f1e2d4c-5b6a-4789-8a9b-0c1d2e3f4a5b.1", "PNI:9a8b7c6d-5e4f-4321-9876-fedcba987654.3",
		frankingT0+2, randBytes("franking body aci", 200), digests("aci", 1))
	epoch := newFrankMsg("epoch", "ünïcødé.7", "日本.1", 0, []byte("sent at the epoch"), nil)
	many := newFrankMsg("many", alice, bob, frankingT0+3, []byte("a hundred attachments"), digests("many", franking.MaxAttachments))
	long := newFrankMsg("long", strings.Repeat("a", franking.MaxAddressSize), bob, frankingT0+4, []byte("longest address"), nil)

	commitCase := func(m *frankMsg, comment string, fl ...string) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: fl}, Sender: &m.sender, Recipient: &m.recipient,
			Sent: &m.sent, Body: m.body, Attachments: m.digests, Opening: m.opening, Content: m.content,
			Commitment: m.com, caseResult: valid()}
	}
	badCommit := func(comment, class, sender, recipient string, sent int64, opening []byte, fl ...string) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: fl}, Sender: str(sender), Recipient: str(recipient),
			Sent: i64(sent), Body: []byte("x"), Opening: opening, caseResult: invalid(class)}
	}
	op := msg.opening
	tooMany := frankingTest{caseID: caseID{Comment: "101 attachment digests", Flags: flags("Bounds")},
		Sender: str(alice), Recipient: str(bob), Sent: i64(frankingT0), Body: []byte("x"),
		Attachments: digests("too many", franking.MaxAttachments+1), Opening: op, caseResult: invalid(classInvalidParameter)}
	f.TestGroups = append(f.TestGroups, frankingGroup{
		Type: typeFrankingCommitment, Comment: "committing to a message",
		Tests: []frankingTest{
			commitCase(msg, "a text message with two attachments", "Genuine"),
			commitCase(empty, "an empty body, no attachments", "Genuine"),
			commitCase(aci, "service-id addresses, a binary body", "Genuine"),
			commitCase(epoch, "non-ASCII addresses, sent at the epoch", "Genuine"),
			commitCase(many, "the largest number of attachments", "Genuine", "MaxAttachments", "Bounds"),
			commitCase(long, "the longest sender address", "Genuine", "Bounds"),
			badCommit("empty sender", classInvalidParameter, "", bob, frankingT0, op, "Bounds"),
			badCommit("empty recipient", classInvalidParameter, alice, "", frankingT0, op, "Bounds"),
			badCommit("sender one byte too long", classInvalidParameter, strings.Repeat("a", franking.MaxAddressSize+1), bob, frankingT0, op, "Bounds"),
			badCommit("sent before 1970", classInvalidParameter, alice, bob, -1, op, "Bounds"),
			tooMany,
			badCommit("all-zero opening", classInvalidKey, alice, bob, frankingT0, make([]byte, 32), "ZeroOpening"),
			badCommit("opening of 31 bytes", classInvalidKey, alice, bob, frankingT0, op[:31]),
		},
	})

	// Content parsing.
	good := msg.content
	edit := func(fn func(b []byte) []byte) []byte { return fn(slices.Clone(good)) }
	senderEnd := 1 + 5 + len(alice)
	recipientEnd := senderEnd + 5 + len(bob)
	reordered := slices.Concat(good[:1], good[senderEnd:recipientEnd], good[1:senderEnd], good[recipientEnd:])
	parseValid := commitCase(msg, "the text message's content")
	parseValid.Opening, parseValid.Commitment = nil, nil
	malformed := func(comment string, b []byte) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: flags("Encoding")}, Content: b, caseResult: invalid(classMalformed)}
	}
	hand := func(sender, recipient string, sent []byte, body []byte, atts []byte) []byte {
		b := []byte{1}
		b = specFrankingField(b, 1, []byte(sender))
		b = specFrankingField(b, 2, []byte(recipient))
		b = specFrankingField(b, 3, sent)
		b = specFrankingField(b, 4, body)
		return specFrankingField(b, 5, atts)
	}
	ms := binary.BigEndian.AppendUint64(nil, frankingT0)
	f.TestGroups = append(f.TestGroups, frankingGroup{
		Type: typeFrankingContent, Comment: "parsing content encodings",
		Tests: []frankingTest{
			parseValid,
			malformed("empty", []byte{}),
			malformed("version 0", edit(func(b []byte) []byte { b[0] = 0; return b })),
			malformed("version 2", edit(func(b []byte) []byte { b[0] = 2; return b })),
			malformed("a trailing byte", append(slices.Clone(good), 0)),
			malformed("a field 6 appended", specFrankingField(slices.Clone(good), 6, []byte("more"))),
			malformed("truncated by one byte", good[:len(good)-1]),
			malformed("the attachments field missing", good[:len(good)-5-64]),
			malformed("sender and recipient fields swapped", reordered),
			malformed("sender length past the end", edit(func(b []byte) []byte { b[2] = 0xff; return b })),
			malformed("sent of 7 bytes", hand(alice, bob, ms[:7], nil, nil)),
			malformed("sent of 2^63", hand(alice, bob, binary.BigEndian.AppendUint64(nil, 1<<63), nil, nil)),
			malformed("attachments of 31 bytes", hand(alice, bob, ms, nil, make([]byte, 31))),
			malformed("attachments of 101 digests", hand(alice, bob, ms, nil, make([]byte, 32*101))),
			malformed("empty sender", hand("", bob, ms, nil, nil)),
			malformed("recipient not UTF-8", hand(alice, "bob\xff", ms, nil, nil)),
			malformed("recipient one byte too long", hand(alice, strings.Repeat("b", franking.MaxAddressSize+1), ms, nil, nil)),
			malformed("sent field tagged 4", edit(func(b []byte) []byte { b[recipientEnd] = 4; return b })),
		},
	})

	// The recipient's check.
	other := newFrankMsg("other", alice, bob, frankingT0, []byte("hi"), nil)
	check := func(comment string, res caseResult, opening, outer, inner []byte, fl ...string) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: fl}, Content: msg.content, Opening: opening,
			Outer: outer, Inner: inner, caseResult: res}
	}
	otherCom := specHMAC(msg.opening, other.content) // the same opening over other content
	f.TestGroups = append(f.TestGroups, frankingGroup{
		Type: typeFrankingCheck, Comment: "the recipient checks the text message before showing it",
		Tests: []frankingTest{
			check("honest sender", valid(), msg.opening, msg.com, msg.com, "Genuine"),
			check("outer commitment to other content", invalid(classCommitment), msg.opening, otherCom, msg.com, "SenderBinding"),
			check("inner commitment to other content", invalid(classCommitment), msg.opening, msg.com, otherCom, "SenderBinding"),
			check("both commitments to other content", invalid(classCommitment), msg.opening, otherCom, otherCom, "SenderBinding"),
			check("another message's opening", invalid(classCommitment), other.opening, msg.com, msg.com, "SenderBinding"),
			check("a commitment that opens to nothing", invalid(classCommitment), msg.opening,
				randBytes("franking random commitment", 32), randBytes("franking random commitment", 32), "SenderBinding"),
			check("all-zero opening", invalid(classInvalidKey), make([]byte, 32), msg.com, msg.com, "ZeroOpening"),
		},
	})

	// The relay's tags.
	k1 := relayKey{ID: 1, Key: randBytes("franking relay key 1", 32)}
	k2 := relayKey{ID: 2, Key: randBytes("franking relay key 2", 32)}
	k3 := relayKey{ID: 3, Key: randBytes("franking relay key 3 (another relay)", 32)}
	tagCase := func(m *frankMsg, comment string) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: flags("Genuine")}, Commitment: m.com,
			Sender: &m.sender, Recipient: &m.recipient, Received: &m.received, Tag: m.tag(k2), caseResult: valid()}
	}
	badTag := func(comment, sender, recipient string, received int64) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: flags("Bounds")}, Commitment: msg.com,
			Sender: str(sender), Recipient: str(recipient), Received: i64(received), caseResult: invalid(classInvalidParameter)}
	}
	f.TestGroups = append(f.TestGroups, frankingGroup{
		Type: typeFrankingTag, Comment: "the relay tags with key 2", RelayKey: &k2,
		Tests: []frankingTest{
			tagCase(msg, "the text message"),
			tagCase(aci, "service-id addresses"),
			tagCase(epoch, "non-ASCII addresses"),
			tagCase(long, "the longest sender address"),
			badTag("empty sender", "", bob, frankingT0),
			badTag("empty recipient", alice, "", frankingT0),
			badTag("received before 1970", alice, bob, -1),
		},
	})

	// Reports, to a relay whose current key is 2 and which keeps key 1.
	type rep struct {
		content, opening, tag []byte
		received              int64
	}
	genuine := func(m *frankMsg, k relayKey) rep { return rep{m.content, m.opening, m.tag(k), m.received} }
	reportOf := func(r rep) []byte {
		b := specFrankingReport(r.content, r.opening, r.tag, r.received)
		// The spec encoding is franking's (for reports that franking can
		// encode: a zero opening or a bad content cannot be).
		if p, err := franking.ParseReport(b); err == nil && !bytes.Equal(must(p.MarshalBinary()), b) {
			panic("generator: franking's report encoding disagrees with the independent implementation")
		}
		return b
	}
	reportCase := func(comment string, res caseResult, r rep, fl ...string) frankingTest {
		return frankingTest{caseID: caseID{Comment: comment, Flags: fl}, Report: reportOf(r), caseResult: res}
	}
	frame := func(comment string, r rep) frankingTest {
		return reportCase(comment, invalid(classInvalidReport), r, "Framing")
	}
	old := newFrankMsg("old", alice, bob, frankingT0-86_400_000, []byte("tagged before the rotation"), nil)
	g := genuine(msg, k2)
	with := func(fn func(*rep)) rep { r := g; fn(&r); return r }
	recontent := func(m frankMsg) []byte { return specFrankingContent(m.sender, m.recipient, m.sent, m.body, m.digests) }
	alt := func(fn func(*frankMsg)) []byte { m := *msg; fn(&m); return recontent(m) }
	never := newFrankMsg("never", alice, bob, frankingT0, []byte("words alice never wrote"), nil)
	relabelled := slices.Concat(binary.BigEndian.AppendUint32(nil, 2), msg.tag(k3)[4:])
	zeroOpening := with(func(r *rep) { r.opening = make([]byte, 32) })
	repBytes := reportOf(g)
	f.TestGroups = append(f.TestGroups, frankingGroup{
		Type: typeFrankingReport, Comment: "reports to a relay holding key 2 (current) and key 1",
		RelayKeys: []relayKey{k2, k1},
		Tests: []frankingTest{
			reportCase("the text message, as delivered", valid(), g, "Genuine"),
			reportCase("a message with 100 attachments", valid(), genuine(many, k2), "Genuine", "MaxAttachments"),
			reportCase("a message tagged under the older key 1", valid(), genuine(old, k1), "Genuine", "Rotation"),
			frame("the body altered", with(func(r *rep) {
				r.content = alt(func(m *frankMsg) { m.body = []byte("you will regret this, or else") })
			})),
			frame("the body truncated", with(func(r *rep) { r.content = alt(func(m *frankMsg) { m.body = m.body[:8] }) })),
			frame("another sender", with(func(r *rep) { r.content = alt(func(m *frankMsg) { m.sender = "carol.1" }) })),
			frame("another sender device", with(func(r *rep) { r.content = alt(func(m *frankMsg) { m.sender = "alice.2" }) })),
			frame("another recipient", with(func(r *rep) { r.content = alt(func(m *frankMsg) { m.recipient = "dave.1" }) })),
			frame("sender and recipient swapped", with(func(r *rep) {
				r.content = alt(func(m *frankMsg) { m.sender, m.recipient = m.recipient, m.sender })
			})),
			frame("another sent time", with(func(r *rep) { r.content = alt(func(m *frankMsg) { m.sent -= 3_600_000 }) })),
			frame("another relay time", with(func(r *rep) { r.received++ })),
			frame("an attachment replaced", with(func(r *rep) {
				r.content = alt(func(m *frankMsg) { m.digests = []hexBytes{m.digests[0], digests("abusive", 1)[0]} })
			})),
			frame("an attachment dropped", with(func(r *rep) { r.content = alt(func(m *frankMsg) { m.digests = m.digests[:1] }) })),
			frame("attachments reordered", with(func(r *rep) {
				r.content = alt(func(m *frankMsg) { m.digests = []hexBytes{m.digests[1], m.digests[0]} })
			})),
			frame("another message's opening", with(func(r *rep) { r.opening = other.opening })),
			frame("another message's content and opening", with(func(r *rep) { r.content, r.opening = other.content, other.opening })),
			frame("another message's tag", with(func(r *rep) { r.tag = genuine(old, k2).tag })),
			frame("a tag flipped in its last bit", with(func(r *rep) {
				r.tag = slices.Clone(r.tag)
				r.tag[len(r.tag)-1] ^= 1
			})),
			frame("a tag from another relay's key, relabelled as key 2", with(func(r *rep) { r.tag = relabelled })),
			frame("a message never sent, with an invented tag", rep{never.content, never.opening,
				slices.Concat(binary.BigEndian.AppendUint32(nil, 2), randBytes("franking invented tag", 32)), never.received}),
			reportCase("a tag from another relay's key 3", invalid(classUnknownKey), with(func(r *rep) { r.tag = msg.tag(k3) }), "Framing"),
			reportCase("a tag under a retired key 9", invalid(classUnknownKey),
				with(func(r *rep) { r.tag = msg.tag(relayKey{ID: 9, Key: k1.Key}) }), "Rotation"),
			reportCase("all-zero opening", invalid(classMalformed), zeroOpening, "Encoding", "ZeroOpening"),
		},
	})
	// Encodings that franking cannot produce, written by hand.
	rg := &f.TestGroups[len(f.TestGroups)-1]
	n := len(msg.content)
	for _, c := range []struct {
		comment string
		b       []byte
	}{
		{"version 2", slices.Concat([]byte{2}, repBytes[1:])},
		{"truncated by one byte", repBytes[:len(repBytes)-1]},
		{"a trailing byte", append(slices.Clone(repBytes), 0)},
		{"content length one too long", slices.Concat([]byte{1}, binary.BigEndian.AppendUint32(nil, uint32(n+1)), repBytes[5:])},
		{"content length one too short", slices.Concat([]byte{1}, binary.BigEndian.AppendUint32(nil, uint32(n-1)), repBytes[5:])},
		{"received of 2^63", slices.Concat(repBytes[:len(repBytes)-8], binary.BigEndian.AppendUint64(nil, 1<<63))},
		{"a content that does not parse", specFrankingReport(good[:len(good)-1], msg.opening, g.tag, g.received)},
	} {
		rg.Tests = append(rg.Tests, frankingTest{caseID: caseID{Comment: c.comment, Flags: flags("Encoding")},
			Report: c.b, caseResult: invalid(classMalformed)})
	}

	b := encodeFile(f, func(g *frankingGroup) []frankingTest { return g.Tests })
	selfCheck(algFranking, b, verifyFranking)
	return b
}

// selfCheck runs a freshly generated file through its verifier and panics
// on any failure, so that every expected output and rejection is Sotto's.
func selfCheck(alg string, data []byte, v verifier) {
	r := &fileReport{name: alg}
	if err := v(data, r); err != nil || r.failed != 0 {
		panic(fmt.Sprintf("generator: %s does not verify: %v %v", alg, err, r.failures))
	}
}
