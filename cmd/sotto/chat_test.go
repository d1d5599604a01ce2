package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sotto-im/sotto/internal/chat"
	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore/encrypted"
)

// relabelling presents every fetched envelope as from "bob" while on.
type relabelling struct {
	chat.Transport
	on atomic.Bool
}

func (r *relabelling) Fetch(ctx context.Context) ([]relay.Envelope, error) {
	envs, err := r.Transport.Fetch(ctx)
	if r.on.Load() {
		for i := range envs {
			envs[i].From = relay.Address{Name: "bob", DeviceID: 1}
		}
	}
	return envs, err
}

// Line mode's /trust NAME accepts only the changed key the last /verify
// NAME showed.
func TestPlainTrustUsesShownKey(t *testing.T) {
	st, err := relay.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv := relay.NewServer(st, &relay.Options{RateLimit: -1, AnonRateLimit: -1})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close(); st.Close() })
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string, tr *relabelling) *chat.Client {
		cfg := &chat.Config{DataDir: dir, Name: name, Passphrase: []byte("pass " + name), RelayURL: hs.URL,
			KDF: &encrypted.Options{Time: 1, Memory: 8, Threads: 1}, Poll: true, PreKeys: 5, KyberPreKeys: 2}
		if tr != nil {
			cfg.Transport = func(self relay.Address, signer relay.Signer) chat.Transport {
				tr.Transport = relay.NewClient(hs.URL, self, signer, nil)
				return tr
			}
		}
		c, err := chat.OpenConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	tr := &relabelling{}
	alice := open("alice", tr)
	bob, m1, m2 := open("bob", nil), open("mallory1", nil), open("mallory2", nil)
	send := func(c *chat.Client, text string) {
		if _, err := c.Send(ctx, "alice", text); err != nil {
			t.Fatal(err)
		}
	}
	pollAlice := func() {
		if _, err := alice.Poll(ctx, func(chat.Event) {}); err != nil {
			t.Fatal(err)
		}
	}
	send(bob, "hi")
	pollAlice()
	tr.on.Store(true)
	send(m1, "forged")
	pollAlice()

	var buf bytes.Buffer
	out := &lockedWriter{w: &buf}
	shown := map[string][]byte{}
	run := func(line string) string {
		buf.Reset()
		plainCommand(ctx, alice, out, out, shown, line)
		return buf.String()
	}
	if got := run("/trust bob"); !strings.Contains(got, "/verify bob first") {
		t.Fatalf("/trust before /verify: %q", got)
	}
	if got := run("/verify bob"); !strings.Contains(got, "identity key changed") {
		t.Fatalf("/verify: %q", got)
	}
	// The shown key is discarded and another one becomes pending: /trust
	// refuses it.
	_, key, err := alice.PendingSafetyNumber(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.RejectIdentity(ctx, "bob", key); err != nil {
		t.Fatal(err)
	}
	send(m2, "forged too")
	pollAlice()
	if got := run("/trust bob"); !strings.Contains(got, chat.ErrPendingMismatch.Error()) {
		t.Fatalf("/trust after the key changed: %q", got)
	}
	if got := run("/trust bob"); !strings.Contains(got, "/verify bob first") {
		t.Fatalf("second /trust: %q", got)
	}
	run("/verify bob")
	if got := run("/trust bob"); !strings.Contains(got, "trusted the new identity key of bob") || !strings.Contains(got, "bob: forged too") {
		t.Fatalf("/trust after /verify: %q", got)
	}
}
