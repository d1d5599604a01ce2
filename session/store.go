package session

import (
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
	var b []byte
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
	r := binenc.NewReader(b)
	c := &counters{r.U32(), r.U32(), r.U32(), r.U32(), r.U32()}
	if !r.Done() {
		return nil, ErrMalformedRecord
	}
	return c, nil
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
	b, err := tx.Get(spaceSession, addr.String())
	if errors.Is(err, keystore.ErrNotFound) {
		return &record{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseRecord(b)
}

func saveRecord(tx keystore.Tx, addr Address, r *record) error {
	return tx.Put(spaceSession, addr.String(), r.marshal())
}
