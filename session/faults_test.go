package session

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/memory"
)

// faultyStore wraps a store and fails its n-th operation (Get, Put,
// Delete, List, or the commit, counted across transactions from arm), or
// cancels the context at that point.
type faultyStore struct {
	keystore.Store
	n      int // operations until the fault; <0: none
	cancel context.CancelFunc
}

var errInjected = errors.New("injected store fault")

func (s *faultyStore) tick() error {
	if s.n < 0 {
		return nil
	}
	s.n--
	if s.n >= 0 {
		return nil
	}
	if s.cancel != nil {
		s.cancel()
		return context.Canceled
	}
	return errInjected
}

func (s *faultyStore) Update(ctx context.Context, fn func(keystore.Tx) error) error {
	return s.Store.Update(ctx, func(tx keystore.Tx) error {
		if err := fn(&faultyTx{tx, s}); err != nil {
			return err
		}
		if err := s.tick(); err != nil { // the commit
			return err
		}
		return ctx.Err()
	})
}

func (s *faultyStore) View(ctx context.Context, fn func(keystore.Tx) error) error {
	return s.Store.View(ctx, func(tx keystore.Tx) error { return fn(&faultyTx{tx, s}) })
}

type faultyTx struct {
	keystore.Tx
	s *faultyStore
}

func (t *faultyTx) Get(space, key string) ([]byte, error) {
	if err := t.s.tick(); err != nil {
		return nil, err
	}
	return t.Tx.Get(space, key)
}

func (t *faultyTx) Put(space, key string, v []byte) error {
	if err := t.s.tick(); err != nil {
		return err
	}
	return t.Tx.Put(space, key, v)
}

func (t *faultyTx) Delete(space, key string) error {
	if err := t.s.tick(); err != nil {
		return err
	}
	return t.Tx.Delete(space, key)
}

func (t *faultyTx) List(space, prefix string) ([]string, error) {
	if err := t.s.tick(); err != nil {
		return nil, err
	}
	return t.Tx.List(space, prefix)
}

// TestNoMessageBeforeCommit fails the store, and cancels the context, at
// every operation of EncryptWith, Encrypt and EncryptBatch, the commit
// included. Whatever failed handed out no message; every message handed
// out decrypts at the peer, each exactly once, so no counter or key was
// ever used for two messages.
func TestNoMessageBeforeCommit(t *testing.T) {
	ctx := context.Background()
	for _, cancelling := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancel=%v", cancelling), func(t *testing.T) {
			alice, bob := start(t, true)
			recv(t, bob, alice, send(t, alice, bob, "hello"), "hello")
			recv(t, alice, bob, send(t, bob, alice, "hi"), "hi")
			fs := &faultyStore{Store: alice.store, n: -1}
			a, err := OpenAccount(ctx, fs)
			require.NoError(t, err)

			type sent struct {
				m    *Message
				text string
			}
			var out []sent
			ops := map[string]func(ctx context.Context, text string) ([]*Message, error){
				"EncryptWith": func(ctx context.Context, text string) ([]*Message, error) {
					m, err := a.EncryptWith(ctx, bobAddr, []byte(text), func(tx keystore.Tx) (string, string, error) {
						return "app.outbox", text, tx.Put("app.meta", text, []byte("x"))
					})
					return []*Message{m}, err
				},
				"Encrypt": func(ctx context.Context, text string) ([]*Message, error) {
					m, err := a.Encrypt(ctx, bobAddr, []byte(text))
					return []*Message{m}, err
				},
				"EncryptBatch": func(ctx context.Context, text string) ([]*Message, error) {
					return a.EncryptBatch(ctx, bobAddr, [][]byte{[]byte(text), []byte(text + "'")})
				},
			}
			for _, name := range []string{"EncryptWith", "Encrypt", "EncryptBatch"} {
				op := ops[name]
				failed := 0
				for k := 0; ; k++ {
					text := fmt.Sprintf("%s %d", name, k)
					opCtx, cancel := context.WithCancel(ctx)
					fs.n = k
					if cancelling {
						fs.cancel = cancel
					}
					ms, err := op(opCtx, text)
					cancel()
					fs.n, fs.cancel = -1, nil
					if err != nil {
						failed++
						require.True(t, errors.Is(err, errInjected) || errors.Is(err, context.Canceled), "%s at %d: %v", name, k, err)
						for _, m := range ms {
							require.Nil(t, m, "%s at %d handed out a message with its error", name, k)
						}
						continue
					}
					for i, m := range ms {
						want := text
						if i == 1 {
							want += "'"
						}
						out = append(out, sent{m, want})
					}
					if failed > 0 {
						break // the fault point is past every operation
					}
				}
				require.Greater(t, failed, 2, "%s: too few fault points to mean anything", name)
			}
			// Bob decrypts everything handed out, in order, exactly once.
			for _, s := range out {
				recv(t, bob, alice, s.m, s.text)
			}
			for _, s := range out {
				_, err := bob.Decrypt(ctx, aliceAddr, s.m)
				require.ErrorIs(t, err, ratchetcore.ErrDuplicateMessage)
			}
		})
	}
}

