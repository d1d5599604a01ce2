package encrypted

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/sotto-im/sotto/keystore"
	"github.com/tink-crypto/tink-go/v2/tink"
	"golang.org/x/crypto/argon2"
)

// Options sets the argon2id cost (RFC 9106) of deriving the key-encryption
// key from a passphrase. It applies when a passphrase seals the keyset: on
// the first OpenWithPassphrase of an inner store, and in ChangePassphrase.
// Unlocking always uses the parameters stored beside the keyset. A nil
// *Options, or a zero field, means the default.
//
// The defaults are RFC 9106's second recommended option, t=3, m=64 MiB,
// p=4: about a quarter of a second on a laptop. Tests may use far cheaper
// parameters (Time 1, Memory 8, Threads 1).
//
// Parameters must satisfy 1 <= Time <= 64, 1 <= Threads, and
// 8*Threads <= Memory <= 2 GiB (2097152 KiB, RFC 9106's first recommended
// option). Parameters outside these bounds are rejected, and a stored
// keyset record with such parameters is reported as ErrTampered without
// running argon2id.
type Options struct {
	// Time is the number of passes over the memory. Default 3.
	Time uint32
	// Memory is the memory size in KiB. Default 65536 (64 MiB).
	Memory uint32
	// Threads is the degree of parallelism. Default 4.
	Threads uint8
}

// The default and maximum argon2id parameters.
const (
	defaultTime    = 3
	defaultMemory  = 64 << 10
	defaultThreads = 4

	maxTime   = 64
	maxMemory = 2 << 20
)

// The HKDF-SHA256 info labels that split the argon2id output into the KEK
// and the passphrase check value.
const (
	kekLabel   = "sotto-keystore-v1 kek"
	checkLabel = "sotto-keystore-v1 passphrase check"
)

// resolve returns o with defaults filled in, or an error if it is out of
// bounds.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Time == 0 {
		r.Time = defaultTime
	}
	if r.Memory == 0 {
		r.Memory = defaultMemory
	}
	if r.Threads == 0 {
		r.Threads = defaultThreads
	}
	if err := r.check(); err != nil {
		return r, fmt.Errorf("keystore/encrypted: %w", err)
	}
	return r, nil
}

// check reports whether the parameters are within bounds.
func (o Options) check() error {
	if o.Time < 1 || o.Time > maxTime || o.Threads < 1 ||
		o.Memory < 8*uint32(o.Threads) || o.Memory > maxMemory {
		return fmt.Errorf("argon2id parameters t=%d m=%dKiB p=%d out of bounds", o.Time, o.Memory, o.Threads)
	}
	return nil
}

// deriveKEK derives the key-encryption key and the passphrase check value
// from a passphrase: argon2id gives 32 uniformly random bytes, which serve
// as the pseudorandom key of HKDF-Expand (RFC 5869, section 2.3) with
// SHA-256 under two labels. The check value costs an attacker the same argon2id run
// per guess as trying to decrypt the keyset would.
func deriveKEK(passphrase, salt []byte, p Options) (tink.AEAD, []byte) {
	ikm := argon2.IDKey(passphrase, salt, p.Time, p.Memory, p.Threads, 32)
	defer clear(ikm)
	key, err := hkdf.Expand(sha256.New, ikm, kekLabel, 32)
	if err != nil {
		panic(err) // unreachable: 32 bytes is within HKDF-SHA256's limit
	}
	defer clear(key)
	check, err := hkdf.Expand(sha256.New, ikm, checkLabel, checkSize)
	if err != nil {
		panic(err)
	}
	return newGCMKEK(key), check
}

// gcmKEK is AES-256-GCM with a random nonce prepended to each ciphertext,
// as a tink.AEAD.
type gcmKEK struct{ aead cipher.AEAD }

func newGCMKEK(key []byte) tink.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // unreachable: the key is 32 bytes
	}
	a, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic(err)
	}
	return gcmKEK{a}
}

func (g gcmKEK) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	return g.aead.Seal(nil, nil, plaintext, associatedData), nil
}

func (g gcmKEK) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	return g.aead.Open(nil, nil, ciphertext, associatedData)
}

