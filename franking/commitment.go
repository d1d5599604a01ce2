package franking

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
)

// OpeningSize is the size of an opening, the per-message franking key.
const OpeningSize = 32

// CommitmentSize is the size of a commitment.
const CommitmentSize = sha256.Size

// An Opening is a message's franking key: 32 bytes drawn at random for that
// message alone, carried inside the encrypted payload, and handed to the
// relay only in a report. It is secret until then: whoever holds it can
// check (and so can compute) commitments for any content.
type Opening struct {
	k [OpeningSize]byte
}

// NewOpening draws a fresh opening from crypto/rand. Use one per message and
// per recipient device, never twice.
func NewOpening() Opening {
	var o Opening
	_, _ = rand.Read(o.k[:]) // crypto/rand.Read never returns an error; it crashes the program instead
	return o
}

// ParseOpening reads an opening from the 32 bytes of a payload or a report.
// It returns ErrInvalidKey for another size or the all-zero opening (the
// zero value, which is never drawn).
func ParseOpening(b []byte) (Opening, error) {
	var o Opening
	if len(b) != OpeningSize {
		return o, ErrInvalidKey
	}
	copy(o.k[:], b)
	if o.isZero() {
		return Opening{}, ErrInvalidKey
	}
	return o, nil
}

// Bytes returns a copy of the opening's 32 bytes.
func (o Opening) Bytes() []byte { return append([]byte(nil), o.k[:]...) }

func (o Opening) isZero() bool {
	var zero [OpeningSize]byte
	return subtle.ConstantTimeCompare(o.k[:], zero[:]) == 1
}

// Commit returns the commitment to c under o:
//
//	commitment = HMAC-SHA256(opening, c.MarshalBinary())
//
// HMAC-SHA256 under a fixed-size key is a commitment: binding, because two
// (opening, content) pairs with one commitment give a SHA-256 collision
// (the outer hash inputs differ in their first block when the openings
// differ, the inner ones when the contents do), and hiding, because under a
// fresh random key HMAC is a pseudorandom function. The version byte that
// opens the encoding separates this use of the opening from any other.
// Commit returns ErrInvalidContent if c is out of bounds and ErrInvalidKey
// for the zero Opening.
func (o Opening) Commit(c *Content) (Commitment, error) {
	if o.isZero() {
		return Commitment{}, ErrInvalidKey
	}
	enc, err := c.MarshalBinary()
	if err != nil {
		return Commitment{}, err
	}
	return commit(&o, enc), nil
}

// commit is HMAC-SHA256(opening, encoding) of an already validated
// encoding.
func commit(o *Opening, enc []byte) Commitment {
	m := hmac.New(sha256.New, o.k[:])
	m.Write(enc)
	return Commitment(m.Sum(nil))
}

// redactedOpening is what every fmt verb prints for an Opening.
const redactedOpening = "franking.Opening(REDACTED)"

// String returns a fixed placeholder; opening bytes are never printed.
// The formatting methods have value receivers so that a copy, a pointer or
// a struct field of either kind never prints the bytes.
func (Opening) String() string { return redactedOpening }

// GoString returns a fixed placeholder for %#v.
func (Opening) GoString() string { return redactedOpening }

// Format prints the placeholder for every verb (%v, %x, %q, ...).
func (Opening) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedOpening) }

// A Commitment is the franking commitment of one message. It is public: the
// sender sends it beside the ciphertext, where the relay reads and tags it,
// and repeats it inside the encrypted payload.
type Commitment [CommitmentSize]byte

// ParseCommitment reads a commitment; it returns ErrMalformed for any size
// but 32.
func ParseCommitment(b []byte) (Commitment, error) {
	if len(b) != CommitmentSize {
		return Commitment{}, ErrMalformed
	}
	return Commitment(b), nil
}

// Equal reports whether c and d are equal, in constant time.
func (c Commitment) Equal(d Commitment) bool { return hmac.Equal(c[:], d[:]) }

// Check is the recipient's check, to run after decrypting a message and
// before showing it. outer is the commitment that came beside the
// ciphertext (the one the relay tagged), inner and o are the commitment and
// opening from the decrypted payload, and c is the content rebuilt from the
// payload and from what the recipient knows (sender and recipient). It
// returns nil only if outer equals inner and inner opens to c under o, so
// that a message the recipient accepts is one whose report the relay will
// verify (sender binding). Any error means: do not show the message.
// ErrCommitment is the mismatch; ErrInvalidContent and ErrInvalidKey a
// payload that could never have been committed to.
//
// Both comparisons always run and are constant time.
func Check(outer, inner Commitment, o Opening, c *Content) error {
	got, err := o.Commit(c)
	if err != nil {
		return err
	}
	same := subtle.ConstantTimeCompare(outer[:], inner[:]) & subtle.ConstantTimeCompare(got[:], inner[:])
	if same != 1 {
		return ErrCommitment
	}
	return nil
}

var (
	_ fmt.Stringer   = Opening{}
	_ fmt.GoStringer = Opening{}
	_ fmt.Formatter  = Opening{}
	_ fmt.Formatter  = (*Opening)(nil)
)
