package relay

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestRegisterFirstComeFirstServed(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, aliceKey := e.newClient("alice")

	// The same key again: fine, and the client works.
	if err := alice.Register(ctx); err != nil {
		t.Fatalf("re-register with the same key: %v", err)
	}
	again := NewClient(e.hs.URL, alice.self, aliceKey, nil)
	if err := again.Register(ctx); err != nil {
		t.Fatalf("re-register from a new client: %v", err)
	}

	// Another key for the same address: refused.
	thief := NewClient(e.hs.URL, alice.self, newSigner(t), nil)
	wantErr(t, thief.Register(ctx), ErrAddressTaken, http.StatusConflict)
	// ...and cannot authenticate as alice either.
	_, _, err := thief.KeyCounts(ctx)
	wantErr(t, err, ErrUnauthorized, http.StatusUnauthorized)

	// Another device of the same name is another address.
	dev2 := NewClient(e.hs.URL, Address{Name: "alice", DeviceID: 2}, newSigner(t), nil)
	if err := dev2.Register(ctx); err != nil {
		t.Fatal(err)
	}

	// Invalid addresses.
	// Invalid addresses: the client refuses them itself (a name that is
	// not UTF-8 would not survive JSON), and so does the server.
	for _, a := range []Address{{Name: "", DeviceID: 1}, {Name: "x", DeviceID: 0}, {Name: "\xff", DeviceID: 1}} {
		c := NewClient(e.hs.URL, a, newSigner(t), nil)
		wantErr(t, c.Register(ctx), ErrBadRequest, 0)
		b, _ := json.Marshal(&challengeRequest{Address: a})
		if st, code := rawRequest(t, http.MethodPost, e.hs.URL+"/v1/challenge", "", b); st != 400 && a.Name != "\xff" {
			t.Errorf("challenge for %q: %d %s", a, st, code)
		}
	}
}

func TestUnregisteredAddress(t *testing.T) {
	e := newEnv(t, nil)
	c := NewClient(e.hs.URL, Address{Name: "nobody", DeviceID: 1}, newSigner(t), nil)
	_, err := c.Fetch(context.Background())
	wantErr(t, err, ErrUnknownAddress, http.StatusNotFound)
}

// challengeFor asks the relay for a challenge for a.
func challengeFor(t *testing.T, e *env, a Address) []byte {
	t.Helper()
	c := NewClient(e.hs.URL, a, nil, nil)
	var ch challengeResponse
	if err := c.roundTrip(context.Background(), http.MethodPost, "/v1/challenge", "", &challengeRequest{Address: a}, &ch); err != nil {
		t.Fatal(err)
	}
	return ch.Challenge
}

// session trades a challenge and signature for a token.
func session(e *env, a Address, ch, sig []byte) error {
	c := NewClient(e.hs.URL, a, nil, nil)
	var tr tokenResponse
	return c.roundTrip(context.Background(), http.MethodPost, "/v1/session", "",
		&sessionRequest{Address: a, Challenge: ch, Signature: sig}, &tr)
}

