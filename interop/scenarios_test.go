package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Prekey ids used by the scenarios (arbitrary but distinct).
const (
	otpkID  = 31337
	spkID   = 42
	kyberID = 777
)

// establish starts a session from init to resp (bundle with or without a
// one-time prekey), delivers one message each way and returns the bundle.
func establish(t *testing.T, init, resp *peer, withOTPK bool) Bundle {
	t.Helper()
	id := uint32(0)
	if withOTPK {
		id = otpkID
	}
	bundle := resp.generatePreKeys(id, spkID, kyberID)
	init.mustProcessBundle(resp, bundle)
	first := init.encrypt(resp, []byte("first message"))
	if first.Type != typePreKey {
		t.Fatalf("first message from %s: type %d, want %d (PreKey)", init.label, first.Type, typePreKey)
	}
	resp.mustDecrypt(init, first, []byte("first message"), "first message")
	reply := resp.encrypt(init, []byte("first reply"))
	if reply.Type != typeWhisper {
		t.Fatalf("first reply from %s: type %d, want %d (Whisper)", resp.label, reply.Type, typeWhisper)
	}
	init.mustDecrypt(resp, reply, []byte("first reply"), "first reply")
	return bundle
}

// TestSessionSetup starts sessions from either side, with and without a
// one-time prekey, and checks the PreKey phase, the switch to Whisper
// messages and one-time prekey consumption.
func TestSessionSetup(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		for _, withOTPK := range []bool{true, false} {
			for _, aStarts := range []bool{true, false} {
				name := "a_initiates"
				if !aStarts {
					name = "b_initiates"
				}
				if withOTPK {
					name += "/with_one-time_prekey"
				} else {
					name += "/without_one-time_prekey"
				}
				t.Run(name, func(t *testing.T) {
					alice := newPeer(t, a, "alice", 1)
					bob := newPeer(t, b, "bob", 2)
					init, resp := alice, bob
					if !aStarts {
						init, resp = bob, alice
					}
					testSessionSetup(t, init, resp, withOTPK)
				})
			}
		}
	})
}

func testSessionSetup(t *testing.T, init, resp *peer, withOTPK bool) {
	preKeyID := uint32(0)
	if withOTPK {
		preKeyID = otpkID
	}
	bundle := resp.generatePreKeys(preKeyID, spkID, kyberID)
	init.mustProcessBundle(resp, bundle)

	// Until the responder answers, every message is a PreKey message of the
	// same session (same base key) naming the bundle's prekeys.
	var baseKey []byte
	var pending []Ciphertext
	for i := range 3 {
		ct := init.encrypt(resp, fmt.Appendf(nil, "prekey phase %d", i))
		if ct.Type != typePreKey {
			t.Fatalf("message %d before any reply: type %d, want %d (PreKey)", i, ct.Type, typePreKey)
		}
		m, err := parsePreKeyMessage(ct.Body)
		if err != nil {
			t.Fatal(err)
		}
		gotOTPK, hasOTPK := m.varint(pkPreKeyID)
		if withOTPK && (!hasOTPK || gotOTPK != otpkID) {
			t.Fatalf("PreKey message: pre_key_id %d (present %v), want %d", gotOTPK, hasOTPK, otpkID)
		}
		if !withOTPK && hasOTPK {
			t.Fatalf("PreKey message names one-time prekey %d, but the bundle had none", gotOTPK)
		}
		if id, _ := m.varint(pkSignedPreKeyID); id != spkID {
			t.Fatalf("PreKey message: signed_pre_key_id %d, want %d", id, spkID)
		}
		if id, _ := m.varint(pkKyberPreKeyID); id != kyberID {
			t.Fatalf("PreKey message: kyber_pre_key_id %d, want %d", id, kyberID)
		}
		bk, _ := m.bytesField(pkBaseKey)
		if i == 0 {
			baseKey = bk
		} else if !bytes.Equal(bk, baseKey) {
			t.Fatalf("PreKey message %d has a different base key than message 0", i)
		}
		pending = append(pending, ct)
	}
	for i, ct := range pending {
		resp.mustDecrypt(init, ct, fmt.Appendf(nil, "prekey phase %d", i), fmt.Sprintf("PreKey message %d", i))
	}

	// The responder answers with Whisper messages; once the initiator has
	// received one, it sends Whisper messages too.
	for i := range 2 {
		ct := resp.encrypt(init, fmt.Appendf(nil, "reply %d", i))
		if ct.Type != typeWhisper {
			t.Fatalf("reply %d: type %d, want %d (Whisper)", i, ct.Type, typeWhisper)
		}
		init.mustDecrypt(resp, ct, fmt.Appendf(nil, "reply %d", i), fmt.Sprintf("reply %d", i))
	}
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	for i, pt := range [][]byte{[]byte("after reply"), {}, big, {0}, bytes.Repeat([]byte{0xff}, 15), bytes.Repeat([]byte{0xee}, 16)} {
		for _, dir := range [][2]*peer{{init, resp}, {resp, init}} {
			ct := dir[0].encrypt(dir[1], pt)
			if ct.Type != typeWhisper {
				t.Fatalf("message %d from %s after the handshake: type %d, want %d (Whisper)", i, dir[0].label, ct.Type, typeWhisper)
			}
			dir[1].mustDecrypt(dir[0], ct, pt, fmt.Sprintf("message %d (%d bytes)", i, len(pt)))
		}
	}

	// A second initiator uses the same bundle. A one-time prekey must have
	// been consumed; without one, the signed and (last-resort) Kyber prekeys
	// remain usable.
	carol := newPeer(t, init.impl, "carol", 3)
	carol.mustProcessBundle(resp, bundle)
	ct := carol.encrypt(resp, []byte("from carol"))
	if withOTPK {
		resp.mustReject(carol, ct, "PreKey message reusing a consumed one-time prekey")
	} else {
		resp.mustDecrypt(carol, ct, []byte("from carol"), "PreKey message from a second initiator")
		send(resp, carol, []byte("hi carol"))
	}
	// The first session is unaffected.
	send(init, resp, []byte("still there?"))
	send(resp, init, []byte("yes"))
}

