package session

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/memory"
)

const (
	aliceACI = "9d0652a3-dcc3-4d11-975f-74d61598733f"
	bobACI   = "796abedb-ca4e-4f18-8803-1fde5b921f9f"
)

var (
	aliceAddr = Address{Name: aliceACI, DeviceID: 1}
	bobAddr   = Address{Name: bobACI, DeviceID: 2}
)

type party struct {
	*Account
	store *memory.Store
}

func newParty(t testing.TB, addr Address) *party {
	t.Helper()
	st := memory.New()
	a, err := CreateAccount(context.Background(), st, addr)
	require.NoError(t, err)
	return &party{Account: a, store: st}
}

// publish gives p a full set of prekeys and returns a bundle, with a
// one-time prekey if withPreKey.
func (p *party) publish(t testing.TB, withPreKey bool) *Bundle {
	t.Helper()
	ctx := context.Background()
	_, err := p.GenerateSignedPreKey(ctx, 0)
	require.NoError(t, err)
	_, err = p.GenerateKyberPreKeys(ctx, 0, 1, true)
	require.NoError(t, err)
	var id uint32
	if withPreKey {
		pks, err := p.GeneratePreKeys(ctx, 0, 5)
		require.NoError(t, err)
		id = pks[0].ID
	}
	b, err := p.Bundle(ctx, id, 0, 0)
	require.NoError(t, err)
	return b
}

func send(t testing.TB, from *party, to *party, text string) *Message {
	t.Helper()
	m, err := from.Encrypt(context.Background(), to.Address(), []byte(text))
	require.NoError(t, err)
	return m
}

func recv(t testing.TB, to *party, from *party, m *Message, want string) {
	t.Helper()
	pt, err := to.Decrypt(context.Background(), from.Address(), m)
	require.NoError(t, err)
	require.Equal(t, want, string(pt))
}

// snapshot returns every value in a memory store, to compare before and after.
func snapshot(t testing.TB, s keystore.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, s.View(context.Background(), func(tx keystore.Tx) error {
		for _, sp := range []string{spaceAccount, spacePreKey, spaceSignedPreKey, spaceKyberPreKey,
			spaceKyberUsed, spaceIdentity, spaceSession} {
			keys, err := tx.List(sp, "")
			if err != nil {
				return err
			}
			for _, k := range keys {
				v, err := tx.Get(sp, k)
				if err != nil {
					return err
				}
				out[sp+"/"+k] = string(v)
			}
		}
		return nil
	}))
	return out
}

func start(t testing.TB, withPreKey bool) (alice, bob *party) {
	t.Helper()
	alice, bob = newParty(t, aliceAddr), newParty(t, bobAddr)
	require.NoError(t, alice.ProcessBundle(context.Background(), bob.Address(), bob.publish(t, withPreKey)))
	return alice, bob
}

func TestConversation(t *testing.T) {
	for _, withPreKey := range []bool{true, false} {
		t.Run(fmt.Sprint("one-time prekey ", withPreKey), func(t *testing.T) {
			alice, bob := start(t, withPreKey)
			// PreKey messages until Bob answers, all of one session.
			m1 := send(t, alice, bob, "hello")
			m2 := send(t, alice, bob, "again")
			require.Equal(t, MessagePreKey, m1.Type)
			require.Equal(t, MessagePreKey, m2.Type)
			recv(t, bob, alice, m2, "again")
			recv(t, bob, alice, m1, "hello")
			r := send(t, bob, alice, "hi alice")
			require.Equal(t, MessageWhisper, r.Type)
			recv(t, alice, bob, r, "hi alice")
			m3 := send(t, alice, bob, "now whisper")
			require.Equal(t, MessageWhisper, m3.Type)
			recv(t, bob, alice, m3, "now whisper")
			for i := range 20 {
				recv(t, bob, alice, send(t, alice, bob, fmt.Sprint("a", i)), fmt.Sprint("a", i))
				recv(t, alice, bob, send(t, bob, alice, fmt.Sprint("b", i)), fmt.Sprint("b", i))
			}
		})
	}
}

