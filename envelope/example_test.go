package envelope_test

import (
	"fmt"
	"time"

	"github.com/sotto-im/sotto/envelope"
)

// A sender builds, franks and marshals a message; the recipient parses it,
// checks the franking and applies the conversation's timer.
func Example() {
	timer := envelope.Timer{}.Next(time.Hour) // the sender turns disappearing messages on
	e := &envelope.Envelope{Kind: envelope.KindText, ID: envelope.NewID(),
		Sent: time.Now(), Body: "see you at noon", Timer: timer}
	outer, err := e.Frank("alice.1", "bob.1") // sent beside the ciphertext for the relay to tag
	if err != nil {
		panic(err)
	}
	plaintext, err := e.Marshal() // encrypt this with session.Account.Encrypt
	if err != nil {
		panic(err)
	}

	// ... and on Bob's side, with what Decrypt returned:
	got, err := envelope.Parse(plaintext)
	if err != nil {
		panic(err) // errors.Is(err, session.ErrInvalidMessage): drop it
	}
	if err := got.CheckFranking(outer, "alice.1", "bob.1"); err != nil {
		panic(err) // do not show it
	}
	var bobsTimer envelope.Timer
	if got.Timer.Supersedes(bobsTimer) {
		bobsTimer = got.Timer
	}
	shown := time.Now()
	fmt.Println(got.Body)
	fmt.Println("disappears after", bobsTimer.ExpiresAt(shown).Sub(shown))
	fmt.Println(len(plaintext)%envelope.PaddingBlock == 0)
	// Output:
	// see you at noon
	// disappears after 1h0m0s
	// true
}
