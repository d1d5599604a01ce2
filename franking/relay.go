package franking

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"time"
)

// RelayKeySize is the size of a relay key.
const RelayKeySize = 32

// TagSize is the size of an encoded Tag: BE32(key id) || 32-byte MAC.
const TagSize = 4 + sha256.Size

// tagLabel opens every reporting tag's input, so that a relay key never
// MACs anything that could be taken for another use of it.
const tagLabel = "sotto franking reporting tag\x00"

// A RelayKey is a key only the relay holds: it makes and verifies reporting
// tags. Each has an id, carried in every tag it makes, so that the relay can
// rotate keys and still verify reports on messages tagged before.
type RelayKey struct {
	id uint32
	k  [RelayKeySize]byte
}

// GenerateRelayKey draws a new relay key from crypto/rand. id must differ
// from the ids of the keys the relay keeps for verification.
func GenerateRelayKey(id uint32) RelayKey {
	k := RelayKey{id: id}
	_, _ = rand.Read(k.k[:]) // never fails: crypto/rand crashes the program instead
	return k
}

// NewRelayKey makes a relay key from its id and the 32 bytes the relay
// stored (Bytes). It returns ErrInvalidKey for another size or an all-zero
// key.
func NewRelayKey(id uint32, key []byte) (RelayKey, error) {
	var zero [RelayKeySize]byte
	if len(key) != RelayKeySize || subtle.ConstantTimeCompare(key, zero[:]) == 1 {
		return RelayKey{}, ErrInvalidKey
	}
	k := RelayKey{id: id}
	copy(k.k[:], key)
	return k, nil
}

// ID returns the key's id.
func (k RelayKey) ID() uint32 { return k.id }

// Bytes returns a copy of the key's 32 secret bytes, for the relay to store.
func (k RelayKey) Bytes() []byte { return append([]byte(nil), k.k[:]...) }

// String returns a placeholder naming only the key id.
func (k RelayKey) String() string {
	return "franking.RelayKey(id " + strconv.FormatUint(uint64(k.id), 10) + ", REDACTED)"
}

// GoString is String, for %#v.
func (k RelayKey) GoString() string { return k.String() }

