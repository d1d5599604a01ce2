package braid

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// statesAlongEpochs returns every state both parties go through in two
// epochs of each pattern: every kind, with decoders at many fill levels.
func statesAlongEpochs(t testing.TB) []*State {
	var out []*State
	for _, pattern := range []string{"AB", "AAB", "ABB"} {
		s := newSim(t, 30)
		for i := range 200 {
			s.step(pattern[i%len(pattern)] == 'A')
			out = append(out, s.a.st.clone(), s.b.st.clone())
		}
	}
	return out
}

func TestMarshalRoundTrip(t *testing.T) {
	kinds := map[Kind]int{}
	maxSize := 0
	for _, st := range statesAlongEpochs(t) {
		b := encoded(t, st)
		maxSize = max(maxSize, len(b))
		kinds[st.Kind()] = max(kinds[st.Kind()], len(b))
		var got State
		require.NoError(t, got.UnmarshalBinary(b))
		require.Equal(t, b, encoded(t, &got), "%v", st)
		// The decoded state behaves as the original.
		n1, m1, o1, err1 := st.Send(detRand("rt"))
		n2, m2, o2, err2 := got.Send(detRand("rt"))
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.Equal(t, m1, m2)
		require.Equal(t, o1, o2)
		require.Equal(t, encoded(t, n1), encoded(t, n2))
		app, err := st.AppendBinary([]byte("prefix"))
		require.NoError(t, err)
		require.Equal(t, append([]byte("prefix"), b...), app)
	}
	require.Len(t, kinds, 11)
	t.Logf("largest encoding per kind: %v", kinds)
	require.Equal(t, 2327, maxSize, "the documented largest state")
	require.Equal(t, 78, kinds[KeysUnsampled], "the documented common header")
}

func TestUnmarshalRejects(t *testing.T) {
	states := statesOfEveryKind(t)
	for _, st := range states {
		good := encoded(t, st)
		for n := range len(good) {
			requireBadState(t, good[:n], "truncated to %d", n)
		}
		requireBadState(t, append(bytes.Clone(good), 0), "trailing byte")
		for _, off := range []int{0, 1, 2, 3} {
			b := bytes.Clone(good)
			b[off] ^= 0x40
			requireBadState(t, b, "magic or version byte %d", off)
		}
		b := bytes.Clone(good)
		b[4] ^= 1 // the other direction: role does not fit the epoch
		requireBadState(t, b, "direction")
		b[4] = 2
		requireBadState(t, b, "direction 2")
		for _, k := range []byte{0, 12, 255} {
			b := bytes.Clone(good)
			b[5] = k
			requireBadState(t, b, "kind %d", k)
		}
		for _, e := range []uint64{0, maxEpoch + 2, st.Epoch() + 1} {
			b := bytes.Clone(good)
			binary.BigEndian.PutUint64(b[6:], e)
			requireBadState(t, b, "epoch %d", e)
		}
	}
}

func requireBadState(t *testing.T, b []byte, msg string, args ...any) {
	t.Helper()
	orig := New(&[32]byte{1}, A2B)
	s := orig.clone()
	require.ErrorIs(t, s.UnmarshalBinary(b), ErrMalformedState, append([]any{msg}, args...)...)
	require.Equal(t, encoded(t, orig), encoded(t, s), "UnmarshalBinary changed its receiver on error")
	_, err := ParseState(b)
	require.ErrorIs(t, err, ErrMalformedState)
}

func TestUnmarshalChecksDecoders(t *testing.T) {
	// NoHeaderReceived with one header chunk: its count byte and index are
	// the last 35 bytes.
	b := New(&[32]byte{2}, B2A)
	b, _, err := b.Recv(Message{Epoch: 1, Type: Hdr, ChunkIndex: 9, Chunk: [32]byte{1}})
	require.NoError(t, err)
	good := encoded(t, b)
	countAt := len(good) - 35
	require.Equal(t, byte(1), good[countAt])
	over := bytes.Clone(good)
	over[countAt] = 3 // a complete header is never stored
	requireBadState(t, over, "full decoder")
	dup := append(bytes.Clone(good), good[countAt+1:]...)
	dup[countAt] = 2
	requireBadState(t, dup, "repeated chunk index")
	two := append(bytes.Clone(dup[:len(good)]), 0, 10)
	two = append(two, make([]byte, 32)...)
	two[countAt] = 2
	var s State
	require.NoError(t, s.UnmarshalBinary(two), "distinct indices are fine")
	require.Equal(t, 2, s.dec.Received())
}

