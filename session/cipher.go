package session

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/ratchet"
)

// MessageType is the type of a Signal message on the wire, libsignal's
// CiphertextMessageType.
type MessageType uint8

// The message types Encrypt produces and Decrypt accepts.
const (
	// MessageWhisper is a SignalMessage of an established session.
	MessageWhisper MessageType = 2
	// MessagePreKey is a PreKeySignalMessage: a SignalMessage wrapped with
	// what the recipient needs to complete PQXDH.
	MessagePreKey MessageType = 3
)

// Message is an encrypted message and its type, which travels with it.
type Message struct {
	Type MessageType
	Body []byte
}

// MaxUnacknowledgedSessionAge is how long an initiated session may go
// without a reply before Encrypt stops using it (libsignal's
// MAX_UNACKNOWLEDGED_SESSION_AGE): fetch a fresh bundle instead.
const MaxUnacknowledgedSessionAge = 30 * 24 * time.Hour

// Errors of Encrypt and Decrypt. Decryption failures inside a session are
// the ratchet package's errors (ratchet.ErrAuthentication,
// ratchet.ErrDuplicateMessage, ...), returned as they are.
var (
	// ErrNoSession is returned when there is no session with the address.
	ErrNoSession = errors.New("session: no session with this address")
	// ErrSessionStale is returned by Encrypt when the current session was
	// initiated more than MaxUnacknowledgedSessionAge ago and never
	// answered.
	ErrSessionStale = errors.New("session: unacknowledged session expired")
	// ErrInvalidMessage is returned for a message that is malformed at the
	// session layer: unknown type, bad PreKey framing, a non-canonical base
	// key, or an identity that contradicts the session it names.
	ErrInvalidMessage = errors.New("session: invalid message")
)

