package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore"
)

// The two messages anyone could send that the first version's client never
// acknowledged, because their errors were in no class it knew.

// TestPoisonAddressesField: a first message carrying an addresses field,
// presented under a sender name that is not a service id (so no field is
// expected), is a fault of the message.
func TestPoisonAddressesField(t *testing.T) {
	ctx := context.Background()
	bob := newParty(t, bobAddr)
	stranger := newParty(t, aliceAddr) // a service id: its PreKey messages carry the field
	require.NoError(t, stranger.ProcessBundle(ctx, bob.Address(), bob.publish(t, true)))
	m := send(t, stranger, bob, "hi")
	_, inner := parsePreKey(t, m)
	require.Len(t, inner.Addresses, wire.AddressesSize, "the field is checked before the MAC")
	before := snapshot(t, bob.store)
	// The relay presents it under a name that is not a service id.
	_, err := bob.Decrypt(ctx, Address{Name: "mallory", DeviceID: 1}, m)
	require.ErrorIs(t, err, ErrInvalidMessage)
	require.ErrorIs(t, err, ratchetcore.ErrAddressMismatch)
	require.Equal(t, before, snapshot(t, bob.store))
}

// TestPoisonZeroIdentityKey: a first message whose identity key is
// 0x05 || 0^32 (a key of low order) is a fault of the message.
func TestPoisonZeroIdentityKey(t *testing.T) {
	ctx := context.Background()
	alice, bob := start(t, true)
	m := send(t, alice, bob, "hi")
	w, err := wire.ParsePreKeySignalMessage(m.Body)
	require.NoError(t, err)
	w.IdentityKey = append([]byte{0x05}, make([]byte, 32)...)
	poison := &Message{Type: MessagePreKey, Body: w.Marshal()}
	before := snapshot(t, bob.store)
	stranger := Address{Name: "5e431010-e214-4234-be31-c3ed7f975eea", DeviceID: 1}
	_, err = bob.Decrypt(ctx, stranger, poison)
	require.ErrorIs(t, err, ErrInvalidMessage)
	require.ErrorIs(t, err, ErrInvalidKeyAgreement)
	require.Equal(t, before, snapshot(t, bob.store), "not even the identity is recorded")
	recv(t, bob, alice, m, "hi")
}

// TestLowOrderBundleKey: a correctly signed bundle whose signed prekey or
// one-time prekey is of low order is an invalid bundle, not an internal
// error.
func TestLowOrderBundleKey(t *testing.T) {
	ctx := context.Background()
	alice, bob := newParty(t, aliceAddr), newParty(t, bobAddr)
	good := bob.publish(t, true)
	zero := append([]byte{0x05}, make([]byte, 32)...)
	sig, err := bob.identity.Sign(rand.Reader, zero)
	require.NoError(t, err)

	signed := cloneBundle(t, good)
	signed.SignedPreKey, signed.SignedPreKeySignature = zero, sig
	oneTime := cloneBundle(t, good)
	oneTime.PreKey = zero
	for name, b := range map[string]*Bundle{"signed prekey": signed, "one-time prekey": oneTime} {
		before := snapshot(t, alice.store)
		err := alice.ProcessBundle(ctx, bobAddr, b)
		require.ErrorIs(t, err, ErrInvalidBundle, name)
		require.Equal(t, before, snapshot(t, alice.store), name)
	}
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, good))
}

// TestUntrustedIdentityCarriesWhatToShow: the error names the key to trust
// and the safety number to compare, and trusting exactly that key lets the
// held message through.
func TestUntrustedIdentityCarriesWhatToShow(t *testing.T) {
	ctx := context.Background()
	alice, bob := start(t, false)
	recv(t, bob, alice, send(t, alice, bob, "hi"), "hi")

	alice2 := newParty(t, aliceAddr) // Alice reinstalled
	require.NoError(t, alice2.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
	held := send(t, alice2, bob, "new phone")
	_, err := bob.Decrypt(ctx, aliceAddr, held)
	var ue *UntrustedIdentityError
	require.ErrorAs(t, err, &ue)
	require.NotErrorIs(t, err, ErrInvalidMessage, "an identity to hold is not a message fault")
	require.Equal(t, aliceAddr, ue.Address)
	require.Equal(t, alice2.IdentityKey(), ue.Key)
	require.Equal(t, alice.IdentityKey(), ue.Trusted)
	require.NotNil(t, ue.SafetyNumber)
	// The number is the one Alice's new device shows once it trusts Bob.
	theirs, err := alice2.SafetyNumber(ctx, bobAddr)
	require.NoError(t, err)
	require.Equal(t, theirs.Displayable(), ue.SafetyNumber.Displayable())
	ok, err := ue.SafetyNumber.Compare(theirs.Scannable())
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, bob.TrustIdentity(ctx, aliceAddr, ue.Key))
	recv(t, bob, alice2, held, "new phone")
	require.False(t, bytes.Equal(ue.Key, ue.Trusted))
}

// TestPrunedKeysLeaveCache: a pruned signed prekey leaves the key cache and
// is wiped; a one-time Kyber prekey is never cached.
func TestPrunedKeysLeaveCache(t *testing.T) {
	ctx := context.Background()
	alice, bob := newParty(t, aliceAddr), newParty(t, bobAddr)
	now := time.Now()
	clockAt(bob, &now)
	first := bob.publish(t, false)
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, first))
	recv(t, bob, alice, send(t, alice, bob, "warm the cache"), "warm the cache")
	require.Equal(t, 2, bob.keys.len(), "signed and last-resort prekeys cached")
	var old *signedPreKeyRecord
	require.NoError(t, bob.store.View(ctx, func(tx keystore.Tx) error {
		var err error
		old, err = bob.loadSignedPreKey(tx, first.SignedPreKeyID)
		return err
	}))

	// A one-time Kyber prekey is used once and not cached.
	ks, err := bob.GenerateKyberPreKeys(ctx, 0, 1, false)
	require.NoError(t, err)
	carol := newParty(t, carolAddr)
	b := must(bob.Bundle(ctx, 0, 0, ks[0].ID))
	require.NoError(t, carol.ProcessBundle(ctx, bobAddr, b))
	recv(t, bob, carol, send(t, carol, bob, "one-time Kyber"), "one-time Kyber")
	require.Equal(t, 2, bob.keys.len())

	now = now.Add(60 * 24 * time.Hour)
	_, err = bob.GenerateSignedPreKey(ctx, 0)
	require.NoError(t, err)
	_, err = bob.GenerateKyberPreKeys(ctx, 0, 1, true)
	require.NoError(t, err)
	require.NoError(t, bob.PruneSignedPreKeys(ctx, now.Add(-time.Hour)))
	require.Equal(t, 0, bob.keys.len(), "pruned keys left the cache")
	require.True(t, old.key.Wiped(), "the pruned signed prekey was wiped")
}
