package erasure

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The four SPQR streams: header || MAC, ek vector, ct1, ct2 || MAC.
var streamSizes = []int{96, 1152, 960, 160}

func randomMessage(r *rand.Rand, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// evalPoly is an independent, naive reference: the value at x of the
// polynomial of degree < n through (k, msg element 16k+j) for k < n,
// by the textbook Lagrange formula with one inversion per factor.
func evalPoly(msg []byte, j int, x uint16) uint16 {
	tb := tables()
	n := len(msg) / ChunkSize
	var acc uint16
	for k := range n {
		y := binary.BigEndian.Uint16(msg[ChunkSize*k+2*j:])
		l := uint16(1)
		for m := range n {
			if m != k {
				l = clmul(l, clmul(x^uint16(m), tb.inv(uint16(k^m))))
			}
		}
		acc ^= clmul(l, y)
	}
	return acc
}

func TestSystematic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, size := range streamSizes {
		msg := randomMessage(r, size)
		e := NewEncoder(msg)
		require.Equal(t, size/ChunkSize, e.Chunks())
		for c := range e.Chunks() {
			ch := e.Chunk(uint16(c))
			require.Equal(t, msg[ChunkSize*c:ChunkSize*(c+1)], ch[:], "size %d chunk %d", size, c)
		}
	}
}

func TestParityIsLagrangeExtrapolation(t *testing.T) {
	// Chunk c >= n is, for each of the 16 interleaved polynomials, its
	// value at x = c, big-endian: checked against the naive formula.
	r := rand.New(rand.NewPCG(7, 8))
	msg := randomMessage(r, 96)
	e := NewEncoder(msg)
	for _, c := range []uint16{3, 4, 5, 11, 100, 4095, 65535} {
		ch := e.Chunk(c)
		for j := range 16 {
			require.Equal(t, evalPoly(msg, j, c), binary.BigEndian.Uint16(ch[2*j:]), "chunk %d poly %d", c, j)
		}
	}
}

func TestDecodeRandomSubsets(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, size := range streamSizes {
		msg := randomMessage(r, size)
		e := NewEncoder(msg)
		n := e.Chunks()
		for trial := range 20 {
			// n distinct indices from the whole range, in random order,
			// each sent one to three times, duplicates interleaved.
			seen := map[uint16]bool{}
			var idx []uint16
			for len(idx) < n {
				c := uint16(r.Uint32())
				if trial%4 == 0 {
					c = uint16(r.IntN(2 * n)) // mostly low indices, some parity
				}
				if !seen[c] {
					seen[c] = true
					idx = append(idx, c)
				}
			}
			var sends []uint16
			for _, c := range idx {
				for range 1 + r.IntN(3) {
					sends = append(sends, c)
				}
			}
			r.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })
			d := NewDecoder(size)
			for i, c := range sends {
				ch := e.Chunk(c)
				done := d.Add(c, &ch)
				got, ok := d.Message()
				require.Equal(t, done, ok)
				if ok {
					require.Equal(t, msg, got, "size %d trial %d after %d of %d sends", size, trial, i+1, len(sends))
				}
			}
			require.True(t, d.Complete())
			require.Equal(t, n, d.Received())
		}
	}
}

func TestDecodeOnlyParity(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, size := range streamSizes {
		msg := randomMessage(r, size)
		e := NewEncoder(msg)
		n := e.Chunks()
		for _, start := range []int{n, 1000, 65536 - n} {
			d := NewDecoder(size)
			for c := start; c < start+n; c++ {
				ch := e.Chunk(uint16(c))
				d.Add(uint16(c), &ch)
			}
			got, ok := d.Message()
			require.True(t, ok)
			require.Equal(t, msg, got, "size %d parity from %d", size, start)
		}
	}
}

func TestDecodeNeedsNDistinct(t *testing.T) {
	msg := randomMessage(rand.New(rand.NewPCG(13, 14)), 160)
	e := NewEncoder(msg)
	d := NewDecoder(160)
	for range 10 { // the same four chunks over and over
		for c := range uint16(4) {
			ch := e.Chunk(c + 7)
			require.False(t, d.Add(c+7, &ch))
		}
	}
	_, ok := d.Message()
	require.False(t, ok)
	require.Equal(t, 4, d.Received())
	ch := e.Chunk(2)
	require.True(t, d.Add(2, &ch))
	got, ok := d.Message()
	require.True(t, ok)
	require.Equal(t, msg, got)
}

