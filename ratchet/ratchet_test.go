package ratchet_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/ratchet"
)

func newPair(t *testing.T) (alice, bob *ratchet.State) {
	t.Helper()
	var keys ratchet.InitialKeys
	rand.Read(keys.Root[:])
	rand.Read(keys.Chain[:])
	rand.Read(keys.SPQR[:])
	gen := func() *ecdh.PrivateKey {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		require.NoError(t, err)
		return k
	}
	aID, bID, spk := gen(), gen(), gen()
	alice, err := ratchet.NewInitiator(&ratchet.InitiatorParams{Keys: keys, TheirRatchetKey: spk.PublicKey(),
		LocalIdentity: aID.PublicKey(), RemoteIdentity: bID.PublicKey()})
	require.NoError(t, err)
	bob, err = ratchet.NewResponder(&ratchet.ResponderParams{Keys: keys, OurRatchetKey: spk,
		LocalIdentity: bID.PublicKey(), RemoteIdentity: aID.PublicKey()})
	require.NoError(t, err)
	return alice, bob
}

func TestParamsChecked(t *testing.T) {
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	for _, p := range []*ratchet.InitiatorParams{
		nil,
		{},
		{TheirRatchetKey: x.PublicKey(), LocalIdentity: x.PublicKey()},
		{TheirRatchetKey: p256.PublicKey(), LocalIdentity: x.PublicKey(), RemoteIdentity: x.PublicKey()},
	} {
		_, err := ratchet.NewInitiator(p)
		require.ErrorIs(t, err, ratchet.ErrInvalidParams)
	}
	_, err = ratchet.NewResponder(&ratchet.ResponderParams{OurRatchetKey: p256,
		LocalIdentity: x.PublicKey(), RemoteIdentity: x.PublicKey()})
	require.ErrorIs(t, err, ratchet.ErrInvalidParams)
	// A low-order signed prekey gives an all-zero agreement.
	zero, err := ecdh.X25519().NewPublicKey(make([]byte, 32))
	require.NoError(t, err)
	_, err = ratchet.NewInitiator(&ratchet.InitiatorParams{TheirRatchetKey: zero,
		LocalIdentity: x.PublicKey(), RemoteIdentity: x.PublicKey()})
	require.ErrorIs(t, err, ratchet.ErrInvalidKey)
}

// TestZeroSignalMessage: a SignalMessage that ParseSignalMessage did not
// make is an error, not a panic.
func TestZeroSignalMessage(t *testing.T) {
	_, bob := newPair(t)
	before, err := bob.MarshalBinary()
	require.NoError(t, err)
	_, err = bob.DecryptMessage(nil, nil)
	require.ErrorIs(t, err, ratchet.ErrMalformedMessage)
	for _, m := range []*ratchet.SignalMessage{{}, new(ratchet.SignalMessage)} {
		_, err := bob.DecryptMessage(m, nil)
		require.ErrorIs(t, err, ratchet.ErrMalformedMessage)
		require.Nil(t, m.RatchetKey())
		require.Nil(t, m.Bytes())
	}
	after, err := bob.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, before, after)
}

// TestCloneIndependent: a Clone shares nothing with its original, skipped
// keys included.
func TestCloneIndependent(t *testing.T) {
	alice, bob := newPair(t)
	var held [][]byte
	for i := range 5 {
		held = append(held, must(alice.Encrypt([]byte(fmt.Sprint(i)), nil)))
	}
	_, err := bob.Decrypt(must(alice.Encrypt([]byte("last"), nil)), nil)
	require.NoError(t, err)
	c := bob.Clone()
	before := must(bob.MarshalBinary())
	for i, m := range held {
		pt, err := c.Decrypt(m, nil)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), string(pt))
	}
	require.Equal(t, before, must(bob.MarshalBinary()), "decrypting with the clone changed the original")
	for i, m := range held {
		pt, err := bob.Decrypt(m, nil)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), string(pt))
	}
}

func TestAccessors(t *testing.T) {
	alice, bob := newPair(t)
	addr := bytes.Repeat([]byte{7}, ratchet.AddressesSize)
	ct := must(alice.Encrypt([]byte("hi"), addr))
	m, err := ratchet.ParseSignalMessage(ct)
	require.NoError(t, err)
	require.Equal(t, ratchet.CurrentVersion, m.Version())
	require.True(t, m.RatchetKey().Equal(alice.SenderRatchetKey()))
	require.Equal(t, uint32(0), m.Counter())
	require.Equal(t, uint32(0), m.PreviousCounter())
	require.Len(t, m.Ciphertext(), 16)
	require.Equal(t, []byte{1, 1, 1, 0}, m.PQRatchet())
	require.Equal(t, addr, m.Addresses())
	require.Equal(t, ct, m.Bytes())
	pt, err := bob.DecryptMessage(m, addr)
	require.NoError(t, err)
	require.Equal(t, "hi", string(pt))
	require.Equal(t, alice.LocalIdentity(), bob.RemoteIdentity())
}

func TestRedacted(t *testing.T) {
	alice, _ := newPair(t)
	secret := must(alice.MarshalBinary())
	for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%s"} {
		out := fmt.Sprintf(verb, alice) + fmt.Sprintf(verb, struct{ S *ratchet.State }{alice})
		require.Contains(t, out, "REDACTED")
		require.NotContains(t, out, fmt.Sprintf("%x", secret[40:48]), verb)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestInitialKeysRedacted(t *testing.T) {
	var k ratchet.InitialKeys
	for i := range k.Root {
		k.Root[i], k.Chain[i], k.SPQR[i] = 0xAB, 0xCD, 0xEF
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%s"} {
		for _, v := range []any{k, &k} {
			out := fmt.Sprintf(verb, v)
			require.Contains(t, out, "REDACTED", verb)
			require.NotContains(t, out, "abab", verb)
			require.NotContains(t, out, "171", verb)
		}
	}
	k.Wipe()
	require.Equal(t, ratchet.InitialKeys{}, k)
}
