package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/sotto-im/sotto/internal/chat"
	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/session"
)

// cheapKDF keeps the in-process clients' stores fast to open.
var cheapKDF = encrypted.Options{Time: 1, Memory: 8, Threads: 1}

// hostile is a relay operator gone bad: an HTTP proxy in front of the real
// relay, one per client so that it knows whose mailbox it serves. It
// refuses WebSockets (clients poll) and rewrites what the client fetches:
// it drops, delays, duplicates, tampers with, replays (under the old id or
// a new one) and reorders messages, and can substitute prekey bundles.
type hostile struct {
	t      testing.TB
	target *url.URL
	proxy  *httputil.ReverseProxy
	srv    *httptest.Server

	mu         sync.Mutex
	rng        *mrand.Rand
	chaos      bool
	substitute []byte           // a bundle to hand out instead of the real one
	intact     map[string]bool  // relay ids delivered unmodified at least once
	past       []relay.Envelope // delivered intact, for replays
	stats      map[string]int
	trace      []string
}

func newHostile(t testing.TB, relayURL string, seed uint64) *hostile {
	u, err := url.Parse(relayURL)
	if err != nil {
		t.Fatal(err)
	}
	h := &hostile{t: t, target: u, proxy: httputil.NewSingleHostReverseProxy(u),
		rng: mrand.New(mrand.NewPCG(seed, 0x5077)), intact: map[string]bool{}, stats: map[string]int{}}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostile) set(f func(h *hostile)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(h)
}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/v1/ws":
		http.Error(w, `{"error":{"code":"not_found","message":"no push here"}}`, http.StatusNotFound)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/messages":
		h.fetch(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/bundle":
		h.mu.Lock()
		sub := h.substitute
		h.mu.Unlock()
		if sub == nil {
			h.proxy.ServeHTTP(w, r)
			return
		}
		h.count("bundle substituted")
		w.Header().Set("Content-Type", "application/json")
		w.Write(sub)
	default:
		h.proxy.ServeHTTP(w, r)
	}
}

func (h *hostile) count(what string) { h.stats[what]++ }

func (h *hostile) note(id, what string) { h.trace = append(h.trace, id+" "+what) }

