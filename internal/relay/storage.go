package relay

import (
	"context"
	"time"
)

// Storage is where a Server keeps accounts, prekeys and mailboxes. It holds
// nothing secret: public keys and ciphertext. Every method takes a context
// and is safe for concurrent use; each is atomic (all or nothing) and
// durable once it returns nil. Byte slices passed in may be kept only as
// copies; those returned are the caller's.
//
// OpenSQLite returns the embedded implementation. Another (PostgreSQL, say)
// must keep the same contract, which the tests of this package
// exercise through testStorage in storage_test.go.
type Storage interface {
	// Register binds a to identityKey. It returns nil if a is free (and
	// binds it) or already bound to the same key, and ErrAddressTaken if it
	// is bound to another key.
	Register(ctx context.Context, a Address, identityKey []byte, now time.Time) error

	// IdentityKey returns the key a is bound to, or ErrUnknownAddress.
	IdentityKey(ctx context.Context, a Address) ([]byte, error)

	// PutKeys stores k for a, as Keys documents: a non-zero RegistrationID
	// and a non-nil SignedPreKey or LastResortKyber replace the stored ones;
	// one-time keys are added, replacing any of the same kind and id. If a
	// would then hold more than maxOneTime one-time keys of either kind,
	// PutKeys changes nothing and returns ErrTooManyPreKeys. The caller has
	// validated k. ErrUnknownAddress if a is not registered.
	PutKeys(ctx context.Context, a Address, k *Keys, maxOneTime int) error

	// TakeBundle returns a bundle for a, atomically removing the one-time
	// EC prekey and the one-time Kyber prekey it contains, so that no two
	// calls ever return the same one-time key. One-time keys are handed out
	// in the order they were first stored. With no one-time EC prekey left,
	// the bundle has none (PreKey nil); with no one-time Kyber prekey left,
	// it has the last-resort Kyber key. ErrNoKeys (and nothing removed) if a
	// has no signed prekey, or neither Kyber key; ErrUnknownAddress if a is
	// not registered.
	TakeBundle(ctx context.Context, a Address) (*Bundle, error)

	// KeyCounts returns how many one-time EC and Kyber prekeys a has left
	// (the last-resort key is not counted).
	KeyCounts(ctx context.Context, a Address) (ec, kyber int, err error)

	// PutMessage appends e to to's mailbox and returns its sequence number:
	// positive, and increasing with each message accepted for to, in the
	// order the calls take effect. It returns ErrMailboxFull, storing
	// nothing, if the mailbox already holds maxMailbox messages, and
	// ErrUnknownAddress if to is not registered. e.ID is unique.
	PutMessage(ctx context.Context, to Address, e *Envelope, maxMailbox int) (seq int64, err error)

	// Messages returns the messages in to's mailbox with a sequence number
	// above after, in sequence order: at most limit of them, and no more
	// than maxBytes of bodies in all except that the first is returned
	// whatever its size. more reports whether the mailbox holds further
	// messages past the last one returned.
	Messages(ctx context.Context, to Address, after int64, limit, maxBytes int) (msgs []StoredEnvelope, more bool, err error)

	// DeleteMessage removes the message with the given id from to's
	// mailbox, or returns ErrUnknownMessage if it holds no such message
	// (whether or not another mailbox does).
	DeleteMessage(ctx context.Context, to Address, id string) error
}

// StoredEnvelope is a message with its position in its mailbox.
type StoredEnvelope struct {
	Envelope
	Seq int64
}
