package chat

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/session"
)

// MaxHeldPerContact bounds the messages held for a contact whose identity
// key changed; past it, further ones are dropped and reported as
// EventFailed with ErrTooManyHeld.
const MaxHeldPerContact = 100

// ErrTooManyHeld is the error of an EventFailed for a message dropped
// because MaxHeldPerContact messages are already held for its sender.
var ErrTooManyHeld = errors.New("chat: too many messages held for an unaccepted identity")

// errNotForUs reports an envelope whose sender or type this engine does
// not accept.
var errNotForUs = errors.New("chat: envelope with an invalid sender or message type")

// Run receives messages until ctx is done, calling handler for each event
// from one goroutine at a time. It subscribes to the relay's push channel
// (or polls, with Config.Poll), reconnects after failures, tops up
// prekeys, sends delivery receipts and retries the outbox. It returns
// ctx's error. Only one Run may be active at a time.
func (c *Client) Run(ctx context.Context, handler func(Event)) error {
	c.events.attach(true)
	defer c.events.attach(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() { // the handler's goroutine
		defer close(done)
		for {
			for _, ev := range c.events.take() {
				handler(ev)
			}
			select {
			case <-c.events.signal:
			case <-ctx.Done():
				for _, ev := range c.events.take() {
					handler(ev)
				}
				return
			}
		}
	}()
	go c.flusher(ctx)
	c.receive(ctx)
	cancel()
	<-done
	return ctx.Err()
}

// keyCheckInterval is how often Run checks that the relay still holds
// enough one-time prekeys: others use them up by fetching bundles, not
// only by writing.
const keyCheckInterval = 5 * time.Minute

// flusher retries the outbox when woken and every PollInterval, and tops
// up prekeys every keyCheckInterval.
func (c *Client) flusher(ctx context.Context) {
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	keys := time.NewTicker(keyCheckInterval)
	defer keys.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-keys.C:
			if err := c.topUp(ctx); err != nil && ctx.Err() == nil {
				c.emit(Event{Kind: EventError, Err: fmt.Errorf("chat: topping up prekeys: %w", err)})
			}
			continue
		case <-c.kick:
		case <-t.C:
		}
		err := c.flush(ctx)
		if err != nil && !failing && ctx.Err() == nil {
			c.emit(Event{Kind: EventError, Err: err})
		}
		failing = err != nil
	}
}

// receive is Run's loop: subscribe, handle pushed envelopes until the
// connection drops, and start again (or poll, with Config.Poll).
func (c *Client) receive(ctx context.Context) {
	wait := c.cfg.PollInterval / 4
	connected := false
	fail := func(err error) {
		if ctx.Err() != nil {
			return
		}
		if connected {
			c.emit(Event{Kind: EventError, Err: err})
		}
		connected = false
		sleep(ctx, wait)
		wait = min(wait*2, c.cfg.PollInterval)
	}
	for ctx.Err() == nil {
		if c.cfg.Poll {
			if _, err := c.poll(ctx); err != nil {
				fail(err)
				continue
			}
			if !connected {
				connected, wait = true, c.cfg.PollInterval/4
				c.emit(Event{Kind: EventConnected})
			}
			sleep(ctx, c.cfg.PollInterval)
			continue
		}
		// The subscription delivers what is waiting, then what arrives.
		sctx, scancel := context.WithCancel(ctx)
		ch, err := c.rc.Subscribe(sctx)
		if err != nil {
			scancel()
			// No push channel (a relay or proxy without WebSockets, or
			// too many connections): poll meanwhile.
			if _, perr := c.poll(ctx); perr != nil {
				fail(perr)
				continue
			}
			if !connected {
				connected, wait = true, c.cfg.PollInterval/4
				c.emit(Event{Kind: EventConnected})
			}
			sleep(ctx, c.cfg.PollInterval)
			continue
		}
		if !connected {
			connected, wait = true, c.cfg.PollInterval/4
			c.emit(Event{Kind: EventConnected})
		}
		c.kickFlush()
		lost := errors.New("chat: relay connection closed")
		for batch := range batches(ch) {
			if err := c.process(ctx, batch); err != nil {
				// Something was left unacknowledged: subscribe again, so
				// that the relay sends it again.
				lost = err
				break
			}
		}
		scancel()
		for range ch { // until the subscription's goroutine is done
		}
		fail(lost)
	}
}

