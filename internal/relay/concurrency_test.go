package relay

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Clients sending to each other at once, while each recipient both
// subscribes and fetches and acknowledges: every message is delivered,
// none twice to one subscription, each in its sender's order, and the
// mailboxes end empty. Run with -race.
func TestConcurrentTraffic(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const (
		clients = 5
		perPeer = 10 // messages from each client to each other client
	)
	cs := make([]*Client, clients)
	for i := range cs {
		cs[i], _ = e.newClient(fmt.Sprint("user", i))
	}

	// Each client subscribes first and collects until it has all its
	// messages.
	var recv sync.WaitGroup
	got := make([][]Envelope, clients)
	for i, c := range cs {
		ch, err := c.Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recv.Go(func() {
			for m := range ch {
				got[i] = append(got[i], m)
				if len(got[i]) == (clients-1)*perPeer {
					return
				}
			}
		})
	}

	var send sync.WaitGroup
	for i, c := range cs {
		send.Go(func() {
			for n := range perPeer {
				for j, to := range cs {
					if j == i {
						continue
					}
					if _, err := c.Send(ctx, to.self, 2, fmt.Appendf(nil, "%d>%d#%d", i, j, n)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	send.Wait()
	recv.Wait()

	for i := range cs {
		if len(got[i]) != (clients-1)*perPeer {
			t.Fatalf("client %d got %d messages", i, len(got[i]))
		}
		next := map[string]int{} // per sender, the next number expected
		seen := map[string]bool{}
		for _, m := range got[i] {
			if seen[m.ID] {
				t.Fatalf("client %d got %s twice", i, m.ID)
			}
			seen[m.ID] = true
			var from, to, n int
			if _, err := fmt.Sscanf(string(m.Body), "%d>%d#%d", &from, &to, &n); err != nil || to != i {
				t.Fatalf("client %d got %q", i, m.Body)
			}
			if m.From != cs[from].self || n != next[m.From.Name] {
				t.Fatalf("client %d: %q out of order (want #%d)", i, m.Body, next[m.From.Name])
			}
			next[m.From.Name]++
		}
	}

	// Acknowledge concurrently, with Fetch racing the acks.
	var acks sync.WaitGroup
	for i, c := range cs {
		acks.Go(func() {
			for _, m := range got[i] {
				if err := c.Ack(ctx, m.ID); err != nil {
					t.Error(err)
					return
				}
			}
		})
		acks.Go(func() {
			for range 5 {
				if _, err := c.Fetch(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	acks.Wait()
	for i, c := range cs {
		if left, err := c.Fetch(ctx); err != nil || len(left) != 0 {
			t.Fatalf("client %d: %d left, %v", i, len(left), err)
		}
	}
}

// Many goroutines sharing one Client: one token is obtained, not one each.
func TestClientSharedToken(t *testing.T) {
	e := newEnv(t, nil)
	alice, _ := e.newClient("alice")
	e.clock.advance(2 * time.Hour) // the token from Register is now dead
	fresh := e.clientFor(alice)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, _, err := fresh.KeyCounts(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	e.srv.auth.mu.Lock()
	n := len(e.srv.auth.byAddr[alice.self])
	e.srv.auth.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d live tokens for alice, want 1", n)
	}
}

func TestTokensPerAddressBounded(t *testing.T) {
	e := newEnv(t, nil)
	alice, _ := e.newClient("alice")
	var first string
	for i := range maxTokensPerAddress + 3 {
		c := e.clientFor(alice)
		tok := tokenOf(t, c)
		if i == 0 {
			first = tok
		}
	}
	e.srv.auth.mu.Lock()
	n := len(e.srv.auth.byAddr[alice.self])
	e.srv.auth.mu.Unlock()
	if n != maxTokensPerAddress {
		t.Fatalf("%d tokens, want %d", n, maxTokensPerAddress)
	}
	if st, _ := rawRequest(t, "GET", e.hs.URL+"/v1/keys/count", first, nil); st != 401 {
		t.Fatalf("evicted token: %d", st)
	}
}