// ---------------------------------------------------------------------------
// Long conversation

type message struct {
	from, to *peer
	ct       Ciphertext
	pt       []byte
	what     string
	due      int // round after which a held message is delivered
}

type conversation struct {
	t      *testing.T
	rng    *mrand.Rand
	round  int
	sent   int
	recvd  int
	held   []message
	late   int               // messages delivered after at least one later round
	epochs map[string]uint64 // highest SPQR epoch sent, by sender
}

func (c *conversation) plaintext(from, to *peer) []byte {
	c.sent++
	pt := fmt.Appendf(nil, "%s->%s #%d round %d|", from.label, to.label, c.sent, c.round)
	pad := make([]byte, c.rng.IntN(120))
	for i := range pad {
		pad[i] = byte(c.rng.Uint32())
	}
	return append(pt, pad...)
}

// encryptBurst encrypts n messages from -> to; all must be Whisper messages.
func (c *conversation) encryptBurst(from, to *peer, n int) []message {
	c.t.Helper()
	ms := make([]message, n)
	for i := range ms {
		pt := c.plaintext(from, to)
		ct := from.encrypt(to, pt)
		if ct.Type != typeWhisper {
			c.t.Fatalf("%s: message #%d has type %d, want %d (Whisper)", from.label, c.sent, ct.Type, typeWhisper)
		}
		ms[i] = message{from: from, to: to, ct: ct, pt: pt, what: fmt.Sprintf("message #%d (round %d)", c.sent, c.round)}
		if e, ok := spqrEpoch(ct); ok && e > c.epochs[from.label] {
			if c.epochs == nil {
				c.epochs = map[string]uint64{}
			}
			c.epochs[from.label] = e
		}
	}
	return ms
}

func (c *conversation) deliver(m message) {
	c.t.Helper()
	m.to.mustDecrypt(m.from, m.ct, m.pt, m.what)
	c.recvd++
}

