package sqlite_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/memory"
)

// The benchmarks run each operation on this store and on keystore/memory,
// in the same process, so that the cost of durability reads as a ratio.
// An Update of the SQLite store is dominated by the fsync of its commit
// (synchronous=FULL), so its time depends on the disk more than on the CPU;
// BenchmarkUpdateBatch shows how that cost spreads over the Puts of one
// transaction.

// benchValue is the size of a benchmarked value: about a session record.
const benchValue = 1 << 10

// Every Put writes a value the key did not hold: SQLite does not write a
// page whose content a statement leaves as it was, and a commit with no
// page to write needs no fsync, so rewriting the same bytes would measure
// nothing durable.
func stamp(v []byte, i int) []byte {
	binary.BigEndian.PutUint64(v, uint64(i))
	return v
}

// benchStores are the stores each benchmark runs on.
var benchStores = []struct {
	name string
	open func(b *testing.B) keystore.Store
}{
	{"store=sqlite", func(b *testing.B) keystore.Store { return open(b, filepath.Join(b.TempDir(), "keys.db")) }},
	{"store=memory", func(*testing.B) keystore.Store { return memory.New() }},
}

// BenchmarkUpdate measures a transaction of one Put: for the SQLite store,
// its commit latency.
func BenchmarkUpdate(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			ctx := context.Background()
			v := make([]byte, benchValue)
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("device%d", i%1000)
				stamp(v, i)
				i++
				if err := s.Update(ctx, func(tx keystore.Tx) error { return tx.Put("sessions", key, v) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdateBatch measures a transaction of 100 Puts, one commit for
// all of them, and reports the time per Put.
func BenchmarkUpdateBatch(b *testing.B) {
	const batch = 100
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			ctx := context.Background()
			v := make([]byte, benchValue)
			keys := make([]string, batch)
			for i := range keys {
				keys[i] = fmt.Sprintf("device%d", i)
			}
			n := 0
			for b.Loop() {
				err := s.Update(ctx, func(tx keystore.Tx) error {
					for _, k := range keys {
						n++
						if err := tx.Put("sessions", k, stamp(v, n)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/put")
		})
	}
}

// BenchmarkView measures a transaction of one Get of a committed value.
func BenchmarkView(b *testing.B) {
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			ctx := context.Background()
			v := make([]byte, benchValue)
			update(b, s, func(tx keystore.Tx) error {
				for i := range 1000 {
					if err := tx.Put("sessions", fmt.Sprintf("device%d", i), v); err != nil {
						return err
					}
				}
				return nil
			})
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("device%d", i%1000)
				i++
				err := s.View(ctx, func(tx keystore.Tx) error {
					_, err := tx.Get("sessions", key)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
