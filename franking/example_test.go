package franking_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sotto-im/sotto/franking"
)

// A message goes from alice to bob through the relay, and bob reports it.
// The payload is what alice's client would put inside session encryption;
// outer is what travels beside the ciphertext.
func Example() {
	// The relay's key; a real relay loads it with NewRelayKey.
	relay, err := franking.NewRelay(franking.GenerateRelayKey(1))
	if err != nil {
		log.Fatal(err)
	}

	// Sender: commit to the message for bob's device 1.
	sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	content := franking.Content{Sender: "alice.1", Recipient: "bob.1", Sent: sent, Body: []byte("you will regret this")}
	opening := franking.NewOpening()
	commitment, err := opening.Commit(&content)
	if err != nil {
		log.Fatal(err)
	}
	payload := struct { // encrypted with session.Encrypt, with the body
		opening    []byte
		commitment franking.Commitment
	}{opening.Bytes(), commitment}
	outer := commitment

	// Relay: tag the outer commitment with what it knows of the message.
	received := sent.Add(150 * time.Millisecond)
	tag, err := relay.Tag(outer, franking.Context{Sender: "alice.1", Recipient: "bob.1", Received: received})
	if err != nil {
		log.Fatal(err)
	}

	// Recipient: check before showing the message.
	o, err := franking.ParseOpening(payload.opening)
	if err != nil {
		log.Fatal(err)
	}
	shown := franking.Content{Sender: "alice.1", Recipient: "bob.1", Sent: sent, Body: []byte("you will regret this")}
	if err := franking.Check(outer, payload.commitment, o, &shown); err != nil {
		log.Fatal("not shown: ", err)
	}
	fmt.Printf("bob reads: %s\n", shown.Body)

	// Report: bob hands the relay the message, the opening and the tag.
	report := &franking.Report{Content: shown, Opening: o, Tag: tag, Received: received}
	fmt.Println("report verifies:", relay.Verify(report) == nil)

	// Bob cannot make alice say something else.
	report.Content.Body = []byte("something alice never said")
	fmt.Println("altered report:", relay.Verify(report))
	// Output:
	// bob reads: you will regret this
	// report verifies: true
	// altered report: franking: report does not verify
}

// A sender that commits to one message and sends another is caught by the
// recipient's Check: the message is never shown, so it can never be
// unreportable.
func ExampleCheck() {
	sent := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	committed := franking.Content{Sender: "mallory.1", Recipient: "bob.1", Sent: sent, Body: []byte("hello")}
	o := franking.NewOpening()
	c, _ := o.Commit(&committed)

	delivered := committed
	delivered.Body = []byte("abuse")
	err := franking.Check(c, c, o, &delivered)
	fmt.Println(errors.Is(err, franking.ErrCommitment))
	// Output: true
}

// The relay rotates its key and keeps the previous one, so that reports on
// messages tagged before the rotation still verify.
func ExampleNewRelay() {
	old := franking.GenerateRelayKey(1)
	current := franking.GenerateRelayKey(2)
	relay, err := franking.NewRelay(current, old)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(relay)
	// Output: franking.Relay(current key 2, 2 keys, REDACTED)
}
