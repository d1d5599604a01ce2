package ratchetcore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kdf"
)

// The benchmarks come in pairs: the real operation and a floor made of the
// same primitives alone, run in the same process, so BENCHMARKS.md can
// report ratios that hold on a noisy machine.

const benchSize = 1024

// BenchmarkOneWay measures a 1 KiB message encrypted by Alice and decrypted
// by Bob, always in the same chain (no DH step).
func BenchmarkOneWay(b *testing.B) {
	alice, bob := pair(b)
	pt := make([]byte, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		ct, err := alice.Encrypt(pt, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.Decrypt(ct, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneWayFloor is the primitives of one message, for both sides:
// per side 2 HMACs for the chain step, the SPQR chain HKDF, the 80-byte
// message-key HKDF, AES-256-CBC over 1 KiB and the message MAC.
func BenchmarkOneWayFloor(b *testing.B) {
	f := newFloor()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		f.message()
	}
}

type floor struct {
	ck, pqNext [32]byte
	pt, msg    []byte
	ids        []byte
}

func newFloor() *floor {
	f := &floor{pt: make([]byte, benchSize+16), msg: make([]byte, benchSize+16+70), ids: make([]byte, 66)}
	rand.Read(f.ck[:])
	rand.Read(f.pqNext[:])
	return f
}

// message runs the per-message primitives of sender and receiver, with the
// same HMAC and HKDF implementation the ratchet uses (internal/kdf).
func (f *floor) message() {
	for range 2 {
		seed := kdf.HMAC(f.ck[:], []byte{1})
		kdf.HMAC(f.ck[:], []byte{2})
		var pq [64]byte
		kdf.Key(pq[:], nil, f.pqNext[:], []byte{0, 0, 0, 1}, []byte("Signal PQ Ratchet V1 Chain Next"))
		var mk [80]byte
		kdf.Key(mk[:], pq[32:], seed[:], []byte("WhisperMessageKeys"))
		block, _ := aes.NewCipher(mk[:32])
		out := make([]byte, len(f.pt))
		cipher.NewCBCEncrypter(block, mk[64:80]).CryptBlocks(out, f.pt)
		kdf.HMAC(mk[32:64], f.ids, f.msg)
	}
}

// BenchmarkPingPong measures a 1 KiB message in alternating directions, so
// every message is a DH ratchet step for its receiver.
func BenchmarkPingPong(b *testing.B) {
	alice, bob := pair(b)
	pt := make([]byte, benchSize)
	from, to := alice, bob
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		ct, err := from.Encrypt(pt, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := to.Decrypt(ct, nil, nil); err != nil {
			b.Fatal(err)
		}
		from, to = to, from
	}
}

// BenchmarkPingPongFloor is the one-way floor plus, per DH step, one X25519
// key generation and two X25519 agreements.
func BenchmarkPingPongFloor(b *testing.B) {
	f := newFloor()
	peer, _ := curve.GenerateKey(rand.Reader)
	peerPub := peer.PublicKey()
	ours, _ := curve.GenerateKey(rand.Reader)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ours.ECDH(peerPub); err != nil {
			b.Fatal(err)
		}
		k, _ := curve.GenerateKey(rand.Reader)
		if _, err := k.ECDH(peerPub); err != nil {
			b.Fatal(err)
		}
		f.message()
	}
}

// BenchmarkStateMarshal measures MarshalBinary plus UnmarshalBinary of a
// state after a 100-message ping-pong (five receiver chains).
func BenchmarkStateMarshal(b *testing.B) {
	alice, bob := pair(b)
	for range 50 {
		ct, _ := alice.Encrypt([]byte("x"), nil)
		bob.Decrypt(ct, nil, nil)
		ct, _ = bob.Encrypt([]byte("y"), nil)
		alice.Decrypt(ct, nil, nil)
	}
	var s State
	b.ReportAllocs()
	for b.Loop() {
		data, err := alice.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}
