package ratchet

import "github.com/sotto-im/sotto/internal/ratchetcore"

// Errors of Decrypt and ParseSignalMessage, each caused by the message, and
// of the other methods. Callers branch on them with errors.Is; none of them
// carries key material or message bytes. Package session returns these too,
// wrapped in its own classes (session.ErrInvalidMessage).
var (
	// ErrMalformedMessage: bytes that do not parse as a SignalMessage
	// (truncated, oversized, missing required fields, a ratchet key that is
	// not a valid public key), or a SignalMessage not made by
	// ParseSignalMessage.
	ErrMalformedMessage = ratchetcore.ErrMalformedMessage
	// ErrUnsupportedVersion: a message whose version is not 4, the only
	// version Sotto speaks (legacy 2 and 3 and unknown future versions
	// alike).
	ErrUnsupportedVersion = ratchetcore.ErrUnsupportedVersion
	// ErrAuthentication: the message's MAC does not verify. It is
	// deliberately uninformative.
	ErrAuthentication = ratchetcore.ErrAuthentication
	// ErrBadPadding: an authenticated message decrypts to bytes with
	// invalid PKCS#7 padding (the sender is broken or hostile).
	ErrBadPadding = ratchetcore.ErrBadPadding
	// ErrDuplicateMessage: the message's key was already used or is no
	// longer stored: a replay, or a message older than the skipped-key
	// window.
	ErrDuplicateMessage = ratchetcore.ErrDuplicateMessage
	// ErrTooFarAhead: the message's counter is more than MaxForwardJump
	// ahead of its chain.
	ErrTooFarAhead = ratchetcore.ErrTooFarAhead
	// ErrAddressMismatch: the message carries an addresses field that
	// differs from the expected sender and recipient.
	ErrAddressMismatch = ratchetcore.ErrAddressMismatch
	// ErrInvalidKey: the message's ratchet key gives an all-zero X25519
	// output (a key of low order).
	ErrInvalidKey = ratchetcore.ErrInvalidKey
	// ErrMalformedState: UnmarshalBinary was given bytes that are not a
	// state this version wrote.
	ErrMalformedState = ratchetcore.ErrMalformedState
	// ErrPlaintextTooLarge: Encrypt was given more than MaxPlaintextSize
	// bytes.
	ErrPlaintextTooLarge = ratchetcore.ErrPlaintextTooLarge
	// ErrChainExhausted: the sending chain has used all 2^32 counters (a
	// new session is needed).
	ErrChainExhausted = ratchetcore.ErrChainExhausted
)

// ErrSPQR matches every failure of the Sparse Post-Quantum Ratchet part of
// a message; the reason, one of the ErrSPQR* errors below, matches too:
// errors.Is(err, ratchet.ErrSPQRKeyUsed).
var ErrSPQR = ratchetcore.ErrSPQR

// Reasons of an ErrSPQR failure.
var (
	// ErrSPQRMinimumVersion: the message carries no SPQR data (or version
	// 0). SPQR is mandatory, as in libsignal; there is no downgrade.
	ErrSPQRMinimumVersion = ratchetcore.ErrSPQRMinimumVersion
	// ErrSPQRVersion: the SPQR version byte is unknown.
	ErrSPQRVersion = ratchetcore.ErrSPQRVersion
	// ErrSPQRDecode: the SPQR message is malformed, or names an epoch
	// before the current one.
	ErrSPQRDecode = ratchetcore.ErrSPQRDecode
	// ErrSPQRBraidRequired: the peer advanced the ML-KEM braid past epoch
	// 1, which this version does not follow.
	ErrSPQRBraidRequired = ratchetcore.ErrSPQRBraidRequired
	// ErrSPQRKeyJump: the SPQR index is more than MaxForwardJump ahead.
	ErrSPQRKeyJump = ratchetcore.ErrSPQRKeyJump
	// ErrSPQRKeyTrimmed: the SPQR index is more than MaxSkippedKeys behind
	// the receiving counter (libsignal's "Key trimmed").
	ErrSPQRKeyTrimmed = ratchetcore.ErrSPQRKeyTrimmed
	// ErrSPQRKeyUsed: the SPQR key for this index was already used.
	ErrSPQRKeyUsed = ratchetcore.ErrSPQRKeyUsed
)
