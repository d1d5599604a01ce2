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

// ErrNoChange is returned by TrustIdentity and RejectIdentity when no
// changed identity key awaits a decision for the contact.
var ErrNoChange = errors.New("chat: no changed identity key to accept")

// ErrPendingMismatch is returned by TrustIdentity and RejectIdentity when
// the key passed is not the changed identity key awaiting a decision: the
// safety number the user compared is not the one that would be trusted.
var ErrPendingMismatch = errors.New("chat: the changed identity key is not the one whose safety number was shown: compare the safety number again")

// ErrIdentityConflict matches an *IdentityConflictError with errors.Is.
var ErrIdentityConflict = errors.New("chat: conflicting new identity keys")

// IdentityConflictError is the error of an EventFailed for a message
// that carries a new identity key for Peer while another new key already
// awaits the user's decision. The message is dropped; the first key stays
// pending, so the safety number the user may be comparing cannot change
// under them. If that number does not match, RejectIdentity discards it
// and the next new key can surface.
type IdentityConflictError struct {
	Peer string
}

func (e *IdentityConflictError) Error() string {
	return "chat: another new identity key for " + e.Peer + " was offered while one awaits your decision: " +
		"message refused (someone, maybe the relay, may be interfering); compare safety numbers before trusting"
}

// Is makes errors.Is(err, ErrIdentityConflict) true.
func (e *IdentityConflictError) Is(target error) bool { return target == ErrIdentityConflict }

// ErrSenderMismatch matches a *SenderMismatchError with errors.Is.
var ErrSenderMismatch = errors.New("chat: message carries another contact's identity key")

// SenderMismatchError is the error of an EventFailed for a first
// (PreKey) message that the relay says is from Claimed but that carries
// the identity key this account trusts for Owner: the relay relabelled
// Owner's message. It is dropped.
type SenderMismatchError struct {
	Claimed, Owner string
}

func (e *SenderMismatchError) Error() string {
	return "chat: message claiming to be from " + e.Claimed + " carries " + e.Owner +
		"'s identity key: refused (the relay may have relabelled it)"
}

// Is makes errors.Is(err, ErrSenderMismatch) true.
func (e *SenderMismatchError) Is(target error) bool { return target == ErrSenderMismatch }

// SafetyNumber returns the safety number of the conversation with peer,
// from the identity key this account trusts for peer. Both parties see
// the same 60 digits unless a key was substituted.
func (c *Client) SafetyNumber(ctx context.Context, peer string) (*session.Fingerprint, error) {
	return c.acct.SafetyNumber(ctx, c.addr(peer))
}

// PendingSafetyNumber returns the safety number peer's changed identity
// key would give, for the user to compare, and that key, to pass to
// TrustIdentity (or RejectIdentity) once the user decided; or ErrNoChange.
// The pending key is the first new one seen: a later different one does
// not replace it (see IdentityConflictError).
func (c *Client) PendingSafetyNumber(ctx context.Context, peer string) (*session.Fingerprint, []byte, error) {
	key, err := c.pending(ctx, peer)
	if err != nil {
		return nil, nil, err
	}
	if key == nil {
		return nil, nil, ErrNoChange
	}
	fp, err := session.NewFingerprint(session.DefaultFingerprintIterations, session.FingerprintVersion,
		stableID(c.name), c.acct.IdentityKey(), stableID(peer), key)
	if err != nil {
		return nil, nil, err
	}
	return fp, key, nil
}

// stableID is the identifier session.Account.SafetyNumber uses for a
// name: chat names are never UUIDs, so their UTF-8 bytes.
func stableID(name string) []byte { return []byte(name) }

func (c *Client) pending(ctx context.Context, peer string) ([]byte, error) {
	var key []byte
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		key, err = pendingTx(tx, peer)
		return err
	})
	return key, err
}

// pendingTx returns peer's pending identity key, or nil.
func pendingTx(tx keystore.Tx, peer string) ([]byte, error) {
	v, err := tx.Get(spacePending, peer)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(v), nil
}

// checkPendingTx fails unless key is peer's pending identity key.
func checkPendingTx(tx keystore.Tx, peer string, key []byte) error {
	cur, err := pendingTx(tx, peer)
	if err != nil {
		return err
	}
	if cur == nil {
		return ErrNoChange
	}
	if !bytes.Equal(cur, key) {
		return ErrPendingMismatch
	}
	return nil
}

// TrustIdentity accepts peer's changed identity key — call it after the
// user compared the new safety number — and decrypts the messages held
// while it was not trusted. key is the key PendingSafetyNumber returned
// with the number the user compared: if it is no longer the pending key,
// TrustIdentity trusts nothing and returns ErrPendingMismatch. It returns
// the released messages' events (EventMessage, or EventFailed for those
// that still fail), in arrival order. The next Send to peer starts a new
// session.
func (c *Client) TrustIdentity(ctx context.Context, peer string, key []byte) ([]Event, error) {
	var held []*heldEnvelope
	var keys []string
	err := func() error {
		c.trustMu.Lock()
		defer c.trustMu.Unlock()
		if err := c.store.View(ctx, func(tx keystore.Tx) error { return checkPendingTx(tx, peer, key) }); err != nil {
			return err
		}
		if err := c.acct.TrustIdentity(ctx, c.addr(peer), key); err != nil {
			return err
		}
		return c.store.Update(ctx, func(tx keystore.Tx) error {
			held, keys = held[:0], keys[:0]
			if err := checkPendingTx(tx, peer, key); err != nil {
				return err // cannot happen: trustMu serializes changes of a pending key
			}
			if err := tx.Delete(spacePending, peer); err != nil {
				return err
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
	}()
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

// RejectIdentity discards peer's changed identity key — call it when the
// safety number the user compared did not match — and drops the messages
// held for it, so that the next new key peer presents can be compared.
// key is the key PendingSafetyNumber returned; if it is no longer the
// pending key, nothing is discarded and ErrPendingMismatch is returned.
// It returns how many held messages were dropped.
func (c *Client) RejectIdentity(ctx context.Context, peer string, key []byte) (int, error) {
	c.trustMu.Lock()
	defer c.trustMu.Unlock()
	n := 0
	err := c.store.Update(ctx, func(tx keystore.Tx) error {
		n = 0
		if err := checkPendingTx(tx, peer, key); err != nil {
			return err
		}
		if err := tx.Delete(spacePending, peer); err != nil {
			return err
		}
		ks, err := tx.List(spaceHeld, peer+"/")
		if err != nil {
			return err
		}
		for _, k := range ks {
			if err := tx.Delete(spaceHeld, k); err != nil {
				return err
			}
		}
		n = len(ks)
		return nil
	})
	return n, err
}

// keyOwner returns the name of a contact other than peer (or this
// account's own name) whose trusted identity key is key, or "".
func (c *Client) keyOwner(ctx context.Context, peer string, key []byte) (string, error) {
	if bytes.Equal(key, c.acct.IdentityKey()) {
		return c.name, nil
	}
	var names []string
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		names, err = tx.List(spaceContact, "")
		return err
	})
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if n == peer {
			continue
		}
		info, err := c.acct.Identity(ctx, c.addr(n))
		if err != nil {
			return "", err
		}
		if info != nil && bytes.Equal(info.Key, key) {
			return n, nil
		}
	}
	return "", nil
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
