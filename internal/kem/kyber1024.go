// Package kem implements the key encapsulation mechanism of libsignal's
// PQXDH and Kyber prekeys: "Kyber1024", which is CRYSTALS-Kyber as submitted to
// round 3 of the NIST PQC process (Algorithm Specifications and Supporting
// Documentation, version 3.02, https://pq-crystals.org/kyber/), parameter set
// Kyber1024 (k = 4). It is NOT FIPS 203 ML-KEM-1024: round 3 hashes the
// encapsulation randomness, derives the shared secret as KDF(K' || H(c)) and
// rejects implicitly with KDF(z || H(c)), so the two are not interoperable and
// Go's crypto/mlkem cannot be used. The arithmetic is that of
// github.com/cloudflare/circl/kem/kyber/kyber1024.
//
// On the wire every object carries libsignal's key-type byte 0x08
// (TypeKyber1024) in front of the round-3 encoding: public keys 1 + 1568 bytes,
// secret keys 1 + 3168 bytes, ciphertexts 1 + 1568 bytes. Shared secrets are
// 32 bytes. (libsignal's 0x07 Kyber768 and 0x0A ML-KEM-1024 are not compiled
// into shipped builds and are rejected here.)
//
// Most callers want GenerateKey, (*PublicKey).Encapsulate and
// (*PrivateKey).Decapsulate. The deterministic entry points exist for
// known-answer tests and vector generation only.
package kem

import (
	"bytes"
	"crypto/sha3"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/kem/kyber/kyber1024"
)

const (
	// TypeKyber1024 is libsignal's key-type byte for round-3 Kyber1024; it
	// prefixes serialized public keys, secret keys and ciphertexts.
	TypeKyber1024 = 0x08
	// PublicKeySize is the size of a serialized public key, type byte included.
	PublicKeySize = 1 + kyber1024.PublicKeySize
	// SecretKeySize is the size of a serialized secret key, type byte included.
	SecretKeySize = 1 + kyber1024.PrivateKeySize
	// CiphertextSize is the size of a serialized ciphertext, type byte included.
	CiphertextSize = 1 + kyber1024.CiphertextSize
	// SharedSecretSize is the size of the shared secret.
	SharedSecretSize = kyber1024.SharedKeySize
	// KeySeedSize is the seed size of GenerateKeyDeterministic: the 32-byte
	// key-generation seed d followed by the 32-byte rejection secret z.
	KeySeedSize = kyber1024.KeySeedSize
	// EncapsulationSeedSize is the seed size of EncapsulateDeterministic.
	EncapsulationSeedSize = kyber1024.EncapsulationSeedSize
)

// Layout of the round-3 secret key after the type byte (specification,
// Algorithm 7): the IND-CPA secret key, the public key, H(pk), z.
const (
	cpaSecretKeySize = kyber1024.PrivateKeySize - kyber1024.PublicKeySize - 64
	skPublicOffset   = 1 + cpaSecretKeySize
	skHashOffset     = skPublicOffset + kyber1024.PublicKeySize
)

var (
	// ErrInvalidKey is returned for a serialized key of the wrong length or
	// type byte, or a secret key whose embedded H(pk) does not match.
	ErrInvalidKey = errors.New("kem: invalid key")
	// ErrInvalidCiphertext is returned for a ciphertext of the wrong length or
	// type byte. A well-formed but corrupted ciphertext is not an error: it
	// decapsulates to an unrelated shared secret (implicit rejection).
	ErrInvalidCiphertext = errors.New("kem: invalid ciphertext")
	// ErrInvalidSeed is returned by the deterministic functions for a seed of
	// the wrong length.
	ErrInvalidSeed = errors.New("kem: invalid seed")
)

// PublicKey is a Kyber1024 public (encapsulation) key.
type PublicKey struct {
	k *kyber1024.PublicKey
	b []byte // serialized as received, type byte included; never modified
}

// PrivateKey is a Kyber1024 secret (decapsulation) key with its public key.
type PrivateKey struct {
	k   *kyber1024.PrivateKey
	b   []byte // serialized, type byte included; never modified
	pub *PublicKey
}

// GenerateKey returns a new key pair, drawing the 64-byte key seed from rand
// (normally crypto/rand.Reader).
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	var seed [KeySeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("kem: reading key seed: %w", err)
	}
	return GenerateKeyDeterministic(seed[:])
}

// GenerateKeyDeterministic derives a key pair from a KeySeedSize-byte seed
// d || z, exactly as the round-3 reference implementation does from its two
// 32-byte randombytes calls. For known-answer tests and vector generation.
func GenerateKeyDeterministic(seed []byte) (*PrivateKey, error) {
	if len(seed) != KeySeedSize {
		return nil, ErrInvalidSeed
	}
	_, sk := kyber1024.NewKeyFromSeed(seed)
	b := make([]byte, SecretKeySize)
	b[0] = TypeKyber1024
	sk.Pack(b[1:])
	avxCleanup()
	return newPrivateKey(sk, b), nil
}

// ParsePublicKey parses a serialized public key: TypeKyber1024 followed by the
// 1568-byte round-3 encoding. As in round 3 (and unlike FIPS 203), coefficients
// are not checked to be reduced; Bytes returns the input unchanged.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize || b[0] != TypeKyber1024 {
		return nil, ErrInvalidKey
	}
	return newPublicKey(bytes.Clone(b)), nil
}

