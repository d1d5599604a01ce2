package relay

import (
	"context"
	"testing"
)

// BenchmarkSendFetchAck measures one message's round through the relay
// over loopback HTTP: Send, Fetch, Ack, each a durable SQLite transaction
// (synchronous=FULL) for the writes.
func BenchmarkSendFetchAck(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"256B", 256}, {"16KiB", 16 << 10}} {
		b.Run(size.name, func(b *testing.B) {
			e := newEnv(b, nil)
			ctx := context.Background()
			alice, _ := e.newClient("alice")
			bob, _ := e.newClient("bob")
			body := make([]byte, size.n)
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := alice.Send(ctx, bob.self, 2, body); err != nil {
					b.Fatal(err)
				}
				msgs, err := bob.Fetch(ctx)
				if err != nil || len(msgs) != 1 {
					b.Fatalf("fetch: %d, %v", len(msgs), err)
				}
				if err := bob.Ack(ctx, msgs[0].ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPush measures Send to a subscribed recipient until the message
// arrives on its WebSocket.
func BenchmarkPush(b *testing.B) {
	// Nothing is acknowledged: let the mailbox hold every iteration's.
	e := newEnv(b, &Options{MaxMailbox: 1 << 30, RateLimit: -1, AnonRateLimit: -1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	ch, err := bob.Subscribe(ctx)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 256)
	for b.Loop() {
		if _, err := alice.Send(ctx, bob.self, 2, body); err != nil {
			b.Fatal(err)
		}
		if _, ok := <-ch; !ok {
			b.Fatal("subscription closed")
		}
	}
}
