package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/detrand"
	"github.com/sotto-im/sotto/internal/entropy"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/memory"
)

// The fuzz targets run against accounts whose every random choice and
// timestamp is fixed, so that the seeds, and any input the fuzzer saves in
// testdata/fuzz, mean the same thing from run to run.

// fuzzEpoch is the clock of the deterministic accounts.
var fuzzEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var carolAddr = Address{Name: "PNI:1c1b3d4e-82e2-4a6f-9f3c-6f0d7c1f5e2a", DeviceID: 3}

// detParty is newParty with randomness drawn from streams named by label and
// a fixed clock.
func detParty(t testing.TB, addr Address, label string) *party {
	t.Helper()
	st := memory.New()
	ctx := entropy.WithReader(context.Background(), detrand.New("sotto session fuzz account "+label))
	a, err := CreateAccount(ctx, st, addr)
	require.NoError(t, err)
	a.rand = detrand.New("sotto session fuzz rand " + label)
	a.clock = func() time.Time { return fuzzEpoch }
	return &party{Account: a, store: st}
}

// restore returns a copy of p's account over a new store holding snap (as
// snapshot returns it), with its randomness restarted, so that every fuzz
// input starts from the same state.
func restore(t testing.TB, p *party, snap map[string]string, label string) *party {
	t.Helper()
	st := memory.New()
	require.NoError(t, st.Update(context.Background(), func(tx keystore.Tx) error {
		for k, v := range snap {
			space, key, _ := strings.Cut(k, "/") // spaces hold no '/'
			if err := tx.Put(space, key, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}))
	a := *p.Account
	a.store = st
	a.rand = detrand.New("sotto session fuzz restore " + label)
	return &party{Account: &a, store: st}
}

// fuzzWorld is Bob after a few conversations, and messages to him, some
// delivered and some not.
type fuzzWorld struct {
	bob     *party
	senders []*party    // Alice, Carol
	preKey  [][2][]byte // sender index, PreKey message body
	whisper [][]byte    // Whisper message bodies from Alice
	records [][]byte    // marshaled session records of both sides
}

// newFuzzWorld plays these conversations, all deterministic:
//
//   - Alice starts session A1 with Bob's one-time prekey and sends two
//     PreKey messages; Bob opens the first and answers; Alice sends Whisper
//     messages in two chains, of which Bob opens some.
//   - Carol starts a session without a one-time prekey (last-resort Kyber
//     prekey) and sends a PreKey message Bob has not opened.
//   - Alice sends Whisper messages Bob has not opened, then starts session A2
//     with another one-time prekey and sends a PreKey message Bob has not
//     opened: A1 is now archived on her side.
//   - Bob starts a session of his own with Alice, archiving A1 on his side,
//     so Alice's pending A1 messages need trial decryption.
func newFuzzWorld(t testing.TB) *fuzzWorld {
	t.Helper()
	ctx := context.Background()
	alice := detParty(t, aliceAddr, "alice")
	bob := detParty(t, bobAddr, "bob")
	carol := detParty(t, carolAddr, "carol")
	w := &fuzzWorld{bob: bob, senders: []*party{alice, carol}}

	_, err := bob.GenerateSignedPreKey(ctx, 0)
	require.NoError(t, err)
	_, err = bob.GenerateKyberPreKeys(ctx, 0, 1, true)
	require.NoError(t, err)
	pks, err := bob.GeneratePreKeys(ctx, 0, 4)
	require.NoError(t, err)
	bundle := func(opk uint32) *Bundle { return must(bob.Bundle(ctx, opk, 0, 0)) }

	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, bundle(pks[0].ID)))
	p1, p2 := send(t, alice, bob, "pre 1"), send(t, alice, bob, "pre 2")
	w.preKey = append(w.preKey, [2][]byte{{0}, p1.Body}, [2][]byte{{0}, p2.Body})
	recv(t, bob, alice, p1, "pre 1")
	w.records = append(w.records, record1(t, alice, bobAddr))
	recv(t, alice, bob, send(t, bob, alice, "answer"), "answer")
	for i := range 4 {
		m := send(t, alice, bob, fmt.Sprint("whisper ", i))
		require.Equal(t, MessageWhisper, m.Type)
		w.whisper = append(w.whisper, m.Body)
		if i%2 == 0 {
			recv(t, bob, alice, m, fmt.Sprint("whisper ", i))
		}
	}
	recv(t, alice, bob, send(t, bob, alice, "new chain"), "new chain")

	require.NoError(t, carol.ProcessBundle(ctx, bobAddr, bundle(0)))
	w.preKey = append(w.preKey, [2][]byte{{1}, send(t, carol, bob, "from carol").Body})

	for i := range 2 {
		w.whisper = append(w.whisper, send(t, alice, bob, fmt.Sprint("late ", i)).Body)
	}
	require.NoError(t, alice.ProcessBundle(ctx, bobAddr, bundle(pks[1].ID)))
	w.preKey = append(w.preKey, [2][]byte{{0}, send(t, alice, bob, "second session").Body})

	// Bob starts a session of his own; A1 goes to his archive.
	_, err = alice.GenerateSignedPreKey(ctx, 0)
	require.NoError(t, err)
	_, err = alice.GenerateKyberPreKeys(ctx, 0, 1, true)
	require.NoError(t, err)
	require.NoError(t, bob.ProcessBundle(ctx, aliceAddr, must(alice.Bundle(ctx, 0, 0, 0))))
	w.records = append(w.records, record1(t, alice, bobAddr), record1(t, bob, aliceAddr))
	return w
}

