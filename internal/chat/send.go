package chat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/session"
)

// ErrIdentityChanged matches an *IdentityChangedError with errors.Is.
var ErrIdentityChanged = errors.New("chat: contact's identity key changed")

// IdentityChangedError reports that Peer's identity key is not the one
// this account trusts: nothing is sent to or read from the new key until
// the user compares safety numbers and calls TrustIdentity. It also
// matches session.ErrUntrustedIdentity.
type IdentityChangedError struct {
	Peer string
}

func (e *IdentityChangedError) Error() string {
	return "chat: identity key of " + e.Peer + " changed: compare safety numbers, then trust the new key"
}

// Is makes errors.Is match ErrIdentityChanged and session.ErrUntrustedIdentity.
func (e *IdentityChangedError) Is(target error) bool {
	return target == ErrIdentityChanged || target == session.ErrUntrustedIdentity
}

// Send encrypts text for peer and sends it through the relay, starting a
// session from peer's published bundle if there is none. The message is
// in the store's outbox before Send tries the relay: if the relay is
// unreachable Send returns the message in StateQueued and a nil error, and
// Run sends it later. Errors are those that stop the message being
// encrypted at all: an unknown peer, an *IdentityChangedError, a relay
// that cannot serve the peer's bundle for a first message.
func (c *Client) Send(ctx context.Context, peer, text string) (*Message, error) {
	if !ValidName(peer) {
		return nil, ErrInvalidName
	}
	if peer == c.name {
		return nil, errors.New("chat: cannot send to yourself")
	}
	if len(text) > MaxTextSize {
		return nil, fmt.Errorf("chat: text longer than %d bytes", MaxTextSize)
	}
	var id msgID
	rand.Read(id[:])
	now := time.Now()
	ct := &content{kind: kindText, id: id, sent: now.UnixMilli(), text: text}
	msg := &Message{Peer: peer, Outgoing: true, Text: text, Sent: time.UnixMilli(now.UnixMilli()),
		Received: time.UnixMilli(now.UnixMilli()), State: StateQueued}
	msg.ID = fmt.Sprintf("%x", id[:])
	// The message enters the history and the outbox in the transaction
	// that advances the ratchet: a crash cannot lose it after its key is
	// spent.
	err := c.encryptFor(ctx, peer, ct.marshal(), func(tx keystore.Tx) (string, string, error) {
		if err := addMessage(tx, msg, id); err != nil {
			return "", "", err
		}
		return queue(tx, &outboxEntry{to: peer, msgSeq: msg.Seq})
	})
	if err != nil {
		return nil, err
	}
	c.flush(ctx) // a failure leaves it queued for Run
	c.kickFlush()
	var cur *Message
	err = c.store.View(ctx, func(tx keystore.Tx) error {
		v, err := tx.Get(spaceMessage, peerKey(peer, msg.Seq))
		if err != nil {
			return err
		}
		cur, err = parseMessage(peer, msg.Seq, v)
		return err
	})
	if err != nil {
		return msg, nil // stored and queued all the same
	}
	return cur, nil
}

// queue adds e to the outbox under a fresh seq and returns where
// session.EncryptWith stores the encrypted message beside it.
func queue(tx keystore.Tx, e *outboxEntry) (space, key string, err error) {
	seq, err := nextSeq(tx)
	if err != nil {
		return "", "", err
	}
	if err := tx.Put(spaceOutbox, seqKey(seq), e.marshal()); err != nil {
		return "", "", err
	}
	return spaceOutboxMessage, seqKey(seq), nil
}

// encryptFor encrypts pt for peer's current session, starting one from a
// fetched bundle when there is none, the current one expired, or the user
// has accepted a new identity key that the current session is not bound
// to. store runs in the encryption's transaction (session.EncryptWith).
func (c *Client) encryptFor(ctx context.Context, peer string, pt []byte, store func(keystore.Tx) (string, string, error)) error {
	c.sessMu.Lock()
	defer c.sessMu.Unlock()
	addr := c.addr(peer)
	_, err := c.acct.EncryptWith(ctx, addr, pt, store)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, session.ErrNoSession), errors.Is(err, session.ErrSessionStale),
		errors.Is(err, session.ErrUntrustedIdentity):
		if err := c.startSession(ctx, peer); err != nil {
			return err
		}
		_, err = c.acct.EncryptWith(ctx, addr, pt, store)
		return err
	default:
		return err
	}
}