// forward sends r's method, path and Authorization to the relay.
func (h *hostile) forward(r *http.Request, method, path string) (*http.Response, error) {
	u := *h.target
	u.Path, u.RawQuery = path, r.URL.RawQuery
	if method != r.Method {
		u.RawQuery = ""
	}
	req, err := http.NewRequestWithContext(r.Context(), method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	return http.DefaultClient.Do(req)
}

type page struct {
	Messages []relay.Envelope `json:"messages"`
	Cursor   string           `json:"cursor"`
	More     bool             `json:"more"`
}

func (h *hostile) fetch(w http.ResponseWriter, r *http.Request) {
	resp, err := h.forward(r, http.MethodGet, r.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var p page
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	h.mu.Lock()
	h.trace = append(h.trace, fmt.Sprintf("---- fetch of %d", len(p.Messages)))
	var out []relay.Envelope
	for _, e := range p.Messages {
		if !h.chaos {
			out = append(out, e)
			h.intact[e.ID] = true
			continue
		}
		switch x := h.rng.IntN(100); {
		case x < 10: // drop: the relay deletes it unseen
			h.count("dropped")
			h.note(e.ID, fmt.Sprintf("dropped type %d", e.Type))
			h.mu.Unlock()
			if resp, err := h.forward(r, http.MethodDelete, "/v1/messages/"+e.ID); err == nil {
				resp.Body.Close()
			}
			h.mu.Lock()
		case x < 22: // tamper (and sometimes deliver the original too)
			out = append(out, h.tamper(e))
			h.count("tampered")
			h.note(e.ID, "tampered")
			if h.rng.IntN(2) == 0 {
				out = append(out, e)
				h.intact[e.ID] = true
				h.note(e.ID, "and intact")
			}
		case x < 32: // duplicate
			out = append(out, e, e)
			h.intact[e.ID] = true
			h.count("duplicated")
			h.note(e.ID, "duplicated")
		case x < 42: // delay: leave it for a later fetch
			h.count("delayed")
			h.note(e.ID, "delayed")
		default:
			out = append(out, e)
			h.intact[e.ID] = true
			h.note(e.ID, "intact")
		}
		if h.intact[e.ID] {
			h.past = append(h.past, e)
		}
	}
	// Replay a message delivered before, under its id or a new one. (Only
	// delivered ones: a message held back across more than five of the
	// recipient's ratchet steps is undecryptable by design, the bound of
	// five receiving chains per session, and would count as dropped.)
	if h.chaos && len(h.past) > 0 && h.rng.IntN(3) == 0 {
		e := h.past[h.rng.IntN(len(h.past))]
		e.Body = slices.Clone(e.Body)
		if h.rng.IntN(2) == 0 {
			h.note(e.ID, "replayed as new")
			e.ID = randomID()
			h.count("replayed under a new id")
		} else {
			h.note(e.ID, "replayed")
			h.count("replayed under its id")
		}
		out = append(out, e)
	}
	if h.chaos {
		h.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	h.mu.Unlock()
	p.Messages = out
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(&p)
}

// tamper returns a copy of e with its body altered: a bit flipped in the
// authenticated tail, bytes cut off, or the body replaced by random bytes.
//
// In a PreKey message the bit goes into the inner SignalMessage. The outer
// PQXDH fields are authenticated only when they start a session: once the
// recipient has the session a PreKey message names (by its base key), it
// decrypts the inner message and ignores the rest, as libsignal does, so
// flipping a bit of, say, the Kyber ciphertext of a later PreKey message
// changes nothing the recipient reads.
func (h *hostile) tamper(e relay.Envelope) relay.Envelope {
	b := slices.Clone(e.Body)
	flip := func(b []byte) {
		i := len(b) - 1 - h.rng.IntN(min(16, len(b)))
		b[i] ^= 1 << h.rng.IntN(8)
	}
	switch h.rng.IntN(3) {
	case 0:
		if pm, err := wire.ParsePreKeySignalMessage(b); err == nil && e.Type == uint8(session.MessagePreKey) {
			flip(pm.Message)
			b = pm.Marshal()
		} else {
			flip(b)
		}
	case 1:
		b = b[:len(b)-1-h.rng.IntN(min(20, len(b)-1))]
	default:
		rand.Read(b)
	}
	e.Body = b
	return e
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// inProcessRelay starts a real relay in this process.
func inProcessRelay(t testing.TB) string {
	t.Helper()
	st, err := relay.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv := relay.NewServer(st, &relay.Options{RateLimit: -1, AnonRateLimit: -1})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		st.Close()
	})
	return hs.URL
}

func openChat(t testing.TB, dir, name, relayURL string) *chat.Client {
	t.Helper()
	c, err := chat.OpenConfig(context.Background(), &chat.Config{
		DataDir: dir, Name: name, Passphrase: []byte("pass " + name), RelayURL: relayURL,
		KDF: &cheapKDF, Poll: true, PreKeys: 20, KyberPreKeys: 5,
	})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// evlog collects a client's events.
type evlog struct {
	mu  sync.Mutex
	evs []chat.Event
}

func (l *evlog) add(ev chat.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *evlog) kinds(k chat.EventKind) []chat.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []chat.Event
	for _, ev := range l.evs {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

func pollOnce(t testing.TB, c *chat.Client, l *evlog) {
	t.Helper()
	if _, err := c.Poll(context.Background(), l.add); err != nil {
		t.Fatalf("%s polls: %v", c.Name(), err)
	}
}

// (c) Through a relay that drops, delays, duplicates, tampers with,
// replays and reorders messages in both directions, every message that
// the relay passed on unmodified is delivered exactly once, no tampered
// or replayed one is accepted, and the session keeps working.
func TestHostileRelay(t *testing.T) {
	t.Parallel()
	relayURL := inProcessRelay(t)
	// SOTTO_E2E_SEED varies the attack: for s in $(seq 50); do SOTTO_E2E_SEED=$s go test ...; done
	seed := uint64(1)
	if s, err := strconv.ParseUint(os.Getenv("SOTTO_E2E_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d", seed)
	ha, hb := newHostile(t, relayURL, 2*seed), newHostile(t, relayURL, 2*seed+1)
	dir := t.TempDir()
	alice := openChat(t, dir, "alice", ha.srv.URL)
	bob := openChat(t, dir, "bob", hb.srv.URL)
	la, lb := &evlog{}, &evlog{}
	ha.set(func(h *hostile) { h.chaos = true })
	hb.set(func(h *hostile) { h.chaos = true })
	ctx := context.Background()

	const rounds, perRound = 12, 4
	for i := range rounds {
		for j := range perRound {
			if _, err := alice.Send(ctx, "bob", fmt.Sprintf("a2b %d.%d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
		pollOnce(t, bob, lb)
		for j := range perRound {
			if _, err := bob.Send(ctx, "alice", fmt.Sprintf("b2a %d.%d", i, j)); err != nil {
				t.Fatal(err)
			}
		}
		pollOnce(t, alice, la)
	}
	// The relay behaves again; what it delayed arrives.
	ha.set(func(h *hostile) { h.chaos = false })
	hb.set(func(h *hostile) { h.chaos = false })
	for range 3 {
		pollOnce(t, bob, lb)
		pollOnce(t, alice, la)
	}

	check := func(sender, recipient *chat.Client, h *hostile, l *evlog) {
		t.Helper()
		sent, err := sender.History(ctx, recipient.Name(), 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := recipient.History(ctx, sender.Name(), 0)
		if err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		want := map[string]bool{}
		lost := 0
		for _, m := range sent {
			if !m.Outgoing {
				continue
			}
			if h.intact[m.RelayID] {
				want[m.Text] = true
			} else {
				lost++
			}
		}
		h.mu.Unlock()
		seen := map[string]int{}
		for _, m := range got {
			if !m.Outgoing {
				seen[m.Text]++
			}
		}
		for text, n := range seen {
			if !want[text] {
				t.Errorf("%s accepted %q, which the relay never passed on intact", recipient.Name(), text)
			}
			if n != 1 {
				t.Errorf("%s stored %q %d times", recipient.Name(), text, n)
			}
		}
		for text := range want {
			if seen[text] != 1 {
				t.Errorf("%s never received %q, which the relay passed on", recipient.Name(), text)
			}
		}
		if n := len(l.kinds(chat.EventMessage)); n != len(want) {
			t.Errorf("%s reported %d messages, want %d", recipient.Name(), n, len(want))
		}
		for _, ev := range l.kinds(chat.EventFailed) {
			if !cryptoRejection(ev.Err) {
				t.Errorf("%s: unexpected failure: %v", recipient.Name(), ev.Err)
			}
		}
		if len(l.kinds(chat.EventFailed)) == 0 {
			t.Errorf("%s rejected nothing", recipient.Name())
		}
		if len(l.kinds(chat.EventIdentityChanged)) != 0 {
			t.Errorf("%s saw an identity change", recipient.Name())
		}
		t.Logf("%s → %s: %d passed on intact and delivered once each, %d lost by the relay; %s rejected %d, ignored %d duplicates; relay: %v",
			sender.Name(), recipient.Name(), len(want), lost, recipient.Name(),
			len(l.kinds(chat.EventFailed)), len(l.kinds(chat.EventDuplicate)), h.stats)
	}
	check(alice, bob, hb, lb)
	check(bob, alice, ha, la)

	// The session survived: a clean exchange works both ways.
	if _, err := alice.Send(ctx, "bob", "still there?"); err != nil {
		t.Fatal(err)
	}
	l := &evlog{}
	pollOnce(t, bob, l)
	if ms := l.kinds(chat.EventMessage); len(ms) != 1 || ms[0].Message.Text != "still there?" {
		t.Errorf("after the attack bob got %+v", l.evs)
	}
	if _, err := bob.Send(ctx, "alice", "yes"); err != nil {
		t.Fatal(err)
	}
	l = &evlog{}
	pollOnce(t, alice, l)
	if ms := l.kinds(chat.EventMessage); len(ms) != 1 || ms[0].Message.Text != "yes" {
		t.Errorf("after the attack alice got %+v", l.evs)
	}
}

// cryptoRejection reports whether err is one of the ways session rejects
// a forged, tampered or replayed message.
func cryptoRejection(err error) bool {
	return errors.Is(err, session.ErrInvalidMessage)
}

// (c) A relay that hands out a bundle with another identity key: the first
// contact trusts it (trust on first use), but the safety numbers differ,
// the real key surfaces as an identity change, and accepting it after
// comparing numbers restores the conversation.
func TestHostileBundle(t *testing.T) {
	t.Parallel()
	relayURL := inProcessRelay(t)
	hc := newHostile(t, relayURL, 0)
	dir := t.TempDir()
	carol := openChat(t, dir, "carol", hc.srv.URL)
	bob := openChat(t, dir, "bob", relayURL)
	ctx := context.Background()

	// Mallory's bundle, dressed as bob's.
	mal, err := session.CreateAccount(ctx, memory.New(), session.Address{Name: "mallory", DeviceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	mal.GenerateSignedPreKey(ctx, 0)
	mal.GenerateKyberPreKeys(ctx, 0, 1, true)
	pks, _ := mal.GeneratePreKeys(ctx, 0, 1)
	mb, err := mal.Bundle(ctx, pks[0].ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := json.Marshal(relay.Bundle{
		RegistrationID: mb.RegistrationID, DeviceID: 1, PreKeyID: mb.PreKeyID, PreKey: mb.PreKey,
		SignedPreKeyID: mb.SignedPreKeyID, SignedPreKey: mb.SignedPreKey, SignedPreKeySignature: mb.SignedPreKeySignature,
		IdentityKey: mb.IdentityKey, KyberPreKeyID: mb.KyberPreKeyID, KyberPreKey: mb.KyberPreKey,
		KyberPreKeySignature: mb.KyberPreKeySignature,
	})
	hc.set(func(h *hostile) { h.substitute = sub })

	if _, err := carol.Send(ctx, "bob", "secret for bob"); err != nil {
		t.Fatal(err)
	}
	lb := &evlog{}
	pollOnce(t, bob, lb)
	if len(lb.kinds(chat.EventFailed)) != 1 || len(lb.kinds(chat.EventMessage)) != 0 {
		t.Fatalf("bob: %+v", lb.evs)
	}
	// Mallory could read it; bob could not. The users find out by
	// comparing safety numbers.
	fc, err := carol.SafetyNumber(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.SafetyNumber(ctx, "carol"); err == nil {
		t.Error("bob has a safety number with carol without having heard from her")
	}
	// bob writes to carol with his real key: carol's client reports the
	// changed identity and holds the message.
	if _, err := bob.Send(ctx, "carol", "this is the real bob"); err != nil {
		t.Fatal(err)
	}
	lc := &evlog{}
	pollOnce(t, carol, lc)
	if len(lc.kinds(chat.EventIdentityChanged)) != 1 || len(lc.kinds(chat.EventMessage)) != 0 {
		t.Fatalf("carol: %+v", lc.evs)
	}
	fb, err := bob.SafetyNumber(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if fc.Displayable() == fb.Displayable() {
		t.Fatal("safety numbers agree despite the substituted bundle")
	}
	pc, pkey, err := carol.PendingSafetyNumber(ctx, "bob")
	if err != nil || pc.Displayable() != fb.Displayable() {
		t.Fatalf("carol's pending safety number: %v", err)
	}
	// Sending to the substituted identity is refused as well now.
	hc.set(func(h *hostile) { h.substitute = nil })
	evs, err := carol.TrustIdentity(ctx, "bob", pkey)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != chat.EventMessage || evs[0].Message.Text != "this is the real bob" {
		t.Fatalf("released: %+v", evs)
	}
	if _, err := carol.Send(ctx, "bob", "hello, real bob"); err != nil {
		t.Fatal(err)
	}
	lb = &evlog{}
	pollOnce(t, bob, lb)
	if ms := lb.kinds(chat.EventMessage); len(ms) != 1 || ms[0].Message.Text != "hello, real bob" {
		t.Errorf("bob: %+v", lb.evs)
	}
	fc, _ = carol.SafetyNumber(ctx, "bob")
	if fc.Displayable() != fb.Displayable() {
		t.Error("safety numbers still differ")
	}
	t.Logf("relay: %v", hc.stats)
}
