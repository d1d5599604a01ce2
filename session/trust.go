package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/keystore"
)

// Identity trust: trust on first use. The first identity key seen for an
// address is stored and trusted. A different key for that address later is
// refused with an *UntrustedIdentityError — nothing is encrypted to it or
// decrypted from it — until the application calls TrustIdentity, typically
// after showing the user that the safety number changed. A key can also be
// marked verified after the users compared safety numbers; a new key is
// never verified.

// UntrustedIdentityError reports that the identity key Address presented —
// in a PreKey message, a bundle or the session being used — differs from the
// one trusted for it. It carries what an application shows the user: the
// new key and the safety number computed with it. If the user accepts,
// TrustIdentity(ctx, e.Address, e.Key) trusts exactly that key; the message
// can then be decrypted again.
type UntrustedIdentityError struct {
	Address Address
	// Key is the identity key presented (33 bytes, 0x05 || u).
	Key []byte
	// Trusted is the key trusted until now.
	Trusted []byte
	// SafetyNumber is the safety number between this account and Key, for
	// the users to compare before accepting it.
	SafetyNumber *Fingerprint
}

func (e *UntrustedIdentityError) Error() string {
	return fmt.Sprintf("session: identity key of %s changed; not trusted until the app accepts it", e.Address)
}

// ErrUntrustedIdentity matches any *UntrustedIdentityError with errors.Is.
var ErrUntrustedIdentity = errors.New("session: untrusted identity")

// Is makes errors.Is(err, ErrUntrustedIdentity) true.
func (e *UntrustedIdentityError) Is(target error) bool { return target == ErrUntrustedIdentity }

// IdentityInfo is what the account knows of a contact's identity key.
type IdentityInfo struct {
	// Key is the trusted identity key, 33 bytes.
	Key []byte
	// Verified is set by SetVerified after the users compared safety numbers.
	Verified bool
	// FirstSeen is when this key was first trusted.
	FirstSeen time.Time
}

const identityFlagVerified = 1

// An identity record: "SOTi" 1 | key (33) | flags (1) | first seen (varint
// Unix seconds).
func loadIdentity(tx keystore.Tx, addr Address) (*IdentityInfo, error) {
	return loadIdentityAt(tx, addr.String())
}

// loadIdentityAt is loadIdentity with the address's storage key (its
// String) already made.
func loadIdentityAt(tx keystore.Tx, skey string) (*IdentityInfo, error) {
	v, err := tx.Get(spaceIdentity, skey)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if body, ok := cutMagic(identityMagic, v); ok {
		v = body
	}
	if len(v) < curve.PublicKeySize+2 {
		return nil, ErrMalformedRecord
	}
	ts, n := binary.Varint(v[curve.PublicKeySize+1:])
	if n <= 0 || curve.PublicKeySize+1+n != len(v) {
		return nil, ErrMalformedRecord
	}
	return &IdentityInfo{
		Key:       v[:curve.PublicKeySize],
		Verified:  v[curve.PublicKeySize]&identityFlagVerified != 0,
		FirstSeen: time.Unix(ts, 0),
	}, nil
}

func saveIdentity(tx keystore.Tx, addr Address, info *IdentityInfo) error {
	return saveIdentityAt(tx, addr.String(), info)
}

func saveIdentityAt(tx keystore.Tx, skey string, info *IdentityInfo) error {
	v := append(withMagic(identityMagic, curve.PublicKeySize+11), info.Key...)
	var flags byte
	if info.Verified {
		flags |= identityFlagVerified
	}
	v = append(v, flags)
	v = binary.AppendVarint(v, info.FirstSeen.Unix())
	return tx.Put(spaceIdentity, skey, v)
}

// checkIdentity enforces trust on first use for key as addr's identity: a
// first key is stored, the stored key passes, any other fails.
func (a *Account) checkIdentity(tx keystore.Tx, addr Address, key []byte) error {
	return a.checkIdentityAt(tx, addr, addr.String(), key)
}

// checkIdentityAt is checkIdentity with addr's storage key already made.
func (a *Account) checkIdentityAt(tx keystore.Tx, addr Address, skey string, key []byte) error {
	info, err := loadIdentityAt(tx, skey)
	if err != nil {
		return err
	}
	if info == nil {
		return saveIdentityAt(tx, skey, &IdentityInfo{Key: key, FirstSeen: a.now()})
	}
	if !bytes.Equal(info.Key, key) {
		return a.untrusted(addr, key, info.Key)
	}
	return nil
}

// untrusted builds the error for key presented by addr where trusted is
// trusted.
func (a *Account) untrusted(addr Address, key, trusted []byte) error {
	e := &UntrustedIdentityError{Address: addr, Key: bytes.Clone(key), Trusted: bytes.Clone(trusted)}
	if _, err := curve.ParsePublicKey(key); err == nil {
		e.SafetyNumber, _ = NewFingerprint(DefaultFingerprintIterations, FingerprintVersion,
			stableID(a.address.Name), a.identityPublic, stableID(addr.Name), key)
	}
	return e
}

// Identity returns what the account trusts as addr's identity, or nil if it
// has seen none.
func (a *Account) Identity(ctx context.Context, addr Address) (*IdentityInfo, error) {
	if err := addr.validate(); err != nil {
		return nil, err
	}
	var info *IdentityInfo
	err := a.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		info, err = loadIdentity(tx, addr)
		return err
	})
	return info, err
}

// TrustIdentity makes key the trusted identity of addr, replacing any
// earlier one (which also loses its verified mark). Call it when the user
// accepts a changed safety number.
func (a *Account) TrustIdentity(ctx context.Context, addr Address, key []byte) error {
	if err := addr.validate(); err != nil {
		return err
	}
	if _, err := curve.ParsePublicKey(key); err != nil {
		return err
	}
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		info, err := loadIdentity(tx, addr)
		if err != nil {
			return err
		}
		if info != nil && bytes.Equal(info.Key, key) {
			return nil
		}
		return saveIdentity(tx, addr, &IdentityInfo{Key: key, FirstSeen: a.now()})
	})
}

// SetVerified marks addr's identity verified or not. key must be the
// trusted key, so that a verification done against an old key cannot
// apply to a new one.
func (a *Account) SetVerified(ctx context.Context, addr Address, key []byte, verified bool) error {
	if err := addr.validate(); err != nil {
		return err
	}
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		info, err := loadIdentity(tx, addr)
		if err != nil {
			return err
		}
		if info == nil {
			return a.untrusted(addr, key, nil)
		}
		if !bytes.Equal(info.Key, key) {
			return a.untrusted(addr, key, info.Key)
		}
		info.Verified = verified
		return saveIdentity(tx, addr, info)
	})
}
