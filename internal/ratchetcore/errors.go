package ratchetcore

import "errors"

// Errors returned by Decrypt and the parsers. Package ratchet re-exports
// them, so callers branch on ratchet.ErrX with errors.Is; none of them
// carries key material or message bytes.
var (
	// ErrMalformedMessage is returned for bytes that do not parse as a
	// SignalMessage: truncated, oversized, missing required fields, or a
	// ratchet key that is not a valid public key.
	ErrMalformedMessage = errors.New("ratchet: malformed message")
	// ErrUnsupportedVersion is returned for a message whose version is not
	// 4, the only version Sotto speaks (legacy 2 and 3 and unknown future
	// versions alike).
	ErrUnsupportedVersion = errors.New("ratchet: unsupported message version")
	// ErrAuthentication is returned when a message's MAC does not verify.
	// It is deliberately uninformative.
	ErrAuthentication = errors.New("ratchet: message authentication failed")
	// ErrBadPadding is returned when an authenticated message decrypts to
	// bytes with invalid PKCS#7 padding (the sender is broken or hostile).
	ErrBadPadding = errors.New("ratchet: invalid padding")
	// ErrDuplicateMessage is returned for a message whose key was already
	// used or is no longer stored: a replay, or a message older than the
	// skipped-key window.
	ErrDuplicateMessage = errors.New("ratchet: duplicate or expired message")
	// ErrTooFarAhead is returned when a message's counter is more than
	// MaxForwardJump ahead of its chain.
	ErrTooFarAhead = errors.New("ratchet: message too far ahead")
	// ErrAddressMismatch is returned by Decrypt when a message carries an
	// addresses field that differs from the expected sender and recipient.
	ErrAddressMismatch = errors.New("ratchet: message addresses do not match")
	// ErrInvalidKey is returned when a ratchet public key yields an
	// all-zero X25519 output (a key of low order).
	ErrInvalidKey = errors.New("ratchet: invalid ratchet key")
	// ErrMalformedState is returned by UnmarshalBinary for bytes that are
	// not a state this version wrote.
	ErrMalformedState = errors.New("ratchet: malformed state")
	// ErrPlaintextTooLarge is returned by Encrypt for plaintexts over
	// MaxPlaintextSize.
	ErrPlaintextTooLarge = errors.New("ratchet: plaintext too large")
	// ErrChainExhausted is returned by Encrypt when the sending chain has
	// used all 2^32 counters (a new session is needed).
	ErrChainExhausted = errors.New("ratchet: sending chain exhausted")
)

// ErrSPQR matches every error about the Sparse Post-Quantum Ratchet part of
// a message; errors.Is with one of the reasons below tells which.
var ErrSPQR = errors.New("ratchet: post-quantum ratchet error")

// Reasons of an SPQR error, each also matching ErrSPQR.
var (
	// ErrSPQRMinimumVersion: the message carries no SPQR data (or version
	// 0). SPQR is mandatory, as in libsignal; there is no downgrade.
	ErrSPQRMinimumVersion = errors.New("minimum version not met")
	// ErrSPQRVersion: the SPQR version byte is unknown.
	ErrSPQRVersion = errors.New("version mismatch")
	// ErrSPQRDecode: the SPQR message is malformed, or names an epoch
	// before the current one.
	ErrSPQRDecode = errors.New("message decode failed")
	// ErrSPQRBraidRequired: the peer advanced the ML-KEM braid past epoch
	// 1, which needs the braid; this version implements only the SPQR
	// symmetric chain.
	ErrSPQRBraidRequired = errors.New("peer advanced the ML-KEM braid; braid not supported by this version")
	// ErrSPQRKeyJump: the SPQR index is more than MaxForwardJump ahead.
	ErrSPQRKeyJump = errors.New("key jump too large")
	// ErrSPQRKeyTrimmed: the SPQR index is more than MaxSkippedKeys behind
	// the receiving counter (refused even while its key is still stored).
	ErrSPQRKeyTrimmed = errors.New("key trimmed")
	// ErrSPQRKeyUsed: the SPQR key for this index was already used.
	ErrSPQRKeyUsed = errors.New("key already requested")
)

// spqrError is an SPQR failure: it matches ErrSPQR and unwraps to its
// reason. One value per reason is made up front, so a failing message
// allocates nothing.
type spqrError struct{ reason error }

func (e *spqrError) Error() string        { return "ratchet: post-quantum ratchet: " + e.reason.Error() }
func (e *spqrError) Is(target error) bool { return target == ErrSPQR }
func (e *spqrError) Unwrap() error        { return e.reason }

var (
	errSPQRMinimumVersion = &spqrError{ErrSPQRMinimumVersion}
	errSPQRVersion        = &spqrError{ErrSPQRVersion}
	errSPQRDecode         = &spqrError{ErrSPQRDecode}
	errSPQRBraidRequired  = &spqrError{ErrSPQRBraidRequired}
	errSPQRKeyJump        = &spqrError{ErrSPQRKeyJump}
	errSPQRKeyTrimmed     = &spqrError{ErrSPQRKeyTrimmed}
	errSPQRKeyUsed        = &spqrError{ErrSPQRKeyUsed}
)