// Format prints String for every verb; key bytes are never printed.
func (k RelayKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// Context is what the relay binds a commitment to when it accepts a
// message: the authenticated sender, the recipient, and the relay's own
// clock. Sender and Recipient are in the same form as Content's.
type Context struct {
	Sender, Recipient string
	// Received is when the relay accepted the message; it is bound at
	// millisecond precision and must be delivered to the recipient exactly
	// (as Unix milliseconds, or a time of millisecond precision).
	Received time.Time
}

// validate checks the context's bounds (those of Content's addresses).
func (c *Context) validate() error {
	if !validAddress(c.Sender) || !validAddress(c.Recipient) || !validTime(c.Received) {
		return ErrInvalidContent
	}
	return nil
}

// A Tag is the relay's reporting tag of one message: the id of the relay key
// that made it and
//
//	MAC = HMAC-SHA256(relay key, "sotto franking reporting tag" || 0x00 || 0x01 ||
//	                  commitment || BE32(len(sender)) || sender ||
//	                  BE32(len(recipient)) || recipient || BE64(received ms))
//
// The relay delivers it with the message; the recipient keeps it (it cannot
// check it) for a report. Only the relay can verify it.
type Tag struct {
	KeyID uint32
	MAC   [sha256.Size]byte
}

// Bytes returns the tag's 36-byte encoding: BE32(KeyID) || MAC.
func (t Tag) Bytes() []byte {
	return append(binary.BigEndian.AppendUint32(make([]byte, 0, TagSize), t.KeyID), t.MAC[:]...)
}

// ParseTag reads a tag's 36-byte encoding; it returns ErrMalformed for any
// other size.
func ParseTag(b []byte) (Tag, error) {
	if len(b) != TagSize {
		return Tag{}, ErrMalformed
	}
	return Tag{KeyID: binary.BigEndian.Uint32(b), MAC: [sha256.Size]byte(b[4:])}, nil
}

// mac computes the tag MAC of a commitment in a context (validated).
func (k *RelayKey) mac(c Commitment, ctx *Context) [sha256.Size]byte {
	m := hmac.New(sha256.New, k.k[:])
	m.Write([]byte(tagLabel))
	m.Write([]byte{Version})
	m.Write(c[:])
	var n [8]byte
	binary.BigEndian.PutUint32(n[:4], uint32(len(ctx.Sender)))
	m.Write(n[:4])
	m.Write([]byte(ctx.Sender))
	binary.BigEndian.PutUint32(n[:4], uint32(len(ctx.Recipient)))
	m.Write(n[:4])
	m.Write([]byte(ctx.Recipient))
	binary.BigEndian.PutUint64(n[:], uint64(ctx.Received.UnixMilli()))
	m.Write(n[:])
	return [sha256.Size]byte(m.Sum(nil))
}

// A Relay is the relay's side of franking: the current key, which tags, and
// the keys kept to verify reports on older messages. It is safe for
// concurrent use (it is never modified after NewRelay).
type Relay struct {
	current RelayKey
	keys    map[uint32]*RelayKey
}

// NewRelay returns a Relay that tags with current and verifies tags of
// current and of every older key. To rotate, generate a key with a new id
// and pass the previous current key among the older ones; to retire a key,
// leave it out (reports on messages it tagged then fail with ErrUnknownKey,
// for everyone, for good). It returns ErrInvalidKey if two keys share an
// id or a key is the zero RelayKey.
func NewRelay(current RelayKey, older ...RelayKey) (*Relay, error) {
	r := &Relay{current: current, keys: make(map[uint32]*RelayKey, 1+len(older))}
	var zero [RelayKeySize]byte
	for _, k := range append([]RelayKey{current}, older...) {
		if _, dup := r.keys[k.id]; dup || subtle.ConstantTimeCompare(k.k[:], zero[:]) == 1 {
			return nil, ErrInvalidKey
		}
		r.keys[k.id] = &k
	}
	return r, nil
}

// Tag is what the relay calls on accepting a message: it tags the
// commitment that came beside the ciphertext with the current key, binding
// it to ctx (the authenticated sender, the recipient, the relay's time). It
// returns ErrInvalidContent if ctx is out of bounds.
func (r *Relay) Tag(c Commitment, ctx Context) (Tag, error) {
	if err := ctx.validate(); err != nil {
		return Tag{}, err
	}
	return Tag{KeyID: r.current.id, MAC: r.current.mac(c, &ctx)}, nil
}

// Verify checks a report: that the relay tagged, under the key the tag
// names, the commitment to rep.Content under rep.Opening, for the sender
// and recipient the content names, at rep.Received. It returns nil if so
// (rep.Content is then what the sender committed to and the relay passed
// on), ErrUnknownKey for a key the relay does not hold, ErrInvalidReport
// for anything else that does not match, and ErrInvalidContent or
// ErrInvalidKey for a report that could never have been tagged.
func (r *Relay) Verify(rep *Report) error {
	k, ok := r.keys[rep.Tag.KeyID]
	if !ok {
		return ErrUnknownKey
	}
	com, err := rep.Opening.Commit(&rep.Content)
	if err != nil {
		return err
	}
	ctx := Context{Sender: rep.Content.Sender, Recipient: rep.Content.Recipient, Received: rep.Received}
	if err := ctx.validate(); err != nil {
		return err
	}
	want := k.mac(com, &ctx)
	if !hmac.Equal(want[:], rep.Tag.MAC[:]) {
		return ErrInvalidReport
	}
	return nil
}

// String names the current key id only. The formatting methods have value
// receivers so that a Relay value prints no key bytes either.
func (r Relay) String() string {
	return "franking.Relay(current key " + strconv.FormatUint(uint64(r.current.id), 10) +
		", " + strconv.Itoa(len(r.keys)) + " keys, REDACTED)"
}

// GoString is String, for %#v.
func (r Relay) GoString() string { return r.String() }

// Format prints String for every verb; key bytes are never printed.
func (r Relay) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

var (
	_ fmt.Formatter = RelayKey{}
	_ fmt.Formatter = (*RelayKey)(nil)
	_ fmt.Formatter = Relay{}
	_ fmt.Formatter = (*Relay)(nil)
)
