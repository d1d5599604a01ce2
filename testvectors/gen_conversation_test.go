package testvectors

// Generator of conversation.json. A conversation is a script: sends, crafted
// and tampered messages, and deliveries in any order. Sends go through
// Sotto's ratchet (the verifier's ratchet replay, seeded with the listed
// keys) and must equal the independent specSender's bytes; deliveries go
// through the same replay, and their outcome must be the one the script
// expects, or generation fails.

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/ratchetcore"
)

// convGen builds one conversation group.
type convGen struct {
	g            *conversationGroup
	rp           *ratchetPlayer
	senders      map[string]*specSender // by party
	alicePending bool                   // Alice wraps in PreKey messages until she hears from Bob
	msgs         map[string]*genMsg
}

type genMsg struct {
	from, typ string
	pt, body  []byte
}

// keyPool is how many ratchet keys each party gets; unused ones are dropped.
const keyPool = 24

func newConvGen(label, comment string, withOneTimePreKey bool) *convGen {
	alice := genInitiator(label+" alice", 1)
	bob := genResponder(label+" bob", 2, withOneTimePreKey)
	genRatchetKeys(&alice, label+" alice", keyPool)
	genRatchetKeys(&bob, label+" bob", keyPool)
	b := bundleOf(&bob, bob.Address.DeviceID)
	a := agree(&alice, &bob)
	g := &conversationGroup{
		Type: typeConversation, Comment: comment, Alice: alice, Bob: bob, Bundle: b,
		KyberCiphertext: a.ct, RootKey: a.out.Root, ChainKey: a.out.Chain, SPQRKey: a.out.SPQR,
		Addresses: specAddresses(alice.Address, bob.Address),
	}
	spk := must(curve.NewPrivateKey(bob.SignedPreKeyPrivate))
	return &convGen{
		g:  g,
		rp: must(newRatchetPlayer(g)),
		senders: map[string]*specSender{
			"alice": newInitiatorSender(a.keys, must(curve.NewPrivateKey(alice.RatchetPrivates[0])), spk.PublicKey(), alice.IdentityKey, bob.IdentityKey),
			"bob":   newResponderSender(a.keys, spk, bob.IdentityKey, alice.IdentityKey),
		},
		alicePending: true,
		msgs:         map[string]*genMsg{},
	}
}

func (c *convGen) event(ev conversationEvent) { c.g.Tests = append(c.g.Tests, ev) }

// send has a party encrypt its next message.
func (c *convGen) send(from, id, text, comment string, fl ...string) {
	typ := msgWhisper
	var addrs []byte
	if from == "alice" && c.alicePending {
		typ, addrs = msgPreKey, c.g.Addresses
	}
	pt := []byte(text)
	ev := conversationEvent{
		caseID: caseID{Comment: comment, Flags: append(flags("Send"), fl...)},
		Action: actionSend, Party: from, MessageID: id, Type: typ, Plaintext: pt, caseResult: valid(),
	}
	body := must(c.rp.send(&ev))
	inner := body
	if typ == msgPreKey {
		inner = innerOf(body)
		if !bytes.Equal(wrap(&c.g.Alice, &c.g.Bundle, c.g.KyberCiphertext, inner), body) {
			panic("generator: PreKey wrapping differs")
		}
	}
	if !bytes.Equal(c.senders[from].send(pt, addrs), inner) {
		panic(fmt.Sprintf("generator: %s: Sotto's message differs from the independent implementation's", id))
	}
	ev.Message = body
	c.msgs[id] = &genMsg{from: from, typ: typ, pt: pt, body: body}
	c.event(ev)
}

// craft makes a message with the independent implementation, ahead
// positions after the sender's next one, wrapped as the sender's next
// message would be. It is not an event: it is only ever delivered.
func (c *convGen) craft(from, id string, ahead uint32, o craftOpts) {
	typ := msgWhisper
	if from == "alice" && c.alicePending {
		typ = msgPreKey
		if o.addresses == nil {
			o.addresses = c.g.Addresses
		}
	}
	body := c.senders[from].craft(ahead, o)
	if typ == msgPreKey {
		body = wrap(&c.g.Alice, &c.g.Bundle, c.g.KyberCiphertext, body)
	}
	c.msgs[id] = &genMsg{from: from, typ: typ, pt: o.plaintext, body: body}
}

// tamper derives a message from another by editing its SignalMessage
// (inside the PreKey message, if it is one).
func (c *convGen) tamper(id, newID string, edit func([]byte) []byte) {
	m := *c.msgs[id]
	if m.typ == msgPreKey {
		m.body = rewrapped(m.body, edit(slices.Clone(innerOf(m.body))))
	} else {
		m.body = edit(slices.Clone(m.body))
	}
	c.msgs[newID] = &m
}

