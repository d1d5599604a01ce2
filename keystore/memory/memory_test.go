package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/keystoretest"
	"github.com/sotto-im/sotto/keystore/memory"
)

func TestConformance(t *testing.T) {
	keystoretest.TestStore(t, func(*testing.T) keystore.Store { return memory.New() })
}

func TestClose(t *testing.T) {
	s := memory.New()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx keystore.Tx) error {
		return tx.Put("sp", "k", []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	called := false
	fn := func(keystore.Tx) error {
		called = true
		return nil
	}
	if err := s.Update(ctx, fn); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("Update after Close returned %v, want keystore.ErrClosed", err)
	}
	if err := s.View(ctx, fn); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("View after Close returned %v, want keystore.ErrClosed", err)
	}
	if called {
		t.Error("a transaction after Close ran fn")
	}
}

// TestTxAfterEnd checks that the in-memory store catches a Tx used after
// its function returned, which the contract forbids, instead of letting it
// read or write behind the store's back.
func TestTxAfterEnd(t *testing.T) {
	s := memory.New()
	var leaked keystore.Tx
	for name, run := range map[string]func(context.Context, func(keystore.Tx) error) error{
		"Update": s.Update,
		"View":   s.View,
	} {
		if err := run(t.Context(), func(tx keystore.Tx) error {
			leaked = tx
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for op, call := range map[string]func(){
			"Get":    func() { leaked.Get("sp", "k") },
			"Put":    func() { leaked.Put("sp", "k", nil) },
			"Delete": func() { leaked.Delete("sp", "k") },
			"List":   func() { leaked.List("sp", "") },
		} {
			if !panics(call) {
				t.Errorf("%s on a Tx whose %s had returned did not panic", op, name)
			}
		}
	}
}

func panics(fn func()) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	fn()
	return false
}

// TestConcurrentViews checks that Views run alongside each other, as
// documented: two Views that each wait for the other to start must both
// finish.
func TestConcurrentViews(t *testing.T) {
	s := memory.New()
	ctx := t.Context()
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			errs <- s.View(ctx, func(keystore.Tx) error {
				close(started[i])
				select {
				case <-started[1-i]:
					return nil
				case <-time.After(10 * time.Second):
					return errors.New("the other View did not start")
				}
			})
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func Example() {
	s := memory.New()
	ctx := context.Background()

	// An Update commits all of its writes, or none if fn returns an error.
	err := s.Update(ctx, func(tx keystore.Tx) error {
		if err := tx.Put("sessions", "alice.1", []byte("record for device 1")); err != nil {
			return err
		}
		return tx.Put("sessions", "alice.2", []byte("record for device 2"))
	})
	if err != nil {
		log.Fatal(err)
	}

	// A View reads a consistent snapshot; it cannot write.
	err = s.View(ctx, func(tx keystore.Tx) error {
		devices, err := tx.List("sessions", "alice.")
		if err != nil {
			return err
		}
		for _, d := range devices {
			record, err := tx.Get("sessions", d)
			if err != nil {
				return err
			}
			fmt.Printf("%s: %s\n", d, record)
		}
		_, err = tx.Get("sessions", "bob.1")
		fmt.Println(errors.Is(err, keystore.ErrNotFound))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// alice.1: record for device 1
	// alice.2: record for device 2
	// true
}
