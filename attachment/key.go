package attachment

import (
	"fmt"
	"io"

	"github.com/sotto-im/sotto/internal/attachblob"
)

// KeySize is the size of an attachment key: a 32-byte AES-256 key followed
// by a 32-byte HMAC-SHA256 key.
const KeySize = attachblob.KeySize

// A Key is the secret key of one attachment, drawn at random by Encrypt and
// carried in the Pointer, inside the encrypted message. It prints as a
// placeholder under every fmt verb.
type Key struct {
	k [KeySize]byte
}

// ParseKey reads a key from its 64 bytes; it returns ErrMalformed for any
// other size.
func ParseKey(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, ErrMalformed
	}
	var k Key
	copy(k.k[:], b)
	return k, nil
}

// Bytes returns a copy of the key's 64 bytes.
func (k Key) Bytes() []byte { return append([]byte(nil), k.k[:]...) }

// Equal reports whether k and j are the same key, in constant time.
func (k Key) Equal(j Key) bool { return constantTimeEqual(k.k[:], j.k[:]) }

const redactedKey = "attachment.Key(REDACTED)"

// String returns a fixed placeholder. The formatting methods have value
// receivers, so a copy, a pointer or a field of either kind never prints
// the key.
func (Key) String() string { return redactedKey }

// GoString returns the placeholder for %#v.
func (Key) GoString() string { return redactedKey }

// Format prints the placeholder for every verb.
func (Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedKey) }

var (
	_ fmt.Formatter  = Key{}
	_ fmt.Formatter  = (*Key)(nil)
	_ fmt.GoStringer = Key{}
)
