package chat

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/session"
)

// ErrNoChange is returned by TrustIdentity when no changed identity key
// awaits a decision for the contact.
var ErrNoChange = errors.New("chat: no changed identity key to accept")

// SafetyNumber returns the safety number of the conversation with peer,
// from the identity key this account trusts for peer. Both parties see
// the same 60 digits unless a key was substituted.
func (c *Client) SafetyNumber(ctx context.Context, peer string) (*session.Fingerprint, error) {
	return c.acct.SafetyNumber(ctx, c.addr(peer))
}

// PendingSafetyNumber returns the safety number peer's changed identity
// key would give, for the user to compare before TrustIdentity, or
// ErrNoChange.
func (c *Client) PendingSafetyNumber(ctx context.Context, peer string) (*session.Fingerprint, error) {
	key, err := c.pending(ctx, peer)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, ErrNoChange
	}
	return session.NewFingerprint(session.DefaultFingerprintIterations, session.FingerprintVersion,
		stableID(c.name), c.acct.IdentityKey(), stableID(peer), key)
}

// stableID is the identifier session.Account.SafetyNumber uses for a
// name: chat names are never UUIDs, so their UTF-8 bytes.
func stableID(name string) []byte { return []byte(name) }

func (c *Client) pending(ctx context.Context, peer string) ([]byte, error) {
	var key []byte
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		key, err = tx.Get(spacePending, peer)
		if errors.Is(err, keystore.ErrNotFound) {
			return nil
		}
		return err
	})
	return key, err
}

// TrustIdentity accepts peer's changed identity key — call it after the
// user compared the new safety number — and decrypts the messages held
// while it was not trusted. It returns their events (EventMessage, or
// EventFailed for those that still fail), in arrival order. The next Send
// to peer starts a new session.
func (c *Client) TrustIdentity(ctx context.Context, peer string) ([]Event, error) {
	key, err := c.pending(ctx, peer)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, ErrNoChange
	}
	if err := c.acct.TrustIdentity(ctx, c.addr(peer), key); err != nil {
		return nil, err
	}
	var held []*heldEnvelope
	var keys []string
	err = c.store.Update(ctx, func(tx keystore.Tx) error {
		held, keys = held[:0], keys[:0]
		if v, err := tx.Get(spacePending, peer); err == nil && bytes.Equal(v, key) {
			if err := tx.Delete(spacePending, peer); err != nil {
				return err
			}
		}
		ks, err := tx.List(spaceHeld, peer+"/")
		if err != nil {
			return err
		}
		for _, k := range ks {
			v, err := tx.Get(spaceHeld, k)
			if err != nil {
				return err
			}
			h, err := parseHeld(v)
			if err != nil {
				return err
			}
			held, keys = append(held, h), append(keys, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var events []Event
	var receipts []msgID
	for i, h := range held {
		r, evs, err := c.decrypt(ctx, peer, h.relayID, h.typ, h.body, time.UnixMilli(h.received), true)
		events = append(events, evs...)
		if err != nil {
			return events, err
		}
		if r.receipt != nil {
			receipts = append(receipts, *r.receipt)
		}
		if err := c.store.Update(ctx, func(tx keystore.Tx) error { return tx.Delete(spaceHeld, keys[i]) }); err != nil {
			return events, err
		}
	}
	if len(receipts) > 0 {
		if err := c.queueReceipts(ctx, peer, receipts); err == nil {
			c.kickFlush()
		}
	}
	return events, nil
}

// SetVerified records that the user compared the safety number with peer
// (or withdraws that). It applies to the currently trusted key only.
func (c *Client) SetVerified(ctx context.Context, peer string, verified bool) error {
	info, err := c.acct.Identity(ctx, c.addr(peer))
	if err != nil {
		return err
	}
	if info == nil {
		return session.ErrNoSession
	}
	return c.acct.SetVerified(ctx, c.addr(peer), info.Key, verified)
}

// Contact is a contact as the contacts list shows it.
type Contact struct {
	Name            string
	Last            time.Time // the last message
	Verified        bool      // the user compared safety numbers for the trusted key
	IdentityChanged bool      // a changed identity key awaits TrustIdentity
}

// Contacts lists the contacts this account exchanged messages with, most
// recent first.
func (c *Client) Contacts(ctx context.Context) ([]Contact, error) {
	var out []Contact
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		out = out[:0]
		names, err := tx.List(spaceContact, "")
		if err != nil {
			return err
		}
		for _, n := range names {
			v, err := tx.Get(spaceContact, n)
			if err != nil {
				return err
			}
			ct, err := parseContact(v)
			if err != nil {
				return err
			}
			k := Contact{Name: n, Last: time.UnixMilli(ct.last)}
			if _, err := tx.Get(spacePending, n); err == nil {
				k.IdentityChanged = true
			} else if !errors.Is(err, keystore.ErrNotFound) {
				return err
			}
			out = append(out, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		info, err := c.acct.Identity(ctx, c.addr(out[i].Name))
		if err != nil {
			return nil, err
		}
		out[i].Verified = info != nil && info.Verified
	}
	slices.SortStableFunc(out, func(a, b Contact) int { return b.Last.Compare(a.Last) })
	return out, nil
}

// History returns the last limit messages (all if limit <= 0) of the
// conversation with peer, oldest first.
func (c *Client) History(ctx context.Context, peer string, limit int) ([]*Message, error) {
	var out []*Message
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		out = out[:0]
		keys, err := tx.List(spaceMessage, peer+"/")
		if err != nil {
			return err
		}
		if limit > 0 && len(keys) > limit {
			keys = keys[len(keys)-limit:]
		}
		for _, k := range keys {
			seq, err := strconv.ParseUint(strings.TrimPrefix(k, peer+"/"), 16, 64)
			if err != nil {
				return errMalformedRecord
			}
			v, err := tx.Get(spaceMessage, k)
			if err != nil {
				return err
			}
			m, err := parseMessage(peer, seq, v)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}
