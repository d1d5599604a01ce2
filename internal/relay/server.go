package relay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options are a Server's limits. The zero value of each field selects its
// default.
type Options struct {
	// MaxMessageSize bounds a message body, in bytes. Default 256 KiB.
	MaxMessageSize int
	// MaxMailbox bounds the messages waiting in one mailbox; Send to a
	// full one fails with ErrMailboxFull. Default 10,000.
	MaxMailbox int
	// MaxPreKeys bounds the one-time prekeys of each kind (EC, Kyber) one
	// device may have on the relay. Default 1,000.
	MaxPreKeys int

	// RateLimit is the sustained rate, in requests a second, allowed to
	// each authenticated address, and RateBurst the burst above it.
	// Defaults 50 and 100. A negative RateLimit disables the limit.
	RateLimit float64
	RateBurst int
	// AnonRateLimit and AnonRateBurst limit, per remote network (an IPv4
	// address, or an IPv6 /64 prefix), the requests that come before
	// authentication: challenges, registrations and token requests.
	// Defaults 10 and 50; a negative AnonRateLimit disables the limit, and
	// with it the bound on the challenges outstanding per network. Behind
	// a reverse proxy every client has the proxy's address; limit there
	// instead.
	AnonRateLimit float64
	AnonRateBurst int
	// MaxInFlight bounds the requests one authenticated address may have
	// in progress at once (WebSocket connections aside: MaxSubscriptions
	// bounds those); past it, 429. Default 8; negative: no bound.
	MaxInFlight int
	// RequestTimeout bounds, for every request but a WebSocket upgrade,
	// reading the request body and writing the response, so that a client
	// that stalls cannot pin the server's memory. Default 30 s.
	RequestTimeout time.Duration

	// ChallengeLifetime is how long a challenge may be answered. Default
	// one minute.
	ChallengeLifetime time.Duration
	// TokenLifetime is how long a bearer token is valid. Default one hour.
	TokenLifetime time.Duration

	// MaxSubscriptions bounds the WebSocket connections one address may
	// hold open at once. Default 4.
	MaxSubscriptions int
	// PingInterval is how often the server pings an idle WebSocket, and
	// WriteTimeout how long it waits for one write or ping to complete
	// before dropping the connection. Defaults 30 s and 30 s.
	PingInterval time.Duration
	WriteTimeout time.Duration

	// OnError, if set, is called with every internal error the server
	// answers with a 500 (a failing Storage, say), so that the program
	// embedding the server can log it: the package never logs. The errors
	// carry no message bodies. It may be called concurrently.
	OnError func(error)

	// now replaces time.Now in tests.
	now func() time.Time
}

// Defaults of Options.
const (
	DefaultMaxMessageSize = 256 << 10
	DefaultMaxMailbox     = 10_000
	DefaultMaxPreKeys     = 1000

	defaultMaxInFlight = 8
)

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&r.MaxMessageSize, DefaultMaxMessageSize)
	def(&r.MaxMailbox, DefaultMaxMailbox)
	def(&r.MaxPreKeys, DefaultMaxPreKeys)
	switch {
	case r.RateLimit == 0:
		r.RateLimit = 50
	case r.RateLimit < 0:
		r.RateLimit = 0
	}
	def(&r.RateBurst, 100)
	switch {
	case r.AnonRateLimit == 0:
		r.AnonRateLimit = 10
	case r.AnonRateLimit < 0:
		r.AnonRateLimit = 0
	}
	def(&r.AnonRateBurst, 50)
	switch {
	case r.MaxInFlight == 0:
		r.MaxInFlight = defaultMaxInFlight
	case r.MaxInFlight < 0:
		r.MaxInFlight = 0
	}
	defDur(&r.RequestTimeout, 30*time.Second)
	defDur(&r.ChallengeLifetime, time.Minute)
	defDur(&r.TokenLifetime, time.Hour)
	def(&r.MaxSubscriptions, 4)
	defDur(&r.PingInterval, 30*time.Second)
	defDur(&r.WriteTimeout, 30*time.Second)
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Server is the relay: an http.Handler serving the protocol of PROTOCOL.md
// under /v1/ from a Storage. It is safe for concurrent use. Close it before
// closing its Storage.
type Server struct {
	st   Storage
	opts Options
	mux  *http.ServeMux
	auth *auth
	rate *limiter // per address
	anon *limiter // per remote network, before authentication
	hub  *hub

	inFlightMu sync.Mutex
	inFlight   map[Address]int // requests in progress, per address

	// ctx ends when Close is called; WebSocket handlers watch it.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // WebSocket handlers running
}

var _ http.Handler = (*Server)(nil)

