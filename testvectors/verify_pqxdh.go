package testvectors

import (
	"context"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/pqxdh"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/session"
)

// pqxdh.json: every case is checked three ways.
//
//  1. The key schedule: the listed DH outputs, secret input and root, chain
//     and SPQR keys are recomputed from the listed private keys, from both
//     sides, by the independent implementation in spec.go (and, when session
//     registers them, by session's own pqxdhInitiate and pqxdhRespond).
//  2. The ratchet: ratchetcore.NewInitiator seeded with the listed keys must
//     produce the listed PreKey message, and the responder pipeline (wire
//     parsing, base-key and prekey checks, decapsulation, PQXDH, then
//     ratchetcore.NewResponder) must decrypt it, or reject it with the case's
//     error class.
//  3. The public session API: accounts built from the listed secrets must
//     send exactly the listed PreKey message (ProcessBundle, Encrypt) and
//     decrypt it (Decrypt), or fail with the error class.
//
// An invalid case with a preKeyMessage is one the responder must reject; an
// invalid case without one is a bundle the initiator must reject.

func verifyPQXDH(data []byte, r *fileReport) error {
	f, err := decodeFile[pqxdhGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkPQXDH(g, t) }))
		}
	}
	return nil
}

func checkPQXDH(g *pqxdhGroup, t *pqxdhTest) error {
	if g.Type != typePQXDH {
		return errorf("unknown group type %q", g.Type)
	}
	ctx := context.Background()
	switch {
	case t.Result == resultValid:
		return first(
			checkPQXDHSchedule(g, t),
			prefix("ratchet: ", checkPQXDHRatchet(g, t)),
			prefix("session: ", checkPQXDHSession(ctx, g, t)),
		)
	case t.PreKeyMessage != nil:
		_, err := respondPipeline(&g.Responder, t.PreKeyMessage, t.Initiator.Address)
		_, serr := sessionRespond(ctx, g, t)
		return first(
			prefix("responder pipeline: ", checkError(err, t.Error)),
			prefix("session: ", checkError(serr, t.Error)),
		)
	default:
		err := initiatePipeline(&g.Bundle, &t.Initiator)
		serr := sessionInitiate(ctx, g, t)
		return first(
			prefix("initiator pipeline: ", checkError(err, t.Error)),
			prefix("session: ", checkError(serr, t.Error)),
		)
	}
}

func prefix(p string, err error) error {
	if err == nil {
		return nil
	}
	return errorf("%s%v", p, err)
}

// checkPQXDHSchedule recomputes the key schedule from both sides.
func checkPQXDHSchedule(g *pqxdhGroup, t *pqxdhTest) error {
	if err := checkResponderParty(&g.Responder, &g.Bundle); err != nil {
		return err
	}
	rk, _ := parseResponder(&g.Responder)
	ik, err := parseInitiator(&t.Initiator)
	if err != nil {
		return err
	}
	ct, ss, err := rk.kyber.PublicKey().EncapsulateDeterministic(t.Initiator.EncapsulationSeed)
	if err != nil {
		return errorf("encapsulation: %v", err)
	}
	dec, err := rk.kyber.Decapsulate(ct)
	if err != nil {
		return errorf("decapsulation: %v", err)
	}
	if err := first(
		equal("Kyber ciphertext", ct, t.KyberCiphertext),
		equal("Kyber shared secret", ss, t.KyberSharedSecret),
		equal("decapsulated shared secret", dec, t.KyberSharedSecret),
	); err != nil {
		return err
	}
	var opkPub *curve.PublicKey
	if rk.oneTimePreKey != nil {
		opkPub = rk.oneTimePreKey.PublicKey()
	}
	alice, err := specPQXDHInitiator(ik.identity, ik.base, rk.identity.PublicKey(), rk.signedPreKey.PublicKey(), opkPub, ss)
	if err != nil {
		return errorf("initiator key agreement: %v", err)
	}
	bob, err := specPQXDHResponder(rk.identity, rk.signedPreKey, rk.oneTimePreKey, ik.identity.PublicKey(), ik.base.PublicKey(), ss)
	if err != nil {
		return errorf("responder key agreement: %v", err)
	}
	for _, side := range []struct {
		name string
		out  *specPQXDH
	}{{"initiator", alice}, {"responder", bob}} {
		if len(side.out.DH) != len(t.DH) {
			return errorf("%s: %d DH outputs, want %d", side.name, len(side.out.DH), len(t.DH))
		}
		for i := range t.DH {
			if err := equal(side.name+" DH"+string(rune('1'+i)), side.out.DH[i], t.DH[i]); err != nil {
				return err
			}
		}
		if err := first(
			equal(side.name+" secret input", side.out.SecretInput, t.SecretInput),
			equal(side.name+" root key", side.out.Root, t.RootKey),
			equal(side.name+" chain key", side.out.Chain, t.ChainKey),
			equal(side.name+" SPQR key", side.out.SPQR, t.SPQRKey),
		); err != nil {
			return err
		}
	}
	return checkPQXDHHooks(ik, rk, opkPub, t)
}

