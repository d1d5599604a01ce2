package ratchetcore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/wire"
)

// forge encrypts raw, already padded blocks as s's next message without
// advancing s, so tests can produce authentic messages with bad padding.
func forge(t *testing.T, s *State, blocks []byte) []byte {
	t.Helper()
	seed, _ := kdfCK(&s.sender.key)
	pqp := s.pq.planSend()
	mk := deriveMessageKeys(&seed, pqp.key[:])
	block, err := aes.NewCipher(mk.cipherKey[:])
	require.NoError(t, err)
	ct := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(block, mk.iv[:]).CryptBlocks(ct, blocks)
	var pqBuf [64]byte
	out := appendMsg(s, s.sender.index, s.previousCounter, ct,
		pqp.msg.Append(pqBuf[:0]), nil)
	mac := computeMAC(&mk.macKey, &s.localIdentity, &s.remoteIdentity, out)
	return append(out, mac[:]...)
}

// encryptTweaked encrypts with a rewritten SPQR message and a valid MAC.
func encryptTweaked(t *testing.T, s *State, msg string, tweak func(*wire.SPQRMessage)) []byte {
	t.Helper()
	ct, err := s.encrypt([]byte(msg), nil, tweak)
	require.NoError(t, err)
	return ct
}

// appendMsg serializes a message from s's current sending key, without MAC.
func appendMsg(s *State, counter, previousCounter uint32, ciphertext, pq, addresses []byte) []byte {
	u := s.sender.pub.U()
	return wire.AppendSignalMessage(nil, &u, counter, previousCounter, ciphertext, pq, addresses)
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// TestFailuresLeaveStateUnchanged is the transactional guarantee: every
// kind of bad input returns an error and leaves the receiver's serialized
// state byte-identical, and the conversation continues afterwards.
func TestFailuresLeaveStateUnchanged(t *testing.T) {
	alice, bob := pair(t)
	// Give Bob some history: two chains, skipped keys on both.
	dec(t, bob, enc(t, alice, "start"), "start")
	skippedOld := enc(t, alice, "skipped on chain 1")
	dec(t, bob, enc(t, alice, "after"), "after")
	dec(t, alice, enc(t, bob, "reply"), "reply")
	delivered := enc(t, alice, "delivered")
	dec(t, bob, delivered, "delivered")
	_ = enc(t, alice, "lost")
	pending := enc(t, alice, "pending")

	// Messages that only an authentic sender could make, each broken in
	// one way after authentication or in its SPQR part.
	badPadding := forge(t, alice, bytes.Repeat([]byte{0x11}, 32))
	zeroPadding := forge(t, alice, make([]byte, 16))
	noSPQR := encryptTweaked(t, clone(t, alice), "x", func(m *wire.SPQRMessage) { m.Epoch = 0 })
	// A serialized epoch 0 parses as a decode error; an epoch-2 message
	// needs the braid.
	braid := encryptTweaked(t, clone(t, alice), "x", func(m *wire.SPQRMessage) { m.Epoch = 2 })
	emptySPQR := stripSPQR(t, clone(t, alice))

	// A message on a new chain (a DH step) whose MAC is broken must not
	// commit the DH step.
	a2, b2 := clone(t, alice), clone(t, bob)
	dec(t, a2, enc(t, b2, "to a2"), "to a2")
	newChain := enc(t, a2, "new chain")

	farAhead := farAheadMessage(t, clone(t, alice))

	cases := []struct {
		name string
		msg  []byte
		err  error
	}{
		{"bad MAC", flip(pending, len(pending)-1), ErrAuthentication},
		{"tampered ciphertext", flip(pending, len(pending)-20), ErrAuthentication},
		{"tampered counter", flip(pending, 37), ErrAuthentication},
		{"replay", delivered, ErrDuplicateMessage},
		{"too far ahead", farAhead, ErrTooFarAhead},
		{"truncated", pending[:len(pending)-3], nil},
		{"too short", pending[:5], ErrMalformedMessage},
		{"empty", nil, ErrMalformedMessage},
		{"garbage", bytes.Repeat([]byte{0x44, 0xFF}, 40), ErrMalformedMessage},
		{"oversized", append([]byte{0x44}, make([]byte, MaxMessageSize)...), ErrMalformedMessage},
		{"legacy version", append([]byte{0x33}, pending[1:]...), ErrUnsupportedVersion},
		{"future version", append([]byte{0x55}, pending[1:]...), ErrUnsupportedVersion},
		{"bad padding", badPadding, ErrBadPadding},
		{"zero padding byte", zeroPadding, ErrBadPadding},
		{"SPQR epoch 0", noSPQR, ErrSPQRDecode},
		{"SPQR braid epoch", braid, ErrSPQRBraidRequired},
		{"SPQR missing", emptySPQR, ErrSPQRMinimumVersion},
		{"DH step with bad MAC", flip(newChain, len(newChain)-1), ErrAuthentication},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := marshal(t, bob)
			_, err := bob.Decrypt(tc.msg, nil, nil)
			require.Error(t, err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			}
			require.Equal(t, before, marshal(t, bob), "state changed")
		})
	}
	// Nothing was lost: the untampered messages still decrypt.
	dec(t, bob, pending, "pending")
	dec(t, bob, skippedOld, "skipped on chain 1")
	dec(t, alice, enc(t, bob, "still talking"), "still talking")
}

