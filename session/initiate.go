package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/pqxdh"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/keystore"
)

// errLowOrderBundle is the error for a bundle with a key of low order: it
// matches ErrInvalidBundle and ErrInvalidKeyAgreement.
var errLowOrderBundle = fmt.Errorf("%w: %w", ErrInvalidBundle, ErrInvalidKeyAgreement)

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
		keys, ct, err := pqxdh.Initiate(&pqxdh.InitiatorInput{
			OurIdentity:        a.identity,
			OurBase:            base,
			TheirIdentity:      p.identity,
			TheirSignedPreKey:  p.signedPreKey,
			TheirOneTimePreKey: p.preKey,
			TheirKyberPreKey:   p.kyberPreKey,
		}, a.rng())
		if errors.Is(err, pqxdh.ErrInvalidKeyAgreement) {
			// A correctly signed bundle with a low-order key.
			return errLowOrderBundle
		}
		if err != nil {
			return err
		}
		defer keys.Wipe()
		params := &ratchetcore.InitiatorParams{
			Keys:            keys,
			TheirRatchetKey: p.signedPreKey,
			LocalIdentity:   a.identity.PublicKey(),
			RemoteIdentity:  p.identity,
		}
		st, err := ratchetcore.NewInitiator(params, a.rng())
		params.Keys.Wipe()
		if errors.Is(err, ratchetcore.ErrInvalidKey) {
			return errLowOrderBundle
		}
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