// deliverBurst delivers a burst in a random fashion: in order, shuffled,
// reversed, or with some messages held back for a later round.
func (c *conversation) deliverBurst(ms []message) {
	c.t.Helper()
	switch mode := c.rng.IntN(5); {
	case mode == 0 || len(ms) < 3:
		// in order
	case mode == 1:
		c.rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	case mode == 2:
		for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
			ms[i], ms[j] = ms[j], ms[i]
		}
	default:
		// Hold back a few messages for one to three rounds, i.e. until
		// after the other side has answered (a DH ratchet step), after
		// this side has sent on a new chain, and sometimes across an SPQR
		// epoch change. (libsignal 0.103 keeps the keys of the current and
		// the previous SPQR epoch only: a message two epochs behind is
		// undecryptable, which here happens at about 7 rounds' delay.)
		k := 1 + c.rng.IntN(min(4, len(ms)-1))
		for range k {
			i := c.rng.IntN(len(ms))
			m := ms[i]
			m.due = c.round + 1 + c.rng.IntN(3)
			c.held = append(c.held, m)
			ms = append(ms[:i], ms[i+1:]...)
		}
		c.rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	}
	for _, m := range ms {
		c.deliver(m)
	}
}

// deliverDue delivers the held messages that are due.
func (c *conversation) deliverDue(all bool) {
	c.t.Helper()
	keep := c.held[:0]
	var due []message
	for _, m := range c.held {
		if all || m.due <= c.round {
			due = append(due, m)
		} else {
			keep = append(keep, m)
		}
	}
	c.held = keep
	c.rng.Shuffle(len(due), func(i, j int) { due[i], due[j] = due[j], due[i] })
	for _, m := range due {
		c.deliver(m)
		c.late++
	}
}

// TestLongConversation exchanges more than 2,000 messages with bursts,
// reordering, late delivery and a large in-chain gap.
func TestLongConversation(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		establish(t, alice, bob, true)
		c := &conversation{t: t, rng: newRand(t)}

		const target = 2000
		bigGapRound := 20 + c.rng.IntN(20)
		for c.sent < target || c.round <= bigGapRound {
			c.round++
			from, to := alice, bob
			if c.round%2 == 0 {
				from, to = bob, alice
			}
			switch {
			case c.round == bigGapRound:
				// One long chain: the first messages arrive after
				// hundreds of later ones (skipped message keys, well
				// within the 2,000 limit).
				n := 400 + c.rng.IntN(200)
				ms := c.encryptBurst(from, to, n)
				late := []message{ms[0], ms[1], ms[n/2]}
				rest := append(append([]message{}, ms[2:n/2]...), ms[n/2+1:]...)
				for _, m := range rest {
					c.deliver(m)
				}
				c.rng.Shuffle(len(late), func(i, j int) { late[i], late[j] = late[j], late[i] })
				for _, m := range late {
					c.deliver(m)
				}
			case c.round%7 == 0:
				// Both sides send before either receives.
				m1 := c.encryptBurst(from, to, 1+c.rng.IntN(10))
				m2 := c.encryptBurst(to, from, 1+c.rng.IntN(10))
				c.deliverBurst(m2)
				c.deliverBurst(m1)
			case c.round%4 == 0:
				c.deliverBurst(c.encryptBurst(from, to, 50))
			default:
				c.deliverBurst(c.encryptBurst(from, to, 1+c.rng.IntN(50)))
			}
			c.deliverDue(false)
		}
		c.deliverDue(true)
		if c.recvd != c.sent {
			t.Fatalf("delivered %d of %d messages", c.recvd, c.sent)
		}
		if c.sent < target {
			t.Fatalf("only %d messages exchanged, want at least %d", c.sent, target)
		}
		t.Logf("%d messages in %d rounds, all decrypted (%d delivered rounds late); highest SPQR epochs sent: %v",
			c.sent, c.round, c.late, c.epochs)
		// Both directions still work.
		send(alice, bob, []byte("the end"))
		send(bob, alice, []byte("the end, indeed"))
	})
}

// ---------------------------------------------------------------------------
// Replays