func TestFirstChunkWins(t *testing.T) {
	msg := randomMessage(rand.New(rand.NewPCG(15, 16)), 96)
	e := NewEncoder(msg)
	d := NewDecoder(96)
	c0 := e.Chunk(0)
	d.Add(0, &c0)
	bad := c0
	bad[0] ^= 1
	d.Add(0, &bad) // ignored: index 0 is held
	for c := uint16(1); c < 3; c++ {
		ch := e.Chunk(c)
		d.Add(c, &ch)
	}
	d.Add(5, &bad) // ignored: complete
	got, ok := d.Message()
	require.True(t, ok)
	require.Equal(t, msg, got)
	require.Equal(t, 3, d.Received())
}

func TestPointsRebuildDecoder(t *testing.T) {
	msg := randomMessage(rand.New(rand.NewPCG(17, 18)), 960)
	e := NewEncoder(msg)
	d := NewDecoder(960)
	for _, c := range []uint16{40, 3, 999, 3, 7} {
		ch := e.Chunk(c)
		d.Add(c, &ch)
	}
	re := NewDecoder(960)
	for k := range d.Received() {
		c, ch := d.Point(k)
		re.Add(c, &ch)
	}
	require.Equal(t, d, re)
	require.Equal(t, 4, re.Received())
}

func TestCloneIsIndependent(t *testing.T) {
	msg := randomMessage(rand.New(rand.NewPCG(19, 20)), 96)
	e := NewEncoder(msg)
	d := NewDecoder(96)
	ch := e.Chunk(0)
	d.Add(0, &ch)
	c := d.Clone()
	ch1 := e.Chunk(1)
	c.Add(1, &ch1)
	require.Equal(t, 1, d.Received())
	require.Equal(t, 2, c.Received())
}

func TestEncoderCopiesMessage(t *testing.T) {
	msg := make([]byte, 64)
	e := NewEncoder(msg)
	msg[0] = 1
	ch := e.Chunk(0)
	require.Zero(t, ch[0])
	m := e.Message()
	m[1] = 1
	require.Equal(t, make([]byte, 64), e.Message())
}

func TestUnsupportedSizesPanic(t *testing.T) {
	for _, size := range []int{0, -32, 31, 33, 95, MaxChunks*ChunkSize + ChunkSize} {
		require.Panics(t, func() { NewEncoder(make([]byte, max(size, 0))) }, "encoder size %d", size)
		require.Panics(t, func() { NewDecoder(size) }, "decoder size %d", size)
	}
}

// FuzzDecoder feeds arbitrary (index, chunk) streams. Whatever the chunks,
// once complete the decoder's message must re-encode to exactly the chunks
// it kept (a degree < n polynomial through n points is unique), and an
// incomplete decoder must not produce a message.
func FuzzDecoder(f *testing.F) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, size := range streamSizes {
		e := NewEncoder(randomMessage(r, size))
		var seed []byte
		seed = append(seed, byte(size/ChunkSize))
		for c := range e.Chunks() + 2 {
			ci := uint16(c * 7)
			ch := e.Chunk(ci)
			seed = binary.BigEndian.AppendUint16(seed, ci)
			seed = append(seed, ch[:]...)
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		n := int(in[0])%40 + 1
		in = in[1:]
		d := NewDecoder(n * ChunkSize)
		first := map[uint16][ChunkSize]byte{}
		for len(in) >= 2+ChunkSize {
			c := binary.BigEndian.Uint16(in)
			var ch [ChunkSize]byte
			copy(ch[:], in[2:])
			in = in[2+ChunkSize:]
			if _, ok := first[c]; !ok && len(first) < n {
				first[c] = ch
			}
			d.Add(c, &ch)
		}
		msg, ok := d.Message()
		if !ok {
			if len(first) >= n {
				t.Fatalf("incomplete with %d distinct chunks of %d", len(first), n)
			}
			return
		}
		e := NewEncoder(msg)
		for c, ch := range first {
			if got := e.Chunk(c); !bytes.Equal(got[:], ch[:]) {
				t.Fatalf("chunk %d does not re-encode", c)
			}
		}
	})
}