func TestAuthenticationFailures(t *testing.T) {
	e := newEnv(t, nil)
	alice, aliceKey := e.newClient("alice")
	bob, bobKey := e.newClient("bob")
	a := alice.self

	t.Run("wrong signature", func(t *testing.T) {
		ch := challengeFor(t, e, a)
		sig, _ := bobKey.SignChallenge(ch) // bob's key, alice's address
		wantErr(t, session(e, a, ch, sig), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("signature without the prefix", func(t *testing.T) {
		ch := challengeFor(t, e, a)
		sig, _ := aliceKey.k.Sign(rand.Reader, ch)
		wantErr(t, session(e, a, ch, sig), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("failed attempt spends the challenge", func(t *testing.T) {
		ch := challengeFor(t, e, a)
		bad, _ := bobKey.SignChallenge(ch)
		wantErr(t, session(e, a, ch, bad), ErrUnauthorized, http.StatusUnauthorized)
		good, _ := aliceKey.SignChallenge(ch)
		wantErr(t, session(e, a, ch, good), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("replayed challenge", func(t *testing.T) {
		ch := challengeFor(t, e, a)
		sig, _ := aliceKey.SignChallenge(ch)
		if err := session(e, a, ch, sig); err != nil {
			t.Fatal(err)
		}
		wantErr(t, session(e, a, ch, sig), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("made-up challenge", func(t *testing.T) {
		ch := make([]byte, challengeSize)
		sig, _ := aliceKey.SignChallenge(ch)
		wantErr(t, session(e, a, ch, sig), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("challenge of another address", func(t *testing.T) {
		ch := challengeFor(t, e, bob.self)
		sig, _ := aliceKey.SignChallenge(ch)
		wantErr(t, session(e, a, ch, sig), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("expired challenge", func(t *testing.T) {
		ch := challengeFor(t, e, a)
		sig, _ := aliceKey.SignChallenge(ch)
		e.clock.advance(time.Minute)
		wantErr(t, session(e, a, ch, sig), ErrUnauthorized, http.StatusUnauthorized)
	})
	t.Run("register with a stolen challenge signature", func(t *testing.T) {
		// Signing with one key and claiming another.
		ch := challengeFor(t, e, Address{Name: "carol", DeviceID: 1})
		sig, _ := aliceKey.SignChallenge(ch)
		c := NewClient(e.hs.URL, Address{Name: "carol", DeviceID: 1}, nil, nil)
		var tr tokenResponse
		err := c.roundTrip(context.Background(), http.MethodPost, "/v1/register", "",
			&registerRequest{Address: c.self, IdentityKey: bobKey.IdentityKey(), Challenge: ch, Signature: sig}, &tr)
		wantErr(t, err, ErrUnauthorized, http.StatusUnauthorized)
	})

	url := e.hs.URL + "/v1/keys/count"
	t.Run("no token", func(t *testing.T) {
		if st, code := rawRequest(t, http.MethodGet, url, "", nil); st != 401 || code != codeUnauthorized {
			t.Fatalf("got %d %s", st, code)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		if st, _ := rawRequest(t, http.MethodGet, url, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", nil); st != 401 {
			t.Fatalf("got %d", st)
		}
	})
	t.Run("token of another relay", func(t *testing.T) {
		other := newEnv(t, nil)
		c := NewClient(other.hs.URL, a, aliceKey, nil)
		if err := c.Register(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st, _ := rawRequest(t, http.MethodGet, url, tokenOf(t, c), nil); st != 401 {
			t.Fatalf("got %d", st)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		tok := tokenOf(t, alice)
		if st, _ := rawRequest(t, http.MethodGet, url, tok, nil); st != 200 {
			t.Fatalf("fresh token: got %d", st)
		}
		e.clock.advance(time.Hour)
		if st, _ := rawRequest(t, http.MethodGet, url, tok, nil); st != 401 {
			t.Fatalf("expired token: got %d", st)
		}
		// The client notices the 401 and authenticates again by itself.
		if _, _, err := alice.KeyCounts(context.Background()); err != nil {
			t.Fatal(err)
		}
		if tokenOf(t, alice) == tok {
			t.Fatal("client kept the expired token")
		}
	})
	t.Run("tokens are bound to their address", func(t *testing.T) {
		// Alice's token reads Alice's mailbox, never Bob's, and cannot
		// acknowledge Bob's messages.
		ctx := context.Background()
		id, err := alice.Send(ctx, bob.self, 1, []byte("for bob"))
		if err != nil {
			t.Fatal(err)
		}
		if st, code := rawRequest(t, http.MethodDelete, e.hs.URL+"/v1/messages/"+id, tokenOf(t, alice), nil); st != 404 || code != codeUnknownMessage {
			t.Fatalf("alice acking bob's message: got %d %s", st, code)
		}
		msgs, err := alice.Fetch(ctx)
		if err != nil || len(msgs) != 0 {
			t.Fatalf("alice's mailbox: %v, %v", msgs, err)
		}
		msgs, err = bob.Fetch(ctx)
		if err != nil || len(msgs) != 1 || msgs[0].ID != id {
			t.Fatalf("bob's mailbox: %v, %v", msgs, err)
		}
	})
}

func TestRestartForgetsTokensNotAccounts(t *testing.T) {
	e := newEnv(t, nil)
	alice, _ := e.newClient("alice")
	old := tokenOf(t, alice)
	e.restart()
	c := e.clientFor(alice)
	c.setToken(&tokenResponse{Token: old, ExpiresIn: 3600})
	// The old token is unknown to the new server; the client re-authenticates.
	if _, _, err := c.KeyCounts(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestErrorResponsesAreJSON(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		method, path string
		body         string
		status       int
		code         string
	}{
		{"POST", "/v1/challenge", "{", 400, codeBadRequest},
		{"POST", "/v1/challenge", `{"address":{"name":"a","device_id":1}} {}`, 400, codeBadRequest},
		{"GET", "/v1/nothing", "", 404, "not_found"},
		{"GET", "/v1/messages", "", 401, codeUnauthorized},
	} {
		req, _ := http.NewRequest(tc.method, e.hs.URL+tc.path, stringsReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var eb errorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.status || eb.Error.Code != tc.code ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %+v (%v), want %d %s", tc.method, tc.path, resp.StatusCode, eb, err, tc.status, tc.code)
		}
	}
}

// A challenge is good for one attempt, as PROTOCOL.md promises: a session
// request for an unregistered address (404) spends it like any other, so
// it cannot then be used to register.
func TestChallengeSpentByFailedSession(t *testing.T) {
	e := newEnv(t, nil)
	s := newSigner(t)
	c := NewClient(e.hs.URL, Address{Name: "newcomer", DeviceID: 1}, s, nil)
	ctx := context.Background()
	ch, sig, err := c.answerChallenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, session(e, c.self, ch, sig), ErrUnknownAddress, http.StatusNotFound)
	var resp tokenResponse
	err = c.roundTrip(ctx, http.MethodPost, "/v1/register", "",
		&registerRequest{Address: c.self, IdentityKey: s.IdentityKey(), Challenge: ch, Signature: sig}, &resp)
	wantErr(t, err, ErrUnauthorized, http.StatusUnauthorized)

	// Likewise a request naming the challenge with an invalid address.
	ch, sig, err = c.answerChallenge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, session(e, Address{}, ch, sig), ErrBadRequest, http.StatusBadRequest)
	err = c.roundTrip(ctx, http.MethodPost, "/v1/register", "",
		&registerRequest{Address: c.self, IdentityKey: s.IdentityKey(), Challenge: ch, Signature: sig}, &resp)
	wantErr(t, err, ErrUnauthorized, http.StatusUnauthorized)
}

// One network may hold only so many challenges outstanding; others are
// unaffected, and answering (or the expiry of) its challenges frees room.
func TestChallengesBoundedPerNetwork(t *testing.T) {
	au := newAuth(time.Minute, time.Hour)
	now := time.Now()
	a := Address{Name: "a", DeviceID: 1}
	var first []byte
	for i := range maxChallengesPerNetwork {
		c, _, err := au.newChallenge(a, "2001:db8:1:2::/64", now)
		if err != nil {
			t.Fatalf("challenge %d: %v", i, err)
		}
		if first == nil {
			first = c
		}
	}
	if _, _, err := au.newChallenge(a, "2001:db8:1:2::/64", now); err != ErrRateLimited {
		t.Fatalf("challenge past the bound: %v, want ErrRateLimited", err)
	}
	if _, _, err := au.newChallenge(a, "198.51.100.7", now); err != nil {
		t.Fatalf("another network: %v", err)
	}
	if !au.spend(a, first, now) {
		t.Fatal("the first challenge was not outstanding")
	}
	if _, _, err := au.newChallenge(a, "2001:db8:1:2::/64", now); err != nil {
		t.Fatalf("after one was spent: %v", err)
	}
	now = now.Add(time.Minute)
	if _, _, err := au.newChallenge(a, "2001:db8:1:2::/64", now); err != nil {
		t.Fatalf("after they expired: %v", err)
	}
	if n := au.byNetwork["2001:db8:1:2::/64"]; n != 1 {
		t.Errorf("%d challenges counted for the network, want 1", n)
	}
}

// A full challenge table evicts its oldest challenge rather than refusing
// new ones: filling it does not lock anyone out.
func TestChallengeTableEvictsOldest(t *testing.T) {
	au := newAuth(time.Minute, time.Hour)
	now := time.Now()
	a := Address{Name: "a", DeviceID: 1}
	var first, second []byte
	for i := range maxChallenges + 1 {
		c, _, err := au.newChallenge(a, "", now)
		if err != nil {
			t.Fatalf("challenge %d: %v", i, err)
		}
		switch i {
		case 0:
			first = c
		case 1:
			second = c
		}
	}
	if len(au.challenges) != maxChallenges || au.order.Len() != maxChallenges {
		t.Fatalf("%d/%d challenges held, want %d", len(au.challenges), au.order.Len(), maxChallenges)
	}
	if au.spend(a, first, now) {
		t.Error("the oldest challenge was not evicted")
	}
	if !au.spend(a, second, now) {
		t.Error("the second oldest challenge was evicted")
	}
}