func TestOneTimePreKeyConsumedOnce(t *testing.T) {
	alice, bob := newParty(t, aliceAddr), newParty(t, bobAddr)
	ctx := context.Background()
	b := bob.publish(t, true)
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, b))
	ec, _, err := bob.PreKeyCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, ec)
	recv(t, bob, alice, send(t, alice, bob, "hi"), "hi")
	ec, _, err = bob.PreKeyCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, ec)

	// A second initiator given the same bundle (the same one-time prekey)
	// is refused, and Bob's store is untouched.
	carol := newParty(t, Address{Name: "carol", DeviceID: 1})
	require.NoError(t, carol.ProcessBundle(ctx, bobAddr, b))
	before := snapshot(t, bob.store)
	_, err = bob.Decrypt(ctx, carol.Address(), send(t, carol, bob, "reuse"))
	require.ErrorIs(t, err, ErrUnknownPreKey)
	require.Equal(t, before, snapshot(t, bob.store))
}

func TestLastResortKyberTripleReplay(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	first := send(t, alice, bob, "hi")
	recv(t, bob, alice, first, "hi")
	// Bob loses the session (say, reinstalled its session store); a replay
	// of the PreKey message must not start a new one on the same triple.
	require.NoError(t, bob.store.Update(ctx, func(tx keystore.Tx) error {
		return tx.Delete(spaceSession, alice.Address().String())
	}))
	before := snapshot(t, bob.store)
	_, err := bob.Decrypt(ctx, alice.Address(), first)
	require.ErrorIs(t, err, ErrKyberPreKeyReused)
	require.Equal(t, before, snapshot(t, bob.store))
	// A fresh session on the same last-resort key is fine.
	require.NoError(t, alice.ProcessBundle(ctx, bob.Address(), must(bob.Bundle(ctx, 0, 0, 0))))
	recv(t, bob, alice, send(t, alice, bob, "fresh"), "fresh")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFailuresLeaveStoreUnchanged(t *testing.T) {
	alice, bob := start(t, true)
	ctx := context.Background()
	pre := send(t, alice, bob, "first")
	flipped := &Message{Type: MessagePreKey, Body: bytes.Clone(pre.Body)}
	flipped.Body[len(flipped.Body)-1] ^= 1
	before := snapshot(t, bob.store)
	for name, m := range map[string]*Message{
		"tampered PreKey":   flipped,
		"truncated PreKey":  {Type: MessagePreKey, Body: pre.Body[:100]},
		"wrong type":        {Type: 7, Body: pre.Body},
		"PreKey as Whisper": {Type: MessageWhisper, Body: pre.Body},
		"empty":             {Type: MessagePreKey},
	} {
		_, err := bob.Decrypt(ctx, alice.Address(), m)
		require.Error(t, err, name)
		require.Equal(t, before, snapshot(t, bob.store), name)
	}
	recv(t, bob, alice, pre, "first")
	w := send(t, bob, alice, "reply")
	recv(t, alice, bob, w, "reply")
	m := send(t, alice, bob, "whisper")
	before = snapshot(t, bob.store)
	bad := &Message{Type: MessageWhisper, Body: bytes.Clone(m.Body)}
	bad.Body[10] ^= 0x80
	_, err := bob.Decrypt(ctx, alice.Address(), bad)
	require.Error(t, err)
	require.Equal(t, before, snapshot(t, bob.store))
	recv(t, bob, alice, m, "whisper")
	_, err = bob.Decrypt(ctx, alice.Address(), m)
	require.ErrorIs(t, err, ratchetcore.ErrDuplicateMessage)
}

func TestIdentityChange(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	recv(t, bob, alice, send(t, alice, bob, "hi"), "hi")
	recv(t, alice, bob, send(t, bob, alice, "hi back"), "hi back")

	// Bob reinstalls: a new identity at the same address.
	bob2 := newParty(t, bobAddr)
	b := bob2.publish(t, true)
	before := snapshot(t, alice.store)
	err := alice.ProcessBundle(ctx, bob2.Address(), b)
	var ue *UntrustedIdentityError
	require.ErrorAs(t, err, &ue)
	require.ErrorIs(t, err, ErrUntrustedIdentity)
	require.Equal(t, bobAddr, ue.Address)
	require.Equal(t, before, snapshot(t, alice.store))

	// A PreKey message from the new identity is refused too.
	carolView := newParty(t, aliceAddr) // another device claiming Alice's address
	require.NoError(t, carolView.ProcessBundle(ctx, bob.Address(), bob.publish(t, false)))
	before = snapshot(t, bob.store)
	_, err = bob.Decrypt(ctx, aliceAddr, send(t, carolView, bob, "it's me"))
	require.ErrorIs(t, err, ErrUntrustedIdentity)
	require.Equal(t, before, snapshot(t, bob.store))

	// The app accepts the new key; the safety number changes; it is not verified.
	oldSN, err := alice.SafetyNumber(ctx, bobAddr)
	require.NoError(t, err)
	require.NoError(t, alice.SetVerified(ctx, bobAddr, bob.IdentityKey(), true))
	require.NoError(t, alice.TrustIdentity(ctx, bobAddr, bob2.IdentityKey()))
	info, err := alice.Identity(ctx, bobAddr)
	require.NoError(t, err)
	require.False(t, info.Verified)
	require.Equal(t, bob2.IdentityKey(), info.Key)
	newSN, err := alice.SafetyNumber(ctx, bobAddr)
	require.NoError(t, err)
	require.NotEqual(t, oldSN.Displayable(), newSN.Displayable())
	// The old session, bound to the old key, no longer sends.
	_, err = alice.Encrypt(ctx, bobAddr, []byte("x"))
	require.ErrorIs(t, err, ErrUntrustedIdentity)
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, b))
	recv(t, bob2, alice, send(t, alice, bob2, "hello new bob"), "hello new bob")
}

