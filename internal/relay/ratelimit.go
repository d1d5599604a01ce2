package relay

import (
	"sync"
	"time"
)

// limiter is a set of token buckets, one per key (an address, or a remote
// IP): each holds up to burst tokens, refills at rate tokens a second, and
// every request takes one.
//
// The set is bounded: every sweepInterval it drops the buckets that have
// refilled completely (they behave exactly as new ones), and past maxKeys
// live buckets new keys share one overflow bucket, so that a flood of
// distinct keys costs bounded memory and is limited as one.
type limiter struct {
	rate  float64 // tokens a second; 0 disables the limiter
	burst float64

	mu        sync.Mutex
	buckets   map[string]*bucket
	overflow  bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

const (
	maxLimiterKeys = 100_000
	sweepInterval  = time.Minute
)

func newLimiter(rate float64, burst int) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// allow takes a token from key's bucket. If there is none, it returns false
// and how long until there will be.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l.rate == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= sweepInterval {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) < maxLimiterKeys {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[key] = b
		} else {
			b = &l.overflow
		}
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

// sweep drops the buckets that are full by now.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}
