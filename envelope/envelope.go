// Package envelope is the content of a secret-conversation message: what an
// application encrypts with package session and what the recipient gets back
// from Decrypt. It carries the text, when it was sent, the conversation's
// disappearing-message timer, the message's franking opening and commitment
// (package franking) and its attachment pointers (package attachment), in a
// versioned encoding that keeps the fields a newer version adds.
//
// # First calls
//
// The sender builds an Envelope, franks it for the relay and marshals it:
//
//	e := &envelope.Envelope{Kind: envelope.KindText, ID: envelope.NewID(),
//		Sent: time.Now(), Body: "hello", Timer: conversationTimer}
//	outer, err := e.Frank(myAddress, theirAddress) // send outer beside the ciphertext
//	plaintext, err := e.Marshal()                   // padded, ready for session.Encrypt
//
// The recipient parses what Decrypt returned and checks the franking before
// it shows the message:
//
//	e, err := envelope.Parse(plaintext)
//	err = e.CheckFranking(outer, theirAddress, myAddress)
//	if newer := e.Timer; newer.Supersedes(conversationTimer) { conversationTimer = newer }
//	expires := e.Timer.ExpiresAt(shownAt) // zero time: never
//
// # Encoding
//
// A version byte (1), then protobuf fields (internal/wire/WIRE.md §14), then
// Signal's padding: a 0x80 byte and zeros up to a multiple of PaddingBlock
// bytes, so that the ciphertext's length says little about the text's.
// Parse is strict about what it knows (each field once, with its exact size)
// and keeps what it does not know, up to a bound, so that Marshal writes it
// back.
//
// # Disappearing messages
//
// Every envelope carries the conversation's Timer: its duration and a
// version that the party changing it increments. The parties converge on the
// same timer whatever order their changes cross in, by Timer.Supersedes: the
// higher version wins and, between two changes of the same version, the
// shorter timer does. The sender counts down from when it sent a message,
// the recipient from when it showed it (Timer.ExpiresAt); deleting the
// message then, from every place it was stored, is the application's (and
// its store's) work. A recipient can always copy a message before it
// disappears: the timer is a courtesy between honest parties, not a control
// over a hostile one.
//
// # Errors
//
// Every error of Parse and CheckFranking is caused by the message and
// satisfies errors.Is(err, session.ErrInvalidMessage), the class an
// application drops and acknowledges; the specific cause (ErrMalformed,
// ErrTooLarge, ErrUnsupportedVersion, franking.ErrCommitment, ...) stays
// reachable with errors.Is.
package envelope

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/sotto-im/sotto/attachment"
	"github.com/sotto-im/sotto/franking"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/session"
)

// Bounds on an envelope.
const (
	// MaxBodySize bounds Body, in bytes.
	MaxBodySize = wire.MaxEnvelopeBody
	// MaxAttachments bounds the attachments of one message.
	MaxAttachments = wire.MaxEnvelopeAttachments
	// MaxReceipts bounds the message ids one receipt acknowledges.
	MaxReceipts = wire.MaxEnvelopeReceipts
	// MaxUnknownSize bounds the bytes of unknown fields Parse keeps.
	MaxUnknownSize = wire.MaxEnvelopeUnknown
	// MaxTimer is the longest disappearing-message timer.
	MaxTimer = 365 * 24 * time.Hour
	// PaddingBlock is the size padded envelopes are a multiple of, as
	// Signal's apps pad.
	PaddingBlock = 160
	// maxPadded bounds what Parse accepts before unpadding.
	maxPadded = wire.MaxEnvelopeSize + PaddingBlock
)

// Kind says what a message is.
type Kind uint32

const (
	// KindText is a message the user wrote: Body, and Attachments.
	KindText Kind = 1
	// KindReceipt acknowledges the delivery of the messages in Receipts.
	KindReceipt Kind = 2
	// KindTimer announces a change of the conversation's Timer and carries
	// nothing else.
	KindTimer Kind = 3
)

// ID is a message's id, drawn at random by its sender and shared by both
// parties' histories.
type ID [wire.EnvelopeIDSize]byte

// NewID returns a random ID.
func NewID() ID {
	var id ID
	rand.Read(id[:]) // never fails (crypto/rand's contract since Go 1.24)
	return id
}

// Errors of Parse, Marshal and CheckFranking. Those of Parse and
// CheckFranking also match session.ErrInvalidMessage.
var (
	ErrMalformed          = errors.New("envelope: malformed envelope")
	ErrTooLarge           = errors.New("envelope: envelope too large")
	ErrUnsupportedVersion = errors.New("envelope: unsupported envelope version")
	// ErrNotFranked is returned by CheckFranking for a message that carries
	// no franking opening or commitment.
	ErrNotFranked = errors.New("envelope: message is not franked")
	// ErrInvalid is returned by Marshal for an envelope that breaks a rule
	// above (a body that is not UTF-8, a bound exceeded, an unknown kind).
	ErrInvalid = errors.New("envelope: invalid envelope")
)