// record1 returns p's marshaled session record with remote.
func record1(t testing.TB, p *party, remote Address) []byte {
	t.Helper()
	var b []byte
	require.NoError(t, p.store.View(context.Background(), func(tx keystore.Tx) error {
		var err error
		b, err = tx.Get(spaceSession, remote.String())
		return err
	}))
	return b
}

// checkDecrypt decrypts m from from on a copy of bob in state start: it
// must not panic; a failure must leave the store as it was; a success must
// not repeat (the same message again fails, changing nothing). It reports
// whether m decrypted.
func checkDecrypt(t testing.TB, bob *party, start map[string]string, from Address, m *Message) bool {
	t.Helper()
	ctx := context.Background()
	b := restore(t, bob, start, "decrypt")
	if _, err := b.Decrypt(ctx, from, m); err != nil {
		requireMessageClass(t, err)
		require.Equal(t, start, snapshot(t, b.store), "failed Decrypt (%v) changed the store", err)
		return false
	}
	after := snapshot(t, b.store)
	_, err := b.Decrypt(ctx, from, m)
	require.Error(t, err, "the same message decrypted twice")
	requireMessageClass(t, err)
	require.Equal(t, after, snapshot(t, b.store), "failed Decrypt (%v) changed the store", err)
	return true
}

// requireMessageClass fails unless err, from decrypting a message with a
// healthy store, is in one of the error contract's two message classes: a
// fault of the message, or an identity to hold. Anything else would be
// taken for a local fault and retried forever.
func requireMessageClass(t testing.TB, err error) {
	t.Helper()
	inv, untrusted := errors.Is(err, ErrInvalidMessage), errors.Is(err, ErrUntrustedIdentity)
	require.True(t, inv != untrusted, "error %q is in neither message class (or both)", err)
	if untrusted {
		var u *UntrustedIdentityError
		require.ErrorAs(t, err, &u)
		require.Len(t, u.Key, 33)
	}
}

