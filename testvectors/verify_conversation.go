package testvectors

import (
	"bytes"
	"context"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/session"
)

// conversation.json: whole conversations between Alice (the initiator) and
// Bob. A group lists both parties' secrets and its cases are events, run in
// order: "send" (the party encrypts the plaintext; the output must be the
// listed message, byte for byte) and "deliver" (the party decrypts the
// message; it must yield the plaintext or fail with the error class).
// Messages are delivered out of order, late, twice, tampered with or
// crafted; a crafted message (flag Crafted) is only ever delivered.
//
// Each event runs on two replays that must both pass:
//
//   - ratchet: ratchetcore.State values built from the listed PQXDH output, the
//     PreKey framing from internal/wire; every rejected message must leave
//     the state byte-identical.
//   - session: session.Account values built from the listed secrets, in
//     memory stores, exercising ProcessBundle, Encrypt and Decrypt.
//
// A party draws a listed ratchet key exactly when a delivery is marked
// dhStep.

func verifyConversation(data []byte, r *fileReport) error {
	f, err := decodeFile[conversationGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		var players []player
		setupErr := safely(func() (err error) {
			players, err = newPlayers(g)
			return err
		})
		for i := range g.Tests {
			ev := &g.Tests[i]
			err := setupErr
			if err == nil {
				err = safely(func() error { return runEvent(players, ev) })
			}
			r.record(&ev.caseID, &ev.caseResult, err)
		}
	}
	return nil
}

// player replays a conversation through one of Sotto's APIs.
type player interface {
	name() string
	send(ev *conversationEvent) ([]byte, error)
	deliver(ev *conversationEvent) ([]byte, error)
}

func newPlayers(g *conversationGroup) ([]player, error) {
	if g.Type != typeConversation {
		return nil, errorf("unknown group type %q", g.Type)
	}
	rp, err := newRatchetPlayer(g)
	if err != nil {
		return nil, errorf("ratchet replay setup: %v", err)
	}
	sp, err := newSessionPlayer(g)
	if err != nil {
		return nil, errorf("session replay setup: %v", err)
	}
	return []player{rp, sp}, nil
}

// runEvent runs ev on every player (all of them, so that each keeps its
// state in step) and returns the first discrepancy.
func runEvent(players []player, ev *conversationEvent) error {
	var errs []error
	for _, p := range players {
		var err error
		switch ev.Action {
		case actionSend:
			var out []byte
			out, err = p.send(ev)
			if err == nil {
				err = first(expect(&ev.caseResult, nil), equal("sent message", out, ev.Message))
			} else {
				err = errorf("send: %v", err)
			}
		case actionDeliver:
			var pt []byte
			pt, err = p.deliver(ev)
			err = expect(&ev.caseResult, err)
			if err == nil && ev.Result == resultValid {
				err = equal("plaintext", pt, ev.Plaintext)
			}
		default:
			err = errorf("unknown action %q", ev.Action)
		}
		errs = append(errs, prefix(p.name()+": ", err))
	}
	return first(errs...)
}

// swapAddresses turns an addresses field around (recipient, then sender).
func swapAddresses(a []byte) []byte {
	if len(a) != ratchetcore.AddressesSize {
		return nil
	}
	return append(bytes.Clone(a[18:]), a[:18]...)
}

// ---- the ratchet replay ----

type ratchetPlayer struct {
	g          *conversationGroup
	keys       ratchetcore.InitialKeys
	spk        *curve.PrivateKey
	alice, bob *ratchetcore.State
	af, bf     *feed
	aNext      int // index of the next listed ratchet key of Alice
	bNext      int
}

func newRatchetPlayer(g *conversationGroup) (*ratchetPlayer, error) {
	if err := checkConversationSetup(g); err != nil {
		return nil, err
	}
	keys, err := initialKeys(g.RootKey, g.ChainKey, g.SPQRKey)
	if err != nil {
		return nil, err
	}
	spk, err := curve.NewPrivateKey(g.Bob.SignedPreKeyPrivate)
	if err != nil {
		return nil, err
	}
	p := &ratchetPlayer{g: g, keys: keys, spk: spk, af: &feed{}, bf: &feed{}}
	if len(g.Alice.RatchetPrivates) == 0 {
		return nil, errorf("Alice lists no ratchet key")
	}
	p.alice, err = newRatchetInitiator(keys, g.Bundle.SignedPreKey, g.Alice.IdentityKey, g.Bob.IdentityKey,
		g.Alice.RatchetPrivates[0], p.af)
	if err != nil {
		return nil, errorf("NewInitiator: %v", err)
	}
	if err := equal("Alice's first ratchet key", p.alice.SenderRatchetKey().Bytes(), g.Alice.RatchetKeys[0]); err != nil {
		return nil, err
	}
	p.aNext = 1
	return p, nil
}