// TestReplay delivers messages twice: the second delivery must be rejected,
// and the conversation goes on.
func TestReplay(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		bundle := bob.generatePreKeys(otpkID, spkID, kyberID)
		alice.mustProcessBundle(bob, bundle)

		m1 := alice.encrypt(bob, []byte("m1"))
		bob.mustDecrypt(alice, m1, []byte("m1"), "m1 (PreKey)")
		bob.mustReject(alice, m1, "replayed PreKey message m1")

		r1 := send(bob, alice, []byte("r1"))
		alice.mustReject(bob, r1, "replayed reply r1")

		// Out of order, then replays of the in-order and the out-of-order
		// (skipped-key) messages.
		m2 := alice.encrypt(bob, []byte("m2"))
		m3 := alice.encrypt(bob, []byte("m3"))
		m4 := alice.encrypt(bob, []byte("m4"))
		bob.mustDecrypt(alice, m2, []byte("m2"), "m2")
		bob.mustDecrypt(alice, m4, []byte("m4"), "m4")
		bob.mustReject(alice, m4, "replayed m4")
		bob.mustDecrypt(alice, m3, []byte("m3"), "m3 (skipped key)")
		bob.mustReject(alice, m3, "replayed m3 (used skipped key)")
		bob.mustReject(alice, m2, "replayed m2")
		bob.mustReject(alice, m1, "replayed PreKey message m1, again")

		// Old-chain replays after DH ratchet steps.
		for i := range 3 {
			send(bob, alice, fmt.Appendf(nil, "r%d", i+2))
			send(alice, bob, fmt.Appendf(nil, "m%d", i+5))
		}
		bob.mustReject(alice, m3, "replayed m3 from an old chain")
		alice.mustReject(bob, r1, "replayed r1 from an old chain")

		for i := range 5 {
			send(alice, bob, fmt.Appendf(nil, "after replays a%d", i))
			send(bob, alice, fmt.Appendf(nil, "after replays b%d", i))
		}
	})
}

// ---------------------------------------------------------------------------
// Tampering

type tamper struct {
	name string
	body []byte
}

// tamperSignalMessage returns tampered variants of a serialized
// SignalMessage (a Whisper message body).
func tamperSignalMessage(t *testing.T, rng *mrand.Rand, b []byte) []tamper {
	t.Helper()
	bit := func() uint { return uint(rng.IntN(8)) }
	field := func(num int) (int, int) {
		s, e, err := signalMessageFieldOffset(b, num)
		if err != nil {
			t.Fatal(err)
		}
		return s, e
	}
	cs, ce := field(smCiphertext)
	rs, re := field(smRatchetKey)
	ks, _ := field(smCounter)
	ps, pe := field(smPQRatchet)
	wrongVersion := bytes.Clone(b)
	wrongVersion[0] = 0x34
	return []tamper{
		{"ciphertext bit flipped (first block)", flipBit(b, cs+rng.IntN(16), bit())},
		{"ciphertext bit flipped (last block)", flipBit(b, ce-1-rng.IntN(16), bit())},
		{"ciphertext bit flipped (middle)", flipBit(b, cs+(ce-cs)/2, bit())},
		{"MAC bit flipped", flipBit(b, len(b)-1-rng.IntN(macLen), bit())},
		{"MAC first bit flipped", flipBit(b, len(b)-macLen, 0)},
		{"ratchet key bit flipped", flipBit(b, rs+1+rng.IntN(re-rs-1), bit())},
		{"counter changed", flipBit(b, ks, 0)},
		{"pq_ratchet bit flipped", flipBit(b, ps+rng.IntN(pe-ps), bit())},
		{"version byte changed", wrongVersion},
		{"truncated by one byte", b[:len(b)-1]},
		{"truncated to half", b[:len(b)/2]},
		{"MAC cut off", b[:len(b)-macLen]},
		{"byte appended", append(bytes.Clone(b), 0)},
	}
}

// tamperPreKeyMessage returns tampered variants of a PreKeySignalMessage.
func tamperPreKeyMessage(t *testing.T, rng *mrand.Rand, b []byte) []tamper {
	t.Helper()
	bit := func() uint { return uint(rng.IntN(8)) }
	field := func(num int) (int, int) {
		s, e, err := preKeyFieldOffset(b, num)
		if err != nil {
			t.Fatal(err)
		}
		return s, e
	}
	ms, me := field(pkMessage)
	ics, ice, err := signalMessageFieldOffset(b[ms:me], smCiphertext)
	if err != nil {
		t.Fatal(err)
	}
	ks, ke := field(pkKyberCT)
	bs, be := field(pkBaseKey)
	ss, _ := field(pkSignedPreKeyID)
	ts := []tamper{
		{"inner ciphertext bit flipped", flipBit(b, ms+ics+(ice-ics)/2, bit())},
		{"inner MAC bit flipped", flipBit(b, me-1-rng.IntN(macLen), bit())},
		{"Kyber ciphertext bit flipped", flipBit(b, ks+1+rng.IntN(ke-ks-1), bit())},
		{"base key bit flipped", flipBit(b, bs+1+rng.IntN(be-bs-2), bit())},
		{"signed prekey id changed", flipBit(b, ss, 0)},
		{"truncated by one byte", b[:len(b)-1]},
		{"truncated to half", b[:len(b)/2]},
	}
	if ps, _, err := preKeyFieldOffset(b, pkPreKeyID); err == nil {
		ts = append(ts, tamper{"one-time prekey id changed", flipBit(b, ps, 0)})
	}
	return ts
}

