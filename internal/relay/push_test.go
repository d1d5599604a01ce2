package relay

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// receive takes n envelopes from ch, failing after a timeout.
func receive(t *testing.T, ch <-chan Envelope, n int) []Envelope {
	t.Helper()
	var out []Envelope
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d messages", len(out), n)
			}
			out = append(out, m)
		case <-timeout:
			t.Fatalf("timed out after %d of %d messages", len(out), n)
		}
	}
	return out
}

// quiet checks that nothing arrives on ch for a moment.
func quiet(t *testing.T, ch <-chan Envelope) {
	t.Helper()
	select {
	case m, ok := <-ch:
		if ok {
			t.Fatalf("unexpected message %q", m.Body)
		}
		t.Fatal("channel closed")
	case <-time.After(100 * time.Millisecond):
	}
}

func bodies(ms []Envelope) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Body))
	}
	return out
}

func TestSubscribePendingFirstThenLive(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	send := func(from, to *Client, s string) {
		t.Helper()
		if _, err := from.Send(ctx, to.self, 2, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		send(alice, bob, fmt.Sprint("pending ", i))
	}

	sctx, cancel := context.WithCancel(ctx)
	ch, err := bob.Subscribe(sctx)
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, ch, 3)
	if fmt.Sprint(bodies(got)) != "[pending 0 pending 1 pending 2]" {
		t.Fatalf("pending: %q", bodies(got))
	}
	quiet(t, ch)

	// Live messages, in order, also while sent in a burst; and messages to
	// others do not arrive here.
	send(alice, alice, "not for bob")
	for i := range 20 {
		send(alice, bob, fmt.Sprint("live ", i))
	}
	got = receive(t, ch, 20)
	for i, m := range got {
		if string(m.Body) != fmt.Sprint("live ", i) || m.From != alice.self {
			t.Fatalf("live message %d: %q from %v", i, m.Body, m.From)
		}
	}
	quiet(t, ch)

	// Ending ctx closes the channel.
	cancel()
	for range ch {
	}

	// Nothing was acknowledged: a new subscription gets all 23 again.
	ch, err = bob.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := receive(t, ch, 23)
	for _, m := range all {
		if err := bob.Ack(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	quiet(t, ch)
	// After acknowledging everything, a new subscription starts empty.
	sctx, cancel = context.WithCancel(ctx)
	defer cancel()
	ch2, err := bob.Subscribe(sctx)
	if err != nil {
		t.Fatal(err)
	}
	quiet(t, ch2)
	send(alice, bob, "after acks")
	// Both open subscriptions get it.
	if m := receive(t, ch2, 1); string(m[0].Body) != "after acks" {
		t.Fatalf("got %q", m[0].Body)
	}
	if m := receive(t, ch, 1); string(m[0].Body) != "after acks" {
		t.Fatalf("got %q", m[0].Body)
	}
}

func TestSubscribeLargeMessages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	// More than a page of bodies: the handler reads on past pageBytes.
	n := pageBytes/DefaultMaxMessageSize + 3
	for i := range n {
		body := make([]byte, DefaultMaxMessageSize)
		body[0] = byte(i)
		if _, err := alice.Send(ctx, bob.self, 2, body); err != nil {
			t.Fatal(err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := bob.Subscribe(sctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range receive(t, ch, n) {
		if len(m.Body) != DefaultMaxMessageSize || m.Body[0] != byte(i) {
			t.Fatalf("message %d: %d bytes, first %d", i, len(m.Body), m.Body[0])
		}
	}
}

func TestSubscribeAuthAndLimits(t *testing.T) {
	e := newEnv(t, &Options{MaxSubscriptions: 2, RateLimit: -1, AnonRateLimit: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bob, _ := e.newClient("bob")

	if st, code := rawRequest(t, "GET", e.hs.URL+"/v1/ws", "", nil); st != 401 || code != codeUnauthorized {
		t.Fatalf("no token: %d %s", st, code)
	}
	stranger := NewClient(e.hs.URL, Address{Name: "x", DeviceID: 1}, newSigner(t), nil)
	_, err := stranger.Subscribe(ctx)
	wantErr(t, err, ErrUnknownAddress, http.StatusNotFound)

	for range 2 {
		if _, err := bob.Subscribe(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, err = bob.Subscribe(ctx)
	wantErr(t, err, ErrRateLimited, http.StatusTooManyRequests)

	// An expired token: the client authenticates again and connects.
	e.clock.advance(2 * time.Hour)
	other := e.clientFor(bob)
	other.setToken(&tokenResponse{Token: tokenOf(t, bob), ExpiresIn: 3600})
	cancel()
	waitFor(t, func() bool { return e.srv.hub.count(bob.self) == 0 })
	ch, err := other.Subscribe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Server.Close ends the subscription.
	e.srv.Close()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("message after Close")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the subscription")
	}
	_, err = other.Subscribe(context.Background())
	wantErr(t, err, ErrUnavailable, http.StatusServiceUnavailable)
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached")
}

// Pings keep a quiet subscription open; a server that goes silent (no
// pings, no frames) is given up after three ping intervals.
func TestSubscribeWatchdog(t *testing.T) {
	e := newEnv(t, &Options{PingInterval: 100 * time.Millisecond, RateLimit: -1, AnonRateLimit: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bob, _ := e.newClient("bob")
	ch, err := bob.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("subscription ended while the server was pinging")
	case <-time.After(700 * time.Millisecond):
	}

	// A server that upgrades and then says nothing.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/", e.srv.ServeHTTP) // authentication
	mux.HandleFunc("GET /v1/ws", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(pingIntervalHeader, "20")
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		<-c.CloseRead(r.Context()).Done() // until the client hangs up
	})
	silent := httptest.NewServer(mux)
	defer silent.Close()
	c := NewClient(silent.URL, bob.self, bob.signer, nil)
	ch, err = c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("message from a silent server")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not give up on a silent server")
	}
}
