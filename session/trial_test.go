package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/ratchet"
)

// forgedWhisper builds a SignalMessage under a fresh ratchet key at counter
// and SPQR index ahead, with a random MAC: the costliest message to reject
// per session tried.
func forgedWhisper(t testing.TB, ahead uint32) []byte {
	k, err := curve.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pq := []byte{0x01, 0x01}
	pq = protowire.AppendVarint(pq, uint64(ahead))
	pq = append(pq, 0x00)
	b := []byte{0x44}
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, k.PublicKey().Bytes())
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(ahead))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, make([]byte, 16))
	b = protowire.AppendTag(b, 5, protowire.BytesType)
	b = protowire.AppendBytes(b, pq)
	return append(b, 1, 2, 3, 4, 5, 6, 7, 8)
}

// TestTrialDecryptionSharesOneBudget: a forged Whisper message tried
// against the current session and 40 archived ones may cost at most
// MaxForwardJump chain steps in all. The first session tried spends the
// whole budget on the forged jump; every other one must then refuse the
// jump before computing it.
func TestTrialDecryptionSharesOneBudget(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	for range MaxArchivedSessions {
		require.NoError(t, alice.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
	}
	sm, err := ratchet.ParseSignalMessage(forgedWhisper(t, ratchet.MaxForwardJump))
	require.NoError(t, err)
	before := snapshot(t, alice.store)

	// Count the tries that ran out of budget: all but the first.
	var rec *record
	require.NoError(t, alice.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		rec, err = loadRecord(tx, bobAddr)
		return err
	}))
	require.Len(t, rec.previous, MaxArchivedSessions)
	budget := ratchet.NewWorkBudget()
	_, err = rec.current.ratchet.DecryptMessageWithin(sm, nil, budget)
	require.ErrorIs(t, err, ratchet.ErrAuthentication, "the first try computes the whole jump, then fails the MAC")
	for _, b := range rec.previous {
		s, err := parseSessionState(b)
		require.NoError(t, err)
		_, err = s.ratchet.DecryptMessageWithin(sm, nil, budget)
		require.ErrorIs(t, err, ratchet.ErrTooFarAhead, "an archived session must not get a budget of its own")
	}

	// Through the API: rejected, nothing changed.
	_, err = alice.Decrypt(ctx, bobAddr, &Message{Type: MessageWhisper, Body: forgedWhisper(t, ratchet.MaxForwardJump)})
	require.Error(t, err)
	require.Equal(t, before, snapshot(t, alice.store))

	// Honest traffic is unaffected.
	recv(t, bob, alice, send(t, alice, bob, "hello"), "hello")
	recv(t, alice, bob, send(t, bob, alice, "still fine"), "still fine")
}

// TestArchiveBoundedInBytes: however large the archived sessions, a record
// stays far below what a store accepts.
func TestArchiveBoundedInBytes(t *testing.T) {
	alice, _ := start(t, false)
	ctx := context.Background()
	var rec *record
	require.NoError(t, alice.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		rec, err = loadRecord(tx, bobAddr)
		return err
	}))
	for range 20 {
		rec.previous = append(rec.previous, make([]byte, 450<<10))
	}
	rec.archiveCurrent()
	total := 0
	for _, p := range rec.previous {
		total += len(p)
	}
	require.LessOrEqual(t, total, maxArchivedBytes)
	require.NotEmpty(t, rec.previous)
	require.Less(t, len(rec.marshal()), keystore.MaxValueSize/2)
}

// TestBundleDoesNotAliasCache: an app that scribbles over a bundle it got
// cannot change the next one.
func TestBundleDoesNotAliasCache(t *testing.T) {
	_, bob := start(t, false)
	ctx := context.Background()
	b1 := must(bob.Bundle(ctx, 0, 0, 0))
	want := bytes.Clone(b1.SignedPreKeySignature)
	clear(b1.SignedPreKey)
	clear(b1.SignedPreKeySignature)
	clear(b1.KyberPreKeySignature)
	b2 := must(bob.Bundle(ctx, 0, 0, 0))
	require.Equal(t, want, b2.SignedPreKeySignature)
	_, err := b2.verify()
	require.NoError(t, err)
}
