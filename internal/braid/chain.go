package braid

import (
	"fmt"

	"github.com/sotto-im/sotto/internal/kdf"
)

// EpochSecret is the braid's output for one epoch (the SCKA output key of
// Double Ratchet rev. 3 §5): the key the SPQR symmetric chain adds as chain
// epoch Epoch. It is secret; it prints redacted and the caller wipes it
// once added.
type EpochSecret struct {
	Epoch uint64
	Key   [32]byte
}

// Wipe zeroes the key.
func (s *EpochSecret) Wipe() { clear(s.Key[:]) }

// String redacts the key; the epoch is not secret.
func (s EpochSecret) String() string {
	return fmt.Sprintf("braid.EpochSecret{Epoch: %d, Key: REDACTED}", s.Epoch)
}

// GoString redacts the key.
func (s EpochSecret) GoString() string { return s.String() }

// Format redacts the key under every verb.
func (s EpochSecret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// AddEpoch is the SPQR symmetric chain's "Add Epoch" step for secret s:
// HKDF-SHA256(salt = nextRoot, ikm = s.Key, info = LabelChainAddEpoch, 96),
// split as the new next root (0:32), the A2B chain seed of the new chain
// epoch (32:64) and its B2A chain seed (64:96), exactly as the chain's
// start splits its output. The chain adds epochs 1, 2, 3, ... in order
// (s.Epoch must be the chain's current epoch plus one); the new epoch's
// send and receive counters start at 0. The caller wipes what it drops.
func AddEpoch(nextRoot *[32]byte, s *EpochSecret) (newRoot, a2b, b2a [32]byte) {
	var out [96]byte
	if err := kdf.Key(out[:], nextRoot[:], s.Key[:], []byte(LabelChainAddEpoch)); err != nil {
		panic(err)
	}
	copy(newRoot[:], out[0:32])
	copy(a2b[:], out[32:64])
	copy(b2a[:], out[64:96])
	clear(out[:])
	return newRoot, a2b, b2a
}
