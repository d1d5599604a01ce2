package erasure

import "sync"

// GF(2^16) in polynomial basis, reduced by x^16 + x^12 + x^3 + x + 1. The
// element x (the integer 2) generates the multiplicative group of order
// 65535, so every non-zero element is 2^k for one k in [0, 65535), and
// products and quotients become sums and differences of logarithms.

const (
	// poly is the reduction polynomial with its x^16 term.
	poly = 0x1100b
	// order is the order of the multiplicative group.
	order = 65535
)

// gfTables are the exponential and logarithm tables of the generator 2.
type gfTables struct {
	exp [order]uint16     // exp[k] = 2^k
	log [order + 1]uint16 // log[a] = k with 2^k = a; log[0] is unused
}

// tables builds the tables on first use (256 KiB).
var tables = sync.OnceValue(func() *gfTables {
	t := new(gfTables)
	a := uint32(1)
	for k := range order {
		t.exp[k] = uint16(a)
		t.log[a] = uint16(k)
		a <<= 1
		if a&0x10000 != 0 {
			a ^= poly
		}
	}
	return t
})

// addLog returns (a + b) mod order for logarithms a, b < order.
func addLog(a, b uint32) uint32 {
	s := a + b
	if s >= order {
		s -= order
	}
	return s
}

// subLog returns (a - b) mod order for logarithms a, b < order.
func subLog(a, b uint32) uint32 {
	if a >= b {
		return a - b
	}
	return a + order - b
}

// mul returns a·b.
func (t *gfTables) mul(a, b uint16) uint16 {
	if a == 0 || b == 0 {
		return 0
	}
	return t.exp[addLog(uint32(t.log[a]), uint32(t.log[b]))]
}

// inv returns a^-1 for a != 0.
func (t *gfTables) inv(a uint16) uint16 {
	if a == 0 {
		panic("erasure: inverse of zero")
	}
	return t.exp[subLog(0, uint32(t.log[a]))]
}
