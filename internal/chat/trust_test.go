package chat

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/sotto-im/sotto/internal/relay"
)

// relabel makes the relay present every envelope of a Fetch as coming from name.
func relabel(c *testClient, name string) {
	c.w.set(func(w *wrapper) {
		w.mutateFetch = func(envs []relay.Envelope) []relay.Envelope {
			for i := range envs {
				envs[i].From = relay.Address{Name: name, DeviceID: 1}
			}
			return envs
		}
	})
}

// A relay that injects a second new key for bob after the user read the
// pending safety number cannot get that key trusted: the first pending
// key stays, the second is refused and reported, and TrustIdentity trusts
// only the key whose number was shown.
func TestTrustIdentityBindsShownKey(t *testing.T) {
	r := newRelay(t)
	dir := t.TempDir()
	ctx := context.Background()
	alice := openClient(t, r, dir, "alice", true)
	bob := openClient(t, r, dir, "bob", true)
	m1 := openClient(t, r, dir, "mallory1", true)
	m2 := openClient(t, r, dir, "mallory2", true)
	mustSend(t, bob, "alice", "hi")
	poll(t, alice) // alice trusts bob's key

	// The relay presents a PreKey message of mallory1 as bob's: held.
	mustSend(t, m1, "alice", "first forged")
	relabel(alice, "bob")
	if ev := poll(t, alice); len(ev.of(EventIdentityChanged)) != 1 {
		t.Fatalf("first forged: %+v", ev.evs)
	}
	shown, key, err := alice.PendingSafetyNumber(ctx, "bob") // what the user compares
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, m1.IdentityKey()) {
		t.Fatal("the pending key is not the held message's")
	}
	// Before the user clicks "trust", the relay slips in another one: it
	// is refused and does not replace the pending key.
	mustSend(t, m2, "alice", "second forged")
	ev := poll(t, alice)
	if f := ev.of(EventFailed); len(f) != 1 || !errors.Is(f[0].Err, ErrIdentityConflict) || len(ev.of(EventIdentityChanged)) != 0 {
		t.Fatalf("second forged: %+v", ev.evs)
	}
	alice.w.set(func(w *wrapper) { w.mutateFetch = nil })
	again, key2, err := alice.PendingSafetyNumber(ctx, "bob")
	if err != nil || again.Displayable() != shown.Displayable() || !bytes.Equal(key2, key) {
		t.Fatalf("the pending key changed: %v", err)
	}

	// Trusting a key that is not the pending one is refused.
	if _, err := alice.TrustIdentity(ctx, "bob", m2.IdentityKey()); !errors.Is(err, ErrPendingMismatch) {
		t.Fatalf("TrustIdentity with another key: %v", err)
	}
	if _, err := alice.RejectIdentity(ctx, "bob", m2.IdentityKey()); !errors.Is(err, ErrPendingMismatch) {
		t.Fatalf("RejectIdentity with another key: %v", err)
	}
	got, err := alice.SafetyNumber(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bob.SafetyNumber(ctx, "alice")
	if got.Displayable() != want.Displayable() {
		t.Fatal("a refused TrustIdentity changed the trusted key")
	}

	evs, err := alice.TrustIdentity(ctx, "bob", key)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Kind != EventMessage || evs[0].Message.Text != "first forged" {
		t.Fatalf("released: %+v", evs)
	}
	got, err = alice.SafetyNumber(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Displayable() != shown.Displayable() {
		t.Fatalf("TrustIdentity trusted a key whose safety number the user was never shown (%s, shown %s)",
			got.Displayable()[:10], shown.Displayable()[:10])
	}
}

// RejectIdentity discards a pending key the user found wrong and the
// messages held for it; the next new key then surfaces.
func TestRejectIdentity(t *testing.T) {
	r := newRelay(t)
	dir := t.TempDir()
	ctx := context.Background()
	alice := openClient(t, r, dir, "alice", true)
	bob := openClient(t, r, dir, "bob", true)
	m := openClient(t, r, dir, "mallory", true)
	mustSend(t, bob, "alice", "hi")
	poll(t, alice)

	mustSend(t, m, "alice", "forged")
	relabel(alice, "bob")
	if ev := poll(t, alice); len(ev.of(EventIdentityChanged)) != 1 {
		t.Fatalf("forged: %+v", ev.evs)
	}
	_, key, err := alice.PendingSafetyNumber(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	n, err := alice.RejectIdentity(ctx, "bob", key)
	if err != nil || n != 1 {
		t.Fatalf("RejectIdentity: %d, %v", n, err)
	}
	if _, _, err := alice.PendingSafetyNumber(ctx, "bob"); !errors.Is(err, ErrNoChange) {
		t.Fatalf("pending after RejectIdentity: %v", err)
	}
	if _, err := alice.TrustIdentity(ctx, "bob", key); !errors.Is(err, ErrNoChange) {
		t.Fatalf("TrustIdentity after RejectIdentity: %v", err)
	}
	cs, _ := alice.Contacts(ctx)
	for _, c := range cs {
		if c.IdentityChanged {
			t.Errorf("contact still flagged: %+v", c)
		}
	}
	// Another new key can be held and compared now.
	mustSend(t, m, "alice", "forged again")
	if ev := poll(t, alice); len(ev.of(EventIdentityChanged)) != 1 {
		t.Fatalf("forged again: %+v", ev.evs)
	}
	alice.w.set(func(w *wrapper) { w.mutateFetch = nil })
	// The session with the trusted bob is intact.
	mustSend(t, bob, "alice", "still me")
	if ev := poll(t, alice); len(ev.texts()) != 1 || ev.texts()[0] != "still me" {
		t.Fatalf("bob: %+v", ev.evs)
	}
}

// The relay relabels alice's first (PreKey) message to bob as coming from
// "carol", a name bob never talked to. Nothing in the PreKey message binds
// the sender's name, but its identity key is the one bob trusts for
// alice: bob's client refuses it rather than accept it, under trust on
// first use, as carol's.
func TestRelabelledFirstMessage(t *testing.T) {
	r := newRelay(t)
	dir := t.TempDir()
	ctx := context.Background()
	alice := openClient(t, r, dir, "alice", true)
	bob := openClient(t, r, dir, "bob", true)
	openClient(t, r, dir, "carol", true)
	mustSend(t, bob, "alice", "hello alice") // bob knows alice's key via her bundle

	mustSend(t, alice, "bob", "wire the money to me")
	relabel(bob, "carol")
	ev := poll(t, bob)
	bob.w.set(func(w *wrapper) { w.mutateFetch = nil })
	if len(ev.of(EventMessage)) != 0 {
		t.Fatalf("alice's message shown as from carol: %+v", ev.evs)
	}
	f := ev.of(EventFailed)
	var sm *SenderMismatchError
	if len(f) != 1 || !errors.As(f[0].Err, &sm) || sm.Claimed != "carol" || sm.Owner != "alice" || f[0].Peer != "carol" {
		t.Fatalf("events: %+v", ev.evs)
	}
	if !errors.Is(f[0].Err, ErrSenderMismatch) {
		t.Error("not ErrSenderMismatch")
	}
	if ic, err := bob.acct.Identity(ctx, bob.addr("carol")); err != nil || ic != nil {
		t.Fatalf("bob trusts a key for carol: %+v, %v", ic, err)
	}
	if cs, _ := bob.Contacts(ctx); len(cs) != 1 || cs[0].Name != "alice" {
		t.Errorf("contacts: %+v", cs)
	}
}
