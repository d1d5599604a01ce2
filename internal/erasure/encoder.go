package erasure

import (
	"fmt"
	"sync"
)

const (
	// ChunkSize is the size of a chunk: one element of each of the 16
	// interleaved polynomials.
	ChunkSize = 32
	// MaxChunks is the largest number of data chunks a message can have:
	// a polynomial has at most one point per field element.
	MaxChunks = 1 << 16
)

// Encoder produces the chunks of one message. It is immutable, so an
// Encoder may be shared between goroutines and between copies of the state
// that holds it.
type Encoder struct {
	msg []byte
	b   *basis // the systematic points 0..n-1
}

// NewEncoder returns an encoder for msg, which it copies. The length of msg
// must be a non-zero multiple of ChunkSize and at most MaxChunks chunks:
// every SPQR stream is (96, 1152, 960 or 160 bytes), so any other length is
// a programmer error and panics.
func NewEncoder(msg []byte) *Encoder {
	return &Encoder{msg: append([]byte(nil), msg...), b: systematicBasis(chunks(len(msg)))}
}

// systematic caches the bases of the points 0..n-1, which depend only on
// n (four sizes in practice); bases are immutable once built.
var systematic sync.Map // int -> *basis

func systematicBasis(n int) *basis {
	if b, ok := systematic.Load(n); ok {
		return b.(*basis)
	}
	xs := make([]uint16, n)
	for i := range xs {
		xs[i] = uint16(i)
	}
	b, _ := systematic.LoadOrStore(n, newBasis(tables(), xs))
	return b.(*basis)
}

// chunks returns the number of data chunks of a message of size bytes, and
// panics if that size is not supported.
func chunks(size int) int {
	if size <= 0 || size%ChunkSize != 0 || size/ChunkSize > MaxChunks {
		panic(fmt.Sprintf("erasure: unsupported message size %d", size))
	}
	return size / ChunkSize
}

// Len returns the message size in bytes.
func (e *Encoder) Len() int { return len(e.msg) }

// Chunks returns n, the number of data chunks: any n distinct chunks
// rebuild the message.
func (e *Encoder) Chunks() int { return len(e.msg) / ChunkSize }

// Message returns a copy of the message.
func (e *Encoder) Message() []byte { return append([]byte(nil), e.msg...) }

// AppendMessage appends the message to dst.
func (e *Encoder) AppendMessage(dst []byte) []byte { return append(dst, e.msg...) }

// Chunk returns chunk c: message bytes [32c, 32c+32) for c below Chunks(),
// parity above.
func (e *Encoder) Chunk(c uint16) [ChunkSize]byte {
	var out [ChunkSize]byte
	e.b.evalChunk(c, e.msg, &out)
	return out
}
