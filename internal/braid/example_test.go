package braid_test

import (
	"crypto/rand"
	"fmt"

	"github.com/sotto-im/sotto/internal/braid"
)

// Two parties alternate messages until both hold the secret of epoch 1.
// Each Send and Recv returns a new state; a real caller commits it only
// when the Signal message around the payload encrypts, or authenticates
// and decrypts.
func Example() {
	var pqrKey [32]byte // from PQXDH
	rand.Read(pqrKey[:])
	alice, bob := braid.New(&pqrKey, braid.A2B), braid.New(&pqrKey, braid.B2A)
	var aliceKey, bobKey *braid.EpochSecret
	for n := 1; aliceKey == nil || bobKey == nil; n++ {
		from, to := &alice, &bob
		if n%2 == 0 {
			from, to = &bob, &alice
		}
		next, m, out, err := (*from).Send(rand.Reader)
		if err != nil {
			panic(err)
		}
		*from = next
		if out != nil {
			bobKey = out // the ct sender's secret comes out when it sends ct1
		}
		next, out, err = (*to).Recv(m)
		if err != nil {
			panic(err)
		}
		*to = next
		if out != nil {
			aliceKey = out // the ek sender's when ct2 is complete
		}
		if aliceKey != nil && bobKey != nil {
			fmt.Println("message", n, "epoch", aliceKey.Epoch, "agreed:", aliceKey.Key == bobKey.Key)
			fmt.Println("alice is now", alice.Role(), "in", alice.Kind(), "epoch", alice.Epoch())
		}
	}
	// Output:
	// message 86 epoch 1 agreed: true
	// alice is now send_ct in NoHeaderReceived epoch 2
}