// Timer is a conversation's disappearing-message timer.
type Timer struct {
	// Duration is how long a message lives once its countdown starts, at
	// second precision; 0 means messages do not disappear.
	Duration time.Duration
	// Version orders changes: whoever changes the timer sets Version to one
	// more than the version it knew.
	Version uint32
}

// Supersedes reports whether t replaces cur as the conversation's timer: t
// has a higher version, or the same version and a shorter duration (an
// enabled timer being shorter than none). Two parties that apply every timer
// they receive this way end on the same timer.
func (t Timer) Supersedes(cur Timer) bool {
	if t.Version != cur.Version {
		return t.Version > cur.Version
	}
	return t.Duration != 0 && (cur.Duration == 0 || t.Duration < cur.Duration)
}

// Next returns the timer a party sets when it changes the duration to d.
func (t Timer) Next(d time.Duration) Timer {
	return Timer{Duration: d.Truncate(time.Second), Version: t.Version + 1}
}

// ExpiresAt returns when a message under t expires if its countdown starts
// at start (the sender's send time, the recipient's first display), or the
// zero time if t is off.
func (t Timer) ExpiresAt(start time.Time) time.Time {
	if t.Duration == 0 {
		return time.Time{}
	}
	return start.Add(t.Duration)
}

// Envelope is one message's content.
type Envelope struct {
	Kind Kind
	ID   ID
	// Sent is the sender's clock when it sent the message, kept at
	// millisecond precision.
	Sent time.Time
	// Body is the text of a KindText message: valid UTF-8, at most
	// MaxBodySize bytes.
	Body string
	// Timer is the conversation's disappearing-message timer as the sender
	// knows it. Every message carries it.
	Timer Timer
	// Opening and Commitment are the message's franking (see Frank). The
	// recipient keeps both, with the relay's tag, for a report.
	Opening    *franking.Opening
	Commitment *franking.Commitment
	// Attachments are the files sent with a KindText message.
	Attachments []*attachment.Pointer
	// Receipts are the ids a KindReceipt message acknowledges.
	Receipts []ID

	// unknown holds the fields of a newer version, as encoded.
	unknown []byte
}

// Frank draws a new franking opening for e, commits to its content as sent
// from sender to recipient (the relay's form of both addresses), stores the
// opening and commitment in e and returns the commitment, which the sender
// sends beside the ciphertext for the relay to tag. Frank after every change
// of the body, time or attachments.
func (e *Envelope) Frank(sender, recipient string) (franking.Commitment, error) {
	o := franking.NewOpening()
	c, err := o.Commit(e.frankingContent(sender, recipient))
	if err != nil {
		return franking.Commitment{}, err
	}
	e.Opening, e.Commitment = &o, &c
	return c, nil
}

// CheckFranking is the recipient's check before it shows e: outer is the
// commitment that came beside the ciphertext, sender the authenticated peer
// and recipient this account, both in the relay's form. It returns nil only
// if e's commitment equals outer and opens to e's content under e's opening,
// so that a report of the message will verify at the relay.
func (e *Envelope) CheckFranking(outer franking.Commitment, sender, recipient string) error {
	if e.Opening == nil || e.Commitment == nil {
		return invalid(ErrNotFranked)
	}
	if err := franking.Check(outer, *e.Commitment, *e.Opening, e.frankingContent(sender, recipient)); err != nil {
		return invalid(err)
	}
	return nil
}

// FrankingContent returns what e's franking commits to, for a report.
func (e *Envelope) FrankingContent(sender, recipient string) *franking.Content {
	return e.frankingContent(sender, recipient)
}

func (e *Envelope) frankingContent(sender, recipient string) *franking.Content {
	c := &franking.Content{Sender: sender, Recipient: recipient, Sent: e.Sent, Body: []byte(e.Body)}
	for _, p := range e.Attachments {
		c.Attachments = append(c.Attachments, p.Digest)
	}
	return c
}

