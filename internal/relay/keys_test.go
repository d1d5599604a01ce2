package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"sync"
	"testing"
)

func TestBundleHandout(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	bob, bobKey := e.newClient("bob")
	alice, _ := e.newClient("alice")

	// Nothing uploaded yet.
	_, err := alice.FetchBundle(ctx, bob.self)
	wantErr(t, err, ErrNoKeys, http.StatusNotFound)
	_, err = alice.FetchBundle(ctx, Address{Name: "nobody", DeviceID: 1})
	wantErr(t, err, ErrUnknownAddress, http.StatusNotFound)

	keys := testKeys(t, bobKey, 3, 2)
	if err := bob.UploadKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if ec, ky, err := bob.KeyCounts(ctx); err != nil || ec != 3 || ky != 2 {
		t.Fatalf("KeyCounts = %d, %d, %v; want 3, 2", ec, ky, err)
	}

	// Each one-time key once, in upload order; then the last resort, and
	// no EC prekey.
	for i := range 5 {
		b, err := alice.FetchBundle(ctx, bob.self)
		if err != nil {
			t.Fatal(err)
		}
		if b.RegistrationID != 4242 || b.DeviceID != 1 || !bytes.Equal(b.IdentityKey, bobKey.IdentityKey()) ||
			b.SignedPreKeyID != 1 || !bytes.Equal(b.SignedPreKey, keys.SignedPreKey.PublicKey) ||
			!bytes.Equal(b.SignedPreKeySignature, keys.SignedPreKey.Signature) {
			t.Fatalf("bundle %d: wrong fixed fields: %+v", i, b)
		}
		if i < 3 {
			if b.PreKeyID != keys.PreKeys[i].ID || !bytes.Equal(b.PreKey, keys.PreKeys[i].PublicKey) {
				t.Errorf("bundle %d: prekey %d, want %d", i, b.PreKeyID, keys.PreKeys[i].ID)
			}
		} else if b.PreKey != nil || b.PreKeyID != 0 {
			t.Errorf("bundle %d: prekey %d, want none", i, b.PreKeyID)
		}
		want := keys.LastResortKyber
		if i < 2 {
			want = &keys.KyberPreKeys[i]
		}
		if b.KyberPreKeyID != want.ID || !bytes.Equal(b.KyberPreKey, want.PublicKey) || !bytes.Equal(b.KyberPreKeySignature, want.Signature) {
			t.Errorf("bundle %d: Kyber prekey %d, want %d", i, b.KyberPreKeyID, want.ID)
		}
	}
	if ec, ky, err := bob.KeyCounts(ctx); err != nil || ec != 0 || ky != 0 {
		t.Fatalf("KeyCounts = %d, %d, %v; want 0, 0", ec, ky, err)
	}

	// Top-up: one-time keys are appended; the signed prekey replaced.
	more := testKeys(t, bobKey, 2, 0)
	more.LastResortKyber = nil
	more.RegistrationID = 0
	more.SignedPreKey.ID = 2
	if err := bob.UploadKeys(ctx, more); err != nil {
		t.Fatal(err)
	}
	b, err := alice.FetchBundle(ctx, bob.self)
	if err != nil {
		t.Fatal(err)
	}
	if b.SignedPreKeyID != 2 || b.PreKeyID != 1 || b.KyberPreKeyID != 1000 || b.RegistrationID != 4242 {
		t.Fatalf("after top-up: %+v", b)
	}
}

