package session

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/keystore"
)

// Prekeys. A device publishes one-time EC prekeys, a signed EC prekey and
// signed Kyber1024 prekeys: one-time ones, and a "last resort" one that is
// used when the one-time ones run out. Ids start at 1; 0 means "none" or
// "the next free id".

// ErrUnknownPreKey is returned when a PreKey message names a prekey this
// account does not have: never generated, already consumed (a replay), or
// rotated away.
var ErrUnknownPreKey = errors.New("session: unknown or already used prekey")

// ErrKyberPreKeyReused is returned when a PreKey message repeats the (Kyber
// prekey, signed prekey, base key) triple of an earlier session: a replay of
// a message to the last-resort Kyber prekey.
var ErrKyberPreKeyReused = errors.New("session: Kyber prekey reused with the same base key")

// PreKey is the public part of a one-time EC prekey.
type PreKey struct {
	ID        uint32
	PublicKey []byte // 33 bytes
}

// SignedPreKey is the public part of a signed EC prekey.
type SignedPreKey struct {
	ID        uint32
	PublicKey []byte // 33 bytes
	Signature []byte // XEdDSA by the identity key over PublicKey
	Created   time.Time
}

// KyberPreKey is the public part of a signed Kyber1024 prekey.
type KyberPreKey struct {
	ID         uint32
	PublicKey  []byte // 1569 bytes
	Signature  []byte // XEdDSA by the identity key over PublicKey
	LastResort bool
	Created    time.Time
}

