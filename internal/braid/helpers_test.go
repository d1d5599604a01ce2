package braid

import (
	"io"

	"github.com/sotto-im/sotto/internal/detrand"
)

// detRand is a seeded randomness stream for Send.
func detRand(label string) io.Reader { return detrand.New("braid " + label) }
