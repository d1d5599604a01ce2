package erasure

// Decoder collects the chunks of one message until it holds as many
// distinct chunk indices as the message has data chunks, then rebuilds the
// message. It keeps at most that many chunks (later ones are not needed),
// so its memory is bounded by the message size whatever a peer sends.
//
// A Decoder is not safe for concurrent use; Clone gives an independent
// copy.
type Decoder struct {
	n  int      // data chunks of the message
	xs []uint16 // indices received, in arrival order, distinct
	ys []byte   // their chunks, ChunkSize bytes each
}

// NewDecoder returns a decoder for a message of size bytes. The size must
// be a valid Encoder message size; any other size panics.
func NewDecoder(size int) *Decoder {
	n := chunks(size)
	return &Decoder{n: n, xs: make([]uint16, 0, n), ys: make([]byte, 0, n*ChunkSize)}
}

// Len returns the message size in bytes.
func (d *Decoder) Len() int { return d.n * ChunkSize }

// Chunks returns the number of distinct chunks needed.
func (d *Decoder) Chunks() int { return d.n }

// Received returns the number of distinct chunks held.
func (d *Decoder) Received() int { return len(d.xs) }

// Complete reports whether the decoder holds enough chunks to rebuild the
// message.
func (d *Decoder) Complete() bool { return len(d.xs) == d.n }

// Point returns the k-th distinct chunk received (0 <= k < Received()), for
// persistence: adding the points in order to a new decoder rebuilds this
// one.
func (d *Decoder) Point(k int) (index uint16, chunk [ChunkSize]byte) {
	copy(chunk[:], d.ys[ChunkSize*k:])
	return d.xs[k], chunk
}

// Add records chunk index c. A chunk under an index already held is
// ignored (the first wins), and so is every chunk once the decoder is
// complete. It reports whether the decoder is complete.
func (d *Decoder) Add(c uint16, chunk *[ChunkSize]byte) bool {
	if d.Complete() {
		return true
	}
	if d.index(c) >= 0 {
		return false
	}
	d.xs = append(d.xs, c)
	d.ys = append(d.ys, chunk[:]...)
	return d.Complete()
}

// Message rebuilds the message once the decoder is complete, and reports
// false before. Data chunks received are used as they are; the others are
// interpolated from all the chunks held.
func (d *Decoder) Message() ([]byte, bool) {
	if !d.Complete() {
		return nil, false
	}
	msg := make([]byte, d.n*ChunkSize)
	var b *basis
	for x := range d.n {
		out := (*[ChunkSize]byte)(msg[ChunkSize*x:])
		if k := d.index(uint16(x)); k >= 0 {
			copy(out[:], d.ys[ChunkSize*k:])
			continue
		}
		if b == nil {
			b = newBasis(tables(), d.xs)
		}
		b.evalChunk(uint16(x), d.ys, out)
	}
	return msg, true
}

// index returns the position of chunk index c among those held, or -1.
func (d *Decoder) index(c uint16) int {
	for k, x := range d.xs {
		if x == c {
			return k
		}
	}
	return -1
}

// Clone returns an independent copy of d.
func (d *Decoder) Clone() *Decoder {
	return &Decoder{
		n:  d.n,
		xs: append(make([]uint16, 0, d.n), d.xs...),
		ys: append(make([]byte, 0, d.n*ChunkSize), d.ys...),
	}
}