// deliver hands a message to its recipient, which must succeed (res valid)
// or fail with res's class.
func (c *convGen) deliver(id, comment string, res caseResult, fl ...string) {
	m := c.msgs[id]
	to := "bob"
	if m.from == "bob" {
		to = "alice"
	}
	pt, stepped, err := c.rp.decrypt(to, m.typ, m.body)
	if res.Result == resultValid {
		if err != nil {
			panic(fmt.Sprintf("generator: delivering %s: %v", id, err))
		}
		if !bytes.Equal(pt, m.pt) {
			panic(fmt.Sprintf("generator: delivering %s: wrong plaintext", id))
		}
		if to == "alice" {
			c.alicePending = false
		}
		if stepped {
			who, next := &c.g.Bob, c.rp.bNext
			if to == "alice" {
				who, next = &c.g.Alice, c.rp.aNext
			}
			their := must(ratchetcore.ParseMessage(innerOrSelf(m))).RatchetPublicKey()
			c.senders[to].dhStep(their, must(curve.NewPrivateKey(who.RatchetPrivates[next-1])))
			fl = append(fl, "DHStep")
		}
	} else if e := checkError(err, res.Error); e != nil {
		panic(fmt.Sprintf("generator: delivering %s: %v", id, e))
	}
	ev := conversationEvent{
		caseID: caseID{Comment: comment, Flags: append(flags("Deliver"), fl...)},
		Action: actionDeliver, Party: to, MessageID: id, Type: m.typ, Message: m.body, DHStep: stepped, caseResult: res,
	}
	if res.Result == resultValid {
		ev.Plaintext = m.pt
	}
	c.event(ev)
}

// flipCiphertextBit flips a bit in a SignalMessage's ciphertext.
func flipCiphertextBit(b []byte) []byte {
	ct := must(ratchetcore.ParseMessage(b)).Ciphertext
	return flipBit(b, bytes.Index(b, ct)+len(ct)-1, 0x01)
}

func innerOrSelf(m *genMsg) []byte {
	if m.typ == msgPreKey {
		return innerOf(m.body)
	}
	return m.body
}

// finish trims the ratchet key lists to the keys used.
func (c *convGen) finish() conversationGroup {
	trimRatchetKeys(&c.g.Alice, c.rp.aNext)
	trimRatchetKeys(&c.g.Bob, c.rp.bNext)
	return *c.g
}

