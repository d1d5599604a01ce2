package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/keystore"
)

func TestBatches(t *testing.T) {
	alice, bob := start(t, true)
	ctx := context.Background()
	var pts [][]byte
	for i := range 10 {
		pts = append(pts, []byte(fmt.Sprint("batch ", i)))
	}
	msgs, err := alice.EncryptBatch(ctx, bobAddr, pts)
	require.NoError(t, err)
	require.Len(t, msgs, 10)

	// A new contact whose first (PreKey) message is tampered: in a batch
	// it must leave nothing behind, not even the TOFU identity record.
	carol := newParty(t, Address{Name: "carol", DeviceID: 1})
	require.NoError(t, carol.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
	bad := send(t, carol, bob, "tampered")
	bad.Body[len(bad.Body)-3] ^= 1

	in := []Incoming{{aliceAddr, msgs[3]}, {carol.Address(), bad}}
	for _, m := range msgs {
		in = append(in, Incoming{aliceAddr, m})
	}
	var got []string
	var errs []error
	require.NoError(t, bob.DecryptBatch(ctx, in, func(tx keystore.Tx, i int, pt []byte, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		got = append(got, string(pt))
		return tx.Put("app.inbox", fmt.Sprint(i), pt)
	}))
	require.Len(t, errs, 2) // the tampered one, and msgs[3] a second time
	require.ErrorIs(t, errs[1], ratchetcore.ErrDuplicateMessage)
	require.Len(t, got, 10)
	info, err := bob.Identity(ctx, carol.Address())
	require.NoError(t, err)
	require.Nil(t, info, "a failed message in a batch must not record its identity")

	// fn failing rolls back the whole batch.
	more, err := alice.EncryptBatch(ctx, bobAddr, pts[:3])
	require.NoError(t, err)
	before := snapshot(t, bob.store)
	errStop := errors.New("stop")
	err = bob.DecryptBatch(ctx, []Incoming{{aliceAddr, more[0]}, {aliceAddr, more[1]}}, func(tx keystore.Tx, i int, pt []byte, err error) error {
		if i == 1 {
			return errStop
		}
		return nil
	})
	require.ErrorIs(t, err, errStop)
	require.Equal(t, before, snapshot(t, bob.store))
	for i, m := range more {
		recv(t, bob, alice, m, string(pts[i]))
	}
	_, err = alice.EncryptBatch(ctx, Address{Name: "nobody", DeviceID: 1}, pts)
	require.ErrorIs(t, err, ErrNoSession)
}

func TestOverlay(t *testing.T) {
	alice := newParty(t, aliceAddr)
	ctx := context.Background()
	require.NoError(t, alice.store.Update(ctx, func(tx keystore.Tx) error {
		require.NoError(t, tx.Put("s", "a", []byte("1")))
		require.NoError(t, tx.Put("s", "b", []byte("2")))
		o := newOverlay(tx)
		require.NoError(t, o.Delete("s", "a"))
		require.NoError(t, o.Put("s", "c", []byte("3")))
		keys, err := o.List("s", "")
		require.NoError(t, err)
		require.Equal(t, []string{"b", "c"}, keys)
		_, err = o.Get("s", "a")
		require.ErrorIs(t, err, keystore.ErrNotFound)
		// Nothing reached the transaction before apply.
		v, err := tx.Get("s", "a")
		require.NoError(t, err)
		require.True(t, bytes.Equal(v, []byte("1")))
		require.NoError(t, o.apply())
		keys, err = tx.List("s", "")
		require.NoError(t, err)
		require.Equal(t, []string{"b", "c"}, keys)
		return nil
	}))
}