// TestCountingStoreBatch: a batch reads and writes each session record once.
func TestBatchTouchesRecordsOnce(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	recv(t, bob, alice, send(t, alice, bob, "hello"), "hello")
	recv(t, alice, bob, send(t, bob, alice, "hi"), "hi")
	var pts [][]byte
	for i := range 16 {
		pts = append(pts, []byte(fmt.Sprint(i)))
	}
	cs := &countingStore{Store: alice.store}
	a, err := OpenAccount(ctx, cs)
	require.NoError(t, err)
	msgs, err := a.EncryptBatch(ctx, bobAddr, pts)
	require.NoError(t, err)
	require.Equal(t, 1, cs.gets[spaceSession], "EncryptBatch reads the record once")
	require.Equal(t, 1, cs.puts[spaceSession], "EncryptBatch writes the record once")

	cb := &countingStore{Store: bob.store}
	b, err := OpenAccount(ctx, cb)
	require.NoError(t, err)
	var in []Incoming
	for _, m := range msgs {
		in = append(in, Incoming{From: aliceAddr, Message: m})
	}
	in = append(in, Incoming{From: aliceAddr, Message: msgs[0]}) // a duplicate in the batch
	n := 0
	require.NoError(t, b.DecryptBatch(ctx, in, func(tx keystore.Tx, i int, pt []byte, err error) error {
		if i == len(in)-1 {
			require.ErrorIs(t, err, ErrInvalidMessage)
			require.ErrorIs(t, err, ratchetcore.ErrDuplicateMessage)
			return nil
		}
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), string(pt))
		n++
		return nil
	}))
	require.Equal(t, 16, n)
	require.Equal(t, 1, cb.gets[spaceSession], "DecryptBatch reads the record once")
	require.Equal(t, 1, cb.puts[spaceSession], "DecryptBatch writes the record once")
	recv(t, bob, alice, send(t, alice, bob, "after"), "after")
}

type countingStore struct {
	keystore.Store
	gets, puts map[string]int
}

func (s *countingStore) Update(ctx context.Context, fn func(keystore.Tx) error) error {
	return s.Store.Update(ctx, func(tx keystore.Tx) error { return fn(&countingTx{tx, s}) })
}

type countingTx struct {
	keystore.Tx
	s *countingStore
}

func (t *countingTx) Get(space, key string) ([]byte, error) {
	if t.s.gets == nil {
		t.s.gets = map[string]int{}
	}
	t.s.gets[space]++
	return t.Tx.Get(space, key)
}

func (t *countingTx) Put(space, key string, v []byte) error {
	if t.s.puts == nil {
		t.s.puts = map[string]int{}
	}
	t.s.puts[space]++
	return t.Tx.Put(space, key, v)
}

var _ keystore.Store = (*memory.Store)(nil)
