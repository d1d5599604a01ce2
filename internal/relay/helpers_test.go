package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
)

// fakeSigner is a Signer on a bare curve key, as session.Account signs.
type fakeSigner struct{ k *curve.PrivateKey }

var _ Signer = (*fakeSigner)(nil)

func newSigner(t testing.TB) *fakeSigner {
	t.Helper()
	k, err := curve.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeSigner{k}
}

func (f *fakeSigner) IdentityKey() []byte { return f.k.PublicKey().Bytes() }

func (f *fakeSigner) SignChallenge(c []byte) ([]byte, error) {
	return f.k.Sign(rand.Reader, append([]byte(ChallengePrefix), c...))
}

// clock is a settable time source for the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a relay on a SQLite file, served over HTTP on a random port of
// 127.0.0.1.
type env struct {
	t     testing.TB
	path  string
	opts  Options
	clock *clock
	st    *SQLiteStorage
	srv   *Server
	hs    *httptest.Server
}

// newEnv starts a relay with opts (nil: the defaults, with rate limits
// off). Its clock is frozen until the test advances it.
func newEnv(t testing.TB, opts *Options) *env {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	} else {
		o.RateLimit, o.AnonRateLimit = -1, -1
	}
	e := &env{t: t, path: filepath.Join(t.TempDir(), "relay.db"), opts: o, clock: newClock()}
	e.start()
	t.Cleanup(e.stop)
	return e
}

// start opens the storage and serves it.
func (e *env) start() {
	e.t.Helper()
	st, err := OpenSQLite(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	o := e.opts
	o.now = e.clock.now
	o.OnError = func(err error) { e.t.Errorf("server error: %v", err) }
	e.st, e.srv = st, NewServer(st, &o)
	e.hs = httptest.NewServer(e.srv)
}

// stop shuts the server down and closes the storage; start may follow.
func (e *env) stop() {
	if e.hs == nil {
		return
	}
	e.srv.Close()
	e.hs.Close()
	if err := e.st.Close(); err != nil {
		e.t.Error(err)
	}
	e.hs = nil
}

// restart stops the relay and starts a new one on the same file. Clients
// keep working: they authenticate again.
func (e *env) restart() {
	e.stop()
	e.start()
}

// newClient returns a client for a new device whose address is given by
// name and 1, registered unless register is false.
func (e *env) newClient(name string) (*Client, *fakeSigner) {
	e.t.Helper()
	s := newSigner(e.t)
	c := NewClient(e.hs.URL, Address{Name: name, DeviceID: 1}, s, nil)
	if err := c.Register(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return c, s
}

// clientFor returns a client of the current server for an existing device.
func (e *env) clientFor(c *Client) *Client {
	return NewClient(e.hs.URL, c.self, c.signer, nil)
}

// testKeys returns keys signed by s: a signed prekey with id 1, a
// last-resort Kyber key with id 1000, nEC one-time EC prekeys with ids from
// 1, and nKyber one-time Kyber prekeys with ids from 1. The Kyber keys are
// random bytes of the right form: the relay does not use them.
func testKeys(t testing.TB, s *fakeSigner, nEC, nKyber int) *Keys {
	t.Helper()
	sign := func(pub []byte) []byte {
		sig, err := s.k.Sign(rand.Reader, pub)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	ecKey := func() []byte {
		k, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k.PublicKey().Bytes()
	}
	kyberKey := func() []byte {
		b := make([]byte, kem.PublicKeySize)
		rand.Read(b)
		b[0] = kem.TypeKyber1024
		return b
	}
	spk := ecKey()
	lr := kyberKey()
	k := &Keys{
		RegistrationID:  4242,
		SignedPreKey:    &SignedPreKey{ID: 1, PublicKey: spk, Signature: sign(spk)},
		LastResortKyber: &KyberPreKey{ID: 1000, PublicKey: lr, Signature: sign(lr)},
	}
	for i := range nEC {
		k.PreKeys = append(k.PreKeys, PreKey{ID: uint32(i + 1), PublicKey: ecKey()})
	}
	for i := range nKyber {
		pub := kyberKey()
		k.KyberPreKeys = append(k.KyberPreKeys, KyberPreKey{ID: uint32(i + 1), PublicKey: pub, Signature: sign(pub)})
	}
	return k
}

// wantErr fails the test unless err wraps target and, for a *Error, has
// the given HTTP status.
func wantErr(t testing.TB, err, target error, status int) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want %v", err, target)
	}
	var e *Error
	if status != 0 {
		if !errors.As(err, &e) || e.Status != status {
			t.Fatalf("error %v, want HTTP status %d", err, status)
		}
	}
}

// rawRequest sends a request with an optional bearer token and returns the
// status and the parsed error code, if any.
func rawRequest(t testing.TB, method, url, token string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, ""
	}
	e := responseError(resp, resp.Body).(*Error)
	return e.Status, e.Code
}

// tokenOf returns c's current token, authenticating if it has none.
func tokenOf(t testing.TB, c *Client) string {
	t.Helper()
	tok, err := c.bearer(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// count returns how many WebSocket handlers a has.
func (h *hub) count(a Address) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[a])
}
