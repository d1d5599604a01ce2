package encrypted_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/keystore/memory"
)

// An application opens its store once at startup with the user's
// passphrase, then hands it to session.CreateAccount or OpenAccount like
// any keystore.Store. A real application would open keystore/sqlite as the
// inner store; the example uses memory.
func Example() {
	ctx := context.Background()
	inner := memory.New() // in an application: a durable store (keystore/sqlite)

	// The first open creates the keyset; later opens unlock it.
	store, err := encrypted.OpenWithPassphrase(ctx, inner, []byte("correct horse battery staple"), nil)
	if err != nil {
		log.Fatal(err)
	}
	err = store.Update(ctx, func(tx keystore.Tx) error {
		return tx.Put("sotto.session", "alice.1", []byte("session record"))
	})
	if err != nil {
		log.Fatal(err)
	}

	// Later, or after a restart with a durable inner store:
	_, err = encrypted.OpenWithPassphrase(ctx, inner, []byte("wrong guess"), nil)
	fmt.Println(err)
	store, err = encrypted.OpenWithPassphrase(ctx, inner, []byte("correct horse battery staple"), nil)
	if err != nil {
		log.Fatal(err)
	}
	err = store.View(ctx, func(tx keystore.Tx) error {
		v, err := tx.Get("sotto.session", "alice.1")
		fmt.Printf("%s\n", v)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// keystore/encrypted: wrong passphrase
	// session record
}
