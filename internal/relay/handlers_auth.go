package relay

import (
	"errors"
	"net/http"
	"time"
)

// maxAnonRequest bounds the body of the requests before authentication: an
// address (a name of up to MaxNameSize bytes, which JSON escaping may grow
// sixfold), a key, a challenge and a signature.
const maxAnonRequest = 16 << 10

type challengeRequest struct {
	Address Address `json:"address"`
}

type challengeResponse struct {
	Challenge []byte    `json:"challenge"`
	ExpiresAt time.Time `json:"expires_at"`
}

// handleChallenge issues a challenge for an address, registered or not:
// POST /v1/challenge.
func (s *Server) handleChallenge(w http.ResponseWriter, r *http.Request) {
	var req challengeRequest
	if err := readJSON(w, r, maxAnonRequest, &req); err != nil {
		s.fail(w, err)
		return
	}
	if !req.Address.valid() {
		s.fail(w, badRequest("invalid address"))
		return
	}
	network := ""
	if s.opts.AnonRateLimit > 0 {
		network = networkKey(remoteIP(r)) // else the remote IP means nothing
	}
	c, exp, err := s.auth.newChallenge(req.Address, network, s.opts.now())
	if errors.Is(err, ErrRateLimited) {
		s.rateLimited(w, time.Second) // too many outstanding for the network
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, &challengeResponse{Challenge: c, ExpiresAt: exp})
}

type registerRequest struct {
	Address     Address `json:"address"`
	IdentityKey []byte  `json:"identity_key"`
	Challenge   []byte  `json:"challenge"`
	Signature   []byte  `json:"signature"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	// ExpiresIn is the token's lifetime in seconds, for clients whose
	// clocks differ from the server's.
	ExpiresIn int64 `json:"expires_in"`
}

func (s *Server) newToken(a Address, now time.Time) *tokenResponse {
	tok, exp := s.auth.issue(a, now)
	return &tokenResponse{Token: tok, ExpiresAt: exp, ExpiresIn: int64(s.opts.TokenLifetime / time.Second)}
}

// handleRegister binds an address to the identity key that signed its
// challenge, first come first served, and issues a token: POST
// /v1/register.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := readJSON(w, r, maxAnonRequest, &req); err != nil {
		s.fail(w, err)
		return
	}
	now := s.opts.now()
	// Spend the challenge first: whatever fails next, it was tried.
	spent := s.auth.spend(req.Address, req.Challenge, now)
	if !req.Address.valid() {
		s.fail(w, badRequest("invalid address"))
		return
	}
	if !spent {
		s.fail(w, ErrUnauthorized)
		return
	}
	// This parses the key: a malformed one fails as unauthorized.
	if err := verifySignature(req.Challenge, req.Signature, req.IdentityKey); err != nil {
		s.fail(w, err)
		return
	}
	if err := s.st.Register(r.Context(), req.Address, req.IdentityKey, now); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newToken(req.Address, now))
}

type sessionRequest struct {
	Address   Address `json:"address"`
	Challenge []byte  `json:"challenge"`
	Signature []byte  `json:"signature"`
}

// handleSession issues a token to a registered address whose identity key
// signed its challenge: POST /v1/session.
func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	var req sessionRequest
	if err := readJSON(w, r, maxAnonRequest, &req); err != nil {
		s.fail(w, err)
		return
	}
	now := s.opts.now()
	// Spend the challenge before the storage lookup, so that it is spent
	// whatever fails next (an unregistered address, say).
	spent := s.auth.spend(req.Address, req.Challenge, now)
	if !req.Address.valid() {
		s.fail(w, badRequest("invalid address"))
		return
	}
	if !spent {
		s.fail(w, ErrUnauthorized)
		return
	}
	key, err := s.st.IdentityKey(r.Context(), req.Address)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := verifySignature(req.Challenge, req.Signature, key); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.newToken(req.Address, now))
}
