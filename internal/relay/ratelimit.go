package relay

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// limiter is a set of token buckets, one per key (an address, or a remote
// network): each holds up to burst tokens, refills at rate tokens a second,
// and every request takes one.
//
// The set is bounded: it drops the buckets that have refilled completely
// (they behave exactly as new ones), and past maxKeys live buckets a new
// key evicts the least recently used one. A flood of distinct keys thus
// costs bounded memory and can at worst reset other keys' buckets to full:
// it never makes a new key share a bucket with anyone, so it cannot lock
// honest clients out.
type limiter struct {
	rate    float64 // tokens a second; 0 disables the limiter
	burst   float64
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	lru     list.List                // of *bucket, least recently used first
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

const maxLimiterKeys = 100_000

func newLimiter(rate float64, burst int) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{rate: rate, burst: float64(burst), maxKeys: maxLimiterKeys, buckets: map[string]*list.Element{}}
}

// allow takes a token from key's bucket. If there is none, it returns false
// and how long until there will be.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.rate == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var b *bucket
	if el, ok := l.buckets[key]; ok {
		b = el.Value.(*bucket)
		l.lru.MoveToBack(el)
	} else {
		for len(l.buckets) >= l.maxKeys {
			l.remove(l.lru.Front())
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = l.lru.PushBack(b)
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, max(wait, time.Millisecond)
}

// sweep drops, least recently used first, the buckets unused long enough to
// be full by now. The list is in order of last use, so it stops at the
// first that is not: each bucket is dropped once, at O(1) amortized cost.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for el := l.lru.Front(); el != nil; el = l.lru.Front() {
		if now.Sub(el.Value.(*bucket).last) < full {
			return
		}
		l.remove(el)
	}
}

func (l *limiter) remove(el *list.Element) {
	delete(l.buckets, el.Value.(*bucket).key)
	l.lru.Remove(el)
}

// len returns the number of live buckets.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// networkKey returns the key under which requests from the IP address ip
// are limited before authentication: the address itself for IPv4 (also
// when written as IPv4-mapped IPv6), its /64 prefix for IPv6, since a
// single subscriber or server commonly holds a whole /64. A string that is
// not an IP address is its own key.
func networkKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64) // never fails for IPv6
	return p.String()
}
