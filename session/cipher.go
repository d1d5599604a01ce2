package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/pqxdh"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore"
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

// messageMagic opens a Message's stored form.
const messageMagic = "SOTm"

// MarshalBinary encodes m for storage (an outbox): "SOTm", a version byte,
// the type byte and the body.
func (m *Message) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, len(messageMagic)+2+len(m.Body))
	b = append(b, messageMagic...)
	b = append(b, formatV1, byte(m.Type))
	return append(b, m.Body...), nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. It checks the prefix
// and the type, not the body; it fails with ErrMalformedRecord and leaves m
// unchanged.
func (m *Message) UnmarshalBinary(data []byte) error {
	rd := binenc.NewReader(data)
	if string(rd.Bytes(len(messageMagic))) != messageMagic || rd.Byte() != formatV1 {
		return ErrMalformedRecord
	}
	t := MessageType(rd.Byte())
	if rd.Err() != nil || (t != MessageWhisper && t != MessagePreKey) {
		return ErrMalformedRecord
	}
	*m = Message{Type: t, Body: bytes.Clone(data[len(messageMagic)+2:])}
	return nil
}

// MaxUnacknowledgedSessionAge is how long an initiated session may go
// without a reply before Encrypt stops using it (libsignal's
// MAX_UNACKNOWLEDGED_SESSION_AGE): fetch a fresh bundle instead.
const MaxUnacknowledgedSessionAge = 30 * 24 * time.Hour

// Errors of Encrypt (and, wrapped in ErrInvalidMessage, of Decrypt).
var (
	// ErrNoSession is returned when there is no session with the address.
	// From Decrypt it comes wrapped: a Whisper message for a session this
	// account does not have is a fault of the message.
	ErrNoSession = errors.New("session: no session with this address")
	// ErrSessionStale is returned by Encrypt when the current session was
	// initiated more than MaxUnacknowledgedSessionAge ago and never
	// answered.
	ErrSessionStale = errors.New("session: unacknowledged session expired")
)