func genConversation() []byte {
	f := &vectorFile[conversationGroup]{fileHeader: fileHeader{
		Algorithm: algConversation,
		Header: []string{
			"Whole conversations between Alice, who processes Bob's bundle (PQXDH), and Bob, in libsignal 0.103's version-4 protocol with the SPQR chain.",
			"A group lists both parties' secrets: Alice's identity, base key, encapsulation seed; Bob's identity and prekeys (with the XEdDSA randomness of their signatures); each party's Double Ratchet key pairs in the order they are generated: Alice's first with the session, then one per DH ratchet step.",
			"rootKey, chainKey, spqrKey and kyberCiphertext are the PQXDH output (see pqxdh.json); addresses is the addresses field of Alice's PreKey messages.",
			"The tests are events, to run in order on one pair of sessions. send: the party encrypts plaintext; the result must be message byte for byte. " +
				"Alice wraps every message in a PreKey message (type prekey) until she has decrypted a message from Bob; other messages are type whisper. " +
				"deliver: the party decrypts message: it must yield plaintext, or fail with the error class and change nothing. dhStep marks deliveries where the recipient makes a DH ratchet step, drawing its next listed ratchet key.",
			"Messages are delivered out of order, late, twice, tampered with; messages flagged Crafted were made with an independent implementation and are only ever delivered.",
		},
		Notes: map[string]string{
			"Send":            "The party encrypts a message.",
			"Deliver":         "The party decrypts a message.",
			"DHStep":          "The recipient makes a DH ratchet step.",
			"OutOfOrder":      "Delivered before a message sent earlier.",
			"Skipped":         "Decrypted with a stored key of a skipped message.",
			"Late":            "Delivered after the sender's chain moved on (an old receiving chain).",
			"Replay":          "Delivered a second time.",
			"Tampered":        "Altered in transit.",
			"Crafted":         "Crafted with the independent implementation, with a valid MAC unless stated.",
			"BadPadding":      "Authenticates, but its padding is invalid.",
			"SPQRMissing":     "Carries no SPQR message.",
			"Version":         "Carries an unsupported message version.",
			"TooFarAhead":     "Its counter is more than 25000 ahead.",
			"Malformed":       "Does not parse.",
			"AddressMismatch": "Its addresses field names another recipient.",
			"Evicted":         "From a receiving chain dropped after 5 newer ones.",
			"Expired":         "Its stored key was dropped after 2000 newer ones.",
			"EmptyPlaintext":  "An empty message.",
			"PreKey":          "A PreKey message.",
		},
	}}

	// Conversation 1: PreKey messages out of order, replays, tampering,
	// crafted invalid messages, gaps, a late PreKey message.
	c := newConvGen("conversation 1", "with a one-time prekey: out of order, replays, tampering, gaps, invalid messages", true)
	c.craft("alice", "a0-wrong-addresses", 0, craftOpts{plaintext: []byte("Hello Bob!"),
		addresses: specAddresses(c.g.Alice.Address, address{Name: c.g.Bob.Address.Name, DeviceID: 3})})
	c.send("alice", "a0", "Hello Bob!", "Alice's first message", "PreKey")
	c.send("alice", "a1", "Are you there?", "second PreKey message", "PreKey")
	c.send("alice", "a2", "", "third PreKey message, empty", "PreKey", "EmptyPlaintext")
	c.send("alice", "a3", "This one takes the long way.", "fourth PreKey message, delivered late", "PreKey")
	c.tamper("a2", "a2-tampered", flipCiphertextBit)
	c.deliver("a0-wrong-addresses", "a PreKey message whose addresses name another device", invalid(classAddressMismatch), "Crafted", "AddressMismatch")
	c.deliver("a1", "Bob starts the session from the second message", valid(), "OutOfOrder")
	c.deliver("a0", "the first message, with a skipped key", valid(), "Skipped")
	c.deliver("a0", "the first message again", invalid(classDuplicate), "Replay")
	c.deliver("a2-tampered", "the third message with a ciphertext bit flipped", invalid(classAuthentication), "Tampered")
	c.deliver("a2", "the third message", valid())
	c.send("bob", "b0", "Hi Alice.", "Bob's first reply")
	c.send("bob", "b1", "Yes, I am here.", "Bob's second reply")
	c.send("bob", "b2", "Third.", "Bob's third reply")
	c.tamper("b1", "b1-tampered", func(b []byte) []byte { return flipBit(b, len(b)-1, 0x80) })
	c.deliver("b2", "Alice hears from Bob (out of order)", valid(), "OutOfOrder")
	c.deliver("b0", "Bob's first reply", valid(), "Skipped")
	c.deliver("b1-tampered", "Bob's second reply with its MAC altered", invalid(classAuthentication), "Tampered")
	c.craft("alice", "a4-bad-padding", 0, craftOpts{blocks: append(bytes.Repeat([]byte{0x41}, 31), 0x00)})
	c.craft("alice", "a4-no-spqr", 0, craftOpts{plaintext: []byte("no SPQR"), noPQ: true})
	c.craft("alice", "a4-v3", 0, craftOpts{plaintext: []byte("version 3"), version: 0x33})
	c.craft("alice", "a4-v5", 0, craftOpts{plaintext: []byte("version 5"), version: 0x55})
	c.send("alice", "a4", "Now we talk in Whisper messages.", "Alice's first message after hearing from Bob")
	c.send("alice", "a5", "five", "Alice sends more")
	c.send("alice", "a6", "six", "Alice sends more")
	c.send("alice", "a7", "seven", "Alice sends more")
	c.craft("alice", "too-far-ahead", 25001, craftOpts{plaintext: []byte("far ahead")})
	c.deliver("b1", "Bob's second reply", valid(), "Skipped")
	c.deliver("a7", "Bob receives the newest of four", valid(), "OutOfOrder")
	c.deliver("a4-bad-padding", "a message with invalid padding, for the position of a4", invalid(classBadPadding), "Crafted", "BadPadding")
	c.deliver("a4-no-spqr", "a message without SPQR data", invalid(classSPQR), "Crafted", "SPQRMissing")
	c.deliver("a4-v3", "a version-3 message", invalid(classUnsupportedVersion), "Crafted", "Version")
	c.deliver("a4-v5", "a version-5 message", invalid(classUnsupportedVersion), "Crafted", "Version")
	c.deliver("a4", "the real a4", valid(), "Skipped")
	c.deliver("too-far-ahead", "a message 25001 ahead of the chain", invalid(classTooFarAhead), "Crafted", "TooFarAhead")
	c.tamper("a5", "a5-truncated", func(b []byte) []byte { return b[:5] })
	c.deliver("a5-truncated", "a truncated message", invalid(classMalformed), "Malformed")
	c.deliver("a6", "a6", valid(), "Skipped")
	c.deliver("a3", "the last PreKey message, after Bob's chain moved on", valid(), "Late", "PreKey")
	c.deliver("a5", "a5", valid(), "Skipped")
	c.deliver("a5", "a5 again", invalid(classDuplicate), "Replay")
	c.deliver("a3", "the late PreKey message again", invalid(classDuplicate), "Replay", "PreKey")
	c.send("bob", "b3", "Got them all.", "Bob replies on his new chain")
	c.deliver("b3", "b3", valid())
	c.send("alice", "a8", "Good.", "Alice replies on her new chain")
	c.deliver("a8", "a8", valid())
	c.deliver("b1", "an old chain's message again", invalid(classDuplicate), "Replay")
	f.TestGroups = append(f.TestGroups, c.finish())

	// Conversation 2: ping-pong with a DH ratchet step at every turn, bursts,
	// an evicted chain, an expired key.
	c = newConvGen("conversation 2", "without a one-time prekey: DH steps at every turn, bursts, eviction and expiry", false)
	c.send("alice", "a0", "Hi!", "Alice's first message", "PreKey")
	c.send("alice", "held-1", "held back, from Alice's first chain", "a message held back in transit", "PreKey")
	// Before Bob's first reply, so libsignal playing Bob with the listed
	// keys can check all of them (interop/vectors_test.go).
	c.send("alice", "a0-2", "second PreKey message", "a second PreKey message", "PreKey")
	c.send("alice", "a0-3", "third PreKey message", "a third PreKey message", "PreKey")
	c.tamper("a0-2", "a0-2-tampered", flipCiphertextBit)
	c.craft("alice", "a0-no-spqr", 0, craftOpts{plaintext: []byte("no SPQR"), noPQ: true})
	c.deliver("a0-no-spqr", "a PreKey message without SPQR data", invalid(classSPQR), "Crafted", "SPQRMissing")
	c.deliver("a0-3", "Bob starts the session from the third message", valid(), "OutOfOrder", "PreKey")
	c.deliver("a0", "the first message, with a skipped key", valid(), "Skipped", "PreKey")
	c.deliver("a0", "the first message again", invalid(classDuplicate), "Replay", "PreKey")
	c.deliver("a0-2-tampered", "the second message with a ciphertext bit flipped", invalid(classAuthentication), "Tampered", "PreKey")
	c.deliver("a0-2", "the second message", valid(), "Skipped", "PreKey")
	var held3 string
	for r := 1; r <= 6; r++ {
		c.send("bob", fmt.Sprintf("b%d", r), fmt.Sprintf("turn %d, Bob", r), fmt.Sprintf("turn %d: Bob", r))
		c.deliver(fmt.Sprintf("b%d", r), fmt.Sprintf("turn %d: Alice receives", r), valid())
		c.send("alice", fmt.Sprintf("a%d", r), fmt.Sprintf("turn %d, Alice", r), fmt.Sprintf("turn %d: Alice", r))
		if r == 3 {
			held3 = "held-3"
			c.send("alice", held3, "held back, from Alice's chain 4", "a message held back in transit")
		}
		c.deliver(fmt.Sprintf("a%d", r), fmt.Sprintf("turn %d: Bob receives", r), valid())
	}
	c.deliver(held3, "a message from three chains ago", valid(), "Late")
	c.deliver("held-1", "a message from a chain dropped after five newer ones", invalid(classAuthentication), "Late", "Evicted", "PreKey")
	for i := range 5 {
		c.send("bob", fmt.Sprintf("burst-%d", i), fmt.Sprintf("burst %d", i), "Bob sends a burst")
	}
	for i := 4; i >= 0; i-- {
		c.deliver(fmt.Sprintf("burst-%d", i), "Alice receives the burst in reverse", valid(), "OutOfOrder")
	}
	c.send("alice", "x0", "lost in transit for a while", "a message delivered only after 2100 newer ones")
	c.craft("alice", "x2101", 2100, craftOpts{plaintext: []byte("2100 messages later")})
	c.deliver("x2101", "a message 2100 ahead", valid(), "Crafted", "Skipped")
	c.deliver("x0", "the message whose key was dropped", invalid(classDuplicate), "Expired")
	f.TestGroups = append(f.TestGroups, c.finish())

	return encodeFile(f, func(g *conversationGroup) []conversationEvent { return g.Tests })
}
