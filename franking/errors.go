package franking

import "errors"

// Errors returned by the package. Callers branch on them with errors.Is;
// none of them carries message, key or tag bytes.
var (
	// ErrMalformed is returned for bytes that do not parse: a content
	// encoding, report, tag, opening or commitment that is truncated, has
	// trailing bytes, an unknown version, fields out of order or out of
	// bounds.
	ErrMalformed = errors.New("franking: malformed encoding")
	// ErrInvalidContent is returned when a Content or Context to be encoded
	// is out of bounds: an empty or oversized address, an address that is
	// not UTF-8, a time before 1970, an oversized body or too many
	// attachments.
	ErrInvalidContent = errors.New("franking: content out of bounds")
	// ErrInvalidKey is returned for an opening or relay key of the wrong
	// size or all zero, and by NewRelay for keys that share an id.
	ErrInvalidKey = errors.New("franking: invalid key")
	// ErrCommitment is returned by Check when the commitment the relay saw
	// differs from the one inside the payload, or does not open to the
	// decrypted content. The recipient must not show the message: the
	// sender's software is broken or hostile (or the relay altered the
	// commitment). It is deliberately uninformative.
	ErrCommitment = errors.New("franking: commitment does not open to the message")
	// ErrInvalidReport is returned by Relay.Verify when a report's tag does
	// not verify: the content, opening, sender, recipient or time is not
	// what the relay tagged. It is deliberately uninformative.
	ErrInvalidReport = errors.New("franking: report does not verify")
	// ErrUnknownKey is returned by Relay.Verify for a tag made under a relay
	// key the relay no longer (or never) held. The report cannot be
	// verified by anyone.
	ErrUnknownKey = errors.New("franking: tag names a relay key the relay does not hold")
)
