package session

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sotto-im/sotto/internal/binenc"
	"github.com/sotto-im/sotto/keystore"
)

// The spaces session keeps in a keystore.Store. Values are this package's
// own versioned binary encodings.
const (
	spaceAccount      = "sotto.account"      // identity key, registration id, address, id counters
	spacePreKey       = "sotto.prekey"       // one-time EC prekeys by id
	spaceSignedPreKey = "sotto.signedprekey" // signed EC prekeys by id
	spaceKyberPreKey  = "sotto.kyberprekey"  // Kyber prekeys by id
	spaceKyberUsed    = "sotto.kyberused"    // (Kyber id, signed id, base key) triples seen
	spaceIdentity     = "sotto.identity"     // trusted identity keys by address
	spaceSession      = "sotto.session"      // session records by address
)

const (
	keyIdentity = "identity"
	keyRegID    = "registration"
	keyAddress  = "address"
	keyCounters = "counters"
)

// idKey is the storage key of a prekey id: fixed-width hex, so that
// List returns ids in numeric order.
func idKey(id uint32) string { return fmt.Sprintf("%08x", id) }

// counters are the account's prekey id allocation state.
type counters struct {
	nextPreKeyID       uint32
	nextSignedPreKeyID uint32
	nextKyberPreKeyID  uint32
	currentSigned      uint32 // 0: none
	currentLastResort  uint32 // 0: none
}

func (c *counters) marshal() []byte {
	b := withMagic(countersMagic, 25)
	for _, v := range []uint32{c.nextPreKeyID, c.nextSignedPreKeyID, c.nextKyberPreKeyID, c.currentSigned, c.currentLastResort} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func loadCounters(tx keystore.Tx) (*counters, error) {
	b, err := tx.Get(spaceAccount, keyCounters)
	if errors.Is(err, keystore.ErrNotFound) {
		return &counters{nextPreKeyID: 1, nextSignedPreKeyID: 1, nextKyberPreKeyID: 1}, nil
	}
	if err != nil {
		return nil, err
	}
	if body, ok := cutMagic(countersMagic, b); ok {
		if c, ok := parseCounters(body); ok {
			return c, nil
		}
	}
	// The format before records had a magic.
	if c, ok := parseCounters(b); ok {
		return c, nil
	}
	return nil, ErrMalformedRecord
}

func parseCounters(b []byte) (*counters, bool) {
	r := binenc.NewReader(b)
	c := &counters{r.U32(), r.U32(), r.U32(), r.U32(), r.U32()}
	return c, r.Done()
}

func (c *counters) save(tx keystore.Tx) error { return tx.Put(spaceAccount, keyCounters, c.marshal()) }

// allocate returns n consecutive ids starting at *next (or at first when
// first is non-zero) and advances *next past them. Ids are never 0 and wrap
// within 24 bits, as libsignal's clients' ids do.
func allocate(next *uint32, first uint32, n int) []uint32 {
	const maxID = 0xFFFFFF
	start := *next
	if first != 0 {
		start = first
	}
	ids := make([]uint32, n)
	id := start
	for i := range ids {
		if id == 0 || id > maxID {
			id = 1
		}
		ids[i] = id
		id++
	}
	if id > maxID {
		id = 1
	}
	if first == 0 || id > *next {
		*next = id
	}
	return ids
}

func loadRecord(tx keystore.Tx, addr Address) (*record, error) {
	return loadRecordAt(tx, addr.String())
}

func loadRecordAt(tx keystore.Tx, skey string) (*record, error) {
	b, err := tx.Get(spaceSession, skey)
	if errors.Is(err, keystore.ErrNotFound) {
		return &record{}, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := parseRecord(b)
	if err != nil {
		clear(b)
		return nil, err
	}
	r.raw = b
	return r, nil
}

func saveRecord(tx keystore.Tx, addr Address, r *record) error {
	return saveRecordAt(tx, addr.String(), r)
}

func saveRecordAt(tx keystore.Tx, skey string, r *record) error {
	b := r.marshal()
	defer clear(b)
	return tx.Put(spaceSession, skey, b)
}

// txn is one store transaction as session's operations see it: records are
// loaded and parsed once per transaction, however many messages use them,
// and written once, by flush, when every operation of the transaction has
// succeeded.
type txn struct {
	tx      keystore.Tx
	records map[Address]*cachedRecord
}

type cachedRecord struct {
	rec   *record
	key   string // the address's storage key
	dirty bool
}

func newTxn(tx keystore.Tx) *txn { return &txn{tx: tx} }

// record returns addr's record, loading it on first use.
func (t *txn) record(addr Address) (*record, error) {
	if c, ok := t.records[addr]; ok {
		return c.rec, nil
	}
	key := addr.String()
	r, err := loadRecordAt(t.tx, key)
	if err != nil {
		return nil, err
	}
	if t.records == nil {
		t.records = make(map[Address]*cachedRecord, 1)
	}
	t.records[addr] = &cachedRecord{rec: r, key: key}
	return r, nil
}

// checkIdentity is Account.checkIdentity with the storage key of a loaded
// record.
func (t *txn) checkIdentity(a *Account, addr Address, key []byte) error {
	skey := ""
	if c, ok := t.records[addr]; ok {
		skey = c.key
	} else {
		skey = addr.String()
	}
	return a.checkIdentityAt(t.tx, addr, skey, key)
}

// dirty marks addr's record as changed.
func (t *txn) dirty(addr Address) { t.records[addr].dirty = true }

// flush writes the changed records through tx.
func (t *txn) flush(tx keystore.Tx) error {
	for _, c := range t.records {
		if c.dirty {
			if err := saveRecordAt(tx, c.key, c.rec); err != nil {
				return err
			}
			c.dirty = false
		}
	}
	return nil
}

// update runs fn in one store transaction and writes the records it changed
// before the commit. Secrets of the records it loaded are wiped afterwards.
func (a *Account) update(ctx context.Context, fn func(t *txn) error) error {
	a.keys.inUse.RLock()
	defer a.keys.inUse.RUnlock()
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		t := newTxn(tx)
		defer t.wipe()
		if err := fn(t); err != nil {
			return err
		}
		return t.flush(tx)
	})
}

// wipe clears the loaded records' secrets.
func (t *txn) wipe() {
	for _, c := range t.records {
		c.rec.wipe()
	}
}
