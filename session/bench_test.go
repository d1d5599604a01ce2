package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/keystore"
)

// The benchmarks come in pairs, as in package ratchet: the real operation
// and a floor made of the same public-key primitives alone, run in the same
// process, so that the ratio holds on a noisy machine.

// setupMessageSize is the size of the first message of a benchmarked setup.
const setupMessageSize = 32

// setupBatch is how many one-time prekeys are generated at a time, with the
// timer stopped.
const setupBatch = 256

// setupBench is an Alice and a Bob, both over keystore/memory, and bundles
// of Bob's ready for Alice to process.
type setupBench struct {
	ctx        context.Context
	alice, bob *party
	base       *Bundle   // Bob's bundle without a one-time prekey
	bundles    []*Bundle // unused bundles, each with its own one-time prekey
	pt         []byte
}

func newSetupBench(b testing.TB) *setupBench {
	s := &setupBench{
		ctx:   context.Background(),
		alice: newParty(b, aliceAddr),
		bob:   newParty(b, bobAddr),
		pt:    make([]byte, setupMessageSize),
	}
	s.base = s.bob.publish(b, false)
	return s
}

// refill gives Bob setupBatch new one-time prekeys and makes a bundle for
// each: the published bundle with the one-time prekey added, as a server
// hands them out.
func (s *setupBench) refill(b testing.TB) {
	pks, err := s.bob.GeneratePreKeys(s.ctx, 0, setupBatch)
	if err != nil {
		b.Fatal(err)
	}
	s.bundles = s.bundles[:0]
	for _, pk := range pks {
		bb := *s.base
		bb.PreKeyID, bb.PreKey = pk.ID, pk.PublicKey
		s.bundles = append(s.bundles, &bb)
	}
}

// setup is the measured operation: Alice processes bundle (PQXDH as
// initiator) and encrypts a first message, which Bob decrypts (PQXDH as
// responder, first DH ratchet step).
func (s *setupBench) setup(b testing.TB, bundle *Bundle) {
	if err := s.alice.ProcessBundle(s.ctx, bobAddr, bundle); err != nil {
		b.Fatal(err)
	}
	m, err := s.alice.Encrypt(s.ctx, bobAddr, s.pt)
	if err != nil {
		b.Fatal(err)
	}
	pt, err := s.bob.Decrypt(s.ctx, aliceAddr, m)
	if err != nil {
		b.Fatal(err)
	}
	if !bytes.Equal(pt, s.pt) {
		b.Fatal("wrong plaintext")
	}
}