// Marshal returns the padded encoding of e, ready to encrypt. It returns an
// error matching ErrInvalid for an envelope Parse would refuse.
func (e *Envelope) Marshal() ([]byte, error) {
	w := wire.Envelope{Kind: uint32(e.Kind), ID: e.ID[:], Body: []byte(e.Body), Unknown: e.unknown}
	switch e.Kind {
	case KindText, KindReceipt, KindTimer:
	default:
		return nil, fmt.Errorf("%w: kind %d", ErrInvalid, e.Kind)
	}
	if e.Body == "" {
		w.Body = nil
	}
	if len(e.Body) > MaxBodySize || !utf8.ValidString(e.Body) {
		return nil, fmt.Errorf("%w: body not UTF-8 or over %d bytes", ErrInvalid, MaxBodySize)
	}
	if !e.Sent.IsZero() {
		ms := e.Sent.UnixMilli()
		if ms <= 0 {
			return nil, fmt.Errorf("%w: sent before 1970", ErrInvalid)
		}
		w.Sent = uint64(ms)
	}
	if e.Timer.Duration < 0 || e.Timer.Duration > MaxTimer || e.Timer.Duration%time.Second != 0 {
		return nil, fmt.Errorf("%w: timer out of range or not whole seconds", ErrInvalid)
	}
	w.TimerSeconds, w.TimerVersion = uint32(e.Timer.Duration/time.Second), e.Timer.Version
	if (e.Opening == nil) != (e.Commitment == nil) {
		return nil, fmt.Errorf("%w: franking opening without commitment or the reverse", ErrInvalid)
	}
	if e.Opening != nil {
		w.Opening, w.Commitment = e.Opening.Bytes(), e.Commitment[:]
	}
	if len(e.Attachments) > MaxAttachments || len(e.Receipts) > MaxReceipts {
		return nil, fmt.Errorf("%w: too many attachments or receipts", ErrInvalid)
	}
	for _, p := range e.Attachments {
		b, err := p.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("%w: attachment: %w", ErrInvalid, err)
		}
		if len(b) > wire.MaxEnvelopeAttachment {
			return nil, fmt.Errorf("%w: attachment pointer too large", ErrInvalid)
		}
		w.Attachments = append(w.Attachments, b)
	}
	for i := range e.Receipts {
		w.Receipts = append(w.Receipts, e.Receipts[i][:])
	}
	return pad(w.Marshal(make([]byte, 0, 64+len(e.Body)+len(e.unknown)))), nil
}

// Parse decodes a padded envelope, as Decrypt returns it. The result shares
// no memory with b.
func Parse(b []byte) (*Envelope, error) {
	if len(b) > maxPadded {
		return nil, invalid(ErrTooLarge)
	}
	b, ok := unpad(b)
	if !ok {
		return nil, invalid(fmt.Errorf("%w: bad padding", ErrMalformed))
	}
	w, err := wire.ParseEnvelope(b)
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		return nil, invalid(ErrTooLarge)
	case errors.Is(err, wire.ErrEnvelopeVersion):
		return nil, invalid(ErrUnsupportedVersion)
	case err != nil:
		return nil, invalid(ErrMalformed)
	}
	e := &Envelope{Kind: Kind(w.Kind), Body: string(w.Body)}
	switch e.Kind {
	case KindText, KindReceipt, KindTimer:
	default:
		return nil, invalid(fmt.Errorf("%w: unknown kind %d", ErrMalformed, w.Kind))
	}
	if w.ID == nil {
		return nil, invalid(fmt.Errorf("%w: no id", ErrMalformed))
	}
	copy(e.ID[:], w.ID)
	if !utf8.ValidString(e.Body) {
		return nil, invalid(fmt.Errorf("%w: body is not UTF-8", ErrMalformed))
	}
	if w.Sent != 0 {
		e.Sent = time.UnixMilli(int64(w.Sent))
	}
	e.Timer = Timer{Duration: time.Duration(w.TimerSeconds) * time.Second, Version: w.TimerVersion}
	if e.Timer.Duration > MaxTimer {
		return nil, invalid(fmt.Errorf("%w: timer too long", ErrMalformed))
	}
	if (w.Opening == nil) != (w.Commitment == nil) {
		return nil, invalid(fmt.Errorf("%w: franking opening without commitment", ErrMalformed))
	}
	if w.Opening != nil {
		o, err := franking.ParseOpening(w.Opening)
		if err != nil {
			return nil, invalid(fmt.Errorf("%w: franking opening", ErrMalformed))
		}
		c, err := franking.ParseCommitment(w.Commitment)
		if err != nil {
			return nil, invalid(fmt.Errorf("%w: franking commitment", ErrMalformed))
		}
		e.Opening, e.Commitment = &o, &c
	}
	for _, a := range w.Attachments {
		p, err := attachment.ParsePointer(a)
		if err != nil {
			return nil, invalid(fmt.Errorf("%w: attachment pointer", ErrMalformed))
		}
		e.Attachments = append(e.Attachments, p)
	}
	if len(w.Receipts) > 0 {
		e.Receipts = make([]ID, len(w.Receipts))
		for i, r := range w.Receipts {
			copy(e.Receipts[i][:], r)
		}
	}
	if len(w.Unknown) > 0 {
		e.unknown = append([]byte(nil), w.Unknown...)
	}
	return e, nil
}

// HasUnknownFields reports whether e carries fields of a newer version,
// which Marshal writes back unchanged.
func (e *Envelope) HasUnknownFields() bool { return len(e.unknown) > 0 }

// invalid puts a message-caused error in the invalid-message class.
func invalid(err error) error { return &messageError{err} }

type messageError struct{ err error }

func (e *messageError) Error() string { return e.err.Error() }
func (e *messageError) Unwrap() []error {
	return []error{e.err, session.ErrInvalidMessage}
}

func pad(b []byte) []byte {
	b = append(b, 0x80)
	for len(b)%PaddingBlock != 0 {
		b = append(b, 0)
	}
	return b
}

func unpad(b []byte) ([]byte, bool) {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case 0:
		case 0x80:
			return b[:i], true
		default:
			return nil, false
		}
	}
	return nil, false
}