func TestSafetyNumbersMatch(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	recv(t, bob, alice, send(t, alice, bob, "hi"), "hi")
	a, err := alice.SafetyNumber(ctx, bobAddr)
	require.NoError(t, err)
	b, err := bob.SafetyNumber(ctx, aliceAddr)
	require.NoError(t, err)
	require.Equal(t, a.Displayable(), b.Displayable())
	require.Len(t, a.Displayable(), 60)
	ok, err := a.Compare(b.Scannable())
	require.NoError(t, err)
	require.True(t, ok)
}

func TestSimultaneousInitiation(t *testing.T) {
	alice, bob := newParty(t, aliceAddr), newParty(t, bobAddr)
	ctx := context.Background()
	ab, bb := alice.publish(t, true), bob.publish(t, true)
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, bb))
	require.NoError(t, bob.ProcessBundle(ctx, aliceAddr, ab))
	ma := send(t, alice, bob, "from alice")
	mb := send(t, bob, alice, "from bob")
	recv(t, bob, alice, ma, "from alice")
	recv(t, alice, bob, mb, "from bob")
	for i := range 10 {
		recv(t, bob, alice, send(t, alice, bob, fmt.Sprint("a", i)), fmt.Sprint("a", i))
		recv(t, alice, bob, send(t, bob, alice, fmt.Sprint("b", i)), fmt.Sprint("b", i))
	}
	require.Equal(t, MessageWhisper, send(t, alice, bob, "x").Type)
	require.Equal(t, MessageWhisper, send(t, bob, alice, "y").Type)
}

