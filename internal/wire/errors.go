package wire

import "errors"

// MaxMessageSize bounds the size, in bytes, of a PreKeySignalMessage this
// package decodes, version byte included. It leaves room for a wrapped
// SignalMessage of up to 1 MiB (the bound the ratchet package puts on a
// SignalMessage, which a session's first messages must fit inside) plus the
// PQXDH fields around it: a Kyber1024 ciphertext (1,569 bytes), two public keys
// and the IDs, about 1.7 KB in all. The two bounds must move together.
const MaxMessageSize = 1<<20 + 4<<10

// maxFingerprintsSize bounds a scanned CombinedFingerprints. libsignal's is 74
// bytes; the slack is for fields a future version may add.
const maxFingerprintsSize = 4 << 10

var (
	// ErrTooLarge is returned for input longer than the message's bound
	// (MaxMessageSize for a PreKeySignalMessage).
	ErrTooLarge = errors.New("wire: message too large")
	// ErrMalformed is returned for input that is not a well-formed encoding of
	// the message: an empty input, truncated or overlong varints, lengths
	// past the end of the input, known fields with the wrong wire type,
	// groups, or missing required fields (see ErrMissingField).
	ErrMalformed = errors.New("wire: malformed message")
	// ErrMissingField is returned when a field the message requires is
	// absent. Errors that match it also match ErrMalformed.
	ErrMissingField = errors.New("wire: missing required field")
	// ErrLegacyVersion is returned for a message version below 3, which
	// predates the current protocol and is no longer supported (libsignal's
	// LegacyCiphertextVersion).
	ErrLegacyVersion = errors.New("wire: legacy message version")
	// ErrUnsupportedVersion is returned for message version 3, the pre-Kyber
	// X3DH protocol that libsignal no longer accepts for new sessions.
	ErrUnsupportedVersion = errors.New("wire: unsupported message version 3 (X3DH)")
	// ErrUnknownVersion is returned for a message version above
	// CurrentVersion (libsignal's UnrecognizedCiphertextVersion).
	ErrUnknownVersion = errors.New("wire: unknown message version")
)

// missingFieldError names a required field that is absent. It matches both
// ErrMissingField and ErrMalformed.
type missingFieldError struct {
	field string
}

func (e *missingFieldError) Error() string {
	return "wire: missing required field " + e.field
}

func (e *missingFieldError) Is(target error) bool {
	return target == ErrMissingField || target == ErrMalformed
}
