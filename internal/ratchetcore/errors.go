package ratchet

import (
	"errors"
	"fmt"
)

// Errors returned by Decrypt and the parsers. Callers branch on them with
// errors.Is; none of them carries key material.
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
	// ErrMalformedState is returned by UnmarshalBinary for bytes that are
	// not a state this version wrote.
	ErrMalformedState = errors.New("ratchet: malformed state")
	// ErrPlaintextTooLarge is returned by Encrypt for plaintexts over
	// MaxPlaintextSize.
	ErrPlaintextTooLarge = errors.New("ratchet: plaintext too large")
)

// SPQRError reports that the Sparse Post-Quantum Ratchet part of a message
// could not be processed. Reason says why; Is matches the sentinel reasons
// below, so callers can write errors.Is(err, ratchet.ErrSPQRBraidRequired).
type SPQRError struct {
	Reason error
}

func (e *SPQRError) Error() string { return fmt.Sprintf("ratchet: post-quantum ratchet: %v", e.Reason) }

// Unwrap returns the reason.
func (e *SPQRError) Unwrap() error { return e.Reason }

// Reasons carried by an SPQRError.
var (
	// ErrSPQRMinimumVersion: the message carries no SPQR data (or version
	// 0). SPQR is mandatory, as in libsignal; there is no downgrade.
	ErrSPQRMinimumVersion = errors.New("minimum version not met")
	// ErrSPQRVersion: the SPQR version byte is unknown.
	ErrSPQRVersion = errors.New("version mismatch")
	// ErrSPQRDecode: the SPQR message is malformed.
	ErrSPQRDecode = errors.New("message decode failed")
	// ErrSPQRBraidRequired: the peer advanced the ML-KEM braid past epoch
	// 1, which needs the braid; this version implements only the SPQR
	// symmetric chain.
	ErrSPQRBraidRequired = errors.New("peer advanced the ML-KEM braid; braid not supported by this version")
	// ErrSPQRKeyJump: the SPQR index is too far ahead.
	ErrSPQRKeyJump = errors.New("key jump too large")
	// ErrSPQRKeyUsed: the SPQR key for this index was already used or
	// trimmed.
	ErrSPQRKeyUsed = errors.New("key already requested or trimmed")
)

func spqrErr(reason error) error { return &SPQRError{Reason: reason} }
