package ratchetcore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/detrand"
	"github.com/sotto-im/sotto/internal/wire"
)

// detPair is pair with every random choice drawn from a seeded stream, so
// fuzz seeds stay valid from run to run.
func detPair(t testing.TB, label string) (alice, bob *State) {
	t.Helper()
	r := detrand.New(label)
	var keys InitialKeys
	r.Read(keys.Root[:])
	r.Read(keys.Chain[:])
	r.Read(keys.SPQR[:])
	gen := func() *curve.PrivateKey {
		k, err := curve.GenerateKey(r)
		require.NoError(t, err)
		return k
	}
	aliceID, bobID, spk := gen().PublicKey(), gen().PublicKey(), gen()
	p := &InitiatorParams{Keys: keys, TheirRatchetKey: spk.PublicKey(), LocalIdentity: aliceID, RemoteIdentity: bobID}
	alice, err := NewInitiator(p, r)
	require.NoError(t, err)
	bob, err = NewResponder(&ResponderParams{Keys: keys, OurRatchetKey: spk, LocalIdentity: bobID, RemoteIdentity: aliceID})
	require.NoError(t, err)
	return alice, bob
}

// fuzzConversation returns Bob's state after a short conversation and a
// set of messages to him (delivered and not), for seeding.
func fuzzConversation(t testing.TB) (bob *State, msgs [][]byte) {
	alice, bob := detPair(t, "sotto fuzz conversation")
	for i := range 4 {
		m := enc(t, alice, fmt.Sprint("to bob ", i))
		msgs = append(msgs, m)
		if i%2 == 0 {
			dec(t, bob, m, fmt.Sprint("to bob ", i))
		}
	}
	dec(t, alice, enc(t, bob, "to alice"), "to alice")
	for i := range 3 {
		msgs = append(msgs, enc(t, alice, fmt.Sprint("new chain ", i)))
	}
	return bob, msgs
}

func FuzzParseMessage(f *testing.F) {
	_, msgs := fuzzConversation(f)
	for _, m := range msgs {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMessage(b)
		if err != nil {
			require.True(t, errors.Is(err, ErrMalformedMessage) || errors.Is(err, ErrUnsupportedVersion), "unclassified error %v", err)
			return
		}
		// A parsed message re-encodes to a message that parses equal.
		u := m.RatchetPublicKey().U()
		out := wire.AppendSignalMessage(nil, &u, m.Counter, m.PreviousCounter, m.Ciphertext, m.PQRatchet, m.Addresses)
		out = append(out, b[len(b)-MACSize:]...)
		m2, err := ParseMessage(out)
		require.NoError(t, err, "re-encoded message does not parse")
		require.Equal(t, m.Counter, m2.Counter)
		require.Equal(t, m.Ciphertext, m2.Ciphertext)
		require.Equal(t, len(m.PQRatchet) > 0, len(m2.PQRatchet) > 0)
		require.True(t, m2.RatchetPublicKey().Equal(m.RatchetPublicKey()))
	})
}

func FuzzUnmarshalState(f *testing.F) {
	bob, _ := fuzzConversation(f)
	f.Add(marshal(f, bob))
	alice, _ := detPair(f, "sotto fuzz state")
	f.Add(marshal(f, alice))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if s.UnmarshalBinary(b) != nil {
			return
		}
		// Whatever decodes re-encodes to a state that decodes the same.
		out := marshal(t, &s)
		var s2 State
		if err := s2.UnmarshalBinary(out); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if !bytes.Equal(out, marshal(t, &s2)) {
			t.Fatal("encoding is not stable")
		}
	})
}

// FuzzDecrypt feeds arbitrary messages to a state with history: decryption
// never panics, and a failure leaves the state byte-identical.
func FuzzDecrypt(f *testing.F) {
	bob, msgs := fuzzConversation(f)
	for _, m := range msgs {
		f.Add(m)
	}
	start := marshal(f, bob)
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		require.NoError(t, s.UnmarshalBinary(start))
		_, err := s.Decrypt(b, nil, nil)
		if err != nil {
			require.True(t, isMessageFault(err), "unclassified error %v", err)
			require.Equal(t, start, marshal(t, &s), "failed decrypt changed the state")
		}
	})
}

// messageFaults are the errors a received message can cause.
var messageFaults = []error{ErrMalformedMessage, ErrUnsupportedVersion, ErrAuthentication, ErrBadPadding,
	ErrDuplicateMessage, ErrTooFarAhead, ErrAddressMismatch, ErrInvalidKey, ErrSPQR}

func isMessageFault(err error) bool {
	for _, e := range messageFaults {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
