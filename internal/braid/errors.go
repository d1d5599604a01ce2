package braid

import (
	"errors"
	"fmt"
)

// Errors. Every error Recv returns is caused by the message it was given (a
// message fault): Recv draws no randomness and touches nothing else. None
// carries key material.
var (
	// ErrFutureEpoch: the message is from an epoch the state cannot be in
	// yet. Recv returns it as an *EpochError.
	ErrFutureEpoch = errors.New("braid: epoch not in valid range")
	// ErrAuthentication: the header MAC or the ciphertext MAC does not
	// verify (for the ciphertext, also a ciphertext that decapsulates to
	// another key).
	ErrAuthentication = errors.New("braid: MAC verification failed")
	// ErrErroneousData: the peer's ek vector does not match its header's
	// hash, or fails FIPS 203's modulus check. The error also matches
	// incmlkem.ErrKeyHash or incmlkem.ErrKeyModulus.
	ErrErroneousData = errors.New("braid: erroneous data received from remote party")
	// ErrMalformedMessage: the Message has an unknown payload type or
	// epoch 0 (the SPQR wire parser rejects both before the braid sees
	// them).
	ErrMalformedMessage = errors.New("braid: malformed message")
	// ErrMalformedState: UnmarshalBinary was given bytes that are not a
	// state this version wrote.
	ErrMalformedState = errors.New("braid: malformed state")
)

// EpochError reports a message from a future epoch: Epoch is the
// message's, Current the state's. It matches ErrFutureEpoch.
type EpochError struct {
	Epoch, Current uint64
}

func (e *EpochError) Error() string {
	return fmt.Sprintf("braid: epoch not in valid range: %d (current %d)", e.Epoch, e.Current)
}

// Unwrap returns ErrFutureEpoch.
func (e *EpochError) Unwrap() error { return ErrFutureEpoch }