// Encrypt encrypts plaintext for the current session with to. The advanced
// session is committed to the store, in one transaction, before Encrypt
// returns the message, so no message key is ever used twice.
func (a *Account) Encrypt(ctx context.Context, to Address, plaintext []byte) (*Message, error) {
	var out *Message
	err := a.update(ctx, func(t *txn) error {
		var err error
		out, err = a.encrypt(t, to, plaintext)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EncryptWith encrypts like Encrypt and stores the message, in the same
// store transaction, where fn says: an application queues outgoing messages
// in an outbox of its own atomically with the ratchet step, so a crash can
// lose neither the message nor its key.
//
// fn runs inside the transaction, after the encryption and before the
// commit. It writes the application's own records through tx (the outbox
// entry's metadata, say) and returns the space and key under which the
// message is to be stored, as MarshalBinary encodes it. fn never sees the
// message: until the transaction commits it must not be sent, because if
// the commit fails the next Encrypt reuses its counter and keys. EncryptWith
// returns the message only after the commit; the application may send it
// then, or later from the stored copy (Message.UnmarshalBinary). If fn
// returns an error, nothing is committed and that error is returned.
func (a *Account) EncryptWith(ctx context.Context, to Address, plaintext []byte,
	fn func(tx keystore.Tx) (space, key string, err error)) (*Message, error) {
	var out *Message
	err := a.update(ctx, func(t *txn) error {
		m, err := a.encrypt(t, to, plaintext)
		if err != nil {
			return err
		}
		space, key, err := fn(t.tx)
		if err != nil {
			return err
		}
		v, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		if err := t.tx.Put(space, key, v); err != nil {
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (a *Account) encrypt(t *txn, to Address, plaintext []byte) (*Message, error) {
	if err := to.validate(); err != nil {
		return nil, err
	}
	rec, err := t.record(to)
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
	if err := t.checkIdentity(a, to, s.ratchet.RemoteIdentityRef()); err != nil {
		return nil, err
	}
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
			IdentityKey:     a.identityPublic,
			Message:         body,
		}
		out = &Message{Type: MessagePreKey, Body: pm.Marshal()}
	}
	t.dirty(to)
	return out, nil
}

// Decrypt authenticates and decrypts a message from from. The session
// changes it causes — a ratchet step, a new session from a PreKey message,
// a consumed prekey, a first-seen identity — are committed in one
// transaction, and only if decryption succeeds: a forged, replayed or
// malformed message changes nothing.
//
// A Whisper message is tried against the current session, then against the
// archived ones (Sesame's trial decryption), each within libsignal's limits
// of its own; the one that decrypts becomes current. A replay detected in a
// session ends the search, as in libsignal. A PreKey message goes to the
// session it started, or starts a new one, archiving the current session.
//
// Errors follow the package's contract: ErrInvalidMessage for anything the
// message causes, *UntrustedIdentityError for an identity to hold, and
// otherwise a local fault to retry.
func (a *Account) Decrypt(ctx context.Context, from Address, m *Message) ([]byte, error) {
	var out []byte
	err := a.update(ctx, func(t *txn) error {
		var err error
		out, err = a.decrypt(t, from, m)
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
// are rolled back and the same message can be decrypted again later; fn's
// error is returned as it is.
func (a *Account) DecryptWith(ctx context.Context, from Address, m *Message, fn func(tx keystore.Tx, plaintext []byte) error) error {
	return a.update(ctx, func(t *txn) error {
		pt, err := a.decrypt(t, from, m)
		if err != nil {
			return err
		}
		return fn(t.tx, pt)
	})
}

func (a *Account) decrypt(t *txn, from Address, m *Message) ([]byte, error) {
	if err := from.validate(); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, invalid(ErrUnknownMessageType)
	}
	switch m.Type {
	case MessageWhisper:
		return a.decryptWhisper(t, from, m.Body)
	case MessagePreKey:
		return a.decryptPreKey(t, from, m.Body)
	default:
		return nil, invalid(ErrUnknownMessageType)
	}
}

func (a *Account) decryptWhisper(t *txn, from Address, body []byte) ([]byte, error) {
	var sm ratchetcore.Message
	if err := sm.Parse(body); err != nil {
		return nil, invalid(err)
	}
	rec, err := t.record(from)
	if err != nil {
		return nil, err
	}
	if rec.current == nil && len(rec.previous) == 0 {
		return nil, invalid(ErrNoSession)
	}
	o, s, idx, err := a.trialDecrypt(rec, from, &sm, nil)
	if err != nil {
		return nil, err
	}
	return a.commit(t, from, rec, s, idx, o)
}

// trialDecrypt opens sm with the current session, then the archived ones,
// returning the opened message, the session that opened it and its archive
// index (-1 for the current one). match, if not nil, restricts the
// candidates. Each session is tried within its own limits, as libsignal
// tries them: a forged message may cost every session tried up to
// MaxForwardJump chain steps (SECURITY.md states the bound). A duplicate in
// any session ends the search. An archived session that does not parse is
// skipped. Nothing changes until the caller commits the opened message.
func (a *Account) trialDecrypt(rec *record, from Address, sm *ratchetcore.Message,
	match func(*sessionState) bool) (*ratchetcore.Opened, *sessionState, int, error) {
	var expected []byte
	if sm.Addresses != nil {
		expected = addressesField(from, a.address)
	}
	var first error
	try := func(s *sessionState) (*ratchetcore.Opened, error) {
		o, err := s.ratchet.Open(sm, expected, a.rng())
		if err != nil && first == nil {
			first = err
		}
		return o, err
	}
	if rec.current != nil && (match == nil || match(rec.current)) {
		o, err := try(rec.current)
		if err == nil {
			return o, rec.current, -1, nil
		}
		if isLocal(err) || errors.Is(err, ratchetcore.ErrDuplicateMessage) {
			return nil, nil, 0, classify(err)
		}
	}
	for i, b := range rec.previous {
		s, err := parseSessionState(b)
		if err != nil {
			continue // a corrupt archived session is skipped, not fatal
		}
		if match != nil && !match(s) {
			continue
		}
		o, err := try(s)
		if err == nil {
			return o, s, i, nil
		}
		if isLocal(err) || errors.Is(err, ratchetcore.ErrDuplicateMessage) {
			return nil, nil, 0, classify(err)
		}
	}
	if first == nil {
		first = errNoMatchingSession
	}
	return nil, nil, 0, classify(first)
}

// isLocal reports whether an error from the ratchet is the system's, not the
// message's: only a failing random source (read by a DH step) can be.
func isLocal(err error) bool {
	for _, e := range ratchetFaults {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// ratchetFaults are the errors a message can cause in the ratchet.
var ratchetFaults = []error{
	ratchetcore.ErrMalformedMessage, ratchetcore.ErrUnsupportedVersion, ratchetcore.ErrAuthentication,
	ratchetcore.ErrBadPadding, ratchetcore.ErrDuplicateMessage, ratchetcore.ErrTooFarAhead,
	ratchetcore.ErrAddressMismatch, ratchetcore.ErrInvalidKey, ratchetcore.ErrSPQR,
}

// classify wraps a ratchet error as a message fault unless it is local.
func classify(err error) error {
	if isLocal(err) {
		return err
	}
	return invalid(err)
}

// commit checks the identity the session authenticated, applies the opened
// message, marks the session acknowledged, makes it current and saves the
// record. The record changes only once every check has passed.
func (a *Account) commit(t *txn, from Address, rec *record, s *sessionState, idx int, o *ratchetcore.Opened) ([]byte, error) {
	if err := t.checkIdentity(a, from, s.ratchet.RemoteIdentityRef()); err != nil {
		o.Discard()
		return nil, err
	}
	o.Commit()
	s.pending = nil // a message from the peer acknowledges the session
	if idx >= 0 {
		rec.promote(idx, s)
	}
	t.dirty(from)
	return o.Plaintext, nil
}

// preKeyMessage is a parsed PreKeySignalMessage with its keys parsed.
type preKeyMessage struct {
	*wire.PreKeySignalMessage
	identity *curve.PublicKey
	base     *curve.PublicKey
	inner    ratchetcore.Message
}

func parsePreKeyMessage(body []byte) (*preKeyMessage, error) {
	w, err := wire.ParsePreKeySignalMessage(body)
	if err != nil {
		if errors.Is(err, wire.ErrLegacyVersion) || errors.Is(err, wire.ErrUnsupportedVersion) ||
			errors.Is(err, wire.ErrUnknownVersion) {
			return nil, invalid(ratchetcore.ErrUnsupportedVersion)
		}
		return nil, invalid(ErrMalformedPreKeyMessage)
	}
	pm := &preKeyMessage{PreKeySignalMessage: w}
	if pm.identity, err = curve.ParsePublicKey(w.IdentityKey); err != nil {
		return nil, invalid(ErrInvalidKey)
	}
	// libsignal requires a canonical, torsion-free base key (pqxdh_accept).
	if pm.base, err = curve.ParsePublicKey(w.BaseKey); err != nil || !pm.base.IsCanonical() {
		return nil, invalid(ErrInvalidKey)
	}
	if err := pm.inner.Parse(w.Message); err != nil {
		return nil, invalid(err)
	}
	return pm, nil
}

func (a *Account) decryptPreKey(t *txn, from Address, body []byte) ([]byte, error) {
	pm, err := parsePreKeyMessage(body)
	if err != nil {
		return nil, err
	}
	rec, err := t.record(from)
	if err != nil {
		return nil, err
	}
	// Nothing is decrypted from an identity the app has not accepted.
	if err := t.checkIdentity(a, from, pm.IdentityKey); err != nil {
		return nil, err
	}
	// A later PreKey message of a session already started (the initiator
	// wraps every message until it hears back) goes to that session.
	sameSession := func(s *sessionState) bool {
		return bytes.Equal(s.aliceBaseKey[:], pm.BaseKey)
	}
	if rec.has(sameSession) {
		o, s, idx, err := a.trialDecrypt(rec, from, &pm.inner, sameSession)
		if err != nil {
			return nil, err
		}
		if !s.ratchet.RemoteIdentityEquals(pm.IdentityKey) {
			o.Discard()
			return nil, invalid(ErrIdentityMismatch)
		}
		return a.commit(t, from, rec, s, idx, o)
	}

	// A new session: PQXDH as responder, then the first message.
	st, kyber, err := a.respond(t.tx, pm)
	if err != nil {
		return nil, err
	}
	if err := markKyberPreKeyUsed(t.tx, kyber, pm.KyberPreKeyID, pm.SignedPreKeyID, pm.BaseKey); err != nil {
		return nil, err
	}
	var expected []byte
	if pm.inner.Addresses != nil {
		expected = addressesField(from, a.address)
	}
	pt, err := st.DecryptMessage(&pm.inner, expected, a.rng())
	if err != nil {
		st.Wipe()
		return nil, classify(err)
	}
	if pm.HasPreKeyID {
		if err := a.deletePreKey(t.tx, pm.PreKeyID); err != nil {
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
	t.dirty(from)
	return pt, nil
}

// respond runs PQXDH as responder for a PreKey message and returns the new
// session's ratchet state, or an error without changing the store.
func (a *Account) respond(tx keystore.Tx, pm *preKeyMessage) (*ratchetcore.State, *kyberPreKeyRecord, error) {
	spk, err := a.loadSignedPreKey(tx, pm.SignedPreKeyID)
	if err != nil {
		return nil, nil, err
	}
	kyber, err := a.loadKyberPreKey(tx, pm.KyberPreKeyID)
	if err != nil {
		return nil, nil, err
	}
	if !kyber.lastResort {
		defer kyber.wipe() // a one-time key is used once, and not cached
	}
	var opk *curve.PrivateKey
	if pm.HasPreKeyID {
		if opk, err = loadPreKey(tx, pm.PreKeyID); err != nil {
			return nil, nil, err
		}
		defer opk.Wipe()
	}
	keys, err := pqxdh.Respond(&pqxdh.ResponderInput{
		OurIdentity:      a.identity,
		OurSignedPreKey:  spk.key,
		OurOneTimePreKey: opk,
		OurKyberPreKey:   kyber.key,
		TheirIdentity:    pm.identity,
		TheirBase:        pm.base,
		KyberCiphertext:  pm.KyberCiphertext,
	})
	switch {
	case errors.Is(err, pqxdh.ErrInvalidCiphertext):
		return nil, nil, invalid(ErrInvalidKyberCiphertext)
	case errors.Is(err, pqxdh.ErrInvalidKeyAgreement):
		return nil, nil, invalid(ErrInvalidKeyAgreement)
	case err != nil:
		return nil, nil, err
	}
	defer keys.Wipe()
	st, err := ratchetcore.NewResponder(&ratchetcore.ResponderParams{
		Keys:           keys,
		OurRatchetKey:  spk.key,
		LocalIdentity:  a.identity.PublicKey(),
		RemoteIdentity: pm.identity,
	})
	if err != nil {
		return nil, nil, err
	}
	return st, kyber, nil
}

// rng is the account's randomness source: crypto/rand, except in the
// module's own tests and vector verifier (internal/entropy).
func (a *Account) rng() io.Reader { return a.rand }
