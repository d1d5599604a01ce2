package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A flood of distinct keys (say, the addresses of one IPv6 /64, before
// keying by prefix) fills the limiter, but an honest client's first
// request is still allowed: new keys evict the least recently used bucket
// rather than sharing one overflow bucket the flood keeps empty. Memory
// stays bounded.
func TestLimiterFloodDoesNotLockOutNewKeys(t *testing.T) {
	l := newLimiter(10, 50)
	now := time.Now()
	for i := range maxLimiterKeys + 100 {
		l.allow(fmt.Sprintf("2001:db8:1:2::%x:%x", i>>16, i&0xffff), now)
	}
	if n := l.len(); n != maxLimiterKeys {
		t.Fatalf("%d buckets, want %d", n, maxLimiterKeys)
	}
	if ok, _ := l.allow("198.51.100.7", now); !ok {
		t.Fatal("an honest client's first request is rate limited after a flood of keys")
	}
}

// Recently used buckets survive eviction; full ones are swept.
func TestLimiterEvictionOrder(t *testing.T) {
	l := newLimiter(1, 2)
	l.maxKeys = 3
	now := time.Now()
	l.allow("a", now)
	l.allow("a", now) // a is empty
	l.allow("b", now)
	l.allow("c", now)
	l.allow("a", now) // refused, but a is now the most recently used
	l.allow("d", now) // evicts b
	if _, ok := l.buckets["b"]; ok {
		t.Error("b, the least recently used, was not evicted")
	}
	if ok, _ := l.allow("a", now); ok {
		t.Error("a's empty bucket was evicted")
	}
	l.allow("e", now.Add(3*time.Second)) // all full by then: swept
	if n := l.len(); n != 1 {
		t.Errorf("%d buckets after the sweep, want 1", n)
	}
}

func TestNetworkKey(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an ip", "not an ip"},
	} {
		if got := networkKey(tc.ip); got != tc.want {
			t.Errorf("networkKey(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

// Requests before authentication are limited per IPv6 /64: the addresses
// of one /64 share a bucket; another /64 has its own.
func TestAnonRateLimitPerSlashSixtyFour(t *testing.T) {
	e := newEnv(t, &Options{RateLimit: -1, AnonRateLimit: 1, AnonRateBurst: 2})
	challenge := func(remote string) int {
		body := `{"address":{"name":"a","device_id":1}}`
		r := httptest.NewRequest(http.MethodPost, "/v1/challenge", strings.NewReader(body))
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, r)
		return w.Code
	}
	for i, remote := range []string{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2::2]:1000"} {
		if code := challenge(remote); code != http.StatusOK {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	if code := challenge("[2001:db8:1:2:ffff::3]:1000"); code != http.StatusTooManyRequests {
		t.Fatalf("third request from the /64: %d, want 429", code)
	}
	if code := challenge("[2001:db8:1:3::1]:1000"); code != http.StatusOK {
		t.Fatalf("request from another /64: %d", code)
	}
}

// Past MaxInFlight requests in progress, an address gets 429.
func TestInFlightBound(t *testing.T) {
	e := newEnv(t, nil)
	alice, _ := e.newClient("alice")
	ctx := context.Background()
	for range 8 {
		if !e.srv.enter(alice.self) {
			t.Fatal("enter refused below the bound")
		}
	}
	_, _, err := alice.KeyCounts(ctx)
	wantErr(t, err, ErrRateLimited, http.StatusTooManyRequests)
	if !strings.Contains(err.Error(), "concurrent") {
		t.Errorf("error %q does not say why", err)
	}
	// Others are unaffected.
	bob, _ := e.newClient("bob")
	if _, _, err := bob.KeyCounts(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.leave(alice.self)
	if _, _, err := alice.KeyCounts(ctx); err != nil {
		t.Fatal(err)
	}
	for range 7 {
		e.srv.leave(alice.self)
	}
	if n := len(e.srv.inFlight); n != 0 {
		t.Errorf("%d addresses counted in flight after all requests ended", n)
	}
}

// A client that stalls while sending its body is answered (and its
// connection freed) after RequestTimeout.
func TestRequestTimeout(t *testing.T) {
	e := newEnv(t, &Options{RequestTimeout: 200 * time.Millisecond, RateLimit: -1, AnonRateLimit: -1})
	conn, err := net.Dial("tcp", e.hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/challenge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"addr")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the stalled request was never answered or closed")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("answered after %v", d)
	}
}

// A WebSocket outlives RequestTimeout.
func TestSubscribeOutlivesRequestTimeout(t *testing.T) {
	e := newEnv(t, &Options{RequestTimeout: 100 * time.Millisecond, RateLimit: -1, AnonRateLimit: -1})
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch, err := alice.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := bob.Send(ctx, alice.self, 2, []byte("late")); err != nil {
		t.Fatal(err)
	}
	if got := bodies(receive(t, ch, 1)); got[0] != "late" {
		t.Fatalf("got %q", got)
	}
}

// Fetch stops when the relay's cursor does not advance, returning what it
// has, rather than reading for ever.
func TestFetchStopsOnStuckCursor(t *testing.T) {
	pages := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/challenge":
			writeJSON(w, http.StatusOK, &challengeResponse{Challenge: make([]byte, 32), ExpiresAt: time.Now().Add(time.Minute)})
		case "/v1/session":
			writeJSON(w, http.StatusOK, &tokenResponse{Token: "t", ExpiresAt: time.Now().Add(time.Hour), ExpiresIn: 3600})
		case "/v1/messages":
			pages++
			if pages > 10 {
				t.Error("Fetch kept reading a stuck cursor")
				writeJSON(w, http.StatusOK, &messagesResponse{Cursor: "7"})
				return
			}
			writeJSON(w, http.StatusOK, &messagesResponse{
				Messages: []Envelope{{ID: fmt.Sprint(pages), Type: 2, Body: []byte("x")}},
				Cursor:   "7", More: true,
			})
		}
	}))
	defer hs.Close()
	c := NewClient(hs.URL, Address{Name: "a", DeviceID: 1}, newSigner(t), nil)
	got, err := c.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2 (the page at 0 and the page at 7)", len(got))
	}
}

// Fetch holds at most maxFetchBytes of bodies (plus a page).
func TestFetchBoundsBytes(t *testing.T) {
	body := make([]byte, 4<<20)
	pages := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/challenge":
			writeJSON(w, http.StatusOK, &challengeResponse{Challenge: make([]byte, 32), ExpiresAt: time.Now().Add(time.Minute)})
		case "/v1/session":
			writeJSON(w, http.StatusOK, &tokenResponse{Token: "t", ExpiresAt: time.Now().Add(time.Hour), ExpiresIn: 3600})
		case "/v1/messages":
			pages++
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(&messagesResponse{
				Messages: []Envelope{{ID: fmt.Sprint(pages), Type: 2, Body: body}},
				Cursor:   fmt.Sprint(pages), More: true,
			})
		}
	}))
	defer hs.Close()
	c := NewClient(hs.URL, Address{Name: "a", DeviceID: 1}, newSigner(t), nil)
	got, err := c.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := maxFetchBytes / len(body); len(got) != want {
		t.Fatalf("got %d messages of 4 MiB, want %d", len(got), want)
	}
}