// newPassphraseHeader picks a salt and derives the KEK for a passphrase,
// returning the KEK and the keyset record header to seal under it.
func newPassphraseHeader(passphrase []byte, p Options) (tink.AEAD, []byte) {
	salt := make([]byte, saltSize)
	rand.Read(salt)
	kek, check := deriveKEK(passphrase, salt, p)
	return kek, appendHeaderPassphrase(nil, salt, p, check)
}

// unlockPassphrase derives the KEK of a passphrase-sealed keyset record
// header, or returns ErrWrongPassphrase.
func unlockPassphrase(h metaHeader, passphrase []byte) (tink.AEAD, error) {
	if h.kind != kindPassphrase {
		return nil, fmt.Errorf("%w: the keyset is sealed with an application key, not a passphrase", ErrWrongPassphrase)
	}
	kek, check := deriveKEK(passphrase, h.salt, h.params)
	if !hmac.Equal(check, h.check) {
		return nil, ErrWrongPassphrase
	}
	return kek, nil
}

// OpenWithPassphrase opens the encrypted store kept in inner, whose keyset
// is sealed under a key derived from passphrase with argon2id. The first
// open of an inner store with no keyset creates one, with the argon2id
// parameters of opts (nil for the defaults); later opens unlock it.
//
// A wrong passphrase returns ErrWrongPassphrase, a damaged keyset record
// ErrTampered; neither changes anything in the inner store. If inner holds
// values but no keyset record, OpenWithPassphrase returns ErrTampered
// instead of creating a keyset that would not open them. The passphrase is
// not kept.
func OpenWithPassphrase(ctx context.Context, inner keystore.Store, passphrase []byte, opts *Options) (*Store, error) {
	if inner == nil {
		return nil, errors.New("keystore/encrypted: nil inner store")
	}
	if len(passphrase) == 0 {
		return nil, errors.New("keystore/encrypted: empty passphrase")
	}
	p, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	ring, err := openKeyset(ctx, inner, func(meta []byte) (*keyring, error) {
		h, sealed, err := parseMeta(meta)
		if err != nil {
			return nil, err
		}
		kek, err := unlockPassphrase(h, passphrase)
		if err != nil {
			return nil, err
		}
		kh, err := unsealKeyset(sealed, kek, h.raw)
		if _, ok := err.(*unsealError); ok {
			// The check value matched, so the KEK is right and the
			// keyset is damaged.
			return nil, fmt.Errorf("keystore/encrypted: keyset: %w", ErrTampered)
		}
		if err != nil {
			return nil, err
		}
		return newKeyring(kh, kek, h.raw)
	}, func() (tink.AEAD, []byte, error) {
		kek, hdr := newPassphraseHeader(passphrase, p)
		return kek, hdr, nil
	})
	if err != nil {
		return nil, err
	}
	return newStore(ctx, inner, ring, p)
}

// ChangePassphrase re-seals the keyset under a key derived from newPass,
// with a fresh salt and the argon2id parameters of the Options the Store
// was opened with. The values are not rewritten: they stay sealed under the
// same keyset. oldPass must be the current passphrase, or ChangePassphrase
// returns ErrWrongPassphrase and changes nothing.
func (s *Store) ChangePassphrase(ctx context.Context, oldPass, newPass []byte) error {
	if len(newPass) == 0 {
		return errors.New("keystore/encrypted: empty passphrase")
	}
	s.admin.Lock()
	defer s.admin.Unlock()
	cur := s.ring.Load()
	h, _, err := parseMeta(cur.header)
	if err != nil {
		return err
	}
	if _, err := unlockPassphrase(h, oldPass); err != nil {
		return err
	}
	// Derive the new KEK outside the transaction: argon2id is slow.
	kek, hdr := newPassphraseHeader(newPass, s.opts)
	var next *keyring
	err = s.inner.Update(ctx, func(itx keystore.Tx) error {
		kh, err := readKeyset(itx, cur)
		if err != nil {
			return err
		}
		var meta []byte
		next, meta, err = sealKeyset(kh, kek, hdr)
		if err != nil {
			return err
		}
		return itx.Put(spaceMeta, metaKey, meta)
	})
	if err != nil {
		return err
	}
	s.ring.Store(next)
	return nil
}
