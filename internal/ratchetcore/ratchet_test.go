package ratchetcore

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/wire"
)

// pair returns a fresh initiator (Alice) and responder (Bob) sharing
// random initial keys, as PQXDH would leave them.
func pair(t testing.TB) (alice, bob *State) {
	t.Helper()
	var keys InitialKeys
	rand.Read(keys.Root[:])
	rand.Read(keys.Chain[:])
	rand.Read(keys.SPQR[:])
	aliceID := mustKey(t).PublicKey()
	bobID := mustKey(t).PublicKey()
	spk := mustKey(t)
	alice, err := NewInitiator(&InitiatorParams{
		Keys: keys, TheirRatchetKey: spk.PublicKey(), LocalIdentity: aliceID, RemoteIdentity: bobID,
	}, nil)
	require.NoError(t, err)
	bob, err = NewResponder(&ResponderParams{
		Keys: keys, OurRatchetKey: spk, LocalIdentity: bobID, RemoteIdentity: aliceID,
	})
	require.NoError(t, err)
	return alice, bob
}

func mustKey(t testing.TB) *curve.PrivateKey {
	t.Helper()
	k, err := curve.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func enc(t testing.TB, s *State, msg string) []byte {
	t.Helper()
	ct, err := s.Encrypt([]byte(msg), nil)
	require.NoError(t, err)
	return ct
}

func dec(t testing.TB, s *State, ct []byte, want string) {
	t.Helper()
	pt, err := s.Decrypt(ct, nil, nil)
	require.NoError(t, err)
	require.Equal(t, want, string(pt))
}

func marshal(t testing.TB, s *State) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	return b
}

func TestPingPong(t *testing.T) {
	alice, bob := pair(t)
	for i := range 50 {
		m := fmt.Sprintf("a%d", i)
		dec(t, bob, enc(t, alice, m), m)
		m = fmt.Sprintf("b%d", i)
		dec(t, alice, enc(t, bob, m), m)
	}
	// Every reply is a DH step, but only MaxReceiverChains chains are kept.
	require.Len(t, alice.receivers, MaxReceiverChains)
	require.Len(t, bob.receivers, MaxReceiverChains)
}

func TestWireSizeMatchesLibsignal(t *testing.T) {
	// libsignal 0.103 sends 72-byte Whisper messages for an 11-byte
	// plaintext when the SPQR payload is None (interop observation).
	alice, bob := pair(t)
	dec(t, bob, enc(t, alice, "hello world"), "hello world")
	ct := enc(t, bob, "hello world")
	require.Len(t, ct, 72)
	require.Equal(t, byte(0x44), ct[0])
	m, err := ParseMessage(ct)
	require.NoError(t, err)
	require.Equal(t, []byte{0x01, 0x01, 0x01, 0x00}, m.PQRatchet, "SPQR: V1, epoch 1, index 1, None")
	require.Equal(t, uint32(0), m.Counter)
}

func TestSPQRIndexCountsEveryMessage(t *testing.T) {
	alice, bob := pair(t)
	for i := 1; i <= 300; i++ {
		ct := enc(t, alice, "x")
		m, err := ParseMessage(ct)
		require.NoError(t, err)
		var pq wire.SPQRMessage
		require.NoError(t, pq.Unmarshal(m.PQRatchet))
		require.Equal(t, uint64(1), pq.Epoch)
		require.Equal(t, uint32(i), pq.Index)
		require.Equal(t, wire.SPQRNone, pq.Type)
		dec(t, bob, ct, "x")
	}
}

