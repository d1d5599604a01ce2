package chat

import (
	"context"

	"github.com/sotto-im/sotto/internal/relay"
)

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
