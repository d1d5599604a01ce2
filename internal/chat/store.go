package chat

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/keystore"
)

// The spaces the engine keeps in the account's store, beside session's.
// Values are versioned binary encodings (recordVersion first).
const (
	spaceMeta          = "chat.meta"      // keySeq: the last local sequence number
	spaceMessage       = "chat.message"   // "<peer>/<seq>": a message of the history
	spaceMsgID         = "chat.msgid"     // "<peer>/<id>": the seq of the message with that id
	spaceRelay         = "chat.relay"     // hash of a relay envelope id: handled (value: Unix ms)
	spaceContact       = "chat.contact"   // "<peer>": a contact
	spacePending       = "chat.pending"   // "<peer>": an identity key seen but not trusted
	spaceHeld          = "chat.held"      // "<peer>/<seq>": an envelope held until its identity is trusted
	spaceOutbox        = "chat.outbox"    // "<seq>": an outgoing message waiting for the relay
	spaceOutboxMessage = "chat.outboxmsg" // "<seq>": its encrypted form, stored by session.EncryptWith

	keySeq = "seq"

	recordVersion = 1
)

// errMalformedRecord reports a record of the chat spaces this version
// cannot read.
var errMalformedRecord = errors.New("chat: malformed stored record")

// seqKey is the fixed-width form of a sequence number, so that List
// returns records in order.
func seqKey(seq uint64) string { return fmt.Sprintf("%016x", seq) }

func peerKey(peer string, seq uint64) string { return peer + "/" + seqKey(seq) }

func msgIDKey(peer string, id msgID) string { return peer + "/" + hex.EncodeToString(id[:]) }

// relayKey names a relay envelope id in spaceRelay. The id comes from the
// relay, so it is hashed to a fixed-size key whatever it is.
func relayKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:16])
}

// nextSeq allocates the next local sequence number, which orders the
// history, the outbox and held envelopes.
func nextSeq(tx keystore.Tx) (uint64, error) {
	var seq uint64
	b, err := tx.Get(spaceMeta, keySeq)
	switch {
	case err == nil:
		r := binenc.NewReader(b)
		seq = r.Uvarint()
		if !r.Done() {
			return 0, errMalformedRecord
		}
	case !errors.Is(err, keystore.ErrNotFound):
		return 0, err
	}
	seq++
	return seq, tx.Put(spaceMeta, keySeq, binary.AppendUvarint(nil, seq))
}

// State is the delivery state of a message this account sent.
type State uint8

// Delivery states, in the order a message goes through them.
const (
	// StateQueued: encrypted and in the outbox; the relay has not accepted
	// it yet.
	StateQueued State = iota + 1
	// StateSent: the relay accepted it.
	StateSent
	// StateDelivered: the recipient's device decrypted and stored it (an
	// end-to-end encrypted receipt said so).
	StateDelivered
	// StateReceived marks a message this account received.
	StateReceived
	// StateFailed: the relay refused the message for good (an unknown
	// recipient, a message too large); it will not be retried.
	StateFailed
)

func (s State) String() string {
	switch s {
	case StateQueued:
		return "queued"
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateReceived:
		return "received"
	case StateFailed:
		return "failed"
	}
	return "unknown"
}

// Message is a message of a conversation, as the history keeps it.
type Message struct {
	Peer     string // the contact
	ID       string // the id the sender chose, hex; the same on both sides
	Outgoing bool   // sent by this account
	Text     string
	Sent     time.Time // the sender's clock
	Received time.Time // when this account stored it (received or sent)
	State    State
	Seq      uint64 // local order
	RelayID  string // the relay's id of the envelope that carried it, once known
}

func (m *Message) marshal() []byte {
	b := []byte{recordVersion, 0, byte(m.State)}
	if m.Outgoing {
		b[1] = 1
	}
	id, _ := hex.DecodeString(m.ID)
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(max(m.Sent.UnixMilli(), 0)))
	b = binary.AppendUvarint(b, uint64(max(m.Received.UnixMilli(), 0)))
	b = binary.AppendUvarint(b, uint64(len(m.RelayID)))
	b = append(b, m.RelayID...)
	return append(b, m.Text...)
}

func parseMessage(peer string, seq uint64, v []byte) (*Message, error) {
	r := binenc.NewReader(v)
	m := &Message{Peer: peer, Seq: seq}
	ver, flags, state := r.Byte(), r.Byte(), r.Byte()
	var id msgID
	r.Array(id[:])
	sent, recv := r.Uvarint(), r.Uvarint()
	relayID := r.LenPrefixed()
	if r.Err() != nil || ver != recordVersion || flags > 1 || state < byte(StateQueued) || state > byte(StateFailed) {
		return nil, errMalformedRecord
	}
	m.Outgoing, m.State, m.ID = flags == 1, State(state), hex.EncodeToString(id[:])
	m.Sent, m.Received = time.UnixMilli(int64(sent&(1<<62-1))), time.UnixMilli(int64(recv&(1<<62-1)))
	m.RelayID = string(relayID)
	m.Text = string(rest(v, 3+len(id)+uvarintSize(sent)+uvarintSize(recv)+uvarintSize(uint64(len(relayID)))+len(relayID)))
	return m, nil
}

