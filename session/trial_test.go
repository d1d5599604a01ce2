package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore"
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

// TestTrialDecryptionPerSession: a legitimate message for an archived
// session far ahead of its chain decrypts even behind a newer session that
// a forged-looking jump would exhaust: each session tried has its own
// limits, as in libsignal (interop checks libsignal agrees).
func TestTrialDecryptionPerSession(t *testing.T) {
	const ahead = 12600
	alice, bob := start(t, false)
	ctx := context.Background()
	recv(t, bob, alice, send(t, alice, bob, "first"), "first")
	recv(t, alice, bob, send(t, bob, alice, "answer"), "answer")
	skipped := make([][]byte, ahead)
	for i := range skipped {
		skipped[i] = []byte{}
	}
	_, err := alice.EncryptBatch(ctx, bobAddr, skipped) // lost in transit
	require.NoError(t, err)
	late := send(t, alice, bob, "far ahead")
	m, err := ratchetcore.ParseMessage(late.Body)
	require.NoError(t, err)
	require.Equal(t, uint32(ahead), m.Counter)

	// Bob starts a session of his own: Alice's is archived behind it.
	require.NoError(t, bob.ProcessBundle(ctx, aliceAddr, alice.publish(t, false)))
	_, archived := currentBaseKey(t, bob, aliceAddr)
	require.Len(t, archived, 1)
	recv(t, bob, alice, late, "far ahead")
}

// TestDuplicateEndsTrialDecryption: a replay in the current session is
// reported as a duplicate without trying the archived sessions.
func TestDuplicateEndsTrialDecryption(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	recv(t, bob, alice, send(t, alice, bob, "first"), "first")
	recv(t, alice, bob, send(t, bob, alice, "answer"), "answer")
	m := send(t, alice, bob, "once")
	recv(t, bob, alice, m, "once")
	for range 3 {
		require.NoError(t, alice.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
		recv(t, bob, alice, send(t, alice, bob, "new session"), "new session")
	}
	// The replayed message belongs to an archived session at Bob's now.
	_, err := bob.Decrypt(ctx, aliceAddr, m)
	require.ErrorIs(t, err, ErrInvalidMessage)
	require.ErrorIs(t, err, ratchetcore.ErrDuplicateMessage)
}

// TestCorruptArchivedSessionSkipped: an archived session that does not
// parse is skipped; later messages of other sessions still decrypt.
func TestCorruptArchivedSessionSkipped(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	recv(t, bob, alice, send(t, alice, bob, "first"), "first")
	recv(t, alice, bob, send(t, bob, alice, "answer"), "answer")
	old := send(t, alice, bob, "old session")
	require.NoError(t, bob.ProcessBundle(ctx, aliceAddr, alice.publish(t, false)))
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
	recv(t, bob, alice, send(t, alice, bob, "newest"), "newest")
	// Corrupt the first archived session (Bob's own, unused by Alice).
	require.NoError(t, bob.store.Update(ctx, func(tx keystore.Tx) error {
		rec, err := loadRecord(tx, aliceAddr)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(rec.previous), 2)
		rec.previous[0] = []byte("SOTs\x01 not a session")
		return saveRecord(tx, aliceAddr, rec)
	}))
	recv(t, bob, alice, old, "old session")
}

// BenchmarkForgedWhisperWorstCase is what one forged Whisper message costs
// a record with the current session and MaxArchivedSessions archived ones:
// every session attempts a DH step and a jump of MaxForwardJump in both the
// Double Ratchet and the SPQR chain before its MAC check fails. SECURITY.md
// quotes this figure as the bound on a forged message's cost.
func BenchmarkForgedWhisperWorstCase(b *testing.B) {
	alice, bob := start(b, false)
	ctx := context.Background()
	for range MaxArchivedSessions {
		require.NoError(b, alice.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
	}
	forged := &Message{Type: MessageWhisper, Body: forgedWhisper(b, ratchetcore.MaxForwardJump)}
	before := snapshot(b, alice.store)
	for b.Loop() {
		_, err := alice.Decrypt(ctx, bobAddr, forged)
		if !errors.Is(err, ErrInvalidMessage) {
			b.Fatal(err)
		}
	}
	require.Equal(b, before, snapshot(b, alice.store))
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

// BenchmarkForgedPreKey is what one forged PreKey message to the
// last-resort prekeys costs at most: the whole PQXDH of a new session (Kyber
// decapsulation, four X25519 agreements, the canonical-base-key check), a
// DH ratchet step, a jump of MaxForwardJump in both chains, and the MAC
// check that fails. Nothing is recorded, so the same forgery costs the same
// every time it is replayed (SECURITY.md).
func BenchmarkForgedPreKey(b *testing.B) {
	alice, bob := start(b, false)
	m := send(b, alice, bob, "genuine")
	w, err := wire.ParsePreKeySignalMessage(m.Body)
	require.NoError(b, err)
	w.Message = forgedWhisper(b, ratchetcore.MaxForwardJump-1)
	forged := &Message{Type: MessagePreKey, Body: w.Marshal()}
	before := snapshot(b, bob.store)
	ctx := context.Background()
	for b.Loop() {
		_, err := bob.Decrypt(ctx, aliceAddr, forged)
		if !errors.Is(err, ratchetcore.ErrAuthentication) {
			b.Fatal(err)
		}
	}
	require.Equal(b, before, snapshot(b, bob.store))
}
