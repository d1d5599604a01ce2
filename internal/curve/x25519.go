// Package curve implements the elliptic-curve primitives of the Signal Protocol
// as libsignal serializes them: X25519 key agreement (RFC 7748) on crypto/ecdh
// and XEdDSA signatures (https://signal.org/docs/specifications/xeddsa/) in
// libsignal's variant, which carries the Edwards sign bit in the signature.
//
// Public keys serialize as 0x05 || u (33 bytes); private keys as 32 raw bytes,
// clamped on parse. ParsePublicKey accepts any u, as libsignal does; callers
// that must insist on a canonical, prime-order key (PQXDH base keys) also call
// IsCanonical. Private keys never print their bytes through fmt.
package curve

import (
	"crypto/ecdh"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

const (
	// DjbType is the key-type byte that prefixes a serialized X25519 public key.
	DjbType = 0x05
	// PublicKeySize is the size of a serialized public key: type byte and u.
	PublicKeySize = 33
	// PrivateKeySize is the size of a serialized private key.
	PrivateKeySize = 32
	// SharedSecretSize is the size of an X25519 shared secret.
	SharedSecretSize = 32
)

var (
	// ErrInvalidPublicKey is returned for a public key of the wrong length or type byte.
	ErrInvalidPublicKey = errors.New("curve: invalid public key")
	// ErrInvalidPrivateKey is returned for a private key of the wrong length.
	ErrInvalidPrivateKey = errors.New("curve: invalid private key")
	// ErrInvalidKeyAgreement is returned when X25519 yields the all-zero output
	// (the peer's key is of low order).
	ErrInvalidKeyAgreement = errors.New("curve: invalid key agreement")
)

// PrivateKey is an X25519 private key. It keeps the *ecdh.PrivateKey so the
// public point is computed once.
type PrivateKey struct {
	k *ecdh.PrivateKey
}

// PublicKey is an X25519 public key, kept both as the raw u-coordinate and as
// a parsed *ecdh.PublicKey.
type PublicKey struct {
	u [32]byte
	k *ecdh.PublicKey
}

// GenerateKey returns a new private key drawn from rand.
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	var b [PrivateKeySize]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, err
	}
	defer clear(b[:])
	return NewPrivateKey(b[:])
}

// NewPrivateKey parses a 32-byte private key. As in libsignal, the scalar is
// clamped, so any 32 bytes are a valid key.
func NewPrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != PrivateKeySize {
		return nil, ErrInvalidPrivateKey
	}
	var c [32]byte
	copy(c[:], b)
	clamp(&c)
	defer clear(c[:])
	k, err := ecdh.X25519().NewPrivateKey(c[:])
	if err != nil {
		return nil, ErrInvalidPrivateKey
	}
	return &PrivateKey{k: k}, nil
}

// redacted is what every fmt verb prints for a private key.
const redacted = "curve.PrivateKey(REDACTED)"

// The formatting methods below have value receivers on purpose: that puts them
// in the method set of both PrivateKey and *PrivateKey, so a copied value, a
// pointer, or a struct field of either kind can never print key bytes.

// String returns a fixed placeholder; private key bytes are never printed.
func (PrivateKey) String() string { return redacted }

// GoString returns a fixed placeholder for %#v; private key bytes are never
// printed.
func (PrivateKey) GoString() string { return redacted }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %x,
// %q, ...) prints the same placeholder instead of key bytes.
func (PrivateKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

var (
	_ fmt.Stringer   = PrivateKey{}
	_ fmt.GoStringer = PrivateKey{}
	_ fmt.Formatter  = PrivateKey{}
	_ fmt.Stringer   = (*PrivateKey)(nil)
	_ fmt.Formatter  = (*PrivateKey)(nil)
)

// clamp applies the X25519 scalar clamping of RFC 7748, section 5.
func clamp(c *[32]byte) {
	c[0] &= 248
	c[31] &= 127
	c[31] |= 64
}

// Bytes returns a copy of the clamped 32-byte private scalar.
func (k *PrivateKey) Bytes() []byte { return k.k.Bytes() }

// PublicKey returns the matching public key.
func (k *PrivateKey) PublicKey() *PublicKey {
	p := k.k.PublicKey()
	pk := &PublicKey{k: p}
	copy(pk.u[:], p.Bytes())
	return pk
}

// ECDH returns X25519(k, pub). An all-zero result (pub of low order) is
// ErrInvalidKeyAgreement; a nil or zero-value pub is ErrInvalidPublicKey.
func (k *PrivateKey) ECDH(pub *PublicKey) ([]byte, error) {
	if pub == nil || pub.k == nil {
		return nil, ErrInvalidPublicKey
	}
	s, err := k.k.ECDH(pub.k)
	if err != nil {
		return nil, ErrInvalidKeyAgreement
	}
	return s, nil
}

// ParsePublicKey parses a serialized public key: 0x05 followed by the 32-byte
// u-coordinate, exactly 33 bytes. (libsignal also accepts and ignores trailing
// bytes after the 33rd; this parser is strict.)
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize || b[0] != DjbType {
		return nil, ErrInvalidPublicKey
	}
	return NewPublicKeyFromU(b[1:])
}

// NewPublicKeyFromU builds a public key from a raw 32-byte u-coordinate.
func NewPublicKeyFromU(u []byte) (*PublicKey, error) {
	if len(u) != 32 {
		return nil, ErrInvalidPublicKey
	}
	k, err := ecdh.X25519().NewPublicKey(u)
	if err != nil {
		return nil, ErrInvalidPublicKey
	}
	pk := &PublicKey{k: k}
	copy(pk.u[:], u)
	return pk, nil
}

// Bytes returns the 33-byte serialization 0x05 || u.
func (p *PublicKey) Bytes() []byte {
	b := make([]byte, PublicKeySize)
	b[0] = DjbType
	copy(b[1:], p.u[:])
	return b
}

// AppendBytes appends the 33-byte serialization to dst.
func (p *PublicKey) AppendBytes(dst []byte) []byte {
	dst = append(dst, DjbType)
	return append(dst, p.u[:]...)
}

// U returns the raw 32-byte u-coordinate.
func (p *PublicKey) U() [32]byte { return p.u }

// Equal reports whether p and q are the same key, in constant time.
func (p *PublicKey) Equal(q *PublicKey) bool {
	return q != nil && subtle.ConstantTimeCompare(p.u[:], q.u[:]) == 1
}
