// Package detrand provides seeded, reproducible byte streams for Sotto's own
// tests and test-vector generator, which hand them to the derandomized
// internal entry points (internal/ratchetcore's functions that take an
// io.Reader, internal/entropy's context for session). It must only be used
// for tests and known-answer vectors: it is a stream of predictable bytes.
package detrand

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// Stream is a deterministic byte stream (ChaCha8) seeded from a label, so
// that vector files can name their seed in plain text.
type Stream struct {
	c *rand.ChaCha8
}

// New returns a Stream seeded with SHA-256(label).
func New(label string) *Stream {
	return &Stream{c: rand.NewChaCha8(sha256.Sum256([]byte(label)))}
}

// NewFromUint64 returns a Stream seeded with the big-endian encoding of seed.
func NewFromUint64(seed uint64) *Stream {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	return &Stream{c: rand.NewChaCha8(s)}
}

// Read fills p with the next bytes of the stream. It never fails.
func (s *Stream) Read(p []byte) (int, error) { return s.c.Read(p) }
