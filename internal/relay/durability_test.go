package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A restarted relay on the same file has every unacknowledged message, the
// keys not yet handed out, and the accounts; acknowledged messages and
// handed-out keys stay gone.
func TestRestartLosesNothingUnacked(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, bobKey := e.newClient("bob")
	keys := testKeys(t, bobKey, 3, 3)
	if err := bob.UploadKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.FetchBundle(ctx, bob.self); err != nil {
		t.Fatal(err)
	}
	var sent []Envelope
	for i := range 5 {
		body := []byte(fmt.Sprint("message ", i))
		id, err := alice.Send(ctx, bob.self, 3, body)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, Envelope{ID: id, From: alice.self, Type: 3, Body: body})
	}
	if err := bob.Ack(ctx, sent[1].ID); err != nil {
		t.Fatal(err)
	}
	want := append([]Envelope{sent[0]}, sent[2:]...)

	e.restart()
	alice, bob = e.clientFor(alice), e.clientFor(bob)

	got, err := bob.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages after restart, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.From != w.From || g.Type != w.Type || !bytes.Equal(g.Body, w.Body) {
			t.Errorf("message %d: %+v, want %+v", i, g, w)
		}
	}
	// Sequence numbers go on from where they were: new messages sort last.
	if _, err := alice.Send(ctx, bob.self, 2, []byte("after restart")); err != nil {
		t.Fatal(err)
	}
	got, _ = bob.Fetch(ctx)
	if string(got[len(got)-1].Body) != "after restart" {
		t.Fatalf("last message %q", got[len(got)-1].Body)
	}
	// The keys: two of each one-time kind left, the next in line.
	if ec, ky, err := bob.KeyCounts(ctx); err != nil || ec != 2 || ky != 2 {
		t.Fatalf("KeyCounts %d %d %v", ec, ky, err)
	}
	b, err := alice.FetchBundle(ctx, bob.self)
	if err != nil || b.PreKeyID != 2 || b.KyberPreKeyID != 2 {
		t.Fatalf("bundle after restart: %+v, %v", b, err)
	}
	// The address is still bound to bob's key.
	thief := NewClient(e.hs.URL, bob.self, newSigner(t), nil)
	wantErr(t, thief.Register(ctx), ErrAddressTaken, http.StatusConflict)
}

// The relay keeps exactly the ciphertext it is given, byte for byte, and
// nothing derived from it; once acknowledged, the body is gone from the
// database file too (secure_delete), not merely unlinked. Error responses
// never echo a body.
func TestStoresOnlyTheCiphertext(t *testing.T) {
	e := newEnv(t, &Options{MaxMessageSize: 4096, RateLimit: -1, AnonRateLimit: -1})
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")

	marker := func() []byte {
		b := make([]byte, 64)
		rand.Read(b)
		return append([]byte("MARKER:"), b...)
	}
	bodies := [][]byte{marker(), marker(), marker()}
	for _, b := range bodies {
		if _, err := alice.Send(ctx, bob.self, 2, b); err != nil {
			t.Fatal(err)
		}
	}

	// What the database holds: the bodies as given, and the envelope's
	// routing fields; no other column holds message bytes.
	rows, err := e.st.r.QueryContext(ctx, `SELECT * FROM messages ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	if strings.Join(cols, ",") != "name,device,seq,id,sender_name,sender_device,type,body,received" {
		t.Fatalf("messages columns: %v", cols)
	}
	i := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for j := range vals {
			ptrs[j] = &vals[j]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if body, _ := vals[7].([]byte); !bytes.Equal(body, bodies[i]) {
			t.Errorf("row %d body %q, want %q", i, vals[7], bodies[i])
		}
		for j, v := range vals {
			if s, ok := v.(string); j != 7 && ok && strings.Contains(s, "MARKER") {
				t.Errorf("column %s holds message bytes", cols[j])
			}
		}
		i++
	}
	rows.Close()
	if i != len(bodies) {
		t.Fatalf("%d rows, want %d", i, len(bodies))
	}

	// An oversize body is refused without being echoed.
	big := bytes.Repeat(marker(), 100)
	_, err = alice.Send(ctx, bob.self, 2, big)
	wantErr(t, err, ErrMessageTooLarge, http.StatusRequestEntityTooLarge)
	if strings.Contains(err.Error(), "MARKER") || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(big[:30])) {
		t.Fatal("error echoes the body")
	}

	// Acknowledge all, close: the file no longer contains any body.
	msgs, _ := bob.Fetch(ctx)
	for _, m := range msgs {
		if err := bob.Ack(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.stop()
	files, _ := filepath.Glob(e.path + "*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			if bytes.Contains(data, b) {
				t.Errorf("%s still contains an acknowledged body", filepath.Base(f))
			}
		}
	}
	if info, err := os.Stat(e.path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, %v; want 0600", info.Mode().Perm(), err)
	}
}