// batches yields the envelopes of ch in groups of what is already waiting,
// so that receipts and prekey top-ups are done once per burst.
func batches(ch <-chan relay.Envelope) func(func([]relay.Envelope) bool) {
	return func(yield func([]relay.Envelope) bool) {
		for env := range ch {
			batch := []relay.Envelope{env}
		more:
			for len(batch) < 64 {
				select {
				case e, ok := <-ch:
					if !ok {
						break more
					}
					batch = append(batch, e)
				default:
					break more
				}
			}
			if !yield(batch) {
				return
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Poll fetches what the relay holds for this account once and handles it
// as Run does, calling handler for each event before it returns. It is
// for callers that drive the client step by step (the demo, tests); do
// not call it while Run is active.
func (c *Client) Poll(ctx context.Context, handler func(Event)) (int, error) {
	c.events.attach(true)
	defer func() {
		for _, ev := range c.events.take() {
			handler(ev)
		}
		c.events.attach(false)
	}()
	n, err := c.poll(ctx)
	if err != nil {
		return n, err
	}
	return n, c.flush(ctx)
}

func (c *Client) poll(ctx context.Context) (int, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	envs, err := c.rc.Fetch(cctx)
	cancel()
	if err != nil {
		return 0, err
	}
	return len(envs), c.process(ctx, envs)
}

// process handles a batch of envelopes, then sends the receipts they call
// for and tops up prekeys if one was used.
func (c *Client) process(ctx context.Context, envs []relay.Envelope) error {
	receipts := map[string][]msgID{}
	var order []string
	preKey := false
	var firstErr error
	for _, env := range envs {
		r, err := c.handle(ctx, env)
		if err != nil {
			// Not the message's fault (the store, the context): leave it
			// unacknowledged for the relay to deliver again.
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if r.receipt != nil {
			if _, ok := receipts[r.peer]; !ok {
				order = append(order, r.peer)
			}
			receipts[r.peer] = append(receipts[r.peer], *r.receipt)
		}
		preKey = preKey || env.Type == uint8(session.MessagePreKey)
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err = c.rc.Ack(cctx, env.ID)
		cancel()
		if errors.Is(err, relay.ErrUnknownMessage) {
			err = nil // acknowledged already (a duplicate), or an id the relay made up
		}
		if err != nil && firstErr == nil {
			firstErr = err // it comes again and is recognised as a duplicate
		}
	}
	for _, peer := range order {
		if err := c.queueReceipts(ctx, peer, receipts[peer]); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if len(order) > 0 {
		c.kickFlush()
	}
	if preKey {
		if err := c.topUp(ctx); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// handled is what handle did with an envelope that can be acknowledged.
type handled struct {
	peer    string
	receipt *msgID // a text message to acknowledge to its sender
}

// handle decrypts one envelope and stores its content with the session
// change in one transaction. It returns an error only when the envelope
// must not be acknowledged: the failure is this device's, not the
// message's, and a later delivery may succeed.
func (c *Client) handle(ctx context.Context, env relay.Envelope) (handled, error) {
	peer := relayPeer(env.From)
	if peer == "" || peer == c.name || (env.Type != uint8(session.MessageWhisper) && env.Type != uint8(session.MessagePreKey)) {
		c.emit(Event{Kind: EventFailed, Peer: peer, Err: errNotForUs, RelayID: env.ID})
		return handled{}, nil
	}
	if env.Type == uint8(session.MessagePreKey) {
		ev, ok, err := c.checkSender(ctx, peer, env)
		if err != nil {
			return handled{}, err
		}
		if !ok {
			c.emit(ev)
			return handled{}, nil
		}
	}
	h, events, err := c.decrypt(ctx, peer, env.ID, env.Type, env.Body, env.Received, false)
	for _, ev := range events {
		c.emit(ev)
	}
	return h, err
}

// checkSender refuses a PreKey message whose identity key is not the one
// trusted for peer (a first contact, or a changed key) but is the one
// trusted for another contact: the relay chooses the sender name it
// shows, and nothing in a PreKey message binds it, so it could present
// alice's first message as one from "carol". ok is false, with the event
// to report, for such a message.
func (c *Client) checkSender(ctx context.Context, peer string, env relay.Envelope) (ev Event, ok bool, err error) {
	pm, err := wire.ParsePreKeySignalMessage(env.Body)
	if err != nil {
		return Event{}, true, nil // decrypt reports it
	}
	info, err := c.acct.Identity(ctx, c.addr(peer))
	if err != nil {
		return Event{}, false, err
	}
	if info != nil && bytes.Equal(info.Key, pm.IdentityKey) {
		return Event{}, true, nil
	}
	owner, err := c.keyOwner(ctx, peer, pm.IdentityKey)
	if err != nil || owner == "" {
		return Event{}, err == nil, err
	}
	return Event{Kind: EventFailed, Peer: peer, Err: &SenderMismatchError{Claimed: peer, Owner: owner}, RelayID: env.ID}, false, nil
}

// decrypt is handle's body. released is set for a held message that
// TrustIdentity releases, which is not a redelivery whatever happens.
func (c *Client) decrypt(ctx context.Context, peer, relayID string, typ uint8, body []byte, received time.Time, released bool) (handled, []Event, error) {
	h := handled{peer: peer}
	var events []Event
	m := &session.Message{Type: session.MessageType(typ), Body: body}
	err := c.acct.DecryptWith(ctx, c.addr(peer), m, func(tx keystore.Tx, pt []byte) error {
		events, h.receipt = events[:0], nil
		if err := tx.Put(spaceRelay, relayKey(relayID), binary.AppendUvarint(nil, uint64(time.Now().UnixMilli()))); err != nil {
			return err
		}
		ct, err := parseContent(pt)
		if err != nil {
			// Authenticated but unreadable: the session advances (the
			// message key is spent either way) and the user hears of it.
			events = append(events, Event{Kind: EventFailed, Peer: peer, Err: err, RelayID: relayID})
			return nil
		}
		switch ct.kind {
		case kindText:
			old, err := loadMessageByID(tx, peer, ct.id)
			if err != nil {
				return err
			}
			if old != nil { // the same id again: the sender repeated it
				events = append(events, Event{Kind: EventDuplicate, Peer: peer, RelayID: relayID})
				return nil
			}
			now := time.Now()
			if !received.IsZero() && received.Before(now) {
				now = received
			}
			msg := &Message{Peer: peer, ID: fmt.Sprintf("%x", ct.id[:]), Text: ct.text,
				Sent: time.UnixMilli(ct.sent), Received: time.UnixMilli(now.UnixMilli()), State: StateReceived, RelayID: relayID}
			if err := addMessage(tx, msg, ct.id); err != nil {
				return err
			}
			id := ct.id
			h.receipt = &id
			events = append(events, Event{Kind: EventMessage, Peer: peer, Message: msg, RelayID: relayID})
		case kindReceipt:
			for _, id := range ct.receipts {
				msg, err := loadMessageByID(tx, peer, id)
				if err != nil {
					return err
				}
				if msg == nil || !msg.Outgoing || msg.State >= StateDelivered {
					continue
				}
				msg.State = StateDelivered
				if err := putMessage(tx, msg); err != nil {
					return err
				}
				events = append(events, Event{Kind: EventState, Peer: peer, Message: msg, RelayID: relayID})
			}
		}
		return nil
	})
	if err == nil {
		return h, events, nil
	}
	if !messageFault(err) {
		return h, nil, err
	}
	// A message the relay delivers again after this device stored it
	// fails as a duplicate (its key is spent): acknowledge it quietly.
	seen, serr := c.seen(ctx, relayID)
	if serr != nil {
		return h, nil, serr
	}
	if seen && !released {
		return handled{}, []Event{{Kind: EventDuplicate, Peer: peer, RelayID: relayID}}, nil
	}
	if errors.Is(err, session.ErrUntrustedIdentity) && typ == uint8(session.MessagePreKey) && !released {
		ev, err := c.hold(ctx, peer, relayID, typ, body, received)
		return handled{}, []Event{ev}, err
	}
	return handled{}, []Event{{Kind: EventFailed, Peer: peer, Err: err, RelayID: relayID}}, nil
}

// seen reports whether the envelope relayID was already handled.
func (c *Client) seen(ctx context.Context, relayID string) (bool, error) {
	var ok bool
	err := c.store.View(ctx, func(tx keystore.Tx) error {
		_, err := tx.Get(spaceRelay, relayKey(relayID))
		if errors.Is(err, keystore.ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok, err
}

// messageFault reports whether err from DecryptWith is the message's
// fault — forged, tampered, replayed, malformed, from an unaccepted
// identity — rather than this device's (its store, a cancelled context).
func messageFault(err error) bool {
	return errors.Is(err, session.ErrInvalidMessage) || errors.Is(err, session.ErrUntrustedIdentity) ||
		errors.Is(err, session.ErrInvalidAddress)
}

// hold keeps a PreKey message from an identity the user has not accepted,
// records that identity as pending and reports the change. A message
// with yet another new key, while one is pending, is refused with an
// *IdentityConflictError and the pending key stays: the user may be
// comparing its safety number.
func (c *Client) hold(ctx context.Context, peer, relayID string, typ uint8, body []byte, received time.Time) (Event, error) {
	pm, err := wire.ParsePreKeySignalMessage(body)
	if err != nil {
		return Event{Kind: EventFailed, Peer: peer, Err: session.ErrInvalidMessage, RelayID: relayID}, nil
	}
	full, conflict := false, false
	err = c.store.Update(ctx, func(tx keystore.Tx) error {
		full, conflict = false, false
		cur, err := pendingTx(tx, peer)
		if err != nil {
			return err
		}
		if cur != nil && !bytes.Equal(cur, pm.IdentityKey) {
			conflict = true
			return nil
		}
		keys, err := tx.List(spaceHeld, peer+"/")
		if err != nil {
			return err
		}
		if len(keys) >= MaxHeldPerContact {
			full = true
			return nil
		}
		seq, err := nextSeq(tx)
		if err != nil {
			return err
		}
		he := &heldEnvelope{relayID: relayID, typ: typ, body: body, received: received.UnixMilli()}
		if err := tx.Put(spaceHeld, peerKey(peer, seq), he.marshal()); err != nil {
			return err
		}
		if err := tx.Put(spaceRelay, relayKey(relayID), binary.AppendUvarint(nil, uint64(time.Now().UnixMilli()))); err != nil {
			return err
		}
		return tx.Put(spacePending, peer, pm.IdentityKey)
	})
	if err != nil {
		return Event{}, err
	}
	if conflict {
		return Event{Kind: EventFailed, Peer: peer, Err: &IdentityConflictError{Peer: peer}, RelayID: relayID}, nil
	}
	if full {
		return Event{Kind: EventFailed, Peer: peer, Err: ErrTooManyHeld, RelayID: relayID}, nil
	}
	return Event{Kind: EventIdentityChanged, Peer: peer, Err: &IdentityChangedError{Peer: peer}, RelayID: relayID}, nil
}
