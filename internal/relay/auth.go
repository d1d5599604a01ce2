package relay

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/sotto-im/sotto/internal/curve"
)

// Authentication, as PROTOCOL.md specifies it: a client asks for a
// challenge for its address, signs ChallengePrefix || challenge with its
// identity key, and trades the signature for a bearer token bound to that
// address. Challenges and tokens live in memory only: a restarted server
// has none, and clients simply authenticate again.

const (
	challengeSize = 32 // bytes of randomness in a challenge
	tokenSize     = 32 // bytes of randomness in a token

	// maxChallenges bounds the challenges outstanding at once, across all
	// clients; past it, a new one evicts the oldest, so that nobody can
	// fill the table and refuse everyone else. Honest clients answer their
	// challenges within moments, long before they are evicted.
	maxChallenges = 100_000
	// maxChallengesPerNetwork bounds the challenges outstanding at once for
	// one network (one IPv4 address, or one IPv6 /64); past it, new ones
	// are refused with ErrRateLimited until some are answered or expire.
	maxChallengesPerNetwork = 100
	// maxTokensPerAddress bounds the live tokens of one address; issuing
	// one more evicts its oldest.
	maxTokensPerAddress = 8

	// sweepInterval is how often expired tokens are swept.
	sweepInterval = time.Minute
)

// challenge is an outstanding challenge: for whom, from which network, and
// until when.
type challenge struct {
	key     string // the challenge's bytes
	addr    Address
	network string // "" when not limited per network
	expires time.Time
}

// token is a live bearer token. The map of tokens is keyed by the token's
// SHA-256, so that the server's memory never holds a token it could hand
// back, and a lookup compares digests, not the secret.
type token struct {
	addr    Address
	expires time.Time
}

type tokenDigest [sha256.Size]byte

// auth holds the challenges and tokens of a server.
type auth struct {
	challengeTTL, tokenTTL time.Duration

	mu         sync.Mutex
	challenges map[string]*list.Element // of *challenge, by the challenge's bytes
	order      list.List                // of *challenge, oldest first
	byNetwork  map[string]int           // outstanding challenges per network
	tokens     map[tokenDigest]token
	byAddr     map[Address][]tokenDigest // each address's tokens, oldest first
	lastSweep  time.Time
}

func newAuth(challengeTTL, tokenTTL time.Duration) *auth {
	return &auth{
		challengeTTL: challengeTTL,
		tokenTTL:     tokenTTL,
		challenges:   map[string]*list.Element{},
		byNetwork:    map[string]int{},
		tokens:       map[tokenDigest]token{},
		byAddr:       map[Address][]tokenDigest{},
	}
}

// newChallenge returns a fresh challenge for a, requested from network
// ("": not limited per network).
func (au *auth) newChallenge(a Address, network string, now time.Time) ([]byte, time.Time, error) {
	c := make([]byte, challengeSize)
	rand.Read(c) // never fails (crypto/rand, Go 1.24+)
	exp := now.Add(au.challengeTTL)

	au.mu.Lock()
	defer au.mu.Unlock()
	au.maybeSweep(now)
	if network != "" && au.byNetwork[network] >= maxChallengesPerNetwork {
		au.sweep(now)
		if au.byNetwork[network] >= maxChallengesPerNetwork {
			return nil, time.Time{}, ErrRateLimited
		}
	}
	for len(au.challenges) >= maxChallenges {
		au.removeChallenge(au.order.Front())
	}
	ch := &challenge{key: string(c), addr: a, network: network, expires: exp}
	au.challenges[ch.key] = au.order.PushBack(ch)
	if network != "" {
		au.byNetwork[network]++
	}
	return c, exp, nil
}

// removeChallenge forgets an outstanding challenge.
func (au *auth) removeChallenge(el *list.Element) {
	ch := el.Value.(*challenge)
	au.order.Remove(el)
	delete(au.challenges, ch.key)
	if ch.network != "" {
		if n := au.byNetwork[ch.network] - 1; n > 0 {
			au.byNetwork[ch.network] = n
		} else {
			delete(au.byNetwork, ch.network)
		}
	}
}

// spend forgets the challenge c, and reports whether it was outstanding,
// unexpired and issued for a. Each challenge can thus be tried once only:
// the handlers spend it as soon as the request naming it is parsed, before
// anything else can fail.
func (au *auth) spend(a Address, c []byte, now time.Time) bool {
	au.mu.Lock()
	el, ok := au.challenges[string(c)]
	var ch challenge
	if ok {
		ch = *el.Value.(*challenge)
		au.removeChallenge(el)
	}
	au.mu.Unlock()
	return ok && ch.addr == a && now.Before(ch.expires)
}

// verifySignature checks that sig is identityKey's signature over
// ChallengePrefix || c. Any failure, a malformed key included, is
// ErrUnauthorized.
func verifySignature(c, sig, identityKey []byte) error {
	pub, err := curve.ParsePublicKey(identityKey)
	if err != nil {
		return ErrUnauthorized
	}
	msg := make([]byte, 0, len(ChallengePrefix)+len(c))
	msg = append(append(msg, ChallengePrefix...), c...)
	if !pub.Verify(msg, sig) {
		return ErrUnauthorized
	}
	return nil
}

// issue returns a new token for a.
func (au *auth) issue(a Address, now time.Time) (string, time.Time) {
	raw := make([]byte, tokenSize)
	rand.Read(raw)
	tok := base64.RawURLEncoding.EncodeToString(raw)
	d := sha256.Sum256([]byte(tok))
	exp := now.Add(au.tokenTTL)

	au.mu.Lock()
	defer au.mu.Unlock()
	au.maybeSweep(now)
	list := au.byAddr[a]
	// Drop the address's expired tokens, then its oldest past the bound.
	live := list[:0]
	for _, old := range list {
		if t, ok := au.tokens[old]; ok && now.Before(t.expires) {
			live = append(live, old)
		} else {
			delete(au.tokens, old)
		}
	}
	for len(live) >= maxTokensPerAddress {
		delete(au.tokens, live[0])
		live = live[1:]
	}
	au.tokens[d] = token{addr: a, expires: exp}
	au.byAddr[a] = append(live, d)
	return tok, exp
}

// lookup returns the address a live token is bound to.
func (au *auth) lookup(tok string, now time.Time) (Address, bool) {
	d := sha256.Sum256([]byte(tok))
	au.mu.Lock()
	defer au.mu.Unlock()
	t, ok := au.tokens[d]
	if !ok || !now.Before(t.expires) {
		return Address{}, false
	}
	return t.addr, true
}

// maybeSweep sweeps at most once every sweepInterval.
func (au *auth) maybeSweep(now time.Time) {
	if now.Sub(au.lastSweep) >= sweepInterval {
		au.sweep(now)
	}
}

// sweep forgets expired challenges and tokens.
func (au *auth) sweep(now time.Time) {
	// Challenges are in order of issue, so of expiry unless the clock
	// went back: stop at the first live one.
	for el := au.order.Front(); el != nil && !now.Before(el.Value.(*challenge).expires); el = au.order.Front() {
		au.removeChallenge(el)
	}
	for a, list := range au.byAddr {
		live := list[:0]
		for _, d := range list {
			if t, ok := au.tokens[d]; ok && now.Before(t.expires) {
				live = append(live, d)
			} else {
				delete(au.tokens, d)
			}
		}
		if len(live) == 0 {
			delete(au.byAddr, a)
		} else {
			au.byAddr[a] = live
		}
	}
	au.lastSweep = now
}