// Encrypt encrypts plaintext for the current session with to. The advanced
// session is committed to the store, in one transaction, before Encrypt
// returns the message, so no message key is ever used twice.
func (a *Account) Encrypt(ctx context.Context, to Address, plaintext []byte) (*Message, error) {
	var out *Message
	err := a.store.Update(ctx, func(tx keystore.Tx) error {
		var err error
		out, err = a.encrypt(tx, to, plaintext)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EncryptWith encrypts like Encrypt and hands the message to fn inside the
// same store transaction, before it commits: an application that queues
// outgoing messages in the store (an outbox) does so atomically with the
// ratchet step, so a crash can lose neither the message nor its key. If fn
// returns an error nothing is committed and the message must not be sent.
func (a *Account) EncryptWith(ctx context.Context, to Address, plaintext []byte, fn func(tx keystore.Tx, m *Message) error) error {
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		m, err := a.encrypt(tx, to, plaintext)
		if err != nil {
			return err
		}
		return fn(tx, m)
	})
}

func (a *Account) encrypt(tx keystore.Tx, to Address, plaintext []byte) (*Message, error) {
	if err := to.validate(); err != nil {
		return nil, err
	}
	rec, err := loadRecord(tx, to)
	if err != nil {
		return nil, err
	}
	s := rec.current
	if s == nil {
		return nil, ErrNoSession
	}
	if s.pending != nil && a.now().Sub(time.Unix(s.pending.timestamp, 0)) > MaxUnacknowledgedSessionAge {
		return nil, ErrSessionStale
	}
	if err := a.checkIdentity(tx, to, s.ratchet.RemoteIdentity()); err != nil {
		return nil, err
	}
	a.deterministic(s.ratchet)
	var out *Message
	if s.pending == nil {
		body, err := s.ratchet.Encrypt(plaintext, nil)
		if err != nil {
			return nil, err
		}
		out = &Message{Type: MessageWhisper, Body: body}
	} else {
		// libsignal sends the addresses field only in PreKey messages.
		body, err := s.ratchet.Encrypt(plaintext, addressesField(a.address, to))
		if err != nil {
			return nil, err
		}
		p := s.pending
		pm := wire.PreKeySignalMessage{
			Version:         wire.CurrentVersion,
			RegistrationID:  a.registrationID,
			PreKeyID:        p.preKeyID,
			HasPreKeyID:     p.hasPreKeyID,
			SignedPreKeyID:  p.signedPreKeyID,
			KyberPreKeyID:   p.kyberPreKeyID,
			KyberCiphertext: p.kyberCiphertext,
			BaseKey:         p.baseKey[:],
			IdentityKey:     a.IdentityKey(),
			Message:         body,
		}
		out = &Message{Type: MessagePreKey, Body: pm.Marshal()}
	}
	if err := saveRecord(tx, to, rec); err != nil {
		return nil, err
	}
	return out, nil
}

// Decrypt authenticates and decrypts a message from from. The session
// changes it causes — a ratchet step, a new session from a PreKey message,
// a consumed prekey, a first-seen identity — are committed in one
// transaction, and only if decryption succeeds: a forged, replayed or
// malformed message changes nothing.
//
// A Whisper message is tried against the current session, then against the
// archived ones (Sesame's trial decryption); the one that decrypts becomes
// current. A PreKey message goes to the session it started, or starts a new
// one, archiving the current session.
func (a *Account) Decrypt(ctx context.Context, from Address, m *Message) ([]byte, error) {
	var out []byte
	err := a.store.Update(ctx, func(tx keystore.Tx) error {
		var err error
		out, err = a.decrypt(tx, from, m)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecryptWith decrypts m like Decrypt and hands the plaintext to fn inside
// the same store transaction: the session state commits only if fn returns
// nil, so a received message is never lost between decryption and the
// application's own storage. fn may write to the store through tx (for
// example the message itself, in a space of the application's), and those
// writes commit atomically with the session. If fn fails, Decrypt's changes
// are rolled back and the same message can be decrypted again later.
func (a *Account) DecryptWith(ctx context.Context, from Address, m *Message, fn func(tx keystore.Tx, plaintext []byte) error) error {
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		pt, err := a.decrypt(tx, from, m)
		if err != nil {
			return err
		}
		return fn(tx, pt)
	})
}

func (a *Account) decrypt(tx keystore.Tx, from Address, m *Message) ([]byte, error) {
	if err := from.validate(); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, ErrInvalidMessage
	}
	switch m.Type {
	case MessageWhisper:
		return a.decryptWhisper(tx, from, m.Body)
	case MessagePreKey:
		return a.decryptPreKey(tx, from, m.Body)
	default:
		return nil, ErrInvalidMessage
	}
}

func (a *Account) decryptWhisper(tx keystore.Tx, from Address, body []byte) ([]byte, error) {
	sm, err := ratchet.ParseSignalMessage(body)
	if err != nil {
		return nil, err
	}
	rec, err := loadRecord(tx, from)
	if err != nil {
		return nil, err
	}
	if rec.current == nil && len(rec.previous) == 0 {
		return nil, ErrNoSession
	}
	pt, s, idx, err := a.trialDecrypt(rec, from, sm, nil)
	if err != nil {
		return nil, err
	}
	return pt, a.commit(tx, from, rec, s, idx)
}

// trialDecrypt decrypts sm with the current session, then the archived
// ones, returning the session that worked and its archive index (-1 for the
// current one). match, if not nil, restricts the candidates. The error is
// the current session's, or the first candidate's when there is no current.
func (a *Account) trialDecrypt(rec *record, from Address, sm *ratchet.SignalMessage,
	match func(*sessionState) bool) ([]byte, *sessionState, int, error) {
	expected := addressesField(from, a.address)
	// One work budget for every session tried: a forged message costs at
	// most MaxForwardJump chain steps in all, not per archived session.
	budget := ratchet.NewWorkBudget()
	var first error
	try := func(s *sessionState) ([]byte, bool) {
		if match != nil && !match(s) {
			return nil, false
		}
		a.deterministic(s.ratchet)
		pt, err := s.ratchet.DecryptMessageWithin(sm, expected, budget)
		if err != nil {
			if first == nil {
				first = err
			}
			return nil, false
		}
		return pt, true
	}
	if rec.current != nil {
		if pt, ok := try(rec.current); ok {
			return pt, rec.current, -1, nil
		}
	}
	for i, b := range rec.previous {
		s, err := parseSessionState(b)
		if err != nil {
			return nil, nil, 0, err
		}
		if pt, ok := try(s); ok {
			return pt, s, i, nil
		}
	}
	if first == nil {
		first = ErrNoSession
	}
	return nil, nil, 0, first
}

// commit checks the identity the session authenticated, marks the session
// acknowledged, makes it current and saves the record.
func (a *Account) commit(tx keystore.Tx, from Address, rec *record, s *sessionState, idx int) error {
	if err := a.checkIdentity(tx, from, s.ratchet.RemoteIdentity()); err != nil {
		return err
	}
	s.pending = nil // a message from the peer acknowledges the session
	if idx >= 0 {
		rec.promote(idx, s)
	}
	return saveRecord(tx, from, rec)
}

// preKeyMessage is a parsed PreKeySignalMessage with its keys parsed.
type preKeyMessage struct {
	*wire.PreKeySignalMessage
	hasPreKeyID     bool
	preKeyID        uint32
	signedPreKeyID  uint32
	kyberPreKeyID   uint32
	kyberCiphertext []byte
	identity        *curve.PublicKey
	base            *curve.PublicKey
	inner           *ratchet.SignalMessage
}

func parsePreKeyMessage(body []byte) (*preKeyMessage, error) {
	w, err := wire.ParsePreKeySignalMessage(body)
	if err != nil {
		if errors.Is(err, wire.ErrLegacyVersion) || errors.Is(err, wire.ErrUnsupportedVersion) ||
			errors.Is(err, wire.ErrUnknownVersion) {
			return nil, ratchet.ErrUnsupportedVersion
		}
		return nil, ErrInvalidMessage
	}
	pm := &preKeyMessage{
		PreKeySignalMessage: w,
		hasPreKeyID:         w.HasPreKeyID,
		preKeyID:            w.PreKeyID,
		signedPreKeyID:      w.SignedPreKeyID,
		kyberPreKeyID:       w.KyberPreKeyID,
		kyberCiphertext:     w.KyberCiphertext,
	}
	if pm.identity, err = curve.ParsePublicKey(w.IdentityKey); err != nil {
		return nil, ErrInvalidMessage
	}
	// libsignal requires a canonical, torsion-free base key (pqxdh_accept).
	if pm.base, err = curve.ParsePublicKey(w.BaseKey); err != nil || !pm.base.IsCanonical() {
		return nil, ErrInvalidMessage
	}
	if pm.inner, err = ratchet.ParseSignalMessage(w.Message); err != nil {
		return nil, err
	}
	return pm, nil
}

func (a *Account) decryptPreKey(tx keystore.Tx, from Address, body []byte) ([]byte, error) {
	pm, err := parsePreKeyMessage(body)
	if err != nil {
		return nil, err
	}
	// Nothing is decrypted from an identity the app has not accepted.
	if err := a.checkIdentity(tx, from, pm.IdentityKey); err != nil {
		return nil, err
	}
	rec, err := loadRecord(tx, from)
	if err != nil {
		return nil, err
	}
	// A later PreKey message of a session already started (the initiator
	// wraps every message until it hears back) goes to that session.
	sameSession := func(s *sessionState) bool {
		return bytes.Equal(s.aliceBaseKey[:], pm.BaseKey)
	}
	known := rec.current != nil && sameSession(rec.current)
	for _, b := range rec.previous {
		if known {
			break
		}
		s, err := parseSessionState(b)
		if err != nil {
			return nil, err
		}
		known = sameSession(s)
	}
	if known {
		pt, s, idx, err := a.trialDecrypt(rec, from, pm.inner, sameSession)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(s.ratchet.RemoteIdentity(), pm.IdentityKey) {
			return nil, ErrInvalidMessage
		}
		return pt, a.commit(tx, from, rec, s, idx)
	}

	// A new session: PQXDH as responder, then the first message.
	st, kyber, err := a.respond(tx, pm)
	if err != nil {
		return nil, err
	}
	if err := markKyberPreKeyUsed(tx, kyber, pm.kyberPreKeyID, pm.signedPreKeyID, pm.BaseKey); err != nil {
		return nil, err
	}
	pt, err := st.DecryptMessage(pm.inner, addressesField(from, a.address))
	if err != nil {
		return nil, err
	}
	if pm.hasPreKeyID {
		if err := tx.Delete(spacePreKey, idKey(pm.preKeyID)); err != nil {
			return nil, err
		}
	}
	s := &sessionState{
		ratchet:              st,
		remoteRegistrationID: pm.RegistrationID,
		localRegistrationID:  a.registrationID,
		created:              a.now().Unix(),
	}
	copy(s.aliceBaseKey[:], pm.BaseKey)
	rec.archiveCurrent()
	rec.current = s
	return pt, saveRecord(tx, from, rec)
}
