package ratchet_test

import (
	"crypto/ecdh"
	"crypto/rand"
	"fmt"

	"github.com/sotto-im/sotto/ratchet"
)

// Example holds a two-party conversation through the public API alone: the
// keys a PQXDH handshake would produce, a reply that makes a DH ratchet
// step, a message delivered out of order, and a state persisted and
// restored in between.
func Example() {
	// What the key agreement leaves both parties with: the initial keys,
	// the two identity keys and the responder's signed prekey.
	var keys ratchet.InitialKeys
	rand.Read(keys.Root[:])
	rand.Read(keys.Chain[:])
	rand.Read(keys.SPQR[:])
	aliceID, _ := ecdh.X25519().GenerateKey(rand.Reader)
	bobID, _ := ecdh.X25519().GenerateKey(rand.Reader)
	bobSignedPreKey, _ := ecdh.X25519().GenerateKey(rand.Reader)

	alice, err := ratchet.NewInitiator(&ratchet.InitiatorParams{Keys: keys,
		TheirRatchetKey: bobSignedPreKey.PublicKey(),
		LocalIdentity:   aliceID.PublicKey(), RemoteIdentity: bobID.PublicKey()})
	if err != nil {
		panic(err)
	}
	bob, err := ratchet.NewResponder(&ratchet.ResponderParams{Keys: keys,
		OurRatchetKey: bobSignedPreKey,
		LocalIdentity: bobID.PublicKey(), RemoteIdentity: aliceID.PublicKey()})
	if err != nil {
		panic(err)
	}
	keys.Wipe()

	first, _ := alice.Encrypt([]byte("hello Bob"), nil)
	second, _ := alice.Encrypt([]byte("are you there?"), nil)

	// Bob receives the second message first.
	pt, err := bob.Decrypt(second, nil)
	fmt.Println(string(pt), err)
	pt, err = bob.Decrypt(first, nil)
	fmt.Println(string(pt), err)

	// A replay changes nothing and says why.
	_, err = bob.Decrypt(first, nil)
	fmt.Println(err)

	// Bob persists his state (store it encrypted: it holds secrets) and
	// restores it before replying.
	saved, _ := bob.MarshalBinary()
	var restored ratchet.State
	if err := restored.UnmarshalBinary(saved); err != nil {
		panic(err)
	}
	reply, _ := restored.Encrypt([]byte("yes, here"), nil)
	m, _ := ratchet.ParseSignalMessage(reply)
	fmt.Println("new ratchet key:", !m.RatchetKey().Equal(bobSignedPreKey.PublicKey()))
	pt, err = alice.Decrypt(reply, nil)
	fmt.Println(string(pt), err)
	// Output:
	// are you there? <nil>
	// hello Bob <nil>
	// ratchet: duplicate or expired message
	// new ratchet key: true
	// yes, here <nil>
}
