package relay

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Errors a Client returns (wrapped in *Error, so test with errors.Is) and a
// Storage returns as they are. Each has a fixed HTTP status and JSON error
// code, listed in PROTOCOL.md.
var (
	// ErrUnauthorized is any authentication failure: a bad or replayed
	// challenge signature, or a missing, unknown or expired token (401).
	ErrUnauthorized = errors.New("relay: authentication failed")
	// ErrUnknownAddress is returned for an address nobody registered (404).
	ErrUnknownAddress = errors.New("relay: unknown address")
	// ErrAddressTaken is returned when registering an address that another
	// identity key holds (409).
	ErrAddressTaken = errors.New("relay: address registered to another identity key")
	// ErrNoKeys is returned by FetchBundle for a device that has not
	// uploaded a signed prekey and a Kyber prekey (404).
	ErrNoKeys = errors.New("relay: no prekeys available")
	// ErrUnknownMessage is returned by Ack for a message that is not in the
	// caller's mailbox: already acknowledged, or someone else's (404).
	ErrUnknownMessage = errors.New("relay: no such message")
	// ErrMessageTooLarge is returned for a message body, or a request, over
	// the server's limit (413).
	ErrMessageTooLarge = errors.New("relay: message too large")
	// ErrMailboxFull is returned by Send when the recipient's mailbox holds
	// Options.MaxMailbox messages (507).
	ErrMailboxFull = errors.New("relay: recipient's mailbox is full")
	// ErrTooManyPreKeys is returned by UploadKeys when the device would hold
	// more than Options.MaxPreKeys one-time prekeys of a kind (507).
	ErrTooManyPreKeys = errors.New("relay: too many one-time prekeys")
	// ErrRateLimited is returned when the caller exceeds its request rate,
	// its requests in progress at once, its network's outstanding
	// challenges, or its number of WebSocket connections (429).
	ErrRateLimited = errors.New("relay: rate limited")
	// ErrBadRequest is returned for a malformed request: invalid JSON, an
	// invalid address, a key of the wrong size or a bad prekey signature
	// (400).
	ErrBadRequest = errors.New("relay: bad request")
	// ErrUnavailable is returned when the server is shutting down (503).
	ErrUnavailable = errors.New("relay: server unavailable")
	// ErrInternal is returned for a failure inside the server, such as its
	// storage (500).
	ErrInternal = errors.New("relay: internal server error")
)

// The JSON error codes of the protocol, one per sentinel.
const (
	codeUnauthorized   = "unauthorized"
	codeUnknownAddress = "unknown_address"
	codeAddressTaken   = "address_taken"
	codeNoKeys         = "no_keys"
	codeUnknownMessage = "unknown_message"
	codeTooLarge       = "message_too_large"
	codeMailboxFull    = "mailbox_full"
	codeTooManyPreKeys = "too_many_prekeys"
	codeRateLimited    = "rate_limited"
	codeBadRequest     = "bad_request"
	codeUnavailable    = "unavailable"
	codeInternal       = "internal"
)

// errorKind ties a sentinel to its code and status.
type errorKind struct {
	err    error
	code   string
	status int
}

var errorKinds = []errorKind{
	{ErrUnauthorized, codeUnauthorized, http.StatusUnauthorized},
	{ErrUnknownAddress, codeUnknownAddress, http.StatusNotFound},
	{ErrAddressTaken, codeAddressTaken, http.StatusConflict},
	{ErrNoKeys, codeNoKeys, http.StatusNotFound},
	{ErrUnknownMessage, codeUnknownMessage, http.StatusNotFound},
	{ErrMessageTooLarge, codeTooLarge, http.StatusRequestEntityTooLarge},
	{ErrMailboxFull, codeMailboxFull, http.StatusInsufficientStorage},
	{ErrTooManyPreKeys, codeTooManyPreKeys, http.StatusInsufficientStorage},
	{ErrRateLimited, codeRateLimited, http.StatusTooManyRequests},
	{ErrBadRequest, codeBadRequest, http.StatusBadRequest},
	{ErrUnavailable, codeUnavailable, http.StatusServiceUnavailable},
	{ErrInternal, codeInternal, http.StatusInternalServerError},
}

// kindOf returns the kind of err: the first sentinel it wraps, else
// ErrInternal.
func kindOf(err error) errorKind {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k
		}
	}
	return errorKinds[len(errorKinds)-1]
}

// Error is an error response of the relay, as a Client reports it. It
// unwraps to the sentinel of its code (ErrMailboxFull, ...), or to nothing
// for a code this package does not know.
type Error struct {
	Status     int           // HTTP status
	Code       string        // JSON error code, such as "mailbox_full"
	Message    string        // the server's explanation, for people
	RetryAfter time.Duration // from Retry-After on 429 and 503, else 0
}

func (e *Error) Error() string {
	s := "relay: " + strconv.Itoa(e.Status) + " " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the sentinel for e.Code.
func (e *Error) Unwrap() error {
	for _, k := range errorKinds {
		if k.code == e.Code {
			return k.err
		}
	}
	return nil
}