// TestTampering delivers tampered copies of PreKey and Whisper messages: all
// must be rejected without changing any state, so that the genuine message
// then decrypts.
func TestTampering(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		rng := newRand(t)
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		bundle := bob.generatePreKeys(otpkID, spkID, kyberID)
		alice.mustProcessBundle(bob, bundle)

		try := func(from, to *peer, ct Ciphertext, pt []byte, variants []tamper) {
			t.Helper()
			for _, v := range variants {
				to.mustReject(from, Ciphertext{Type: ct.Type, Body: v.body}, fmt.Sprintf("%q with %s", pt, v.name))
			}
			to.mustDecrypt(from, ct, pt, fmt.Sprintf("genuine %q after %d tampered copies", pt, len(variants)))
		}

		// The session-creating PreKey message: a failed attempt must not
		// consume the one-time prekey or create a session.
		m1 := alice.encrypt(bob, []byte("m1"))
		if m1.Type != typePreKey {
			t.Fatalf("m1: type %d, want PreKey", m1.Type)
		}
		try(alice, bob, m1, []byte("m1"), tamperPreKeyMessage(t, rng, m1.Body))

		// Bob's first reply and Alice's next message each start a new chain.
		r1 := bob.encrypt(alice, []byte("r1"))
		try(bob, alice, r1, []byte("r1"), tamperSignalMessage(t, rng, r1.Body))
		m2 := alice.encrypt(bob, []byte("m2"))
		try(alice, bob, m2, []byte("m2"), tamperSignalMessage(t, rng, m2.Body))

		// A message in the middle of a chain, after a skipped one.
		m3 := alice.encrypt(bob, []byte("m3"))
		m4 := alice.encrypt(bob, []byte("m4"))
		try(alice, bob, m4, []byte("m4"), tamperSignalMessage(t, rng, m4.Body))
		// The skipped key for m3 is still there.
		try(alice, bob, m3, []byte("m3"), tamperSignalMessage(t, rng, m3.Body))

		for i := range 5 {
			send(bob, alice, fmt.Appendf(nil, "after tampering b%d", i))
			send(alice, bob, fmt.Appendf(nil, "after tampering a%d", i))
		}
	})
}

// ---------------------------------------------------------------------------
// Identity change and bad bundles

// TestIdentityChange re-initializes the responder with a new identity key:
// its new bundle and its new PreKey messages must be refused by a peer that
// knew the old identity.
func TestIdentityChange(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		establish(t, alice, bob, true)
		stale := alice.encrypt(bob, []byte("sent to the old bob"))

		// Control: a new bundle with the same identity is accepted.
		bundle2 := bob.generatePreKeys(otpkID+1, spkID+1, kyberID+1)
		alice.mustProcessBundle(bob, bundle2)
		m := alice.encrypt(bob, []byte("new session, same identity"))
		if m.Type != typePreKey {
			t.Fatalf("first message of the new session: type %d, want PreKey", m.Type)
		}
		bob.mustDecrypt(alice, m, []byte("new session, same identity"), "first message of a new session")
		send(bob, alice, []byte("ok"))

		oldIdentity := bob.identity
		bob.init(bob.addr) // "reinstall": new identity, all state lost
		if bytes.Equal(oldIdentity, bob.identity) {
			t.Fatal("re-init did not change the identity key")
		}
		bob.mustReject(alice, stale, "message for the session bob lost on re-init")

		bundle3 := bob.generatePreKeys(otpkID+2, spkID+2, kyberID+2)
		err := alice.processBundle(bob.addr, bundle3)
		if err == nil {
			t.Fatal("bundle with a changed identity key was accepted")
		}
		t.Logf("changed identity in bundle rejected as expected: %v", err)

		// The new bob starts a session himself: alice must refuse it too.
		aliceBundle := alice.generatePreKeys(otpkID+3, spkID+3, kyberID+3)
		bob.mustProcessBundle(alice, aliceBundle)
		pm := bob.encrypt(alice, []byte("it's me, new bob"))
		if pm.Type != typePreKey {
			t.Fatalf("new bob's first message: type %d, want PreKey", pm.Type)
		}
		alice.mustReject(bob, pm, "PreKey message with a changed identity key")
		// Still refused (nothing was learned from the failed attempt).
		if err := alice.processBundle(bob.addr, bundle3); err == nil {
			t.Fatal("bundle with a changed identity key was accepted on the second try")
		}
	})
}

