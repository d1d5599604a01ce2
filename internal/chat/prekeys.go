package chat

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore"
)

// Signed prekey rotation, as Signal's clients do it: a new signed prekey
// and last-resort Kyber prekey every week; old ones stay usable for PreKey
// messages in flight for a month, then are pruned.
const (
	signedPreKeyRotation = 7 * 24 * time.Hour
	signedPreKeyKeep     = 30 * 24 * time.Hour
	keyRotated           = "keys.rotated" // in spaceMeta: Unix seconds of the last rotation
)

// rotateIfDue rotates the signed and last-resort prekeys when the last
// rotation is older than signedPreKeyRotation (or unknown), and reports
// whether it did.
func (c *Client) rotateIfDue(ctx context.Context) (bool, error) {
	now := time.Now()
	var last int64
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		v, err := tx.Get(spaceMeta, keyRotated)
		if errors.Is(err, keystore.ErrNotFound) {
			return nil
		}
		if err == nil && len(v) == 8 {
			last = int64(binary.BigEndian.Uint64(v))
		}
		return err
	})
	if err != nil || last != 0 && now.Sub(time.Unix(last, 0)) < signedPreKeyRotation {
		return false, err
	}
	if last != 0 { // a new account already has fresh keys
		if _, err := c.acct.GenerateSignedPreKey(ctx, 0); err != nil {
			return false, err
		}
		if _, err := c.acct.GenerateKyberPreKeys(ctx, 0, 1, true); err != nil {
			return false, err
		}
		if err := c.acct.PruneSignedPreKeys(ctx, now.Add(-signedPreKeyKeep)); err != nil {
			return false, err
		}
	}
	return true, c.store.Update(ctx, func(tx keystore.Tx) error {
		return tx.Put(spaceMeta, keyRotated, binary.BigEndian.AppendUint64(nil, uint64(now.Unix())))
	})
}

// publishKeys uploads the current signed prekey and last-resort Kyber
// prekey, and one-time prekeys if the relay holds fewer than a fifth of
// the configured numbers (always all of them for a new account).
func (c *Client) publishKeys(ctx context.Context, fresh bool) error {
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	ec, ky := 0, 0
	if !fresh {
		var err error
		if ec, ky, err = c.rc.KeyCounts(ctx); err != nil {
			return err
		}
	}
	return c.upload(ctx, ec, ky, true)
}

// topUp is publishKeys for a running client: it uploads only when one-time
// prekeys run low.
func (c *Client) topUp(ctx context.Context) error {
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ec, ky, err := c.rc.KeyCounts(ctx)
	if err != nil {
		return err
	}
	return c.upload(ctx, ec, ky, false)
}

func (c *Client) upload(ctx context.Context, ec, ky int, always bool) error {
	rotated, err := c.rotateIfDue(ctx)
	if err != nil {
		return err
	}
	always = always || rotated
	k := &relay.Keys{RegistrationID: c.acct.RegistrationID()}
	if ec < c.cfg.PreKeys/5+1 {
		pks, err := c.acct.GeneratePreKeys(ctx, 0, c.cfg.PreKeys-ec)
		if err != nil {
			return err
		}
		for _, p := range pks {
			k.PreKeys = append(k.PreKeys, relay.PreKey{ID: p.ID, PublicKey: p.PublicKey})
		}
	}
	if ky < c.cfg.KyberPreKeys/5+1 {
		kks, err := c.acct.GenerateKyberPreKeys(ctx, 0, c.cfg.KyberPreKeys-ky, false)
		if err != nil {
			return err
		}
		for _, p := range kks {
			k.KyberPreKeys = append(k.KyberPreKeys, relay.KyberPreKey{ID: p.ID, PublicKey: p.PublicKey, Signature: p.Signature})
		}
	}
	if !always && len(k.PreKeys) == 0 && len(k.KyberPreKeys) == 0 {
		return nil
	}
	// The current signed and last-resort keys, from the account's own
	// bundle without a one-time key.
	b, err := c.acct.Bundle(ctx, 0, 0, 0)
	if err != nil {
		return err
	}
	k.SignedPreKey = &relay.SignedPreKey{ID: b.SignedPreKeyID, PublicKey: b.SignedPreKey, Signature: b.SignedPreKeySignature}
	k.LastResortKyber = &relay.KyberPreKey{ID: b.KyberPreKeyID, PublicKey: b.KyberPreKey, Signature: b.KyberPreKeySignature}
	return c.rc.UploadKeys(ctx, k)
}
