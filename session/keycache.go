package session

import (
	"crypto/sha256"
	"sync"
)

// keyCache keeps parsed signed and Kyber prekeys, which every PreKey
// message to this account uses: parsing costs an X25519 scalar
// multiplication (crypto/ecdh derives the public key) and an unpacking of
// the Kyber matrix. Entries are keyed by the SHA-256 of the stored bytes,
// so a replaced or rotated key can never be served stale, and the cache is
// bounded.
type keyCache struct {
	mu sync.Mutex
	m  map[[32]byte]any
}

const keyCacheSize = 16

func (c *keyCache) get(stored []byte, parse func([]byte) (any, error)) (any, error) {
	if c == nil {
		return parse(stored)
	}
	h := sha256.Sum256(stored)
	c.mu.Lock()
	v, ok := c.m[h]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := parse(stored)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= keyCacheSize {
		c.m = map[[32]byte]any{}
	}
	c.m[h] = v
	c.mu.Unlock()
	return v, nil
}
