package relay

import (
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
	// clients; past it, new ones are refused with ErrUnavailable until
	// some expire.
	maxChallenges = 100_000
	// maxTokensPerAddress bounds the live tokens of one address; issuing
	// one more evicts its oldest.
	maxTokensPerAddress = 8
)

// challenge is an outstanding challenge: for whom, and until when.
type challenge struct {
	addr    Address
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
	challenges map[string]challenge // by the challenge's bytes
	tokens     map[tokenDigest]token
	byAddr     map[Address][]tokenDigest // each address's tokens, oldest first
	lastSweep  time.Time
}

func newAuth(challengeTTL, tokenTTL time.Duration) *auth {
	return &auth{
		challengeTTL: challengeTTL,
		tokenTTL:     tokenTTL,
		challenges:   map[string]challenge{},
		tokens:       map[tokenDigest]token{},
		byAddr:       map[Address][]tokenDigest{},
	}
}

// newChallenge returns a fresh challenge for a.
func (au *auth) newChallenge(a Address, now time.Time) ([]byte, time.Time, error) {
	c := make([]byte, challengeSize)
	rand.Read(c) // never fails (crypto/rand, Go 1.24+)
	exp := now.Add(au.challengeTTL)

	au.mu.Lock()
	defer au.mu.Unlock()
	au.maybeSweep(now)
	if len(au.challenges) >= maxChallenges {
		au.sweep(now)
		if len(au.challenges) >= maxChallenges {
			return nil, time.Time{}, ErrUnavailable
		}
	}
	au.challenges[string(c)] = challenge{addr: a, expires: exp}
	return c, exp, nil
}

// verify checks that sig is identityKey's signature over ChallengePrefix ||
// c, and that c is an outstanding challenge for a. The challenge is spent
// whatever the outcome, so that each can be tried once only. Any failure is
// ErrUnauthorized.
func (au *auth) verify(a Address, c, sig, identityKey []byte, now time.Time) error {
	au.mu.Lock()
	ch, ok := au.challenges[string(c)]
	delete(au.challenges, string(c))
	au.mu.Unlock()
	if !ok || ch.addr != a || !now.Before(ch.expires) {
		return ErrUnauthorized
	}
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
	for k, c := range au.challenges {
		if !now.Before(c.expires) {
			delete(au.challenges, k)
		}
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