// GeneratePreKeys creates count one-time EC prekeys with consecutive ids
// starting at firstID (0: after the last generated one), stores them, and
// returns their public parts for publishing.
func (a *Account) GeneratePreKeys(ctx context.Context, firstID uint32, count int) ([]PreKey, error) {
	if count < 1 || count > 10000 {
		return nil, errors.New("session: prekey batch size must be 1-10000")
	}
	var out []PreKey
	err := a.store.Update(ctx, func(tx keystore.Tx) error {
		out = out[:0]
		c, err := loadCounters(tx)
		if err != nil {
			return err
		}
		for _, id := range allocate(&c.nextPreKeyID, firstID, count) {
			k, err := curve.GenerateKey(a.rng())
			if err != nil {
				return err
			}
			pub := k.PublicKey().Bytes()
			v := append(withMagic(preKeyMagic, curve.PrivateKeySize+curve.PublicKeySize), k.Bytes()...)
			if err := tx.Put(spacePreKey, idKey(id), append(v, pub...)); err != nil {
				return err
			}
			out = append(out, PreKey{ID: id, PublicKey: pub})
		}
		return c.save(tx)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GenerateSignedPreKey creates a signed EC prekey with the given id (0: the
// next one) and makes it the current one that Bundle publishes. Earlier
// signed prekeys stay usable for late PreKey messages until
// PruneSignedPreKeys removes them.
func (a *Account) GenerateSignedPreKey(ctx context.Context, id uint32) (*SignedPreKey, error) {
	var out *SignedPreKey
	err := a.store.Update(ctx, func(tx keystore.Tx) error {
		c, err := loadCounters(tx)
		if err != nil {
			return err
		}
		id := allocate(&c.nextSignedPreKeyID, id, 1)[0]
		k, err := curve.GenerateKey(a.rng())
		if err != nil {
			return err
		}
		pub := k.PublicKey().Bytes()
		sig, err := a.identity.Sign(a.rng(), pub)
		if err != nil {
			return err
		}
		now := a.now()
		v := withMagic(signedPreKeyMagic, curve.PrivateKeySize+curve.PublicKeySize+curve.SignatureSize+10)
		v = append(v, k.Bytes()...)
		v = append(v, pub...)
		v = append(v, sig...)
		v = binary.AppendVarint(v, now.Unix())
		if err := tx.Put(spaceSignedPreKey, idKey(id), v); err != nil {
			return err
		}
		c.currentSigned = id
		out = &SignedPreKey{ID: id, PublicKey: pub, Signature: sig, Created: time.Unix(now.Unix(), 0)}
		return c.save(tx)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GenerateKyberPreKeys creates count signed Kyber1024 prekeys with ids from
// firstID (0: the next ones). One-time keys are deleted when used; with
// lastResort (count must be 1) the key becomes the current last-resort key,
// which may be used by many sessions.
func (a *Account) GenerateKyberPreKeys(ctx context.Context, firstID uint32, count int, lastResort bool) ([]KyberPreKey, error) {
	if count < 1 || count > 1000 || (lastResort && count != 1) {
		return nil, errors.New("session: Kyber prekey batch size must be 1-1000 (1 for last resort)")
	}
	var out []KyberPreKey
	err := a.store.Update(ctx, func(tx keystore.Tx) error {
		out = out[:0]
		c, err := loadCounters(tx)
		if err != nil {
			return err
		}
		now := a.now()
		for _, id := range allocate(&c.nextKyberPreKeyID, firstID, count) {
			k, err := kem.GenerateKey(a.rng())
			if err != nil {
				return err
			}
			pub := k.PublicKey().Bytes()
			sig, err := a.identity.Sign(a.rng(), pub)
			if err != nil {
				return err
			}
			v := withMagic(kyberPreKeyMagic, 1+kem.SecretKeySize+curve.SignatureSize+10)
			if lastResort {
				v = append(v, 1)
			} else {
				v = append(v, 0)
			}
			v = append(v, k.Bytes()...)
			v = append(v, sig...)
			v = binary.AppendVarint(v, now.Unix())
			if err := tx.Put(spaceKyberPreKey, idKey(id), v); err != nil {
				return err
			}
			if lastResort {
				c.currentLastResort = id
			}
			out = append(out, KyberPreKey{ID: id, PublicKey: pub, Signature: sig, LastResort: lastResort, Created: time.Unix(now.Unix(), 0)})
		}
		return c.save(tx)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PreKeyCounts reports how many unused one-time EC and Kyber prekeys the
// account holds, so a client can top them up.
func (a *Account) PreKeyCounts(ctx context.Context) (ec, kyber int, err error) {
	err = a.store.View(ctx, func(tx keystore.Tx) error {
		keys, err := tx.List(spacePreKey, "")
		if err != nil {
			return err
		}
		ec = len(keys)
		keys, err = tx.List(spaceKyberPreKey, "")
		if err != nil {
			return err
		}
		for _, k := range keys {
			v, err := tx.Get(spaceKyberPreKey, k)
			if err != nil {
				return err
			}
			if lastResort, ok := kyberPreKeyLastResort(v); ok && !lastResort {
				kyber++
			}
		}
		return nil
	})
	return ec, kyber, err
}

// PruneSignedPreKeys deletes signed EC prekeys and last-resort Kyber
// prekeys that are not current and were created before cutoff. Keep old
// ones long enough for PreKey messages in flight (Signal keeps them for
// about a month).
func (a *Account) PruneSignedPreKeys(ctx context.Context, cutoff time.Time) error {
	var gone [][32]byte // cache keys of the deleted records
	a.keys.inUse.RLock()
	err := a.store.Update(ctx, func(tx keystore.Tx) error {
		gone = gone[:0]
		c, err := loadCounters(tx)
		if err != nil {
			return err
		}
		prune := func(space string, current uint32, created func([]byte) (int64, bool)) error {
			kyber := space == spaceKyberPreKey
			keys, err := tx.List(space, "")
			if err != nil {
				return err
			}
			for _, k := range keys {
				if k == idKey(current) {
					continue
				}
				v, err := tx.Get(space, k)
				if err != nil {
					return err
				}
				if ts, ok := created(v); ok && ts < cutoff.Unix() {
					if err := tx.Delete(space, k); err != nil {
						return err
					}
					gone = append(gone, cacheKey(v))
					if !kyber {
						continue
					}
					// A pruned last-resort key's replay records go with it.
					used, err := tx.List(spaceKyberUsed, k+".")
					if err != nil {
						return err
					}
					for _, u := range used {
						if err := tx.Delete(spaceKyberUsed, u); err != nil {
							return err
						}
					}
				}
			}
			return nil
		}
		if err := prune(spaceSignedPreKey, c.currentSigned, func(v []byte) (int64, bool) {
			s, err := parseSignedPreKey(v)
			if err != nil {
				return 0, false
			}
			defer s.wipe()
			return s.created, true
		}); err != nil {
			return err
		}
		return prune(spaceKyberPreKey, c.currentLastResort, func(v []byte) (int64, bool) {
			k, err := parseKyberPreKey(v)
			if err != nil {
				return 0, false
			}
			defer k.wipe()
			if !k.lastResort {
				return 0, false // one-time keys are removed by use
			}
			return k.created, true
		})
	})
	a.keys.inUse.RUnlock()
	if err == nil {
		// The pruned keys left the store: they leave the cache, wiped.
		a.keys.forget(gone)
	}
	return err
}

// Bundle assembles the bundle to publish from stored keys: the given
// one-time prekey (0: none), the signed prekey (0: the current one) and the
// Kyber prekey (0: the current last-resort one).
func (a *Account) Bundle(ctx context.Context, preKeyID, signedPreKeyID, kyberPreKeyID uint32) (*Bundle, error) {
	b := &Bundle{
		RegistrationID: a.registrationID,
		DeviceID:       a.address.DeviceID,
		IdentityKey:    a.identity.PublicKey().Bytes(),
	}
	err := a.store.View(ctx, func(tx keystore.Tx) error {
		c, err := loadCounters(tx)
		if err != nil {
			return err
		}
		if signedPreKeyID == 0 {
			signedPreKeyID = c.currentSigned
		}
		if kyberPreKeyID == 0 {
			kyberPreKeyID = c.currentLastResort
		}
		if preKeyID != 0 {
			k, err := loadPreKey(tx, preKeyID)
			if err != nil {
				return err
			}
			b.PreKeyID, b.PreKey = preKeyID, k.PublicKey().Bytes()
		}
		s, err := a.loadSignedPreKey(tx, signedPreKeyID)
		if err != nil {
			return err
		}
		// Copies: the parsed record may be cached and must not alias what
		// the caller receives.
		b.SignedPreKeyID, b.SignedPreKey, b.SignedPreKeySignature = signedPreKeyID, bytes.Clone(s.pub), bytes.Clone(s.sig)
		k, err := a.loadKyberPreKey(tx, kyberPreKeyID)
		if err != nil {
			return err
		}
		b.KyberPreKeyID, b.KyberPreKey, b.KyberPreKeySignature = kyberPreKeyID, k.key.PublicKey().Bytes(), bytes.Clone(k.sig)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// loadPreKey loads one-time EC prekey id. An unknown id is the message's
// fault: the PreKey message names a key this account does not have.
func loadPreKey(tx keystore.Tx, id uint32) (*curve.PrivateKey, error) {
	v, err := tx.Get(spacePreKey, idKey(id))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, invalid(fmt.Errorf("%w: one-time prekey %d", ErrUnknownPreKey, id))
	}
	if err != nil {
		return nil, err
	}
	defer clear(v)
	body, ok := cutMagic(preKeyMagic, v)
	if !ok {
		body = v // the format before records had a magic
	}
	if len(body) != curve.PrivateKeySize+curve.PublicKeySize {
		return nil, ErrMalformedRecord
	}
	return curve.NewPrivateKey(body[:curve.PrivateKeySize])
}

// deletePreKey removes a used one-time EC prekey.
func (a *Account) deletePreKey(tx keystore.Tx, id uint32) error {
	return tx.Delete(spacePreKey, idKey(id))
}

type signedPreKeyRecord struct {
	key     *curve.PrivateKey
	pub     []byte
	sig     []byte
	created int64
}

func (r *signedPreKeyRecord) wipe() {
	if r.key != nil {
		r.key.Wipe()
	}
}

func parseSignedPreKey(v []byte) (*signedPreKeyRecord, error) {
	const fixed = curve.PrivateKeySize + curve.PublicKeySize + curve.SignatureSize
	body, ok := cutMagic(signedPreKeyMagic, v)
	if !ok {
		body = v
	}
	if len(body) <= fixed {
		return nil, ErrMalformedRecord
	}
	k, err := curve.NewPrivateKey(body[:curve.PrivateKeySize])
	if err != nil {
		return nil, ErrMalformedRecord
	}
	ts, n := binary.Varint(body[fixed:])
	if n <= 0 || fixed+n != len(body) {
		return nil, ErrMalformedRecord
	}
	return &signedPreKeyRecord{
		key:     k,
		pub:     bytes.Clone(body[curve.PrivateKeySize : curve.PrivateKeySize+curve.PublicKeySize]),
		sig:     bytes.Clone(body[curve.PrivateKeySize+curve.PublicKeySize : fixed]),
		created: ts,
	}, nil
}

// loadSignedPreKey loads signed prekey id through the key cache.
func (a *Account) loadSignedPreKey(tx keystore.Tx, id uint32) (*signedPreKeyRecord, error) {
	v, err := tx.Get(spaceSignedPreKey, idKey(id))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, invalid(fmt.Errorf("%w: signed prekey %d", ErrUnknownPreKey, id))
	}
	if err != nil {
		return nil, err
	}
	defer clear(v)
	r, err := a.keys.get(v, true, func(v []byte) (wipeable, error) { return parseSignedPreKey(v) })
	if err != nil {
		return nil, err
	}
	return r.(*signedPreKeyRecord), nil
}

type kyberPreKeyRecord struct {
	key        *kem.PrivateKey
	sig        []byte
	lastResort bool
	created    int64
}

func (r *kyberPreKeyRecord) wipe() {
	if r.key != nil {
		r.key.Wipe()
	}
}

// kyberPreKeyLastResort reads the last-resort flag of a stored Kyber prekey
// without parsing the key.
func kyberPreKeyLastResort(v []byte) (lastResort, ok bool) {
	body, ok := cutMagic(kyberPreKeyMagic, v)
	if !ok {
		body = v
	}
	if len(body) == 0 || body[0] > 1 {
		return false, false
	}
	return body[0] == 1, true
}

func parseKyberPreKey(v []byte) (*kyberPreKeyRecord, error) {
	const fixed = 1 + kem.SecretKeySize + curve.SignatureSize
	body, ok := cutMagic(kyberPreKeyMagic, v)
	if !ok {
		body = v
	}
	if len(body) <= fixed || body[0] > 1 {
		return nil, ErrMalformedRecord
	}
	k, err := kem.ParsePrivateKey(body[1 : 1+kem.SecretKeySize])
	if err != nil {
		return nil, ErrMalformedRecord
	}
	ts, n := binary.Varint(body[fixed:])
	if n <= 0 || fixed+n != len(body) {
		return nil, ErrMalformedRecord
	}
	return &kyberPreKeyRecord{key: k, sig: bytes.Clone(body[1+kem.SecretKeySize : fixed]), lastResort: body[0] == 1, created: ts}, nil
}

// loadKyberPreKey loads Kyber prekey id. Last-resort keys go through the
// key cache; one-time keys, used once, do not, and the caller wipes them.
func (a *Account) loadKyberPreKey(tx keystore.Tx, id uint32) (*kyberPreKeyRecord, error) {
	v, err := tx.Get(spaceKyberPreKey, idKey(id))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, invalid(fmt.Errorf("%w: Kyber prekey %d", ErrUnknownPreKey, id))
	}
	if err != nil {
		return nil, err
	}
	defer clear(v)
	lastResort, ok := kyberPreKeyLastResort(v)
	if !ok {
		return nil, ErrMalformedRecord
	}
	r, err := a.keys.get(v, lastResort, func(v []byte) (wipeable, error) { return parseKyberPreKey(v) })
	if err != nil {
		return nil, err
	}
	return r.(*kyberPreKeyRecord), nil
}

// markKyberPreKeyUsed consumes a one-time Kyber prekey, or records the
// (Kyber id, signed id, base key) triple of a last-resort one, failing if
// that triple was seen before.
func markKyberPreKeyUsed(tx keystore.Tx, k *kyberPreKeyRecord, kyberID, signedID uint32, baseKey []byte) error {
	if !k.lastResort {
		return tx.Delete(spaceKyberPreKey, idKey(kyberID))
	}
	key := fmt.Sprintf("%08x.%08x.%x", kyberID, signedID, baseKey)
	if _, err := tx.Get(spaceKyberUsed, key); err == nil {
		return invalid(ErrKyberPreKeyReused)
	} else if !errors.Is(err, keystore.ErrNotFound) {
		return err
	}
	return tx.Put(spaceKyberUsed, key, []byte{1})
}