// clone copies a state through its serialization.
func clone(t *testing.T, s *State) *State {
	t.Helper()
	var c State
	require.NoError(t, c.UnmarshalBinary(marshal(t, s)))
	return &c
}

// stripSPQR makes an otherwise authentic message without SPQR data, as a
// pre-SPQR libsignal would send.
func stripSPQR(t *testing.T, s *State) []byte {
	t.Helper()
	seed, _ := kdfCK(&s.sender.key)
	mk := deriveMessageKeys(&seed, nil)
	ct := encryptCBC(nil, &mk, []byte("no spqr"))
	out := appendMsg(s, s.sender.index, s.previousCounter, ct, nil, nil)
	mac := computeMAC(&mk.macKey, &s.localIdentity, &s.remoteIdentity, out)
	return append(out, mac[:]...)
}

// farAheadMessage returns an authentic message MaxForwardJump+1 past the
// current counter.
func farAheadMessage(t *testing.T, s *State) []byte {
	t.Helper()
	for range MaxForwardJump + 1 {
		_, s.sender.key = kdfCK(&s.sender.key)
		s.sender.index++
	}
	return enc(t, s, "far")
}

func TestSPQRBraidChunksIgnoredAtEpochOne(t *testing.T) {
	alice, bob := pair(t)
	chunk := bytes.Repeat([]byte{0xC7}, wire.SPQRChunkSize)
	// libsignal as initiator keeps sending header chunks (systematic then
	// parity); as responder it could send any braid type at epoch 1.
	for i, typ := range []wire.SPQRType{wire.SPQRHdr, wire.SPQRHdr, wire.SPQREk, wire.SPQRCt1, wire.SPQRCt1Ack, wire.SPQREkCt1Ack, wire.SPQRCt2} {
		msg := fmt.Sprint("chunk ", i)
		ct := encryptTweaked(t, alice, msg, func(m *wire.SPQRMessage) {
			m.Type, m.ChunkIndex, m.Chunk = typ, uint16(i*1000), chunk
		})
		dec(t, bob, ct, msg)
	}
	dec(t, alice, enc(t, bob, "back"), "back")
}

func TestSPQRIndexZeroHasNoKey(t *testing.T) {
	// Epoch 1, index 0 means "no SPQR key": libsignal accepts it with
	// unsalted message keys, and so does Sotto.
	alice, bob := pair(t)
	seed, _ := kdfCK(&alice.sender.key)
	mk := deriveMessageKeys(&seed, nil)
	ct := encryptCBC(nil, &mk, []byte("unsalted"))
	out := appendMsg(alice, 0, 0, ct, []byte{1, 1, 0, 0}, nil)
	mac := computeMAC(&mk.macKey, &alice.localIdentity, &alice.remoteIdentity, out)
	dec(t, bob, append(out, mac[:]...), "unsalted")
}

func TestSPQRSkippedKeys(t *testing.T) {
	alice, bob := pair(t)
	var cts [][]byte
	for i := range 10 {
		cts = append(cts, enc(t, alice, fmt.Sprint(i)))
	}
	dec(t, bob, cts[9], "9")
	require.Len(t, bob.pq.recv.prev, 9)
	for i := 8; i >= 0; i-- {
		dec(t, bob, cts[i], fmt.Sprint(i))
	}
	require.Empty(t, bob.pq.recv.prev)
}
