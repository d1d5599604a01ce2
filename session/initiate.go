package session

import (
	"context"
	"errors"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/detrand"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/ratchet"
)

// ProcessBundle starts a session with remote from its published bundle
// (PQXDH as initiator). It verifies both prekey signatures, applies trust on
// first use to the bundle's identity key (an identity that differs from a
// trusted one fails with *UntrustedIdentityError), and makes the new session
// current, archiving any earlier one. Messages to remote are then sent as
// PreKey messages until remote replies.
func (a *Account) ProcessBundle(ctx context.Context, remote Address, b *Bundle) error {
	if err := remote.validate(); err != nil {
		return err
	}
	p, err := b.verify()
	if err != nil {
		return err
	}
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		if err := a.checkIdentity(tx, remote, b.IdentityKey); err != nil {
			return err
		}
		base, err := curve.GenerateKey(a.rng())
		if err != nil {
			return err
		}
		keys, ct, err := pqxdhInitiate(&pqxdhInitiatorInput{
			ourIdentity:        a.identity,
			ourBase:            base,
			theirIdentity:      p.identity,
			theirSignedPreKey:  p.signedPreKey,
			theirOneTimePreKey: p.preKey,
			theirKyberPreKey:   p.kyberPreKey,
		}, a.rng())
		if err != nil {
			return err
		}
		defer keys.Wipe()
		params := &ratchet.InitiatorParams{
			Keys:            keys,
			TheirRatchetKey: p.signedPreKey,
			LocalIdentity:   a.identity.PublicKey(),
			RemoteIdentity:  p.identity,
		}
		a.deterministic(params)
		st, err := ratchet.NewInitiator(params)
		params.Keys.Wipe()
		if err != nil {
			return err
		}
		now := a.now().Unix()
		s := &sessionState{
			ratchet:              st,
			remoteRegistrationID: b.RegistrationID,
			localRegistrationID:  a.registrationID,
			created:              now,
			pending: &pendingPreKey{
				hasPreKeyID:     b.PreKey != nil,
				preKeyID:        b.PreKeyID,
				signedPreKeyID:  b.SignedPreKeyID,
				kyberPreKeyID:   b.KyberPreKeyID,
				kyberCiphertext: ct,
				timestamp:       now,
			},
		}
		copy(s.aliceBaseKey[:], base.PublicKey().Bytes())
		s.pending.baseKey = s.aliceBaseKey
		rec, err := loadRecord(tx, remote)
		if err != nil {
			return err
		}
		rec.archiveCurrent()
		rec.current = s
		return saveRecord(tx, remote, rec)
	})
}

// deterministic hands the account's injected randomness, if any, to a
// ratchet value (only in-module tests and vector generation inject any).
func (a *Account) deterministic(target any) {
	if a.rand != nil {
		if err := detrand.SetReader(target, a.rand); err != nil {
			panic(err)
		}
	}
}

// respond runs PQXDH as responder for a PreKey message and returns the new
// session's ratchet state, or an error without changing the store.
func (a *Account) respond(tx keystore.Tx, pm *preKeyMessage) (*ratchet.State, *kyberPreKeyRecord, error) {
	spk, err := a.loadSignedPreKey(tx, pm.signedPreKeyID)
	if err != nil {
		return nil, nil, err
	}
	kyber, err := a.loadKyberPreKey(tx, pm.kyberPreKeyID)
	if err != nil {
		return nil, nil, err
	}
	var opk *curve.PrivateKey
	if pm.hasPreKeyID {
		if opk, err = loadPreKey(tx, pm.preKeyID); err != nil {
			return nil, nil, err
		}
	}
	keys, err := pqxdhRespond(&pqxdhResponderInput{
		ourIdentity:      a.identity,
		ourSignedPreKey:  spk.key,
		ourOneTimePreKey: opk,
		ourKyberPreKey:   kyber.key,
		theirIdentity:    pm.identity,
		theirBase:        pm.base,
		kyberCiphertext:  pm.kyberCiphertext,
	})
	if errors.Is(err, kem.ErrInvalidCiphertext) {
		return nil, nil, ErrInvalidMessage
	}
	if err != nil {
		return nil, nil, err
	}
	defer keys.Wipe()
	st, err := ratchet.NewResponder(&ratchet.ResponderParams{
		Keys:           keys,
		OurRatchetKey:  spk.key,
		LocalIdentity:  a.identity.PublicKey(),
		RemoteIdentity: pm.identity,
	})
	if err != nil {
		return nil, nil, err
	}
	a.deterministic(st)
	return st, kyber, nil
}
