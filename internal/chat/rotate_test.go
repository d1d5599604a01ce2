package chat

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
)

// TestSignedPreKeyRotation: once the last rotation is older than a week,
// the next top-up publishes a new signed prekey and last-resort Kyber
// prekey, and sessions started from the old bundle still work.
func TestSignedPreKeyRotation(t *testing.T) {
	ctx := context.Background()
	r := newRelay(t)
	dir := t.TempDir()
	alice := openClient(t, r, dir, "alice", true)
	bob := openClient(t, r, dir, "bob", true)
	before, err := bob.acct.Bundle(ctx, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is due yet.
	if err := bob.topUp(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := bob.acct.Bundle(ctx, 0, 0, 0); b.SignedPreKeyID != before.SignedPreKeyID {
		t.Fatal("rotated before the week was over")
	}
	// Alice starts a session from the old keys, then a week passes for Bob.
	mustSend(t, alice, "bob", "before rotation")
	err = bob.store.Update(ctx, func(tx keystore.Tx) error {
		old := time.Now().Add(-signedPreKeyRotation - time.Hour).Unix()
		return tx.Put(spaceMeta, keyRotated, binary.BigEndian.AppendUint64(nil, uint64(old)))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.topUp(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := bob.acct.Bundle(ctx, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if after.SignedPreKeyID == before.SignedPreKeyID || after.KyberPreKeyID == before.KyberPreKeyID {
		t.Fatalf("not rotated: signed %d -> %d, Kyber %d -> %d", before.SignedPreKeyID, after.SignedPreKeyID,
			before.KyberPreKeyID, after.KyberPreKeyID)
	}
	// The relay hands out the new signed prekey.
	rb, err := alice.rc.FetchBundle(ctx, relayAddr("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if rb.SignedPreKeyID != after.SignedPreKeyID {
		t.Fatalf("relay still publishes signed prekey %d, want %d", rb.SignedPreKeyID, after.SignedPreKeyID)
	}
	// The message made from the old keys still decrypts.
	ev := poll(t, bob)
	if got := ev.texts(); len(got) != 1 || got[0] != "before rotation" {
		t.Fatalf("bob received %q", got)
	}
}

// TestPruneHandled: records of handled relay envelopes expire.
func TestPruneHandled(t *testing.T) {
	ctx := context.Background()
	r := newRelay(t)
	bob := openClient(t, r, t.TempDir(), "bob", true)
	old := binary.AppendUvarint(nil, uint64(time.Now().Add(-handledKeep-time.Hour).UnixMilli()))
	recent := binary.AppendUvarint(nil, uint64(time.Now().UnixMilli()))
	if err := bob.store.Update(ctx, func(tx keystore.Tx) error {
		if err := tx.Put(spaceRelay, "old", old); err != nil {
			return err
		}
		return tx.Put(spaceRelay, "recent", recent)
	}); err != nil {
		t.Fatal(err)
	}
	if err := pruneHandled(ctx, bob.store, time.Now().Add(-handledKeep)); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := bob.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		keys, err = tx.List(spaceRelay, "")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "recent" {
		t.Fatalf("after pruning: %q", keys)
	}
}
