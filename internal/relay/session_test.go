package relay_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/session"
)

var _ relay.Signer = (*session.Account)(nil)

func TestChallengePrefixMatchesSession(t *testing.T) {
	if relay.ChallengePrefix != session.ChallengePrefix {
		t.Fatal("relay.ChallengePrefix differs from session.ChallengePrefix")
	}
}

// device is a session account and its relay client.
type device struct {
	acct *session.Account
	rc   *relay.Client
}

func newDevice(t *testing.T, url, name string) *device {
	t.Helper()
	ctx := context.Background()
	a := session.Address{Name: name, DeviceID: 1}
	acct, err := session.CreateAccount(ctx, memory.New(), a)
	if err != nil {
		t.Fatal(err)
	}
	rc := relay.NewClient(url, relay.Address{Name: name, DeviceID: 1}, acct, nil)
	if err := rc.Register(ctx); err != nil {
		t.Fatal(err)
	}
	// Publish keys as an application would.
	spk, err := acct.GenerateSignedPreKey(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	lr, err := acct.GenerateKyberPreKeys(ctx, 0, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	kpks, err := acct.GenerateKyberPreKeys(ctx, 0, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	pks, err := acct.GeneratePreKeys(ctx, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	k := &relay.Keys{
		RegistrationID:  acct.RegistrationID(),
		SignedPreKey:    &relay.SignedPreKey{ID: spk.ID, PublicKey: spk.PublicKey, Signature: spk.Signature},
		LastResortKyber: &relay.KyberPreKey{ID: lr[0].ID, PublicKey: lr[0].PublicKey, Signature: lr[0].Signature},
	}
	for _, p := range pks {
		k.PreKeys = append(k.PreKeys, relay.PreKey{ID: p.ID, PublicKey: p.PublicKey})
	}
	for _, p := range kpks {
		k.KyberPreKeys = append(k.KyberPreKeys, relay.KyberPreKey{ID: p.ID, PublicKey: p.PublicKey, Signature: p.Signature})
	}
	if err := rc.UploadKeys(ctx, k); err != nil {
		t.Fatal(err)
	}
	return &device{acct, rc}
}

func toSession(b *relay.Bundle) *session.Bundle {
	return &session.Bundle{
		RegistrationID: b.RegistrationID, DeviceID: b.DeviceID,
		PreKeyID: b.PreKeyID, PreKey: b.PreKey,
		SignedPreKeyID: b.SignedPreKeyID, SignedPreKey: b.SignedPreKey, SignedPreKeySignature: b.SignedPreKeySignature,
		IdentityKey:   b.IdentityKey,
		KyberPreKeyID: b.KyberPreKeyID, KyberPreKey: b.KyberPreKey, KyberPreKeySignature: b.KyberPreKeySignature,
	}
}

// Two session accounts hold a conversation through the relay: the relay's
// bundles are accepted by ProcessBundle, and its envelopes decrypt.
func TestConversationThroughRelay(t *testing.T) {
	st, err := relay.OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := relay.NewServer(st, nil)
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx := context.Background()

	alice := newDevice(t, hs.URL, "alice")
	bob := newDevice(t, hs.URL, "bob")
	bobAddr := session.Address{Name: "bob", DeviceID: 1}
	aliceAddr := session.Address{Name: "alice", DeviceID: 1}

	b, err := alice.rc.FetchBundle(ctx, relay.Address{Name: "bob", DeviceID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.acct.ProcessBundle(ctx, bobAddr, toSession(b)); err != nil {
		t.Fatal(err)
	}

	exchange := func(from, to *device, fromAddr, toAddr session.Address, text string) {
		t.Helper()
		m, err := from.acct.Encrypt(ctx, toAddr, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := from.rc.Send(ctx, relay.Address{Name: toAddr.Name, DeviceID: toAddr.DeviceID}, uint8(m.Type), m.Body); err != nil {
			t.Fatal(err)
		}
		envs, err := to.rc.Fetch(ctx)
		if err != nil || len(envs) != 1 {
			t.Fatalf("fetch: %d, %v", len(envs), err)
		}
		env := envs[0]
		from2 := session.Address{Name: env.From.Name, DeviceID: env.From.DeviceID}
		if from2 != fromAddr {
			t.Fatalf("from %v", env.From)
		}
		pt, err := to.acct.Decrypt(ctx, from2, &session.Message{Type: session.MessageType(env.Type), Body: env.Body})
		if err != nil {
			t.Fatal(err)
		}
		if string(pt) != text {
			t.Fatalf("decrypted %q", pt)
		}
		if err := to.rc.Ack(ctx, env.ID); err != nil {
			t.Fatal(err)
		}
	}
	exchange(alice, bob, aliceAddr, bobAddr, "hello bob")
	exchange(bob, alice, bobAddr, aliceAddr, "hello alice")
	exchange(alice, bob, aliceAddr, bobAddr, "how are you")

	// Bob's one-time keys went down by one of each.
	if ec, ky, err := bob.rc.KeyCounts(ctx); err != nil || ec != 4 || ky != 4 {
		t.Fatalf("bob's counts: %d %d %v", ec, ky, err)
	}
}
