// Package detrand provides seeded, reproducible byte streams for Sotto's own
// tests and test-vector generator, which hand them to the derandomized
// internal entry points (internal/ratchetcore's functions that take an
// io.Reader, internal/entropy's context for session). It must only be used
// for tests and known-answer vectors: it is a stream of predictable bytes.
package detrand

import (
	"crypto/sha256"
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

// Read fills p with the next bytes of the stream. It never fails.
func (s *Stream) Read(p []byte) (int, error) { return s.c.Read(p) }