// checkConversationSetup recomputes the group's PQXDH output from both
// sides and checks the listed public values.
func checkConversationSetup(g *conversationGroup) error {
	if err := checkResponderParty(&g.Bob, &g.Bundle); err != nil {
		return err
	}
	rk, _ := parseResponder(&g.Bob)
	ik, err := parseInitiator(&g.Alice)
	if err != nil {
		return err
	}
	for i, k := range g.Alice.RatchetPrivates {
		if err := checkRatchetKey("Alice", i, k, g.Alice.RatchetKeys); err != nil {
			return err
		}
	}
	for i, k := range g.Bob.RatchetPrivates {
		if err := checkRatchetKey("Bob", i, k, g.Bob.RatchetKeys); err != nil {
			return err
		}
	}
	ct, ss, err := rk.kyber.PublicKey().EncapsulateDeterministic(g.Alice.EncapsulationSeed)
	if err != nil {
		return err
	}
	var opk *curve.PublicKey
	if rk.oneTimePreKey != nil {
		opk = rk.oneTimePreKey.PublicKey()
	}
	alice, err := specPQXDHInitiator(ik.identity, ik.base, rk.identity.PublicKey(), rk.signedPreKey.PublicKey(), opk, ss)
	if err != nil {
		return err
	}
	bss, err := rk.kyber.Decapsulate(ct)
	if err != nil {
		return err
	}
	bob, err := specPQXDHResponder(rk.identity, rk.signedPreKey, rk.oneTimePreKey, ik.identity.PublicKey(), ik.base.PublicKey(), bss)
	if err != nil {
		return err
	}
	return first(
		equal("Kyber ciphertext", ct, g.KyberCiphertext),
		equal("root key", alice.Root, g.RootKey), equal("chain key", alice.Chain, g.ChainKey),
		equal("SPQR key", alice.SPQR, g.SPQRKey),
		equal("responder root key", bob.Root, g.RootKey), equal("responder chain key", bob.Chain, g.ChainKey),
		equal("responder SPQR key", bob.SPQR, g.SPQRKey),
		equal("addresses", specAddresses(g.Alice.Address, g.Bob.Address), g.Addresses),
	)
}

func checkRatchetKey(who string, i int, priv []byte, pubs []hexBytes) error {
	k, err := curve.NewPrivateKey(priv)
	if err != nil {
		return errorf("%s's ratchet key %d: %v", who, i, err)
	}
	if i >= len(pubs) {
		return errorf("%s's ratchet key %d has no public key listed", who, i)
	}
	return equal(who+"'s ratchet public key", k.PublicKey().Bytes(), pubs[i])
}

func (p *ratchetPlayer) name() string { return "ratchet" }

func (p *ratchetPlayer) send(ev *conversationEvent) ([]byte, error) {
	switch {
	case ev.Party == "alice" && ev.Type == msgPreKey:
		inner, err := p.alice.Encrypt(ev.Plaintext, p.g.Addresses)
		if err != nil {
			return nil, err
		}
		return preKeyWrapper(&p.g.Alice, &p.g.Bundle, p.g.KyberCiphertext, inner).Marshal(), nil
	case ev.Party == "alice" && ev.Type == msgWhisper:
		return p.alice.Encrypt(ev.Plaintext, nil)
	case ev.Party == "bob" && ev.Type == msgWhisper && p.bob != nil:
		return p.bob.Encrypt(ev.Plaintext, nil)
	}
	return nil, errorf("%s cannot send a %s message here", ev.Party, ev.Type)
}

func (p *ratchetPlayer) deliver(ev *conversationEvent) ([]byte, error) {
	pt, stepped, err := p.decrypt(ev.Party, ev.Type, ev.Message)
	if err != nil {
		return nil, err
	}
	if stepped != ev.DHStep {
		return nil, errorf("DH ratchet step = %v, want %v", stepped, ev.DHStep)
	}
	return pt, nil
}