// NewServer returns a server over st with the limits of opts (nil: the
// defaults).
func NewServer(st Storage, opts *Options) *Server {
	o := opts.withDefaults()
	s := &Server{
		st:   st,
		opts: o,
		mux:  http.NewServeMux(),
		auth: newAuth(o.ChallengeLifetime, o.TokenLifetime),
		rate: newLimiter(o.RateLimit, o.RateBurst),
		anon: newLimiter(o.AnonRateLimit, o.AnonRateBurst),
		hub:  newHub(),

		inFlight: map[Address]int{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	s.mux.HandleFunc("POST /v1/challenge", s.anonymous(s.handleChallenge))
	s.mux.HandleFunc("POST /v1/register", s.anonymous(s.handleRegister))
	s.mux.HandleFunc("POST /v1/session", s.anonymous(s.handleSession))
	s.mux.HandleFunc("PUT /v1/keys", s.authenticated(s.handlePutKeys))
	s.mux.HandleFunc("GET /v1/keys/count", s.authenticated(s.handleKeyCounts))
	s.mux.HandleFunc("POST /v1/bundle", s.authenticated(s.handleBundle))
	s.mux.HandleFunc("POST /v1/messages", s.authenticated(s.handleSend))
	s.mux.HandleFunc("GET /v1/messages", s.authenticated(s.handleFetch))
	s.mux.HandleFunc("DELETE /v1/messages/{id}", s.authenticated(s.handleAck))
	s.mux.HandleFunc("GET /v1/ws", s.authenticatedLongLived(s.handleWebSocket))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	return s
}

// ServeHTTP implements http.Handler. It gives the request RequestTimeout
// to be read and answered, through http.ResponseController (where the
// ResponseWriter does not support deadlines, there are none); the
// WebSocket handler lifts those deadlines.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(s.opts.RequestTimeout)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
	s.mux.ServeHTTP(w, r)
}

// Close ends every WebSocket connection and waits for their handlers to
// return; later requests get 503. It does not close the Storage, and does
// not wait for plain HTTP requests in flight (http.Server.Shutdown does).
// A second Close does nothing.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// anonymous wraps a handler that runs before authentication with the
// per-network rate limit.
func (s *Server) anonymous(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.isClosed() {
			s.fail(w, ErrUnavailable)
			return
		}
		if ok, wait := s.anon.allow(networkKey(remoteIP(r)), s.opts.now()); !ok {
			s.rateLimited(w, wait)
			return
		}
		h(w, r)
	}
}

// authedHandler is a handler for an authenticated address.
type authedHandler func(w http.ResponseWriter, r *http.Request, self Address)

// authenticated wraps a handler that needs a bearer token, and applies the
// address's rate limit and its bound on requests in flight.
func (s *Server) authenticated(h authedHandler) http.HandlerFunc {
	return s.authed(h, true)
}

// authenticatedLongLived is authenticated for a handler that may run for
// hours (the WebSocket), which does not count as a request in flight.
func (s *Server) authenticatedLongLived(h authedHandler) http.HandlerFunc {
	return s.authed(h, false)
}

func (s *Server) authed(h authedHandler, counted bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.isClosed() {
			s.fail(w, ErrUnavailable)
			return
		}
		now := s.opts.now()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			s.fail(w, ErrUnauthorized)
			return
		}
		self, ok := s.auth.lookup(tok, now)
		if !ok {
			s.fail(w, ErrUnauthorized)
			return
		}
		if ok, wait := s.rate.allow(self.String(), now); !ok {
			s.rateLimited(w, wait)
			return
		}
		if counted {
			if !s.enter(self) {
				w.Header().Set("Retry-After", "1")
				writeError(w, http.StatusTooManyRequests, codeRateLimited,
					"relay: too many concurrent requests for this address")
				return
			}
			defer s.leave(self)
		}
		h(w, r, self)
	}
}

// enter counts a request of a in flight, unless a has MaxInFlight already.
func (s *Server) enter(a Address) bool {
	if s.opts.MaxInFlight == 0 {
		return true
	}
	s.inFlightMu.Lock()
	defer s.inFlightMu.Unlock()
	if s.inFlight[a] >= s.opts.MaxInFlight {
		return false
	}
	s.inFlight[a]++
	return true
}

// leave ends a request that enter counted.
func (s *Server) leave(a Address) {
	if s.opts.MaxInFlight == 0 {
		return
	}
	s.inFlightMu.Lock()
	defer s.inFlightMu.Unlock()
	if n := s.inFlight[a] - 1; n > 0 {
		s.inFlight[a] = n
	} else {
		delete(s.inFlight, a)
	}
}

// remoteIP returns the IP address of the request's peer.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errorBody is the JSON of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, &b)
}

// fail answers with the status and code of err's kind. The message is the
// sentinel's text, or a detail the handler chose (a badRequest); an
// internal error's own text is never sent, only given to OnError.
func (s *Server) fail(w http.ResponseWriter, err error) {
	k := kindOf(err)
	msg := k.err.Error()
	var br *badRequestError
	if errors.As(err, &br) {
		msg = br.msg
	}
	if k.err == ErrInternal && s.opts.OnError != nil &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		s.opts.OnError(err) // a client going away is not worth reporting
	}
	if k.err == ErrUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeError(w, k.status, k.code, msg)
}

func (s *Server) rateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, http.StatusTooManyRequests, codeRateLimited, ErrRateLimited.Error())
}

// badRequestError is ErrBadRequest with a message saying what was wrong.
type badRequestError struct{ msg string }

func (e *badRequestError) Error() string { return "relay: bad request: " + e.msg }
func (e *badRequestError) Unwrap() error { return ErrBadRequest }

func badRequest(msg string) error { return &badRequestError{msg} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// readJSON decodes the request body into v, reading at most limit bytes:
// ErrMessageTooLarge past that, a bad request for anything but one JSON
// value.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrMessageTooLarge
		}
		return badRequest("invalid JSON body")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrMessageTooLarge
		}
		return badRequest("trailing data after the JSON body")
	}
	return nil
}
