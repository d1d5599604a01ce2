//go:build unix

package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sotto-im/sotto/internal/chat"
	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/keystore/sqlite"
	"github.com/sotto-im/sotto/session"
)

// BenchmarkLoopback measures the whole path of a message on one machine:
// several sender/recipient pairs, each message encrypted (session),
// stored in the sender's outbox, sent to the relay over HTTP on
// 127.0.0.1, stored by the relay (SQLite, fsync), pushed over the
// recipient's WebSocket, decrypted and stored in the recipient's encrypted
// SQLite store in one transaction, acknowledged, and answered with an
// encrypted delivery receipt per burst.
//
// "plain" carries the same texts, padded alike, through the same relay,
// push and stores, with the same store writes on both ends but no
// cryptography of session (the stores still encrypt at rest): the
// difference is the cost of end-to-end encryption. Relay and clients
// share this process, so the CPU time per message covers all of them.
//
//	go test -run '^$' -bench Loopback -benchtime 2000x ./e2e
func BenchmarkLoopback(b *testing.B) {
	b.Run("sotto", func(b *testing.B) { benchLoopback(b, newChatPair) })
	b.Run("plain", func(b *testing.B) { benchLoopback(b, newPlainPair) })
}

const benchPairs = 4

// pair is a sender and a recipient; send sends one text, received counts
// what arrived.
type pair interface {
	send(ctx context.Context, text string) error
	received() int64
}

func benchLoopback(b *testing.B, newPair func(b *testing.B, url, dir string, i int) pair) {
	url := inProcessRelay(b)
	dir := b.TempDir()
	pairs := make([]pair, benchPairs)
	for i := range pairs {
		pairs[i] = newPair(b, url, dir, i)
	}
	ctx := context.Background()
	// Warm up: sessions, connections.
	for _, p := range pairs {
		if err := p.send(ctx, "warm-up"); err != nil {
			b.Fatal(err)
		}
	}
	waitAll(b, pairs, 1)
	per := max(b.N/benchPairs, 1)
	total := per * benchPairs
	b.ResetTimer()
	cpu0, t0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	for _, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range per {
				if err := p.send(ctx, fmt.Sprintf("message %d of a benchmark, about chat length", j)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	waitAll(b, pairs, int64(per+1))
	elapsed, cpu := time.Since(t0), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/msg")
}

func waitAll(b *testing.B, pairs []pair, n int64) {
	deadline := time.Now().Add(5 * time.Minute)
	for _, p := range pairs {
		for p.received() < n {
			if time.Now().After(deadline) {
				b.Fatalf("timed out: %d of %d received", p.received(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// chatPair is two internal/chat clients, each running Run.
type chatPair struct {
	from *chat.Client
	to   string
	n    atomic.Int64
}

func newChatPair(b *testing.B, url, dir string, i int) pair {
	open := func(name string) *chat.Client {
		c, err := chat.OpenConfig(context.Background(), &chat.Config{
			DataDir: dir, Name: name, Passphrase: []byte("p"), RelayURL: url, KDF: &cheapKDF,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		return c
	}
	p := &chatPair{from: open(fmt.Sprintf("s%d", i)), to: fmt.Sprintf("r%d", i)}
	to := open(p.to)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.from.Run(ctx, func(chat.Event) {}) }()
	go func() {
		defer wg.Done()
		to.Run(ctx, func(ev chat.Event) {
			if ev.Kind == chat.EventMessage {
				p.n.Add(1)
			}
		})
	}()
	b.Cleanup(func() { cancel(); wg.Wait() })
	return p
}

func (p *chatPair) send(ctx context.Context, text string) error {
	_, err := p.from.Send(ctx, p.to, text)
	return err
}

func (p *chatPair) received() int64 { return p.n.Load() }

// plainPeer is a relay client with an encrypted store and no session
// cryptography: the control of the benchmark.
type plainPeer struct {
	addr  relay.Address
	rc    *relay.Client
	store keystore.Store
	seq   atomic.Uint64
}

func newPlainPeer(b *testing.B, url, dir, name string) *plainPeer {
	ctx := context.Background()
	addr := relay.Address{Name: name, DeviceID: 1}
	acct, err := session.CreateAccount(ctx, memory.New(), session.Address{Name: name, DeviceID: 1})
	if err != nil {
		b.Fatal(err)
	}
	p := &plainPeer{addr: addr, rc: relay.NewClient(url, addr, acct, nil)}
	if err := p.rc.Register(ctx); err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(dir, name+".db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if p.store, err = encrypted.OpenWithPassphrase(ctx, db, []byte("p"), &cheapKDF); err != nil {
		b.Fatal(err)
	}
	return p
}

// put stores one record, as the chat engine stores a message.
func (p *plainPeer) put(ctx context.Context, space string, v []byte) error {
	return p.store.Update(ctx, func(tx keystore.Tx) error {
		return tx.Put(space, fmt.Sprintf("%016x", p.seq.Add(1)), v)
	})
}

// run handles p's mailbox until ctx ends: each envelope stored, then
// acknowledged; handle may answer a burst.
func (p *plainPeer) run(ctx context.Context, handle func(envs []relay.Envelope)) {
	for ctx.Err() == nil {
		ch, err := p.rc.Subscribe(ctx)
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for env := range ch {
			batch := []relay.Envelope{env}
		more:
			for len(batch) < 64 {
				select {
				case e, ok := <-ch:
					if !ok {
						break more
					}
					batch = append(batch, e)
				default:
					break more
				}
			}
			for _, e := range batch {
				if err := p.put(ctx, "bench.in", e.Body); err != nil {
					return
				}
				p.rc.Ack(ctx, e.ID)
			}
			handle(batch)
		}
	}
}

type plainPair struct {
	from, to *plainPeer
	n        atomic.Int64
}

func newPlainPair(b *testing.B, url, dir string, i int) pair {
	p := &plainPair{from: newPlainPeer(b, url, dir, fmt.Sprintf("s%d", i)), to: newPlainPeer(b, url, dir, fmt.Sprintf("r%d", i))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.to.run(ctx, func(envs []relay.Envelope) {
			p.n.Add(int64(len(envs)))
			// One receipt per burst, as the chat engine sends.
			r := binary.AppendUvarint([]byte{2}, uint64(len(envs)))
			if err := p.to.put(ctx, "bench.outbox", r); err == nil {
				p.to.rc.Send(ctx, p.from.addr, 1, pad160(r))
			}
		})
	}()
	go func() {
		defer wg.Done()
		p.from.run(ctx, func([]relay.Envelope) {})
	}()
	b.Cleanup(func() { cancel(); wg.Wait() })
	return p
}

func (p *plainPair) send(ctx context.Context, text string) error {
	body := pad160(append([]byte{1}, text...))
	if err := p.from.put(ctx, "bench.out", body); err != nil {
		return err
	}
	if _, err := p.from.rc.Send(ctx, p.to.addr, 1, body); err != nil {
		return err
	}
	return p.from.put(ctx, "bench.sent", []byte{1})
}

func (p *plainPair) received() int64 { return p.n.Load() }

func pad160(b []byte) []byte {
	b = append(b, 0x80)
	for len(b)%160 != 0 {
		b = append(b, 0)
	}
	return b
}