// forget deletes both session records, so that every measured setup is a
// first contact: without it both records would fill up to
// MaxArchivedSessions archived sessions, which every Encrypt and Decrypt
// reads and rewrites whole, and which Bob scans for every PreKey message.
func (s *setupBench) forget(b testing.TB) {
	for _, p := range []struct {
		st   keystore.Store
		peer Address
	}{{s.alice.store, bobAddr}, {s.bob.store, aliceAddr}} {
		if err := p.st.Update(s.ctx, func(tx keystore.Tx) error {
			return tx.Delete(spaceSession, p.peer.String())
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionSetup measures a first contact with a one-time prekey:
// Alice's ProcessBundle and Encrypt of a 32-byte message, and Bob's Decrypt
// of it. Bob's one-time prekeys are generated in batches and the session
// records are cleared between iterations, with the timer stopped.
func BenchmarkSessionSetup(b *testing.B) {
	s := newSetupBench(b)
	s.refill(b)
	b.ReportAllocs()
	for b.Loop() {
		s.setup(b, s.bundles[0])
		s.bundles = s.bundles[1:]

		b.StopTimer()
		s.forget(b)
		if len(s.bundles) == 0 {
			s.refill(b)
		}
		b.StartTimer()
	}
}

// BenchmarkSessionSetupNoOneTime is BenchmarkSessionSetup with a bundle
// without a one-time prekey: every iteration uses the same signed and
// last-resort Kyber prekeys, and Bob records one more (Kyber prekey, signed
// prekey, base key) triple.
func BenchmarkSessionSetupNoOneTime(b *testing.B) {
	s := newSetupBench(b)
	b.ReportAllocs()
	for b.Loop() {
		s.setup(b, s.base)

		b.StopTimer()
		s.forget(b)
		b.StartTimer()
	}
}

// setupFloor holds the keys of a setup, already parsed.
type setupFloor struct {
	aliceIdentity, bobIdentity       *curve.PrivateKey
	signedPreKey, oneTimePreKey      *curve.PrivateKey
	signedPreKeyPub, kyberPreKeyPub  []byte
	signedPreKeySig, kyberPreKeySig  []byte
	aliceIdentityPub, bobIdentityPub *curve.PublicKey
	signedPub, oneTimePub            *curve.PublicKey
	kyberPriv                        *kem.PrivateKey
	kyberPub                         *kem.PublicKey
}

func newSetupFloor(b testing.TB) *setupFloor {
	gen := func() *curve.PrivateKey {
		k, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
	f := &setupFloor{aliceIdentity: gen(), bobIdentity: gen(), signedPreKey: gen(), oneTimePreKey: gen()}
	f.aliceIdentityPub, f.bobIdentityPub = f.aliceIdentity.PublicKey(), f.bobIdentity.PublicKey()
	f.signedPub, f.oneTimePub = f.signedPreKey.PublicKey(), f.oneTimePreKey.PublicKey()
	f.signedPreKeyPub = f.signedPub.Bytes()
	var err error
	if f.kyberPriv, err = kem.GenerateKey(rand.Reader); err != nil {
		b.Fatal(err)
	}
	f.kyberPub = f.kyberPriv.PublicKey()
	f.kyberPreKeyPub = f.kyberPub.Bytes()
	if f.signedPreKeySig, err = f.bobIdentity.Sign(rand.Reader, f.signedPreKeyPub); err != nil {
		b.Fatal(err)
	}
	if f.kyberPreKeySig, err = f.bobIdentity.Sign(rand.Reader, f.kyberPreKeyPub); err != nil {
		b.Fatal(err)
	}
	return f
}

// run performs the public-key operations of one setup, and nothing else:
//
// Alice: 2 XEdDSA verifications (signed prekey, Kyber prekey); 1 X25519
// key generation for the base key; 4 X25519 agreements for PQXDH (3
// without a one-time prekey); 1 Kyber1024 encapsulation (to an already
// parsed key); 1 key generation and 1 agreement for the first sending
// chain.
//
// Bob: 1 canonical-key check of the base key; 1 Kyber1024 decapsulation
// (with an already parsed key); 4 agreements for PQXDH (3 without a
// one-time prekey); for the first DH ratchet step, 1 agreement for the
// receiving chain, 1 key generation and 1 agreement for the new sending
// chain.
//
// A key generation includes computing its public key. The floor leaves out
// everything symmetric (PQXDH's HKDF, the chain and message keys,
// AES-CBC and HMAC of the 32-byte message: a few microseconds), key
// parsing (notably the Kyber keys' matrix expansion) and storage.
func (f *setupFloor) run(b testing.TB, oneTime bool) {
	ecdh := func(priv *curve.PrivateKey, pub *curve.PublicKey) {
		if _, err := priv.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
	gen := func() (*curve.PrivateKey, *curve.PublicKey) {
		k, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k, k.PublicKey()
	}

	// Alice.
	if !f.bobIdentityPub.Verify(f.signedPreKeyPub, f.signedPreKeySig) ||
		!f.bobIdentityPub.Verify(f.kyberPreKeyPub, f.kyberPreKeySig) {
		b.Fatal("signature")
	}
	base, basePub := gen()
	ecdh(f.aliceIdentity, f.signedPub)
	ecdh(base, f.bobIdentityPub)
	ecdh(base, f.signedPub)
	if oneTime {
		ecdh(base, f.oneTimePub)
	}
	ct, _, err := f.kyberPub.Encapsulate(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	sending, sendingPub := gen()
	ecdh(sending, f.signedPub)

	// Bob.
	if !basePub.IsCanonical() {
		b.Fatal("base key")
	}
	if _, err := f.kyberPriv.Decapsulate(ct); err != nil {
		b.Fatal(err)
	}
	ecdh(f.signedPreKey, f.aliceIdentityPub)
	ecdh(f.bobIdentity, basePub)
	ecdh(f.signedPreKey, basePub)
	if oneTime {
		ecdh(f.oneTimePreKey, basePub)
	}
	ecdh(f.signedPreKey, sendingPub)
	next, _ := gen()
	ecdh(next, sendingPub)
}

// BenchmarkSessionSetupFloor is the floor of BenchmarkSessionSetup: see
// (*setupFloor).run for exactly what it contains.
func BenchmarkSessionSetupFloor(b *testing.B) {
	f := newSetupFloor(b)
	b.ReportAllocs()
	for b.Loop() {
		f.run(b, true)
	}
}

// BenchmarkSessionSetupNoOneTimeFloor is the floor of
// BenchmarkSessionSetupNoOneTime: the same without the two one-time prekey
// agreements.
func BenchmarkSessionSetupNoOneTimeFloor(b *testing.B) {
	f := newSetupFloor(b)
	b.ReportAllocs()
	for b.Loop() {
		f.run(b, false)
	}
}