func TestUnacknowledgedSessionExpires(t *testing.T) {
	alice, bob := start(t, false)
	now := time.Now()
	alice.clock = func() time.Time { return now.Add(MaxUnacknowledgedSessionAge - time.Minute) }
	send(t, alice, bob, "still fine")
	alice.clock = func() time.Time { return now.Add(MaxUnacknowledgedSessionAge + time.Minute) }
	_, err := alice.Encrypt(context.Background(), bobAddr, []byte("too late"))
	require.ErrorIs(t, err, ErrSessionStale)
}

func TestArchivedSessionsBounded(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	first := send(t, alice, bob, "first session")
	for range MaxArchivedSessions + 1 {
		require.NoError(t, alice.ProcessBundle(ctx, bobAddr, must(bob.Bundle(ctx, 0, 0, 0))))
	}
	var n int
	require.NoError(t, alice.store.View(ctx, func(tx keystore.Tx) error {
		r, err := loadRecord(tx, bobAddr)
		n = len(r.previous)
		return err
	}))
	require.Equal(t, MaxArchivedSessions, n)
	// Bob can still open the first session's message: his side is new.
	recv(t, bob, alice, first, "first session")
}

func TestOpenAccount(t *testing.T) {
	alice := newParty(t, aliceAddr)
	ctx := context.Background()
	again, err := OpenAccount(ctx, alice.store)
	require.NoError(t, err)
	require.Equal(t, alice.IdentityKey(), again.IdentityKey())
	require.Equal(t, alice.RegistrationID(), again.RegistrationID())
	require.Equal(t, aliceAddr, again.Address())
	_, err = CreateAccount(ctx, alice.store, aliceAddr)
	require.ErrorIs(t, err, ErrAccountExists)
	_, err = OpenAccount(ctx, memory.New())
	require.ErrorIs(t, err, ErrNoAccount)
}

func TestBundleSignaturesChecked(t *testing.T) {
	alice, bob := newParty(t, aliceAddr), newParty(t, bobAddr)
	ctx := context.Background()
	good := bob.publish(t, true)
	for name, mutate := range map[string]func(b *Bundle){
		"signed prekey signature": func(b *Bundle) { b.SignedPreKeySignature[5] ^= 1 },
		"kyber signature":         func(b *Bundle) { b.KyberPreKeySignature[5] ^= 1 },
		"signed prekey swapped":   func(b *Bundle) { b.SignedPreKey = b.PreKey },
		"other identity":          func(b *Bundle) { b.IdentityKey = alice.IdentityKey() },
		"short kyber key":         func(b *Bundle) { b.KyberPreKey = b.KyberPreKey[:100] },
	} {
		b := cloneBundle(t, good)
		mutate(b)
		before := snapshot(t, alice.store)
		require.Error(t, alice.ProcessBundle(ctx, bobAddr, b), name)
		require.Equal(t, before, snapshot(t, alice.store), name)
	}
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, good))
}

func cloneBundle(t *testing.T, b *Bundle) *Bundle {
	t.Helper()
	data, err := b.MarshalBinary()
	require.NoError(t, err)
	var c Bundle
	require.NoError(t, c.UnmarshalBinary(data))
	require.Equal(t, b, &c)
	return &c
}

func TestDecryptWithCommitsOnlyIfHandled(t *testing.T) {
	alice, bob := start(t, true)
	ctx := context.Background()
	m := send(t, alice, bob, "keep me")
	before := snapshot(t, bob.store)
	errApp := fmt.Errorf("app storage full")
	err := bob.DecryptWith(ctx, aliceAddr, m, func(tx keystore.Tx, pt []byte) error {
		require.Equal(t, "keep me", string(pt))
		require.NoError(t, tx.Put("app.messages", "1", pt))
		return errApp
	})
	require.ErrorIs(t, err, errApp)
	require.Equal(t, before, snapshot(t, bob.store), "a failed handler must roll everything back")
	// The same message decrypts again, and this time the app's write and
	// the session commit together.
	require.NoError(t, bob.DecryptWith(ctx, aliceAddr, m, func(tx keystore.Tx, pt []byte) error {
		return tx.Put("app.messages", "1", pt)
	}))
	require.NoError(t, bob.store.View(ctx, func(tx keystore.Tx) error {
		v, err := tx.Get("app.messages", "1")
		require.Equal(t, "keep me", string(v))
		return err
	}))
	_, err = bob.Decrypt(ctx, aliceAddr, m)
	require.ErrorIs(t, err, ratchetcore.ErrDuplicateMessage)
}