// checkPQXDHHooks runs Sotto's own PQXDH key schedule (internal/pqxdh, the
// code session runs) on the listed keys, through its derandomized entry
// points.
func checkPQXDHHooks(ik *initiatorKeys, rk *responderKeys, opk *curve.PublicKey, t *pqxdhTest) error {
	want := func(k ratchetcore.InitialKeys) error {
		return first(
			equal("session root key", k.Root[:], t.RootKey),
			equal("session chain key", k.Chain[:], t.ChainKey),
			equal("session SPQR key", k.SPQR[:], t.SPQRKey),
		)
	}
	ct, ss, err := rk.kyber.PublicKey().EncapsulateDeterministic(t.Initiator.EncapsulationSeed)
	if err != nil {
		return errorf("Kyber encapsulation: %v", err)
	}
	keys, ct, err := pqxdh.InitiateWith(&pqxdh.InitiatorInput{OurIdentity: ik.identity, OurBase: ik.base,
		TheirIdentity: rk.identity.PublicKey(), TheirSignedPreKey: rk.signedPreKey.PublicKey(), TheirOneTimePreKey: opk,
		TheirKyberPreKey: rk.kyber.PublicKey()}, ct, ss)
	clear(ss)
	if err != nil {
		return errorf("pqxdh.InitiateWith: %v", err)
	}
	if err := first(want(keys), equal("session Kyber ciphertext", ct, t.KyberCiphertext)); err != nil {
		return err
	}
	var ownOPK *curve.PrivateKey
	if opk != nil {
		ownOPK = rk.oneTimePreKey
	}
	keys, err = pqxdh.Respond(&pqxdh.ResponderInput{OurIdentity: rk.identity, OurSignedPreKey: rk.signedPreKey,
		OurOneTimePreKey: ownOPK, OurKyberPreKey: rk.kyber, TheirIdentity: ik.identity.PublicKey(),
		TheirBase: ik.base.PublicKey(), KyberCiphertext: t.KyberCiphertext})
	if err != nil {
		return errorf("pqxdh.Respond: %v", err)
	}
	return want(keys)
}

