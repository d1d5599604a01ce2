package session

import (
	"errors"
)

// The error contract. Every error Decrypt, DecryptWith and DecryptBatch
// return falls in exactly one of three classes (the package documentation
// has the table):
//
//   - the message is at fault: errors.Is(err, ErrInvalidMessage). Drop it
//     (acknowledge it to the server); trying it again gives the same error.
//     The specific cause stays reachable: errors.Is(err,
//     ratchet.ErrAuthentication), errors.Is(err, ErrUnknownPreKey), ...
//   - the sender's identity key is not the trusted one:
//     errors.Is(err, ErrUntrustedIdentity), with an *UntrustedIdentityError
//     that carries the key and the new safety number. Hold the message until
//     the user decides.
//   - anything else is a local fault (the store, a cancelled context, the
//     system's random source): nothing was committed; retry later.

// ErrInvalidMessage matches every error caused by a received message:
// malformed, forged, replayed, too far ahead, of another version, with bad
// SPQR data, naming an unknown prekey, for a session this account does not
// have, and so on.
var ErrInvalidMessage = errors.New("session: invalid message")

// messageError is a fault of a received message. It matches
// ErrInvalidMessage and unwraps to the cause.
type messageError struct{ cause error }

func (e *messageError) Error() string        { return "session: invalid message: " + e.cause.Error() }
func (e *messageError) Is(target error) bool { return target == ErrInvalidMessage }
func (e *messageError) Unwrap() error        { return e.cause }

// invalid classifies cause as a fault of the message.
func invalid(cause error) error {
	if cause == nil || errors.Is(cause, ErrInvalidMessage) {
		return cause
	}
	return &messageError{cause: cause}
}

// Causes of ErrInvalidMessage that are the session layer's own. The
// ratchet's causes (ratchet.ErrAuthentication, ratchet.ErrDuplicateMessage,
// ...), ErrUnknownPreKey, ErrKyberPreKeyReused and ErrNoSession complete the
// list.
var (
	// ErrUnknownMessageType: the message's type is neither MessageWhisper
	// nor MessagePreKey (or the message is nil).
	ErrUnknownMessageType = errors.New("session: unknown message type")
	// ErrMalformedPreKeyMessage: the PreKeySignalMessage framing does not
	// parse or lacks a required field.
	ErrMalformedPreKeyMessage = errors.New("session: malformed PreKey message")
	// ErrInvalidKey: the PreKey message's identity key does not parse, or
	// its base key is not canonical and torsion-free.
	ErrInvalidKey = errors.New("session: invalid key in PreKey message")
	// ErrInvalidKeyAgreement: a key in the PreKey message is of low order
	// (an all-zero Diffie-Hellman value).
	ErrInvalidKeyAgreement = errors.New("session: invalid key agreement (low-order key)")
	// ErrInvalidKyberCiphertext: the PreKey message's Kyber ciphertext
	// does not decapsulate.
	ErrInvalidKyberCiphertext = errors.New("session: invalid Kyber ciphertext")
	// ErrIdentityMismatch: a PreKey message of an existing session carries
	// another identity key than that session's.
	ErrIdentityMismatch = errors.New("session: identity key differs from the session's")
	// errNoMatchingSession is the cause when no session was tried.
	errNoMatchingSession = errors.New("session: message for an unknown session")
)