// TestBadBundle checks that bundles with broken signatures or keys are
// refused, without side effects, and that the genuine bundle then works.
func TestBadBundle(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		rng := newRand(t)
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		good := bob.generatePreKeys(otpkID, spkID, kyberID)
		other := newPeer(t, b, "mallory", 3).generatePreKeys(otpkID, spkID, kyberID)

		flip := func(k []byte, from int) []byte { return flipBit(k, from+rng.IntN(len(k)-from), uint(rng.IntN(8))) }
		variants := []struct {
			name string
			mod  func(*Bundle)
		}{
			{"signed prekey signature bit flipped", func(b *Bundle) { b.SignedPreKeySignature = flip(b.SignedPreKeySignature, 0) }},
			{"Kyber prekey signature bit flipped", func(b *Bundle) { b.KyberPreKeySignature = flip(b.KyberPreKeySignature, 0) }},
			{"signed prekey bit flipped", func(b *Bundle) { b.SignedPreKeyPublic = flip(b.SignedPreKeyPublic, 1) }},
			{"Kyber prekey bit flipped", func(b *Bundle) { b.KyberPreKeyPublic = flip(b.KyberPreKeyPublic, 1) }},
			{"identity key of another user", func(b *Bundle) { b.IdentityKey = other.IdentityKey }},
			{"signed prekey signed by another identity", func(b *Bundle) {
				b.SignedPreKeyPublic, b.SignedPreKeySignature = other.SignedPreKeyPublic, other.SignedPreKeySignature
			}},
			{"Kyber prekey signed by another identity", func(b *Bundle) {
				b.KyberPreKeyPublic, b.KyberPreKeySignature = other.KyberPreKeyPublic, other.KyberPreKeySignature
			}},
			{"signatures swapped", func(b *Bundle) {
				b.SignedPreKeySignature, b.KyberPreKeySignature = b.KyberPreKeySignature, b.SignedPreKeySignature
			}},
		}
		for _, v := range variants {
			bad := good
			v.mod(&bad)
			err := alice.processBundle(bob.addr, bad)
			if err == nil {
				t.Fatalf("bundle with %s was accepted", v.name)
			}
			t.Logf("bundle with %s rejected as expected: %v", v.name, err)
		}
		// Nothing stuck: the genuine bundle works.
		alice.mustProcessBundle(bob, good)
		m := alice.encrypt(bob, []byte("hello"))
		bob.mustDecrypt(alice, m, []byte("hello"), "first message")
		send(bob, alice, []byte("hello back"))
		send(alice, bob, []byte("good"))
	})
}

// ---------------------------------------------------------------------------
// Simultaneous initiation