func TestOutOfOrder(t *testing.T) {
	alice, bob := pair(t)
	var cts [][]byte
	for i := range 20 {
		cts = append(cts, enc(t, alice, fmt.Sprint(i)))
	}
	order := []int{19, 0, 5, 3, 18, 1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
	for _, i := range order {
		dec(t, bob, cts[i], fmt.Sprint(i))
	}
	// Messages from a previous chain still decrypt after a DH step.
	old := enc(t, alice, "old")
	dec(t, alice, enc(t, bob, "reply"), "reply")
	newer := enc(t, alice, "new")
	dec(t, bob, newer, "new")
	dec(t, bob, old, "old")
}

func TestDuplicateRejected(t *testing.T) {
	alice, bob := pair(t)
	a := enc(t, alice, "one")
	b := enc(t, alice, "two")
	dec(t, bob, b, "two")
	dec(t, bob, a, "one") // from the skipped store
	for _, ct := range [][]byte{a, b} {
		_, err := bob.Decrypt(ct, nil, nil)
		require.ErrorIs(t, err, ErrDuplicateMessage)
	}
}

func TestForwardJumpBound(t *testing.T) {
	alice, bob := pair(t)
	for range MaxForwardJump - 1 {
		_ = enc(t, alice, "")
	}
	// The SPQR index counts from 1, so the message at counter
	// MaxForwardJump-1 is the last one both the DR chain and the SPQR chain
	// accept as the first message; libsignal draws the same line.
	ok := enc(t, alice, "at the limit")
	spqrTooFar := enc(t, alice, "SPQR jump too far") // counter MaxForwardJump
	tooFar := enc(t, alice, "past the limit")        // counter MaxForwardJump+1
	before := marshal(t, bob)
	_, err := bob.Decrypt(tooFar, nil, nil)
	require.ErrorIs(t, err, ErrTooFarAhead)
	require.Equal(t, before, marshal(t, bob))
	_, err = bob.Decrypt(spqrTooFar, nil, nil)
	require.ErrorIs(t, err, ErrSPQRKeyJump)
	require.ErrorIs(t, err, ErrSPQR)
	require.Equal(t, before, marshal(t, bob))
	dec(t, bob, ok, "at the limit")
	require.Len(t, bob.receivers[0].skipped, MaxSkippedKeys)
}

func TestSkippedKeysBounded(t *testing.T) {
	alice, bob := pair(t)
	var cts [][]byte
	for i := range MaxSkippedKeys + 11 { // 2,010 skipped: ten too many
		cts = append(cts, enc(t, alice, fmt.Sprint(i)))
	}
	dec(t, bob, cts[len(cts)-1], fmt.Sprint(len(cts)-1))
	require.Len(t, bob.receivers[0].skipped, MaxSkippedKeys)
	// The oldest ten were evicted; the rest decrypt.
	for i := range 10 {
		_, err := bob.Decrypt(cts[i], nil, nil)
		require.ErrorIs(t, err, ErrDuplicateMessage)
	}
	for i := 10; i < len(cts)-1; i++ {
		dec(t, bob, cts[i], fmt.Sprint(i))
	}
	require.Empty(t, bob.receivers[0].skipped)
}

func TestReceiverChainsBounded(t *testing.T) {
	alice, bob := pair(t)
	dec(t, bob, enc(t, alice, "hi"), "hi")
	// A message on each of Alice's chains, held back, then MaxReceiverChains
	// more DH steps: the first chain is evicted from Bob's state.
	var held [][]byte
	for i := range MaxReceiverChains + 1 {
		held = append(held, enc(t, alice, fmt.Sprint("held", i)))
		_ = enc(t, alice, "skip") // keep a skipped message behind each held one
		dec(t, alice, enc(t, bob, "r"), "r")
		dec(t, bob, enc(t, alice, "x"), "x")
	}
	require.Len(t, bob.receivers, MaxReceiverChains)
	_, err := bob.Decrypt(held[0], nil, nil)
	require.Error(t, err)
	for i := 2; i < len(held); i++ {
		dec(t, bob, held[i], fmt.Sprint("held", i))
	}
}

func TestAddresses(t *testing.T) {
	alice, bob := pair(t)
	addr := bytes.Repeat([]byte{7}, AddressesSize)
	ct, err := alice.Encrypt([]byte("hi"), addr)
	require.NoError(t, err)
	m, err := ParseMessage(ct)
	require.NoError(t, err)
	require.Equal(t, addr, m.Addresses)

	before := marshal(t, bob)
	other := bytes.Repeat([]byte{8}, AddressesSize)
	for _, want := range [][]byte{nil, other} {
		_, err = bob.Decrypt(ct, want, nil)
		require.ErrorIs(t, err, ErrAddressMismatch)
		require.Equal(t, before, marshal(t, bob))
	}
	pt, err := bob.Decrypt(ct, addr, nil)
	require.NoError(t, err)
	require.Equal(t, "hi", string(pt))

	// A message without the field is accepted whatever is expected.
	dec(t, alice, enc(t, bob, "no field"), "no field")
	_, err = alice.Encrypt([]byte("x"), []byte{1, 2})
	require.Error(t, err)
}

func TestEmptyAndLargePlaintexts(t *testing.T) {
	alice, bob := pair(t)
	for _, n := range []int{0, 1, 15, 16, 17, 1024, 65536, MaxPlaintextSize} {
		pt := make([]byte, n)
		rand.Read(pt)
		ct, err := alice.Encrypt(pt, nil)
		require.NoError(t, err)
		got, err := bob.Decrypt(ct, nil, nil)
		require.NoError(t, err)
		require.Equal(t, pt, got)
	}
	_, err := alice.Encrypt(make([]byte, MaxPlaintextSize+1), nil)
	require.ErrorIs(t, err, ErrPlaintextTooLarge)
}

func TestChainExhausted(t *testing.T) {
	alice, _ := pair(t)
	alice.sender.index = 1<<32 - 1
	_, err := alice.Encrypt([]byte("x"), nil)
	require.ErrorIs(t, err, ErrChainExhausted)
}

func TestRedaction(t *testing.T) {
	alice, _ := pair(t)
	var keys InitialKeys
	for i := range keys.Root {
		keys.Root[i] = 0xAB
	}
	secret := fmt.Sprintf("%x", alice.rootKey[:4])
	for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%s"} {
		out := fmt.Sprintf(verb, alice) + fmt.Sprintf(verb, *alice) + fmt.Sprintf(verb, keys) +
			fmt.Sprintf(verb, struct{ S *State }{alice})
		require.NotContains(t, out, secret, verb)
		require.NotContains(t, out, "abab", verb)
		require.NotContains(t, out, "171, 171", verb)
	}
}
