// Package detrand lets Sotto's own tests and vector generator replace the
// randomness inside the public packages with a seeded, reproducible stream.
//
// The public API of ratchet and session always draws from crypto/rand. Those
// packages register, at init time, a setter for each type that holds a
// randomness source; this package, being internal, is unreachable from
// applications, so a deterministic stream can only be injected by code inside
// this module. It must only be used for tests and known-answer vectors.
package detrand

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"sync"
)

var (
	mu      sync.RWMutex
	setters = map[reflect.Type]func(any, io.Reader){}
)

// Register installs the setter used by SetReader for values of type *T.
// Public packages call it from init.
func Register[T any](set func(*T, io.Reader)) {
	mu.Lock()
	defer mu.Unlock()
	setters[reflect.TypeFor[*T]()] = func(v any, r io.Reader) { set(v.(*T), r) }
}

// SetReader makes target draw its randomness from r instead of crypto/rand.
// It returns an error if target's type has no registered setter.
func SetReader(target any, r io.Reader) error {
	mu.RLock()
	set, ok := setters[reflect.TypeOf(target)]
	mu.RUnlock()
	if !ok {
		return fmt.Errorf("detrand: no setter registered for %T", target)
	}
	set(target, r)
	return nil
}

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