// TestSimultaneousInitiation has both peers start a session with each other
// and send before either receives; afterwards every message must decrypt in
// both directions, and, each having received the other's PreKey message, both
// must send Whisper messages from then on (as libsignal does: each answers on
// the session the other started, and the other finds it among its archived
// sessions).
func TestSimultaneousInitiation(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		rng := newRand(t)
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		aliceBundle := alice.generatePreKeys(otpkID, spkID, kyberID)
		bobBundle := bob.generatePreKeys(otpkID+1, spkID+1, kyberID+1)
		alice.mustProcessBundle(bob, bobBundle)
		bob.mustProcessBundle(alice, aliceBundle)

		var fromAlice, fromBob []message
		for i := range 2 {
			pa := fmt.Appendf(nil, "alice initiates %d", i)
			pb := fmt.Appendf(nil, "bob initiates %d", i)
			ma, mb := alice.encrypt(bob, pa), bob.encrypt(alice, pb)
			if ma.Type != typePreKey || mb.Type != typePreKey {
				t.Fatalf("initial messages have types %d and %d, want PreKey (3)", ma.Type, mb.Type)
			}
			fromAlice = append(fromAlice, message{from: alice, to: bob, ct: ma, pt: pa, what: string(pa)})
			fromBob = append(fromBob, message{from: bob, to: alice, ct: mb, pt: pb, what: string(pb)})
		}
		for i := range fromAlice {
			alice.mustDecrypt(bob, fromBob[i].ct, fromBob[i].pt, fromBob[i].what)
			bob.mustDecrypt(alice, fromAlice[i].ct, fromAlice[i].pt, fromAlice[i].what)
		}

		c := &conversation{t: t, rng: rng}
		types := map[string]int{}
		for c.round < 30 {
			c.round++
			var ms []message
			pick := func(from, to *peer, n int) {
				for range n {
					pt := c.plaintext(from, to)
					ct := from.encrypt(to, pt)
					types[fmt.Sprintf("%s type %d", from.label, ct.Type)]++
					if ct.Type != typeWhisper {
						t.Fatalf("round %d: %s still sends type %d, want Whisper", c.round, from.label, ct.Type)
					}
					ms = append(ms, message{from: from, to: to, ct: ct, pt: pt, what: fmt.Sprintf("message #%d (round %d)", c.sent, c.round)})
				}
			}
			switch c.round % 3 {
			case 0:
				pick(alice, bob, 1+rng.IntN(4))
			case 1:
				pick(bob, alice, 1+rng.IntN(4))
			default:
				pick(alice, bob, 1+rng.IntN(4))
				pick(bob, alice, 1+rng.IntN(4))
				rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
			}
			for _, m := range ms {
				c.deliver(m)
			}
		}
		t.Logf("message types after simultaneous initiation: %v", types)
		// Late delivery of the (already decrypted) initial messages must fail.
		bob.mustReject(alice, fromAlice[0].ct, "replayed initial PreKey message")
	})
}

// ---------------------------------------------------------------------------
// Fingerprints

// TestFingerprint compares the safety numbers computed by both sides (version
// 2, ACI UUID bytes as stable ids, 5200 iterations) with each other and with
// an independent computation.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	forEachPair(t, func(t *testing.T, a, b impl) {
		const iterations, version = 5200, 2
		alice := newPeer(t, a, "alice", 1)
		bob := newPeer(t, b, "bob", 2)
		aliceID, bobID := aciBytes(t, alice.addr), aciBytes(t, bob.addr)

		dispA, scanA := alice.fingerprint(iterations, version, aliceID, bobID, bob.identity)
		dispB, scanB := bob.fingerprint(iterations, version, bobID, aliceID, alice.identity)
		if len(dispA) != 60 || strings.Trim(dispA, "0123456789") != "" {
			t.Fatalf("alice's safety number %q is not 60 digits", dispA)
		}
		if dispA != dispB {
			t.Fatalf("safety numbers differ:\n\talice %s\n\tbob   %s", dispA, dispB)
		}
		wantDisp, wantScanA := expectedFingerprint(iterations, version, aliceID, alice.identity, bobID, bob.identity)
		_, wantScanB := expectedFingerprint(iterations, version, bobID, bob.identity, aliceID, alice.identity)
		if dispA != wantDisp {
			t.Fatalf("safety number %s, independent computation gives %s", dispA, wantDisp)
		}
		if !bytes.Equal(scanA, wantScanA) || !bytes.Equal(scanB, wantScanB) {
			t.Fatalf("scannable fingerprints differ from the independent computation:\n\talice %x\n\twant  %x\n\tbob   %x\n\twant  %x",
				scanA, wantScanA, scanB, wantScanB)
		}
		// As libsignal's ScannableFingerprint.compare: same version, and
		// each side's local half is the other's remote half.
		pa, err1 := newPBMsg(scanA)
		pb, err2 := newPBMsg(scanB)
		if err1 != nil || err2 != nil {
			t.Fatalf("scannable fingerprints do not parse: %v, %v", err1, err2)
		}
		va, _ := pa.varint(1)
		vb, _ := pb.varint(1)
		la, _ := pa.bytesField(2)
		ra, _ := pa.bytesField(3)
		lb, _ := pb.bytesField(2)
		rb, _ := pb.bytesField(3)
		if va != version || vb != version || len(la) == 0 || !bytes.Equal(la, rb) || !bytes.Equal(ra, lb) {
			t.Fatalf("scannable fingerprints do not match each other:\n\talice %x\n\tbob   %x", scanA, scanB)
		}

		// A different key or id gives a different number.
		if d, _ := alice.fingerprint(iterations, version, aliceID, bobID, alice.identity); d == dispA {
			t.Fatal("safety number does not depend on the remote identity key")
		}
		otherID := bytes.Clone(bobID)
		otherID[15] ^= 1
		if d, _ := alice.fingerprint(iterations, version, aliceID, otherID, bob.identity); d == dispA {
			t.Fatal("safety number does not depend on the remote stable id")
		}
		// Version 1 uses the same digits, but a different scannable form.
		d1, s1 := alice.fingerprint(iterations, 1, aliceID, bobID, bob.identity)
		if d1 != dispA || bytes.Equal(s1, scanA) {
			t.Fatalf("version 1: displayable %s (want %s), scannable %x (must differ from version 2's)", d1, dispA, s1)
		}
	})
}

