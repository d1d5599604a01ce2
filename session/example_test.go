package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/session"
)

// newAccount creates an account in a fresh in-memory store. A real client
// keeps its store on disk (keystore/sqlite).
func newAccount(ctx context.Context, name string, device uint32) *session.Account {
	acct, err := session.CreateAccount(ctx, memory.New(), session.Address{Name: name, DeviceID: device})
	if err != nil {
		log.Fatal(err)
	}
	return acct
}

// publishBundle gives acct a current signed prekey, a last-resort Kyber
// prekey and a batch of one-time prekeys, and returns the bundle a server
// would hand out for the first one-time prekey.
func publishBundle(ctx context.Context, acct *session.Account) *session.Bundle {
	if _, err := acct.GenerateSignedPreKey(ctx, 0); err != nil {
		log.Fatal(err)
	}
	if _, err := acct.GenerateKyberPreKeys(ctx, 0, 1, true); err != nil {
		log.Fatal(err)
	}
	pks, err := acct.GeneratePreKeys(ctx, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	b, err := acct.Bundle(ctx, pks[0].ID, 0, 0)
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// Alice starts a session with Bob from his published bundle; her messages
// are PreKey messages until Bob answers, then both sides send Whisper
// messages.
func Example() {
	ctx := context.Background()
	alice := newAccount(ctx, "alice", 1)
	bob := newAccount(ctx, "bob", 1)

	// Bob publishes prekeys; Alice fetches his bundle and starts a session.
	bundle := publishBundle(ctx, bob)
	if err := alice.ProcessBundle(ctx, bob.Address(), bundle); err != nil {
		log.Fatal(err)
	}

	m1, err := alice.Encrypt(ctx, bob.Address(), []byte("hello bob"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice sends a PreKey message:", m1.Type == session.MessagePreKey)
	pt, err := bob.Decrypt(ctx, alice.Address(), m1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob reads:", string(pt))

	m2, err := bob.Encrypt(ctx, alice.Address(), []byte("hi alice"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob sends a Whisper message:", m2.Type == session.MessageWhisper)
	pt, err = alice.Decrypt(ctx, bob.Address(), m2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice reads:", string(pt))

	// Bob's answer acknowledged the session: no more PreKey messages.
	m3, err := alice.Encrypt(ctx, bob.Address(), []byte("how are you?"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice now sends a Whisper message:", m3.Type == session.MessageWhisper)
	pt, err = bob.Decrypt(ctx, alice.Address(), m3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob reads:", string(pt))
	// Output:
	// alice sends a PreKey message: true
	// bob reads: hello bob
	// bob sends a Whisper message: true
	// alice reads: hi alice
	// alice now sends a Whisper message: true
	// bob reads: how are you?
}

// Both parties compute the same safety number from their own view of the
// two identity keys; users compare it aloud or by scanning a QR code.
func ExampleAccount_SafetyNumber() {
	ctx := context.Background()
	alice := newAccount(ctx, "alice", 1)
	bob := newAccount(ctx, "bob", 1)
	if err := alice.ProcessBundle(ctx, bob.Address(), publishBundle(ctx, bob)); err != nil {
		log.Fatal(err)
	}
	m, err := alice.Encrypt(ctx, bob.Address(), []byte("hi"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := bob.Decrypt(ctx, alice.Address(), m); err != nil {
		log.Fatal(err)
	}

	fa, err := alice.SafetyNumber(ctx, bob.Address())
	if err != nil {
		log.Fatal(err)
	}
	fb, err := bob.SafetyNumber(ctx, alice.Address())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fa.Displayable() == fb.Displayable())
	fmt.Println(len(fa.Displayable()), "digits")
	// Bob scans the QR code on Alice's screen.
	same, err := fb.Compare(fa.Scannable())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(same)
	// After comparing, the app records it.
	if err := alice.SetVerified(ctx, bob.Address(), bob.IdentityKey(), true); err != nil {
		log.Fatal(err)
	}
	info, err := alice.Identity(ctx, bob.Address())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified:", info.Verified)
	// Output:
	// true
	// 60 digits
	// true
	// verified: true
}

// When a contact's identity key changes (a reinstall, or an attacker),
// nothing is sent to or accepted from the new key until the application,
// usually after telling the user, calls TrustIdentity.
func ExampleAccount_TrustIdentity() {
	ctx := context.Background()
	alice := newAccount(ctx, "alice", 1)
	bob := newAccount(ctx, "bob", 1)
	if err := alice.ProcessBundle(ctx, bob.Address(), publishBundle(ctx, bob)); err != nil {
		log.Fatal(err)
	}

	// Bob reinstalls: a new account, a new identity key, the same address.
	newBob := newAccount(ctx, "bob", 1)
	bundle := publishBundle(ctx, newBob)
	err := alice.ProcessBundle(ctx, newBob.Address(), bundle)
	fmt.Println("untrusted:", errors.Is(err, session.ErrUntrustedIdentity))
	var ue *session.UntrustedIdentityError
	if errors.As(err, &ue) {
		fmt.Println("changed identity of", ue.Address)
	}

	// The user accepts the new safety number.
	if err := alice.TrustIdentity(ctx, newBob.Address(), bundle.IdentityKey); err != nil {
		log.Fatal(err)
	}
	if err := alice.ProcessBundle(ctx, newBob.Address(), bundle); err != nil {
		log.Fatal(err)
	}
	m, err := alice.Encrypt(ctx, newBob.Address(), []byte("welcome back"))
	if err != nil {
		log.Fatal(err)
	}
	pt, err := newBob.Decrypt(ctx, alice.Address(), m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(pt))
	// Output:
	// untrusted: true
	// changed identity of bob.1
	// welcome back
}

// A bundle travels through the server in its binary form; UnmarshalBinary
// checks the encoding and key sizes, ProcessBundle the signatures.
func ExampleBundle_MarshalBinary() {
	ctx := context.Background()
	alice := newAccount(ctx, "alice", 1)
	bob := newAccount(ctx, "bob", 1)

	published, err := publishBundle(ctx, bob).MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}

	// ... uploaded by Bob, downloaded by Alice ...
	var b session.Bundle
	if err := b.UnmarshalBinary(published); err != nil {
		log.Fatal(err)
	}
	fmt.Println("one-time prekey:", b.PreKeyID, len(b.PreKey), "bytes")
	fmt.Println("Kyber prekey:", b.KyberPreKeyID, len(b.KyberPreKey), "bytes")
	fmt.Println("Bob's identity:", bytes.Equal(b.IdentityKey, bob.IdentityKey()))
	again, err := b.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same encoding:", bytes.Equal(again, published))

	if err := alice.ProcessBundle(ctx, bob.Address(), &b); err != nil {
		log.Fatal(err)
	}
	m, err := alice.Encrypt(ctx, bob.Address(), []byte("from the server's bundle"))
	if err != nil {
		log.Fatal(err)
	}
	pt, err := bob.Decrypt(ctx, alice.Address(), m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(pt))
	// Output:
	// one-time prekey: 1 33 bytes
	// Kyber prekey: 1 1569 bytes
	// Bob's identity: true
	// same encoding: true
	// from the server's bundle
}
