package session

import (
	"crypto/sha256"
	"sync"
)

// keyCache keeps parsed signed prekeys and last-resort Kyber prekeys, which
// many PreKey messages to this account use: parsing costs an X25519 public
// key and an unpacking of the Kyber matrix. Entries are keyed by the SHA-256
// of the stored bytes, so a replaced or rotated key can never be served
// stale, and the cache is bounded.
//
// Keys that leave the store (pruned signed and last-resort prekeys) leave
// the cache too and are wiped, once the transaction that deleted them has
// committed. Because a concurrent transaction may be using a cached key,
// every operation that may read cached keys holds inUse for reading, and
// the wipe takes it for writing.
type keyCache struct {
	inUse sync.RWMutex

	mu sync.Mutex
	m  map[[32]byte]wipeable
}

// wipeable is a parsed key record.
type wipeable interface{ wipe() }

const keyCacheSize = 16

// get returns the parsed form of stored, from the cache if it is there, and
// caches what it parses when cache is set. An uncached record is the
// caller's to wipe.
func (c *keyCache) get(stored []byte, cache bool, parse func([]byte) (wipeable, error)) (wipeable, error) {
	if c == nil || !cache {
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
		// Entries dropped here are still in the store; the garbage
		// collector reclaims them.
		c.m = map[[32]byte]wipeable{}
	}
	c.m[h] = v
	c.mu.Unlock()
	return v, nil
}

// hash is the cache key of stored bytes.
func cacheKey(stored []byte) [32]byte { return sha256.Sum256(stored) }

// forget removes the entries of keys deleted from the store and wipes them.
// It must be called after the deleting transaction committed, outside any
// operation holding inUse.
func (c *keyCache) forget(keys [][32]byte) {
	if c == nil || len(keys) == 0 {
		return
	}
	c.inUse.Lock()
	defer c.inUse.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range keys {
		if v, ok := c.m[h]; ok {
			v.wipe()
			delete(c.m, h)
		}
	}
}

// len reports the number of cached entries (for tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
