package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/entropy"
	"github.com/sotto-im/sotto/keystore"
)

// Errors about accounts.
var (
	// ErrAccountExists is returned by CreateAccount on a store that already
	// holds an account.
	ErrAccountExists = errors.New("session: store already holds an account")
	// ErrNoAccount is returned by OpenAccount on a store without an account.
	ErrNoAccount = errors.New("session: store holds no account")
)

// Account is one device's identity and everything it stores: prekeys,
// trusted identities and session records, all in a keystore.Store. Its
// methods may be called from several goroutines; the store's transactions
// keep them consistent.
type Account struct {
	store          keystore.Store
	address        Address
	identity       *curve.PrivateKey
	identityPublic []byte // 33 bytes, 0x05 || u
	registrationID uint32

	rand  io.Reader        // crypto/rand, but in the module's own tests and vectors (internal/entropy)
	clock func() time.Time // nil: time.Now
	keys  *keyCache        // parsed signed and Kyber prekeys
}

func (a *Account) now() time.Time {
	if a.clock != nil {
		return a.clock()
	}
	return time.Now()
}

// CreateAccount creates a new account for the local address in store: a
// fresh identity key pair and registration id. It fails with
// ErrAccountExists if the store already holds one.
func CreateAccount(ctx context.Context, store keystore.Store, local Address) (*Account, error) {
	r := entropy.Reader(ctx)
	if err := local.validate(); err != nil {
		return nil, err
	}
	id, err := curve.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	var rb [2]byte
	if _, err := io.ReadFull(r, rb[:]); err != nil {
		return nil, err
	}
	// libsignal's registration ids are 14-bit, 1..16380.
	regID := uint32(binary.BigEndian.Uint16(rb[:]))%16380 + 1
	pub := id.PublicKey().Bytes()
	err = store.Update(ctx, func(tx keystore.Tx) error {
		if _, err := tx.Get(spaceAccount, keyIdentity); err == nil {
			return ErrAccountExists
		} else if !errors.Is(err, keystore.ErrNotFound) {
			return err
		}
		v := marshalAccount(id.Bytes(), pub, regID, local)
		defer clear(v)
		return tx.Put(spaceAccount, keyIdentity, v)
	})
	if err != nil {
		return nil, err
	}
	a := &Account{store: store, address: local, identity: id, identityPublic: pub,
		registrationID: regID, rand: r, keys: new(keyCache)}
	return a, nil
}

// OpenAccount loads the account kept in store.
func OpenAccount(ctx context.Context, store keystore.Store) (*Account, error) {
	a := &Account{store: store, rand: entropy.Reader(ctx), keys: new(keyCache)}
	err := store.View(ctx, func(tx keystore.Tx) error {
		idb, err := tx.Get(spaceAccount, keyIdentity)
		if errors.Is(err, keystore.ErrNotFound) {
			return ErrNoAccount
		}
		if err != nil {
			return err
		}
		defer clear(idb)
		if body, ok := cutMagic(accountMagic, idb); ok {
			return a.parseAccount(body)
		}
		return a.openLegacy(tx, idb)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// The account record: "SOTa" 1 | identity private key (32) | its public key
// (33) | registration id | device id | name (the rest).
func marshalAccount(priv, pub []byte, regID uint32, local Address) []byte {
	v := withMagic(accountMagic, len(priv)+len(pub)+10+len(local.Name))
	v = append(v, priv...)
	v = append(v, pub...)
	v = binary.AppendUvarint(v, uint64(regID))
	return append(v, marshalAddress(local)...)
}

func (a *Account) parseAccount(body []byte) error {
	r := binenc.NewReader(body)
	priv := r.Bytes(curve.PrivateKeySize)
	pub := r.Bytes(curve.PublicKeySize)
	a.registrationID = r.U32()
	if r.Err() != nil {
		return ErrMalformedRecord
	}
	id, err := curve.NewPrivateKey(priv)
	if err != nil || !bytes.Equal(id.PublicKey().Bytes(), pub) {
		return ErrMalformedRecord
	}
	a.identity, a.identityPublic = id, bytes.Clone(pub)
	a.address, err = parseAddress(r.Rest())
	return err
}

// openLegacy reads an account written before records had a magic: the raw
// private key, and the registration id and address under keys of their own.
func (a *Account) openLegacy(tx keystore.Tx, idb []byte) error {
	id, err := curve.NewPrivateKey(idb)
	if err != nil {
		return ErrMalformedRecord
	}
	a.identity, a.identityPublic = id, id.PublicKey().Bytes()
	rb, err := tx.Get(spaceAccount, keyRegID)
	if err != nil {
		return err
	}
	r := binenc.NewReader(rb)
	a.registrationID = r.U32()
	if r.Err() != nil {
		return ErrMalformedRecord
	}
	ab, err := tx.Get(spaceAccount, keyAddress)
	if err != nil {
		return err
	}
	a.address, err = parseAddress(ab)
	return err
}

func marshalAddress(a Address) []byte {
	b := binary.AppendUvarint(nil, uint64(a.DeviceID))
	return append(b, a.Name...)
}

func parseAddress(b []byte) (Address, error) {
	d, n := binary.Uvarint(b)
	if n <= 0 || d > 0xFFFFFFFF {
		return Address{}, ErrMalformedRecord
	}
	a := Address{Name: string(b[n:]), DeviceID: uint32(d)}
	if a.validate() != nil {
		return Address{}, ErrMalformedRecord
	}
	return a, nil
}

// Address returns the account's own address.
func (a *Account) Address() Address { return a.address }

// IdentityKey returns the account's serialized identity public key (33
// bytes), which contacts see and safety numbers are computed from.
func (a *Account) IdentityKey() []byte { return bytes.Clone(a.identityPublic) }

// RegistrationID returns the account's registration id.
func (a *Account) RegistrationID() uint32 { return a.registrationID }

// String describes the account without any secret.
func (a *Account) String() string { return "session.Account{" + a.address.String() + "}" }

// SafetyNumber returns the safety number between this account and remote's
// trusted identity key: version 2, 5200 iterations, as Signal's apps. A
// name that is an ACI UUID string is used as its 16 bytes; any other name
// as its UTF-8 bytes.
func (a *Account) SafetyNumber(ctx context.Context, remote Address) (*Fingerprint, error) {
	info, err := a.Identity(ctx, remote)
	if err != nil {
		return nil, err
	}
	if info == nil {
		return nil, ErrNoSession
	}
	return NewFingerprint(DefaultFingerprintIterations, FingerprintVersion,
		stableID(a.address.Name), a.IdentityKey(), stableID(remote.Name), info.Key)
}

func stableID(name string) []byte {
	if u, ok := parseUUID(name); ok {
		return u[:]
	}
	return []byte(name)
}

// ChallengePrefix is prepended to every challenge SignChallenge signs, so
// that such signatures can never be mistaken for prekey signatures or any
// other use of the identity key.
const ChallengePrefix = "sotto-relay-auth-v1\x00"

// SignChallenge proves possession of the identity key to a server: it
// returns the XEdDSA signature by the identity key over ChallengePrefix ||
// challenge. A server checks it against the identity key the account
// registered with. challenge must be at most 1 KiB.
func (a *Account) SignChallenge(challenge []byte) ([]byte, error) {
	if len(challenge) == 0 || len(challenge) > 1024 {
		return nil, errors.New("session: challenge must be 1 to 1024 bytes")
	}
	msg := append([]byte(ChallengePrefix), challenge...)
	return a.identity.Sign(a.rng(), msg)
}