// ParsePrivateKey parses a serialized secret key: TypeKyber1024 followed by the
// 3168-byte round-3 encoding. The embedded H(pk) must match the embedded
// public key: a mismatch would make every decapsulation silently fail.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != SecretKeySize || b[0] != TypeKyber1024 {
		return nil, ErrInvalidKey
	}
	h := sha3.Sum256(b[skPublicOffset:skHashOffset])
	if subtle.ConstantTimeCompare(h[:], b[skHashOffset:skHashOffset+32]) != 1 {
		return nil, ErrInvalidKey
	}
	b = bytes.Clone(b)
	sk := new(kyber1024.PrivateKey)
	sk.Unpack(b[1:])
	avxCleanup()
	return newPrivateKey(sk, b), nil
}

// newPublicKey wraps a serialized public key whose length and type byte have
// been checked; b is kept.
func newPublicKey(b []byte) *PublicKey {
	pk := new(kyber1024.PublicKey)
	pk.Unpack(b[1:])
	avxCleanup()
	return &PublicKey{k: pk, b: b}
}

// newPrivateKey wraps a circl key and its serialization; b is kept. The public
// key is taken from the bytes embedded in the secret key, which are the ones
// H(pk) was computed over.
func newPrivateKey(sk *kyber1024.PrivateKey, b []byte) *PrivateKey {
	pb := make([]byte, PublicKeySize)
	pb[0] = TypeKyber1024
	copy(pb[1:], b[skPublicOffset:skHashOffset])
	// The unpacked secret key already holds its public key: reusing it
	// saves rebuilding the public matrix.
	pk := sk.Public().(*kyber1024.PublicKey)
	return &PrivateKey{k: sk, b: b, pub: &PublicKey{k: pk, b: pb}}
}

// Bytes returns a copy of the serialized public key (PublicKeySize bytes).
func (p *PublicKey) Bytes() []byte { return bytes.Clone(p.b) }

// Equal reports whether p and q serialize identically.
func (p *PublicKey) Equal(q *PublicKey) bool { return q != nil && bytes.Equal(p.b, q.b) }

// Bytes returns a copy of the serialized secret key (SecretKeySize bytes).
func (k *PrivateKey) Bytes() []byte { return bytes.Clone(k.b) }

// PublicKey returns the public key embedded in k.
func (k *PrivateKey) PublicKey() *PublicKey { return k.pub }

// Encapsulate returns a fresh ciphertext for p (CiphertextSize bytes, type byte
// included) and the shared secret it carries, drawing the 32-byte
// encapsulation seed from rand (normally crypto/rand.Reader).
func (p *PublicKey) Encapsulate(rand io.Reader) (ciphertext, sharedSecret []byte, err error) {
	var seed [EncapsulationSeedSize]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, nil, fmt.Errorf("kem: reading encapsulation seed: %w", err)
	}
	return p.EncapsulateDeterministic(seed[:])
}

// EncapsulateDeterministic is Encapsulate with the 32 random bytes given (the
// specification's m before hashing, Algorithm 8). For known-answer tests and
// vector generation only: reusing a seed reveals the shared secret.
func (p *PublicKey) EncapsulateDeterministic(seed []byte) (ciphertext, sharedSecret []byte, err error) {
	if len(seed) != EncapsulationSeedSize {
		return nil, nil, ErrInvalidSeed
	}
	ct := make([]byte, CiphertextSize)
	ct[0] = TypeKyber1024
	ss := make([]byte, SharedSecretSize)
	p.k.EncapsulateTo(ct[1:], ss, seed)
	avxCleanup()
	return ct, ss, nil
}

// Decapsulate returns the shared secret carried by a serialized ciphertext.
// The ciphertext must be CiphertextSize bytes with type byte TypeKyber1024
// (libsignal checks that the ciphertext type equals the key type), else
// ErrInvalidCiphertext. A well-formed ciphertext never fails: if it was not
// made for k, the result is a pseudorandom secret unrelated to the sender's
// (round-3 implicit rejection, Algorithm 9), in constant time.
func (k *PrivateKey) Decapsulate(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != CiphertextSize || ciphertext[0] != TypeKyber1024 {
		return nil, ErrInvalidCiphertext
	}
	ss := make([]byte, SharedSecretSize)
	k.k.DecapsulateTo(ss, ciphertext[1:])
	avxCleanup()
	return ss, nil
}

// redacted is what every fmt verb prints for a secret key.
const redacted = "kem.PrivateKey(REDACTED)"

// The formatting methods have value receivers so that PrivateKey values,
// pointers and struct fields of either kind all print the placeholder.

// String returns a fixed placeholder; secret key bytes are never printed.
func (PrivateKey) String() string { return redacted }

// GoString returns a fixed placeholder for %#v; secret key bytes are never
// printed.
func (PrivateKey) GoString() string { return redacted }

// Format implements fmt.Formatter so that every verb prints the placeholder.
func (PrivateKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

var (
	_ fmt.Stringer   = PrivateKey{}
	_ fmt.GoStringer = PrivateKey{}
	_ fmt.Formatter  = PrivateKey{}
)

// Wipe clears the serialized secret key k holds and drops its unpacked
// form: k must not be used afterwards. circl's unpacked copy of the secret
// vector cannot be cleared from outside circl and is left to the garbage
// collector.
func (k *PrivateKey) Wipe() {
	clear(k.b)
	k.k = nil
}