// FuzzDecryptPreKey feeds arbitrary PreKey message bodies, claimed to come
// from Alice or Carol, to Bob with sessions, archived sessions, consumed and
// unused one-time prekeys and recorded last-resort triples.
func FuzzDecryptPreKey(f *testing.F) {
	w := newFuzzWorld(f)
	start := snapshot(f, w.bob.store)
	if len(w.preKey) == 0 {
		f.Fatal("no seeds")
	}
	// The seeds must reach the success paths: a later message of a known
	// session, a new session on a one-time prekey, one on the last-resort
	// Kyber prekey.
	ok := 0
	for _, s := range w.preKey {
		if checkDecrypt(f, w.bob, start, w.senders[s[0][0]].Address(), &Message{Type: MessagePreKey, Body: s[1]}) {
			ok++
		}
		f.Add(s[0][0], s[1])
	}
	require.Equal(f, len(w.preKey)-1, ok, "every seed but the replayed one decrypts")
	f.Fuzz(func(t *testing.T, who byte, body []byte) {
		from := w.senders[int(who)%len(w.senders)].Address()
		checkDecrypt(t, w.bob, start, from, &Message{Type: MessagePreKey, Body: body})
	})
}

// FuzzDecryptWhisper feeds arbitrary Whisper message bodies from Alice to
// Bob, whose session with her has history in several chains and is
// archived behind a session Bob started.
func FuzzDecryptWhisper(f *testing.F) {
	w := newFuzzWorld(f)
	start := snapshot(f, w.bob.store)
	if len(w.whisper) == 0 {
		f.Fatal("no seeds")
	}
	ok := 0
	for _, body := range w.whisper {
		if checkDecrypt(f, w.bob, start, aliceAddr, &Message{Type: MessageWhisper, Body: body}) {
			ok++
		}
		f.Add(body)
	}
	require.Equal(f, 4, ok, "the undelivered seeds decrypt (trial decryption of the archived session)")
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecrypt(t, w.bob, start, aliceAddr, &Message{Type: MessageWhisper, Body: body})
	})
}

// FuzzBundleUnmarshal checks that UnmarshalBinary never panics and that
// what it accepts re-encodes to a bundle that decodes equal, with a stable
// encoding.
func FuzzBundleUnmarshal(f *testing.F) {
	ctx := context.Background()
	bob := detParty(f, bobAddr, "bundle")
	with := bob.publish(f, true)
	without := must(bob.Bundle(ctx, 0, 0, 0))
	var seeds [][]byte
	for _, b := range []*Bundle{with, without} {
		data, err := b.MarshalBinary()
		require.NoError(f, err)
		seeds = append(seeds, data)
		// An unknown field is skipped.
		seeds = append(seeds, append(bytes.Clone(data), 0x60, 0x01))
	}
	// A pre_key_id without a pre_key.
	seeds = append(seeds, append(bytes.Clone(seeds[2]), 0x18, 0x05))
	if len(seeds) == 0 {
		f.Fatal("no seeds")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Bundle
		if b.UnmarshalBinary(data) != nil {
			return
		}
		out, err := b.MarshalBinary()
		require.NoError(t, err)
		var again Bundle
		require.NoError(t, again.UnmarshalBinary(out), "re-encoded bundle does not decode")
		require.Equal(t, b, again, "re-encoded bundle decodes differently")
		out2, err := again.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, out, out2, "bundle encoding is not stable")
	})
}

// FuzzParseRecord checks that parseRecord never panics, and that a record
// it accepts, and every archived session in it that parseSessionState
// accepts, re-encodes stably.
func FuzzParseRecord(f *testing.F) {
	w := newFuzzWorld(f)
	if len(w.records) == 0 {
		f.Fatal("no seeds")
	}
	for _, r := range w.records {
		_, err := parseRecord(r)
		require.NoError(f, err)
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRecord(data)
		if err != nil {
			return
		}
		out := r.marshal()
		r2, err := parseRecord(out)
		require.NoError(t, err, "re-encoded record does not parse")
		require.Equal(t, out, r2.marshal(), "record encoding is not stable")
		for _, p := range r.previous {
			s, err := parseSessionState(p)
			if err != nil {
				continue
			}
			sb := s.marshal()
			s2, err := parseSessionState(sb)
			require.NoError(t, err, "re-encoded session does not parse")
			require.Equal(t, sb, s2.marshal(), "session encoding is not stable")
		}
	})
}
