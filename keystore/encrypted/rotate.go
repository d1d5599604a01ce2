package encrypted

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sotto-im/sotto/keystore"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
)

// reencryptBatch is how many values Reencrypt rewrites per transaction of
// the inner store, so writers are never held up for long.
const reencryptBatch = 256

// Rotate adds a new AES-256-GCM key to the keyset and makes it the primary
// key: values written after Rotate returns are sealed under it, and the
// older keys stay in the keyset to open the values sealed before. The
// keyset is re-sealed and replaced in one transaction of the inner store,
// so a crash leaves either the old keyset or the new one, and the store
// stays usable throughout. Run Reencrypt next to move existing values to
// the new key.
func (s *Store) Rotate(ctx context.Context) error {
	return s.rekey(ctx, func(_ keystore.Tx, m *keyset.Manager) error {
		id, err := m.Add(aead.AES256GCMKeyTemplate())
		if err == nil {
			err = m.SetPrimary(id)
		}
		if err != nil {
			return fmt.Errorf("keystore/encrypted: adding key: %w", err)
		}
		return nil
	})
}

// errUnchanged, returned by a rekey change function, leaves the keyset as
// it is without failing.
var errUnchanged = errors.New("keystore/encrypted: keyset unchanged")

// rekey changes the keyset stored in the inner store with change, in one
// transaction of the inner store (itx), and installs the result once it has
// committed.
func (s *Store) rekey(ctx context.Context, change func(itx keystore.Tx, m *keyset.Manager) error) error {
	s.admin.Lock()
	defer s.admin.Unlock()
	cur := s.ring.Load()
	var next *keyring
	err := s.inner.Update(ctx, func(itx keystore.Tx) error {
		// Start from the stored keyset, which another Store may have
		// rotated since this one loaded it.
		kh, err := readKeyset(itx, cur)
		if err != nil {
			return err
		}
		m := keyset.NewManagerFromHandle(kh)
		if err := change(itx, m); err == errUnchanged {
			return nil
		} else if err != nil {
			return err
		}
		if kh, err = m.Handle(); err != nil {
			return fmt.Errorf("keystore/encrypted: changing keyset: %w", err)
		}
		var meta []byte
		next, meta, err = sealKeyset(kh, cur.kek, cur.header)
		if err != nil {
			return err
		}
		return itx.Put(spaceMeta, metaKey, meta)
	})
	if err != nil {
		return err
	}
	if next != nil {
		s.ring.Store(next)
	}
	return nil
}

// Reencrypt rewrites every value not sealed under the primary key, so that
// RemoveOldKeys can then drop the older keys. It works in transactions of
// reencryptBatch values: the store stays in use, values written meanwhile
// are sealed under the primary key anyway, and a cancelled or failed
// Reencrypt leaves every value readable and can simply be run again.
//
// A value that fails authentication stops Reencrypt with an error wrapping
// ErrTampered that names it; delete or rewrite it and run Reencrypt again.
func (s *Store) Reencrypt(ctx context.Context) error {
	s.admin.Lock()
	defer s.admin.Unlock()
	spaces, err := s.list(ctx, spaceSpaces)
	if err != nil {
		return err
	}
	for _, space := range spaces {
		keys, err := s.list(ctx, space)
		if err != nil {
			return err
		}
		for batch := range slices.Chunk(keys, reencryptBatch) {
			err := s.update(ctx, func(t *tx) error {
				for _, key := range batch {
					if err := t.reencrypt(space, key); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// list lists a space of the inner store, reserved or not.
func (s *Store) list(ctx context.Context, space string) ([]string, error) {
	var keys []string
	err := s.inner.View(ctx, func(itx keystore.Tx) error {
		var err error
		keys, err = itx.List(space, "")
		return err
	})
	return keys, err
}

// reencrypt rewrites one value under the primary key unless it already is.
func (t *tx) reencrypt(space, key string) error {
	row, err := t.inner.Get(space, key)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil // deleted since it was listed
	}
	if err != nil {
		return err
	}
	ct, err := t.ciphertext(space, key, row)
	if err != nil {
		return err
	}
	if id, ok := keyID(ct); ok && id == t.ring.primary {
		return nil
	}
	pt, err := t.open(space, key, ct)
	if err != nil {
		return err
	}
	defer clear(pt)
	return t.put(space, key, pt)
}

// RemoveOldKeys deletes every key but the primary one from the keyset, so
// that a key that leaked, or simply aged, can no longer open anything here.
// In the same transaction it first checks that no value is still sealed
// under a key it would delete; if one is, it returns an error wrapping
// ErrOldKeysInUse and changes nothing: run Reencrypt first. The check reads
// every row in one transaction, which holds up writers of the inner store
// while it runs.
//
// Another Store or process using the same inner store keeps sealing new
// values under the primary key it loaded until it reloads the keyset, and
// after RemoveOldKeys those values would no longer open: close other Stores
// of the same inner store before Rotate, Reencrypt and RemoveOldKeys.
func (s *Store) RemoveOldKeys(ctx context.Context) error {
	return s.rekey(ctx, func(itx keystore.Tx, m *keyset.Manager) error {
		kh, err := m.Handle()
		if err != nil {
			return fmt.Errorf("keystore/encrypted: reading keyset: %w", err)
		}
		info := kh.KeysetInfo()
		primary := info.GetPrimaryKeyId()
		var old []uint32
		for _, k := range info.GetKeyInfo() {
			if id := k.GetKeyId(); id != primary {
				old = append(old, id)
			}
		}
		if len(old) == 0 {
			return errUnchanged
		}
		n, err := countSealedUnder(itx, old)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("keystore/encrypted: %d values sealed under old keys: %w", n, ErrOldKeysInUse)
		}
		for _, id := range old {
			if err := m.Delete(id); err != nil {
				return fmt.Errorf("keystore/encrypted: deleting key: %w", err)
			}
		}
		return nil
	})
}

// countSealedUnder counts the values stored under one of the keys ids. It
// reads only the key id in each row's ciphertext prefix. Rows too damaged
// to name a key do not open under any key and are not counted.
func countSealedUnder(itx keystore.Tx, ids []uint32) (int, error) {
	spaces, err := itx.List(spaceSpaces, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, space := range spaces {
		keys, err := itx.List(space, "")
		if err != nil {
			return 0, err
		}
		for _, key := range keys {
			row, err := itx.Get(space, key)
			if err != nil {
				return 0, err
			}
			if len(row) == 0 || row[0] != rowInline && row[0] != rowSplit {
				continue
			}
			if id, ok := keyID(row[1:]); ok && slices.Contains(ids, id) {
				n++
			}
		}
	}
	return n, nil
}