// ---------------------------------------------------------------------------
// The peer protocol itself

// TestPeerProtocol checks error handling and shutdown of a single peer.
func TestPeerProtocol(t *testing.T) {
	t.Parallel()
	forEachImpl(t, func(t *testing.T, im impl) {
		p := startPeer(t, im, "solo")
		name, _ := newACI()
		addr := Address{Name: name, DeviceID: 1}
		otherName, _ := newACI()
		other := Address{Name: otherName, DeviceID: 1}

		mustFail := func(op string, args any, what string) {
			t.Helper()
			err := p.call(op, args, nil)
			if err == nil {
				t.Fatalf("%s: succeeded, want ok:false", what)
			}
			t.Logf("%s: %v", what, err)
		}
		mustFail("encrypt", map[string]any{"remote": other, "plaintext": []byte("x")}, "encrypt before init")
		mustFail("noSuchOp", map[string]any{}, "unknown op")

		// A line that is not JSON gets an id:null error response.
		if _, err := p.stdin.Write([]byte("this is not JSON\n")); err != nil {
			t.Fatal(err)
		}
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatal("peer exited after a malformed line")
			}
			var r map[string]any
			if err := json.Unmarshal(l, &r); err != nil {
				t.Fatalf("response to a malformed line is not JSON: %v: %s", err, l)
			}
			id, hasID := r["id"]
			msg, _ := r["error"].(string)
			if !hasID || id != nil || r["ok"] != false || msg == "" {
				t.Fatalf(`response to a malformed line: %s, want {"id":null,"ok":false,"error":"..."}`, l)
			}
		case <-time.After(callTimeout):
			t.Fatal("no response to a malformed line")
		}

		p.init(addr)
		first := p.identity
		p.init(addr)
		if bytes.Equal(first, p.identity) {
			t.Fatal("re-init kept the identity key")
		}
		mustFail("encrypt", map[string]any{"remote": other, "plaintext": []byte("x")}, "encrypt without a session")
		mustFail("decrypt", map[string]any{"remote": other, "type": typeWhisper, "ciphertext": []byte("garbage garbage garbage")}, "decrypt garbage Whisper")
		mustFail("decrypt", map[string]any{"remote": other, "type": typePreKey, "ciphertext": []byte("garbage garbage garbage")}, "decrypt garbage PreKey")
		mustFail("decrypt", map[string]any{"remote": other, "type": 7, "ciphertext": []byte{0x33, 1, 2, 3}}, "decrypt unsupported type")
		mustFail("decrypt", map[string]any{"remote": other, "type": typeWhisper, "ciphertext": "not base64!"}, "decrypt with bad base64")
		b := p.generatePreKeys(0, 1, 2)
		b.SignedPreKeySignature = b.SignedPreKeySignature[:10]
		mustFail("processBundle", map[string]any{"remote": other, "bundle": b}, "processBundle with a short signature")
		// Still alive and consistent after all the errors.
		p.generatePreKeys(5, 6, 7)
		p.quit()
	})
}