// decrypt delivers a message to a party and reports whether it made a DH
// ratchet step (the generator uses it too, to learn what happens).
func (p *ratchetPlayer) decrypt(to, typ string, body []byte) (pt []byte, stepped bool, err error) {
	var st **ratchetcore.State
	var f *feed
	var next *int
	var who *party
	var addrs []byte
	switch to {
	case "alice":
		st, f, next, who, addrs = &p.alice, p.af, &p.aNext, &p.g.Alice, swapAddresses(p.g.Addresses)
	case "bob":
		st, f, next, who, addrs = &p.bob, p.bf, &p.bNext, &p.g.Bob, p.g.Addresses
	default:
		return nil, false, errorf("unknown party %q", to)
	}

	var m *ratchetcore.Message
	s := *st
	switch typ {
	case msgPreKey:
		if to != "bob" {
			return nil, false, errorf("only Bob receives PreKey messages")
		}
		pm, err := wire.ParsePreKeySignalMessage(body)
		if err != nil {
			return nil, false, err
		}
		w := preKeyWrapper(&p.g.Alice, &p.g.Bundle, p.g.KyberCiphertext, pm.Message)
		if !bytes.Equal(w.Marshal(), body) {
			return nil, false, errorf("the PreKey message does not carry the group's PQXDH values")
		}
		if m, err = ratchetcore.ParseMessage(pm.Message); err != nil {
			return nil, false, err
		}
		if s == nil { // the first PreKey message Bob accepts starts his state
			s, err = newRatchetResponder(p.keys, p.spk, p.g.Bob.IdentityKey, p.g.Alice.IdentityKey)
			if err != nil {
				return nil, false, err
			}
		}
	case msgWhisper:
		if m, err = ratchetcore.ParseMessage(body); err != nil {
			return nil, false, err
		}
		if s == nil {
			return nil, false, errorf("%s has no session", to)
		}
	default:
		return nil, false, errorf("unknown message type %q", typ)
	}

	before, err := s.MarshalBinary()
	if err != nil {
		return nil, false, err
	}
	oldKey := s.SenderRatchetKey().Bytes()
	f.load(nextKey(who, *next))
	pt, err = s.DecryptMessage(m, addrs, f)
	f.load()
	if err != nil {
		after, merr := s.MarshalBinary()
		if merr != nil || !bytes.Equal(before, after) {
			return nil, false, errorf("a rejected message (%v) changed the state", err)
		}
		return nil, false, err
	}
	*st = s
	stepped = !bytes.Equal(oldKey, s.SenderRatchetKey().Bytes())
	if stepped {
		if *next >= len(who.RatchetKeys) {
			return nil, false, errorf("%s made more DH ratchet steps than keys listed", to)
		}
		if err := equal("new ratchet key", s.SenderRatchetKey().Bytes(), who.RatchetKeys[*next]); err != nil {
			return nil, false, err
		}
		*next++
	}
	return pt, stepped, nil
}

// ---- the session replay ----

type sessionPlayer struct {
	g          *conversationGroup
	ctx        context.Context
	alice, bob *session.Account
	af, bf     *feed
	aNext      int
	bNext      int
}

func newSessionPlayer(g *conversationGroup) (*sessionPlayer, error) {
	p := &sessionPlayer{g: g, ctx: context.Background(), af: &feed{}, bf: &feed{}}
	var err error
	if p.bob, err = newResponderAccount(p.ctx, &g.Bob, p.bf); err != nil {
		return nil, err
	}
	if p.alice, err = newAccount(p.ctx, &g.Alice, p.af); err != nil {
		return nil, err
	}
	if err := processBundle(p.ctx, p.alice, &g.Alice, g.Bob.Address, &g.Bundle, p.af); err != nil {
		return nil, errorf("ProcessBundle: %v", err)
	}
	p.aNext = 1
	return p, nil
}

func (p *sessionPlayer) name() string { return "session" }

func (p *sessionPlayer) parties(name string) (self *session.Account, f *feed, next *int, who *party, peer address, err error) {
	switch name {
	case "alice":
		return p.alice, p.af, &p.aNext, &p.g.Alice, p.g.Bob.Address, nil
	case "bob":
		return p.bob, p.bf, &p.bNext, &p.g.Bob, p.g.Alice.Address, nil
	}
	return nil, nil, nil, nil, address{}, errorf("unknown party %q", name)
}

func messageType(t string) (session.MessageType, error) {
	switch t {
	case msgPreKey:
		return session.MessagePreKey, nil
	case msgWhisper:
		return session.MessageWhisper, nil
	}
	return 0, errorf("unknown message type %q", t)
}

func (p *sessionPlayer) send(ev *conversationEvent) ([]byte, error) {
	self, f, _, _, peer, err := p.parties(ev.Party)
	if err != nil {
		return nil, err
	}
	want, err := messageType(ev.Type)
	if err != nil {
		return nil, err
	}
	f.load()
	m, err := self.Encrypt(p.ctx, sessionAddress(peer), ev.Plaintext)
	if err != nil {
		return nil, err
	}
	if m.Type != want {
		return nil, errorf("Encrypt made a message of type %d, want %d", m.Type, want)
	}
	return m.Body, nil
}

func (p *sessionPlayer) deliver(ev *conversationEvent) ([]byte, error) {
	self, f, next, who, peer, err := p.parties(ev.Party)
	if err != nil {
		return nil, err
	}
	typ, err := messageType(ev.Type)
	if err != nil {
		return nil, err
	}
	f.load(nextKey(who, *next))
	pt, err := self.Decrypt(p.ctx, sessionAddress(peer), &session.Message{Type: typ, Body: ev.Message})
	f.load()
	if err == nil && ev.DHStep {
		*next++
	}
	return pt, err
}