func TestUnmarshalChecksStoredEk(t *testing.T) {
	for _, st := range statesOfEveryKind(t) {
		if st.Kind() != EkReceivedCt1Sampled && st.Kind() != KeysSampled {
			continue
		}
		good := encoded(t, st)
		bad := bytes.Clone(good)
		bad[len(bad)-1] ^= 1 // last byte of the ek vector: the header hash fails
		requireBadState(t, bad, "ek vector of %v", st.Kind())
	}
}

// FuzzParseState decodes damaged encodings: a seed state's encoding (one
// per kind and fill level, picked by which) edited by triples of
// (BE16 offset, byte) — the top offset bit inserts the byte instead of
// overwriting — then cut to cut bytes. The fuzzer's inputs stay a few
// bytes long instead of 2 KB, which its minimizer handles far better. Whatever
// ParseState accepts must re-encode to the same bytes (the encoding is
// canonical) and survive a Send and a Recv of every payload type.
func FuzzParseState(f *testing.F) {
	var seeds [][]byte
	seen := map[Kind]int{}
	for _, st := range statesAlongEpochs(f) {
		if seen[st.Kind()] < 3 {
			seen[st.Kind()]++
			b, err := st.MarshalBinary()
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	if len(seen) != 11 {
		f.Fatalf("seeds cover %d kinds", len(seen))
	}
	for i := range seeds {
		f.Add(uint8(i), uint16(0xffff), []byte{})
		f.Add(uint8(i), uint16(len(seeds[i])-1), []byte{0, 5, 1})
	}
	f.Fuzz(func(t *testing.T, which uint8, cut uint16, edits []byte) {
		b := bytes.Clone(seeds[int(which)%len(seeds)])
		for ; len(edits) >= 3; edits = edits[3:] {
			off := int(binary.BigEndian.Uint16(edits) & 0x7fff)
			if off > len(b) {
				continue
			}
			if edits[0]&0x80 != 0 {
				b = slices.Insert(b, off, edits[2])
			} else if off < len(b) {
				b[off] = edits[2]
			}
		}
		if int(cut) < len(b) {
			b = b[:cut]
		}
		s, err := ParseState(b)
		if err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatal("accepted state does not re-encode to its input")
		}
		if _, _, _, err := s.Send(detRand("fuzz")); err != nil {
			t.Fatal(err)
		}
		for typ := None; typ <= Ct2; typ++ {
			s.Recv(Message{Epoch: s.Epoch(), Type: typ, ChunkIndex: 1234})
		}
	})
}

// FuzzRecv gives arbitrary payloads to states of every kind: Recv must not
// panic, and must leave its receiver byte-identical, error or not.
func FuzzRecv(f *testing.F) {
	states := statesOfEveryKind(f)
	for i, st := range states {
		for typ := None; typ <= Ct2; typ++ {
			f.Add(uint8(i), st.Epoch(), uint8(typ), uint16(typ), make([]byte, 32))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, epoch uint64, typ uint8, idx uint16, chunk []byte) {
		st := states[int(which)%len(states)]
		before, _ := st.MarshalBinary()
		m := Message{Epoch: epoch, Type: PayloadType(typ), ChunkIndex: idx}
		copy(m.Chunk[:], chunk)
		next, _, err := st.Recv(m)
		after, _ := st.MarshalBinary()
		if !bytes.Equal(before, after) {
			t.Fatal("Recv changed its receiver")
		}
		if err == nil {
			if _, err := next.MarshalBinary(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