// checkPQXDHRatchet: the listed keys seed ratchet states that send and
// accept the listed PreKey message.
func checkPQXDHRatchet(g *pqxdhGroup, t *pqxdhTest) error {
	keys, err := initialKeys(t.RootKey, t.ChainKey, t.SPQRKey)
	if err != nil {
		return err
	}
	if len(t.Initiator.RatchetPrivates) != 1 || len(t.Initiator.RatchetKeys) != 1 {
		return errorf("the initiator must list one ratchet key")
	}
	f := &feed{}
	alice, err := newRatchetInitiator(keys, g.Bundle.SignedPreKey, t.Initiator.IdentityKey, g.Bundle.IdentityKey,
		t.Initiator.RatchetPrivates[0], f)
	if err != nil {
		return errorf("NewInitiator: %v", err)
	}
	if err := equal("initiator ratchet key", alice.SenderRatchetKey().Bytes(), t.Initiator.RatchetKeys[0]); err != nil {
		return err
	}
	addrs := specAddresses(t.Initiator.Address, g.Responder.Address)
	inner, err := alice.Encrypt(t.Plaintext, addrs)
	if err != nil {
		return errorf("Encrypt: %v", err)
	}
	w := preKeyWrapper(&t.Initiator, &g.Bundle, t.KyberCiphertext, inner)
	sf := specPreKeyFields{
		HasPreKeyID: w.HasPreKeyID, PreKeyID: w.PreKeyID, BaseKey: w.BaseKey, IdentityKey: w.IdentityKey,
		Message: inner, RegistrationID: w.RegistrationID, SignedPreKeyID: w.SignedPreKeyID,
		KyberPreKeyID: w.KyberPreKeyID, KyberCiphertext: w.KyberCiphertext,
	}
	if err := first(
		equal("PreKey message", w.Marshal(), t.PreKeyMessage),
		equal("PreKey message (independent encoding)", specPreKeyMessage(specVersionByte, &sf), t.PreKeyMessage),
	); err != nil {
		return err
	}
	pt, err := respondPipeline(&g.Responder, t.PreKeyMessage, t.Initiator.Address)
	if err != nil {
		return errorf("responder: %v", err)
	}
	return equal("decrypted plaintext", pt, t.Plaintext)
}

// checkPQXDHSession: accounts built from the listed secrets send and accept
// the listed PreKey message through session's public API.
func checkPQXDHSession(ctx context.Context, g *pqxdhGroup, t *pqxdhTest) error {
	af := &feed{}
	alice, err := newAccount(ctx, &t.Initiator, af)
	if err != nil {
		return err
	}
	if err := processBundle(ctx, alice, &t.Initiator, g.Responder.Address, &g.Bundle, af); err != nil {
		return errorf("ProcessBundle: %v", err)
	}
	m, err := alice.Encrypt(ctx, sessionAddress(g.Responder.Address), t.Plaintext)
	if err != nil {
		return errorf("Encrypt: %v", err)
	}
	if m.Type != session.MessagePreKey {
		return errorf("Encrypt returned message type %d, want %d (PreKey)", m.Type, session.MessagePreKey)
	}
	if err := equal("PreKey message", m.Body, t.PreKeyMessage); err != nil {
		return err
	}
	pt, err := sessionRespond(ctx, g, t)
	if err != nil {
		return errorf("Decrypt: %v", err)
	}
	return equal("decrypted plaintext", pt, t.Plaintext)
}

// sessionRespond decrypts the case's PreKey message with a fresh responder
// account.
func sessionRespond(ctx context.Context, g *pqxdhGroup, t *pqxdhTest) ([]byte, error) {
	bf := &feed{}
	bob, err := newResponderAccount(ctx, &g.Responder, bf)
	if err != nil {
		return nil, errorf("responder account: %v", err)
	}
	bf.load(nextKey(&g.Responder, 0))
	return bob.Decrypt(ctx, sessionAddress(t.Initiator.Address), &session.Message{Type: session.MessagePreKey, Body: t.PreKeyMessage})
}

// sessionInitiate processes the group's bundle with a fresh initiator
// account.
func sessionInitiate(ctx context.Context, g *pqxdhGroup, t *pqxdhTest) error {
	af := &feed{}
	alice, err := newAccount(ctx, &t.Initiator, af)
	if err != nil {
		return errorf("initiator account: %v", err)
	}
	return processBundle(ctx, alice, &t.Initiator, g.Responder.Address, &g.Bundle, af)
}