func uvarintSize(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

func rest(v []byte, off int) []byte {
	if off > len(v) {
		return nil
	}
	return v[off:]
}

func putMessage(tx keystore.Tx, m *Message) error {
	return tx.Put(spaceMessage, peerKey(m.Peer, m.Seq), m.marshal())
}

// loadMessageByID returns the message peer/id, or nil.
func loadMessageByID(tx keystore.Tx, peer string, id msgID) (*Message, error) {
	b, err := tx.Get(spaceMsgID, msgIDKey(peer, id))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := binenc.NewReader(b)
	seq := r.Uvarint()
	if !r.Done() {
		return nil, errMalformedRecord
	}
	v, err := tx.Get(spaceMessage, peerKey(peer, seq))
	if err != nil {
		return nil, err
	}
	return parseMessage(peer, seq, v)
}

// addMessage stores a new message of the history under a fresh seq.
func addMessage(tx keystore.Tx, m *Message, id msgID) error {
	seq, err := nextSeq(tx)
	if err != nil {
		return err
	}
	m.Seq = seq
	if err := putMessage(tx, m); err != nil {
		return err
	}
	if err := tx.Put(spaceMsgID, msgIDKey(m.Peer, id), binary.AppendUvarint(nil, seq)); err != nil {
		return err
	}
	return touchContact(tx, m.Peer, m.Received)
}

// contact is the stored part of a Contact.
type contact struct {
	last int64 // Unix ms of the last message
}

func touchContact(tx keystore.Tx, peer string, t time.Time) error {
	v := []byte{recordVersion}
	v = binary.AppendUvarint(v, uint64(max(t.UnixMilli(), 0)))
	return tx.Put(spaceContact, peer, v)
}

func parseContact(v []byte) (contact, error) {
	r := binenc.NewReader(v)
	ver, last := r.Byte(), r.Uvarint()
	if !r.Done() || ver != recordVersion {
		return contact{}, errMalformedRecord
	}
	return contact{last: int64(last & (1<<62 - 1))}, nil
}

// outboxEntry is an encrypted message waiting for the relay.
type outboxEntry struct {
	seq    uint64 // its key
	to     string
	typ    uint8
	body   []byte
	msgSeq uint64 // the history message it carries, 0 for a receipt
}

func (e *outboxEntry) marshal() []byte {
	b := []byte{recordVersion, e.typ}
	b = binary.AppendUvarint(b, e.msgSeq)
	b = binary.AppendUvarint(b, uint64(len(e.to)))
	b = append(b, e.to...)
	return append(b, e.body...)
}

func parseOutboxEntry(seq uint64, v []byte) (*outboxEntry, error) {
	r := binenc.NewReader(v)
	e := &outboxEntry{seq: seq}
	ver := r.Byte()
	e.typ = r.Byte()
	e.msgSeq = r.Uvarint()
	e.to = string(r.LenPrefixed())
	if r.Err() != nil || ver != recordVersion {
		return nil, errMalformedRecord
	}
	e.body = append([]byte(nil), rest(v, 2+uvarintSize(e.msgSeq)+uvarintSize(uint64(len(e.to)))+len(e.to))...)
	return e, nil
}

// heldEnvelope is a message from an identity the user has not accepted,
// kept (still encrypted) until TrustIdentity.
type heldEnvelope struct {
	relayID  string
	typ      uint8
	body     []byte
	received int64 // Unix ms
}

func (h *heldEnvelope) marshal() []byte {
	b := []byte{recordVersion, h.typ}
	b = binary.AppendUvarint(b, uint64(max(h.received, 0)))
	b = binary.AppendUvarint(b, uint64(len(h.relayID)))
	b = append(b, h.relayID...)
	return append(b, h.body...)
}

func parseHeld(v []byte) (*heldEnvelope, error) {
	r := binenc.NewReader(v)
	h := &heldEnvelope{}
	ver := r.Byte()
	h.typ = r.Byte()
	recv := r.Uvarint()
	h.relayID = string(r.LenPrefixed())
	if r.Err() != nil || ver != recordVersion {
		return nil, errMalformedRecord
	}
	h.received = int64(recv & (1<<62 - 1))
	h.body = append([]byte(nil), rest(v, 2+uvarintSize(recv)+uvarintSize(uint64(len(h.relayID)))+len(h.relayID))...)
	return h, nil
}

// handledKeep is how long the ids of handled relay envelopes are kept to
// recognise re-deliveries. The relay deletes a message once it is acked, so
// only a message whose ack was lost comes back; a month covers any outage.
const handledKeep = 30 * 24 * time.Hour

// pruneHandled deletes the handled-envelope records older than cutoff, so
// that the record does not grow with every message ever received.
func pruneHandled(ctx context.Context, st keystore.Store, cutoff time.Time) error {
	return st.Update(ctx, func(tx keystore.Tx) error {
		keys, err := tx.List(spaceRelay, "")
		if err != nil {
			return err
		}
		for _, k := range keys {
			v, err := tx.Get(spaceRelay, k)
			if err != nil {
				return err
			}
			ms, n := binary.Uvarint(v)
			if n <= 0 || int64(ms) < cutoff.UnixMilli() {
				if err := tx.Delete(spaceRelay, k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
