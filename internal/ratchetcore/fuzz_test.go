package ratchet

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/detrand"
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
	require.NoError(t, detrand.SetReader(p, r))
	alice, err := NewInitiator(p)
	require.NoError(t, err)
	bob, err = NewResponder(&ResponderParams{Keys: keys, OurRatchetKey: spk, LocalIdentity: bobID, RemoteIdentity: aliceID})
	require.NoError(t, err)
	require.NoError(t, detrand.SetReader(alice, r))
	require.NoError(t, detrand.SetReader(bob, r))
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

func FuzzParseSignalMessage(f *testing.F) {
	_, msgs := fuzzConversation(f)
	for _, m := range msgs {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSignalMessage(b)
		if err != nil {
			return
		}
		// A parsed message re-encodes to a message that parses equal.
		out := appendSignalMessage(nil, m.RatchetKey, m.Counter, m.PreviousCounter, m.Ciphertext, m.PQRatchet, m.Addresses)
		out = append(out, b[len(b)-MACSize:]...)
		m2, err := ParseSignalMessage(out)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if m2.Counter != m.Counter || !bytes.Equal(m2.Ciphertext, m.Ciphertext) ||
			!bytes.Equal(m2.PQRatchet, m.PQRatchet) || !m2.RatchetKey.Equal(m.RatchetKey) {
			t.Fatal("re-encoded message differs")
		}
	})
}

func FuzzParsePQMessage(f *testing.F) {
	_, msgs := fuzzConversation(f)
	for _, b := range msgs {
		m, err := ParseSignalMessage(b)
		require.NoError(f, err)
		f.Add(m.PQRatchet)
	}
	f.Add(append([]byte{1, 1, 1, 1, 0}, make([]byte, 32)...))
	f.Add([]byte{1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parsePQMessage(b)
		if err != nil {
			return
		}
		// Re-encoding gives a prefix-equal message (trailing bytes dropped).
		out := appendPQMessage(nil, m)
		m2, err := parsePQMessage(out)
		if err != nil || m2.epoch != m.epoch || m2.index != m.index || m2.typ != m.typ ||
			m2.chunkIndex != m.chunkIndex || !bytes.Equal(m2.chunk, m.chunk) {
			t.Fatalf("re-encoding differs: %v", err)
		}
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
		_, err := s.Decrypt(b, nil)
		if err != nil {
			require.Equal(t, start, marshal(t, &s), "failed decrypt changed the state")
		}
	})
}
