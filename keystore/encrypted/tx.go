package encrypted

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/sotto-im/sotto/keystore"
)

// Each value is one row of the inner store, under the same space and key:
//
//	0x01 || ciphertext                       rowInline
//	0x02 || ciphertext[:MaxValueSize-1]      rowSplit: the row is exactly
//	                                         keystore.MaxValueSize bytes and
//	                                         the rest of the ciphertext is in
//	                                         spaceOverflow, key overflowKey
//
// where ciphertext is Tink's: 0x01 || key id (4 bytes, big-endian) ||
// nonce (12) || AES-256-GCM ciphertext and tag (16), with associated data
// valueAD(space, key). The leading byte versions the row format.
const (
	rowInline byte = 0x01
	rowSplit  byte = 0x02

	valueLabel = "sotto-keystore-v1 value"

	// tinkPrefix is the first byte of a ciphertext of a Tink key with
	// output prefix TINK, which a 4-byte key id follows.
	tinkPrefix     byte = 0x01
	tinkPrefixSize      = 5
)

// valueAD returns the associated data that binds a value to its space and
// key: valueLabel || uint64be(len(space)) || space || key. The length makes
// the encoding unambiguous: ("ab", "c") and ("a", "bc") differ.
func valueAD(space, key string) []byte {
	ad := make([]byte, 0, len(valueLabel)+8+len(space)+len(key))
	ad = append(ad, valueLabel...)
	ad = binary.BigEndian.AppendUint64(ad, uint64(len(space)))
	ad = append(ad, space...)
	return append(ad, key...)
}

// overflowKey names the overflow row of a value, unambiguously.
func overflowKey(space, key string) string {
	return strconv.Itoa(len(space)) + ":" + space + key
}

// keyID returns the id of the Tink key a ciphertext claims to be sealed
// under.
func keyID(ciphertext []byte) (uint32, bool) {
	if len(ciphertext) < tinkPrefixSize || ciphertext[0] != tinkPrefix {
		return 0, false
	}
	return binary.BigEndian.Uint32(ciphertext[1:tinkPrefixSize]), true
}

// tamperedValue is the error for a value that does not open. It names the
// row, never its contents.
func tamperedValue(space, key string) error {
	return fmt.Errorf("keystore/encrypted: value %q in space %q: %w", key, space, ErrTampered)
}

// tx is a transaction of the encrypted store, over one of the inner store.
type tx struct {
	s         *Store
	inner     keystore.Tx
	ring      *keyring // loaded once the inner transaction has started
	writable  bool
	reloaded  bool     // the keyset was reloaded in this transaction
	finished  bool     // fn has returned
	newSpaces []string // spaces first recorded in spaceSpaces by this transaction
}

var _ keystore.Tx = (*tx)(nil)

func (s *Store) newTx(itx keystore.Tx, writable bool) *tx {
	return &tx{s: s, inner: itx, ring: s.ring.Load(), writable: writable}
}

func (t *tx) end() { t.finished = true }

func (t *tx) live() {
	if t.finished {
		panic("keystore/encrypted: Tx used after its transaction ended")
	}
}

// Get returns the opened value of key in space, keystore.ErrNotFound, or an
// error wrapping ErrTampered if the stored value fails authentication.
func (t *tx) Get(space, key string) ([]byte, error) {
	t.live()
	if reserved(space) {
		return nil, ErrReservedSpace
	}
	row, err := t.inner.Get(space, key)
	if err != nil {
		return nil, err
	}
	ct, err := t.ciphertext(space, key, row)
	if err != nil {
		return nil, err
	}
	return t.open(space, key, ct)
}

// ciphertext reassembles the ciphertext of a row.
func (t *tx) ciphertext(space, key string, row []byte) ([]byte, error) {
	if len(row) == 0 {
		return nil, tamperedValue(space, key)
	}
	switch row[0] {
	case rowInline:
		return row[1:], nil
	case rowSplit:
		if len(row) != keystore.MaxValueSize {
			return nil, tamperedValue(space, key)
		}
		tail, err := t.inner.Get(spaceOverflow, overflowKey(space, key))
		if errors.Is(err, keystore.ErrNotFound) {
			return nil, tamperedValue(space, key)
		}
		if err != nil {
			return nil, err
		}
		return append(row[1:], tail...), nil
	}
	return nil, tamperedValue(space, key)
}

