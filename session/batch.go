package session

import (
	"context"
	"slices"
	"strings"

	"github.com/sotto-im/sotto/keystore"
)

// Batches amortise the store's commit (an fsync, for a durable store) over
// many messages: with SQLite a commit costs far more than the cryptography
// of a message, so a client that sends or receives in bursts should batch.

// EncryptBatch encrypts each plaintext for to, in order, in one store
// transaction: either every message is encrypted and the advanced session
// committed, or none is.
func (a *Account) EncryptBatch(ctx context.Context, to Address, plaintexts [][]byte) ([]*Message, error) {
	out := make([]*Message, 0, len(plaintexts))
	err := a.update(ctx, func(t *txn) error {
		out = out[:0]
		for _, pt := range plaintexts {
			m, err := a.encrypt(t, to, pt)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Incoming is a received message and its sender, for DecryptBatch.
type Incoming struct {
	From    Address
	Message *Message
}

// DecryptBatch decrypts msgs in order in one store transaction and calls fn
// for each, with the plaintext or the message's own error (classified as
// Decrypt's are). A message that fails changes nothing, as with Decrypt,
// while the others still commit; fn may write through tx (storing the
// messages with the session state, as with DecryptWith). If fn returns an
// error, the whole batch is rolled back and that error returned. Each
// session record is read and written once per batch.
func (a *Account) DecryptBatch(ctx context.Context, msgs []Incoming, fn func(tx keystore.Tx, i int, plaintext []byte, err error) error) error {
	return a.store.Update(ctx, func(tx keystore.Tx) error {
		t := newTxn(tx)
		for i, in := range msgs {
			// Each message decrypts in an overlay of the transaction, so a
			// failing one leaves no partial write behind; session records
			// change in t only when the message succeeds.
			o := newOverlay(tx)
			t.tx = o
			pt, err := a.decrypt(t, in.From, in.Message)
			t.tx = tx
			if err == nil {
				if err := o.apply(); err != nil {
					return err
				}
			}
			if err := fn(tx, i, pt, err); err != nil {
				return err
			}
		}
		return t.flush(tx)
	})
}

// overlay buffers writes over a transaction until apply.
type overlay struct {
	tx     keystore.Tx
	writes map[string]map[string][]byte // nil value: deleted
	order  [][2]string
}

func newOverlay(tx keystore.Tx) *overlay {
	return &overlay{tx: tx, writes: map[string]map[string][]byte{}}
}

func (o *overlay) Get(space, key string) ([]byte, error) {
	if v, ok := o.writes[space][key]; ok {
		if v == nil {
			return nil, keystore.ErrNotFound
		}
		return slices.Clone(v), nil
	}
	return o.tx.Get(space, key)
}

func (o *overlay) set(space, key string, v []byte) error {
	if err := keystore.CheckPut(space, key, v); err != nil {
		return err
	}
	if o.writes[space] == nil {
		o.writes[space] = map[string][]byte{}
	}
	if _, seen := o.writes[space][key]; !seen {
		o.order = append(o.order, [2]string{space, key})
	}
	o.writes[space][key] = v
	return nil
}

func (o *overlay) Put(space, key string, value []byte) error {
	return o.set(space, key, append(make([]byte, 0, len(value)), value...))
}

func (o *overlay) Delete(space, key string) error { return o.set(space, key, nil) }

func (o *overlay) List(space, prefix string) ([]string, error) {
	keys, err := o.tx.List(space, prefix)
	if err != nil {
		return nil, err
	}
	w := o.writes[space]
	out := keys[:0]
	for _, k := range keys {
		if v, ok := w[k]; !ok || v != nil {
			out = append(out, k)
		}
	}
	for k, v := range w {
		if v != nil && strings.HasPrefix(k, prefix) && !slices.Contains(keys, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// apply writes the buffered changes to the transaction, in first-write order.
func (o *overlay) apply() error {
	for _, sk := range o.order {
		v := o.writes[sk[0]][sk[1]]
		var err error
		if v == nil {
			err = o.tx.Delete(sk[0], sk[1])
		} else {
			err = o.tx.Put(sk[0], sk[1], v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