func TestSignChallenge(t *testing.T) {
	alice := newParty(t, aliceAddr)
	sig, err := alice.SignChallenge([]byte("nonce"))
	require.NoError(t, err)
	pub, err := curve.ParsePublicKey(alice.IdentityKey())
	require.NoError(t, err)
	require.True(t, pub.Verify([]byte(ChallengePrefix+"nonce"), sig))
	require.False(t, pub.Verify([]byte("nonce"), sig), "the prefix separates challenge signatures")
	_, err = alice.SignChallenge(nil)
	require.Error(t, err)
}

func TestInvalidAddressesRejected(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	m := send(t, alice, bob, "hi")
	before := snapshot(t, bob.store)
	for _, bad := range []Address{{}, {Name: "x"}, {DeviceID: 1}} {
		_, err := bob.Decrypt(ctx, bad, m)
		require.ErrorIs(t, err, ErrInvalidAddress)
		_, err = alice.Encrypt(ctx, bad, []byte("x"))
		require.ErrorIs(t, err, ErrInvalidAddress)
		require.ErrorIs(t, bob.TrustIdentity(ctx, bad, alice.IdentityKey()), ErrInvalidAddress)
		require.ErrorIs(t, bob.SetVerified(ctx, bad, alice.IdentityKey(), true), ErrInvalidAddress)
		_, err = bob.Identity(ctx, bad)
		require.ErrorIs(t, err, ErrInvalidAddress)
	}
	require.Equal(t, before, snapshot(t, bob.store))
}

func TestEncryptWithCommitsOnlyIfQueued(t *testing.T) {
	alice, bob := start(t, false)
	ctx := context.Background()
	before := snapshot(t, alice.store)
	errFull := fmt.Errorf("outbox full")
	m, err := alice.EncryptWith(ctx, bobAddr, []byte("lost?"), func(tx keystore.Tx) (string, string, error) {
		require.NoError(t, tx.Put("app.outbox", "1", []byte("meta")))
		return "", "", errFull
	})
	require.ErrorIs(t, err, errFull)
	require.Nil(t, m)
	require.Equal(t, before, snapshot(t, alice.store), "nothing commits when the app's write fails")
	queued, err := alice.EncryptWith(ctx, bobAddr, []byte("queued"), func(tx keystore.Tx) (string, string, error) {
		return "app.outbox", "1", tx.Put("app.meta", "1", []byte("to bob"))
	})
	require.NoError(t, err)
	// The stored copy is the returned message.
	var stored Message
	require.NoError(t, alice.store.View(ctx, func(tx keystore.Tx) error {
		v, err := tx.Get("app.outbox", "1")
		if err != nil {
			return err
		}
		return stored.UnmarshalBinary(v)
	}))
	require.Equal(t, *queued, stored)
	recv(t, bob, alice, &stored, "queued")
	// The next message uses the next key: the queued one was committed.
	recv(t, bob, alice, send(t, alice, bob, "next"), "next")
}

func TestMessageStoredForm(t *testing.T) {
	m := &Message{Type: MessagePreKey, Body: []byte("body")}
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, "SOTm\x01\x03body", string(b))
	var got Message
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, *m, got)
	for _, bad := range []string{"", "SOTm", "SOTm\x02\x03x", "SOTm\x01\x07x", "XOTm\x01\x03x"} {
		require.ErrorIs(t, got.UnmarshalBinary([]byte(bad)), ErrMalformedRecord, "%q", bad)
	}
	require.Equal(t, *m, got, "a failed decode leaves the message unchanged")
}
