package ratchetcore

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMarshalRoundTrip(t *testing.T) {
	alice, bob := pair(t)
	var held [][]byte
	for i := range 30 {
		held = append(held, enc(t, alice, fmt.Sprint("held", i)))
		dec(t, bob, enc(t, alice, "x"), "x")
		dec(t, alice, enc(t, bob, "y"), "y")
	}
	for _, s := range []*State{alice, bob} {
		b := marshal(t, s)
		require.True(t, bytes.HasPrefix(b, []byte("SOTR\x01\x04")))
		c := clone(t, s)
		require.Equal(t, b, marshal(t, c), "re-encoding differs")
	}
	// A restored state carries on the conversation, skipped keys included.
	alice, bob = clone(t, alice), clone(t, bob)
	for i := 26; i < 30; i++ { // the last MaxReceiverChains chains' messages
		dec(t, bob, held[i], fmt.Sprint("held", i))
	}
	dec(t, bob, enc(t, alice, "after restore"), "after restore")
	dec(t, alice, enc(t, bob, "and back"), "and back")
}

func TestStateSizeAfterPingPong(t *testing.T) {
	alice, bob := pair(t)
	for i := range 50 {
		dec(t, bob, enc(t, alice, fmt.Sprint(i)), fmt.Sprint(i))
		dec(t, alice, enc(t, bob, fmt.Sprint(i)), fmt.Sprint(i))
	}
	for _, s := range []*State{alice, bob} {
		n := len(marshal(t, s))
		t.Logf("state after 100 ping-pong messages: %d bytes", n)
		require.LessOrEqual(t, n, 1024)
	}
}

func TestUnmarshalRejectsCorruption(t *testing.T) {
	alice, bob := pair(t)
	dec(t, bob, enc(t, alice, "x"), "x")
	_ = enc(t, bob, "skip")
	dec(t, alice, enc(t, bob, "y"), "y")
	good := marshal(t, alice)

	var s State
	// Every truncation fails, and so does any trailing byte.
	for n := range len(good) {
		require.ErrorIs(t, s.UnmarshalBinary(good[:n]), ErrMalformedState, "prefix %d", n)
	}
	require.ErrorIs(t, s.UnmarshalBinary(append(bytes.Clone(good), 0)), ErrMalformedState)
	bad := bytes.Clone(good)
	bad[0] = 'X'
	require.ErrorIs(t, s.UnmarshalBinary(bad), ErrMalformedState)
	bad = bytes.Clone(good)
	bad[4] = 2 // unknown state version
	require.ErrorIs(t, s.UnmarshalBinary(bad), ErrMalformedState)
	bad = bytes.Clone(good)
	bad[5] = 3 // session version 3
	require.ErrorIs(t, s.UnmarshalBinary(bad), ErrMalformedState)

	// A failed unmarshal leaves the target untouched.
	before := marshal(t, bob)
	require.Error(t, bob.UnmarshalBinary(good[:10]))
	require.Equal(t, before, marshal(t, bob))
}