func TestUploadKeysChecks(t *testing.T) {
	e := newEnv(t, &Options{MaxPreKeys: 150, RateLimit: -1, AnonRateLimit: -1})
	ctx := context.Background()
	bob, bobKey := e.newClient("bob")
	_, mallory := e.newClient("mallory")

	for name, mutate := range map[string]func(k *Keys){
		"signed prekey signed by another key": func(k *Keys) {
			k.SignedPreKey.Signature, _ = mallory.k.Sign(rand.Reader, k.SignedPreKey.PublicKey)
		},
		"signed prekey signature of other bytes": func(k *Keys) { k.SignedPreKey.Signature[0] ^= 1 },
		"signed prekey too short":                func(k *Keys) { k.SignedPreKey.PublicKey = k.SignedPreKey.PublicKey[:32] },
		"last resort signature":                  func(k *Keys) { k.LastResortKyber.Signature[5] ^= 1 },
		"last resort wrong type":                 func(k *Keys) { k.LastResortKyber.PublicKey[0] = 5 },
		"Kyber prekey signature":                 func(k *Keys) { k.KyberPreKeys[0].Signature = nil },
		"Kyber prekey short":                     func(k *Keys) { k.KyberPreKeys[0].PublicKey = k.KyberPreKeys[0].PublicKey[:100] },
		"one-time prekey wrong type":             func(k *Keys) { k.PreKeys[0].PublicKey[0] = 8 },
	} {
		k := testKeys(t, bobKey, 1, 1)
		mutate(k)
		wantErr(t, bob.UploadKeys(ctx, k), ErrBadRequest, http.StatusBadRequest)
		if ec, ky, _ := bob.KeyCounts(ctx); ec != 0 || ky != 0 {
			t.Fatalf("%s: a refused upload stored keys", name)
		}
	}

	// More than MaxUploadBatch: split by the client.
	if err := bob.UploadKeys(ctx, testKeys(t, bobKey, 140, 0)); err != nil {
		t.Fatal(err)
	}
	if ec, _, _ := bob.KeyCounts(ctx); ec != 140 {
		t.Fatalf("ec = %d, want 140", ec)
	}
	// Past MaxPreKeys: refused whole. (Ids 1-140 replace themselves; 141-
	// 160 are new: 160 > 150.)
	err := bob.UploadKeys(ctx, testKeys(t, bobKey, 160, 0))
	wantErr(t, err, ErrTooManyPreKeys, http.StatusInsufficientStorage)
	if ec, _, _ := bob.KeyCounts(ctx); ec != 140 {
		t.Fatalf("ec = %d after a refused batch, want 140 (the first batch of 100 replaced keys)", ec)
	}

	if err := bob.UploadKeys(ctx, nil); err == nil {
		t.Fatal("UploadKeys(nil) succeeded")
	}
}

// Concurrent fetches never hand out the same one-time key twice.
func TestBundleHandoutConcurrent(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	bob, bobKey := e.newClient("bob")
	const n = 40
	if err := bob.UploadKeys(ctx, testKeys(t, bobKey, n, n)); err != nil {
		t.Fatal(err)
	}
	var (
		mu          sync.Mutex
		ecSeen      = map[uint32]int{}
		kyberSeen   = map[uint32]int{}
		wg          sync.WaitGroup
		workers     = 8
		perWorker   = n/workers + 2 // more than there are: the rest get none
		noPreKey    int
		lastResorts int
	)
	for w := range workers {
		c, _ := e.newClient("fetcher" + string(rune('a'+w)))
		wg.Go(func() {
			for range perWorker {
				b, err := c.FetchBundle(ctx, bob.self)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if b.PreKey == nil {
					noPreKey++
				} else {
					ecSeen[b.PreKeyID]++
				}
				if b.KyberPreKeyID == 1000 {
					lastResorts++
				} else {
					kyberSeen[b.KyberPreKeyID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(ecSeen) != n || len(kyberSeen) != n {
		t.Fatalf("handed out %d EC and %d Kyber keys, want %d each", len(ecSeen), len(kyberSeen), n)
	}
	for id, c := range ecSeen {
		if c != 1 {
			t.Errorf("EC prekey %d handed out %d times", id, c)
		}
	}
	for id, c := range kyberSeen {
		if c != 1 {
			t.Errorf("Kyber prekey %d handed out %d times", id, c)
		}
	}
	if extra := workers*perWorker - n; noPreKey != extra || lastResorts != extra {
		t.Errorf("%d bundles without a prekey and %d with the last resort, want %d", noPreKey, lastResorts, extra)
	}
}