// open decrypts a value's ciphertext. A ciphertext under a key id this
// Store has not seen makes it reload the keyset, once per transaction: a
// Rotate by another Store, or one that committed after this transaction
// loaded its keyring, adds keys.
func (t *tx) open(space, key string, ct []byte) ([]byte, error) {
	ad := valueAD(space, key)
	pt, err := t.ring.aead.Decrypt(ct, ad)
	if err != nil {
		id, ok := keyID(ct)
		if !ok || t.ring.has(id) || t.reloaded {
			return nil, tamperedValue(space, key)
		}
		if err := t.reload(); err != nil {
			return nil, err
		}
		if pt, err = t.ring.aead.Decrypt(ct, ad); err != nil {
			return nil, tamperedValue(space, key)
		}
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// reload reads the keyset as this transaction sees it and uses it for the
// rest of the transaction; it also becomes the Store's if it has every key
// the Store's has.
func (t *tx) reload() error {
	t.reloaded = true
	kh, err := readKeyset(t.inner, t.ring)
	if err != nil {
		return err
	}
	next, err := newKeyring(kh, t.ring.kek, t.ring.header)
	if err != nil {
		return err
	}
	if next.covers(t.ring) {
		t.s.ring.CompareAndSwap(t.ring, next)
	}
	t.ring = next
	return nil
}

// Put seals value under the primary key and stores it.
func (t *tx) Put(space, key string, value []byte) error {
	t.live()
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if err := keystore.CheckPut(space, key, value); err != nil {
		return err
	}
	if reserved(space) {
		return ErrReservedSpace
	}
	if err := t.register(space); err != nil {
		return err
	}
	return t.put(space, key, value)
}

// put seals value and writes its row, and its overflow row if it needs one.
func (t *tx) put(space, key string, value []byte) error {
	ct, err := t.ring.aead.Encrypt(value, valueAD(space, key))
	if err != nil {
		return fmt.Errorf("keystore/encrypted: sealing value: %w", err)
	}
	okey := overflowKey(space, key)
	if 1+len(ct) <= keystore.MaxValueSize {
		row := make([]byte, 1+len(ct))
		row[0] = rowInline
		copy(row[1:], ct)
		if err := t.inner.Put(space, key, row); err != nil {
			return err
		}
		// Drop the overflow row of an earlier, larger value, if any.
		return t.inner.Delete(spaceOverflow, okey)
	}
	n := keystore.MaxValueSize - 1
	row := make([]byte, keystore.MaxValueSize)
	row[0] = rowSplit
	copy(row[1:], ct[:n])
	if err := t.inner.Put(space, key, row); err != nil {
		return err
	}
	return t.inner.Put(spaceOverflow, okey, ct[n:])
}

// register records space in spaceSpaces, so Reencrypt can find it, unless
// it is known to be recorded already.
func (t *tx) register(space string) error {
	if _, ok := t.s.spaces.Load(space); ok || slices.Contains(t.newSpaces, space) {
		return nil
	}
	if err := t.inner.Put(spaceSpaces, space, []byte{}); err != nil {
		return err
	}
	t.newSpaces = append(t.newSpaces, space)
	return nil
}

// Delete removes key from space, with its overflow row if it has one.
func (t *tx) Delete(space, key string) error {
	t.live()
	if !t.writable {
		return keystore.ErrReadOnly
	}
	if space == "" || key == "" {
		return keystore.ErrInvalidKey
	}
	if reserved(space) {
		return ErrReservedSpace
	}
	if err := t.inner.Delete(space, key); err != nil {
		return err
	}
	return t.inner.Delete(spaceOverflow, overflowKey(space, key))
}

// List returns the keys in space that start with prefix, sorted: names are
// stored in the clear, so this is the inner store's List.
func (t *tx) List(space, prefix string) ([]string, error) {
	t.live()
	if reserved(space) {
		return nil, ErrReservedSpace
	}
	return t.inner.List(space, prefix)
}
