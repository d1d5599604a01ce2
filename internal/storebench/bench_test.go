package storebench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/keystore/sqlite"
	"github.com/sotto-im/sotto/session"
)

var (
	alice = session.Address{Name: "9d0652a3-dcc3-4d11-975f-74d61598733f", DeviceID: 1}
	bob   = session.Address{Name: "796abedb-ca4e-4f18-8803-1fde5b921f9f", DeviceID: 1}
)

// stores are the backends compared; each opens a fresh store.
var stores = []struct {
	name string
	open func(tb testing.TB, name string) keystore.Store
}{
	{"memory", func(tb testing.TB, _ string) keystore.Store { return memory.New() }},
	{"sqlite", func(tb testing.TB, name string) keystore.Store { return openSQLite(tb, name) }},
	{"sqlite+encrypted", func(tb testing.TB, name string) keystore.Store {
		st, err := encrypted.OpenWithPassphrase(context.Background(), openSQLite(tb, name), []byte("bench"),
			&encrypted.Options{Time: 1, Memory: 1 << 10, Threads: 1})
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}},
}

func openSQLite(tb testing.TB, name string) *sqlite.Store {
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), name+".db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// pair returns two accounts on fresh stores with a session from Alice to
// Bob, acknowledged by a first reply so every message is a Whisper message.
func pair(tb testing.TB, open func(testing.TB, string) keystore.Store) (a, b *session.Account) {
	ctx := context.Background()
	a, err := session.CreateAccount(ctx, open(tb, "alice"), alice)
	if err != nil {
		tb.Fatal(err)
	}
	b, err = session.CreateAccount(ctx, open(tb, "bob"), bob)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := b.GenerateSignedPreKey(ctx, 0); err != nil {
		tb.Fatal(err)
	}
	if _, err := b.GenerateKyberPreKeys(ctx, 0, 1, true); err != nil {
		tb.Fatal(err)
	}
	bundle, err := b.Bundle(ctx, 0, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := a.ProcessBundle(ctx, bob, bundle); err != nil {
		tb.Fatal(err)
	}
	exchange(tb, a, b, alice, bob, make([]byte, 16))
	exchange(tb, b, a, bob, alice, make([]byte, 16))
	return a, b
}

func exchange(tb testing.TB, from, to *session.Account, fromAddr, toAddr session.Address, pt []byte) {
	ctx := context.Background()
	m, err := from.Encrypt(ctx, toAddr, pt)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := to.Decrypt(ctx, fromAddr, m); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOneWay is a 1 KiB message encrypted and decrypted through the
// session API, each side committing its state in its own transaction.
func BenchmarkOneWay(b *testing.B) {
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			a, bb := pair(b, s.open)
			pt := make([]byte, 1024)
			b.ReportAllocs()
			for b.Loop() {
				exchange(b, a, bb, alice, bob, pt)
			}
		})
	}
}

// BenchmarkPingPong alternates directions, so every message is a DH step.
func BenchmarkPingPong(b *testing.B) {
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			a, bb := pair(b, s.open)
			pt := make([]byte, 1024)
			from, to, fromAddr, toAddr := a, bb, alice, bob
			b.ReportAllocs()
			for b.Loop() {
				exchange(b, from, to, fromAddr, toAddr, pt)
				from, to, fromAddr, toAddr = to, from, toAddr, fromAddr
			}
		})
	}
}

// TestStoresHoldAConversation keeps the benchmark set-up honest: every
// backend carries a conversation that survives reopening the account.
func TestStoresHoldAConversation(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			a, b := pair(t, s.open)
			for range 5 {
				exchange(t, a, b, alice, bob, []byte("x"))
				exchange(t, b, a, bob, alice, []byte("y"))
			}
		})
	}
}

// BenchmarkOneWayBatch16 sends 16 messages per transaction on each side
// (EncryptBatch, DecryptBatch) and reports the cost per message.
func BenchmarkOneWayBatch16(b *testing.B) {
	const n = 16
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			a, bb := pair(b, s.open)
			pts := make([][]byte, n)
			for i := range pts {
				pts[i] = make([]byte, 1024)
			}
			in := make([]session.Incoming, n)
			b.ReportAllocs()
			for b.Loop() {
				msgs, err := a.EncryptBatch(ctx, bob, pts)
				if err != nil {
					b.Fatal(err)
				}
				for i, m := range msgs {
					in[i] = session.Incoming{From: alice, Message: m}
				}
				err = bb.DecryptBatch(ctx, in, func(_ keystore.Tx, _ int, _ []byte, err error) error { return err })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}