// startSession fetches peer's bundle and starts a session from it. An
// identity key that differs from the trusted one is recorded as pending
// and reported as an *IdentityChangedError.
func (c *Client) startSession(ctx context.Context, peer string) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	rb, err := c.rc.FetchBundle(cctx, relayAddr(peer))
	if err != nil {
		return fmt.Errorf("chat: fetching the prekey bundle of %s: %w", peer, err)
	}
	b := &session.Bundle{
		RegistrationID: rb.RegistrationID, DeviceID: rb.DeviceID,
		PreKeyID: rb.PreKeyID, PreKey: rb.PreKey,
		SignedPreKeyID: rb.SignedPreKeyID, SignedPreKey: rb.SignedPreKey, SignedPreKeySignature: rb.SignedPreKeySignature,
		IdentityKey:   rb.IdentityKey,
		KyberPreKeyID: rb.KyberPreKeyID, KyberPreKey: rb.KyberPreKey, KyberPreKeySignature: rb.KyberPreKeySignature,
	}
	err = c.acct.ProcessBundle(ctx, c.addr(peer), b)
	if errors.Is(err, session.ErrUntrustedIdentity) {
		if err := c.setPending(ctx, peer, rb.IdentityKey); err != nil {
			return err
		}
		return &IdentityChangedError{Peer: peer}
	}
	return err
}

// setPending records key as peer's changed identity, awaiting the user's
// decision, unless a changed identity is pending already: the first one
// stays, so that the safety number the user compares cannot change under
// them.
func (c *Client) setPending(ctx context.Context, peer string, key []byte) error {
	return c.store.Update(ctx, func(tx keystore.Tx) error {
		old, err := pendingTx(tx, peer)
		if err != nil || old != nil {
			return err
		}
		return tx.Put(spacePending, peer, key)
	})
}

// flush sends the outbox in order until it is empty or the relay fails,
// and reports the messages that changed state through Run's handler.
func (c *Client) flush(ctx context.Context) error {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	var entries []*outboxEntry
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		keys, err := tx.List(spaceOutbox, "")
		if err != nil {
			return err
		}
		for _, k := range keys {
			seq, err := strconv.ParseUint(k, 16, 64)
			if err != nil {
				return errMalformedRecord
			}
			v, err := tx.Get(spaceOutbox, k)
			if err != nil {
				return err
			}
			e, err := parseOutboxEntry(seq, v)
			if err != nil {
				return err
			}
			if len(e.body) == 0 {
				mb, err := tx.Get(spaceOutboxMessage, k)
				if err != nil {
					return err
				}
				var m session.Message
				if err := m.UnmarshalBinary(mb); err != nil {
					return errMalformedRecord
				}
				e.typ, e.body = uint8(m.Type), m.Body
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range entries {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		relayID, err := c.rc.Send(cctx, relayAddr(e.to), e.typ, e.body)
		cancel()
		state := StateSent
		switch {
		case err == nil:
		case permanent(err):
			state, relayID = StateFailed, ""
			c.emit(Event{Kind: EventError, Peer: e.to, Err: fmt.Errorf("chat: relay refused a message to %s: %w", e.to, err)})
		default:
			return fmt.Errorf("chat: relay: %w", err)
		}
		var msg *Message
		err = c.store.Update(ctx, func(tx keystore.Tx) error {
			msg = nil
			if err := tx.Delete(spaceOutbox, seqKey(e.seq)); err != nil {
				return err
			}
			if err := tx.Delete(spaceOutboxMessage, seqKey(e.seq)); err != nil {
				return err
			}
			if e.msgSeq == 0 {
				return nil
			}
			v, err := tx.Get(spaceMessage, peerKey(e.to, e.msgSeq))
			if errors.Is(err, keystore.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if msg, err = parseMessage(e.to, e.msgSeq, v); err != nil {
				return err
			}
			msg.RelayID = relayID
			changed := msg.State == StateQueued // else a receipt overtook the relay's answer
			if changed {
				msg.State = state
			}
			if err := putMessage(tx, msg); err != nil {
				return err
			}
			if !changed {
				msg = nil
			}
			return nil
		})
		if err != nil {
			return err
		}
		if msg != nil {
			c.emit(Event{Kind: EventState, Peer: e.to, Message: msg})
		}
	}
	return nil
}

// queueReceipts encrypts a delivery receipt for ids to peer and queues it.
func (c *Client) queueReceipts(ctx context.Context, peer string, ids []msgID) error {
	for len(ids) > 0 {
		n := min(len(ids), maxReceiptIDs)
		ct := &content{kind: kindReceipt, receipts: ids[:n]}
		ids = ids[n:]
		err := c.encryptFor(ctx, peer, ct.marshal(), func(tx keystore.Tx) (string, string, error) {
			return queue(tx, &outboxEntry{to: peer})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// relayPeer returns the contact name of a relay address, or "" if it is
// not one this engine talks to.
func relayPeer(a relay.Address) string {
	if a.DeviceID != DeviceID || !ValidName(a.Name) {
		return ""
	}
	return strings.Clone(a.Name)
}

// permanent reports whether the relay refused a message for good, so that
// retrying it is pointless.
func permanent(err error) bool {
	return errors.Is(err, relay.ErrUnknownAddress) || errors.Is(err, relay.ErrMessageTooLarge) ||
		errors.Is(err, relay.ErrBadRequest)
}
