package kdf

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestHMACMatchesStdlib(t *testing.T) {
	for _, keyLen := range []int{0, 1, 32, 64, 65, 200} {
		for _, msgLen := range []int{0, 1, 63, 64, 200, 256, 257, 5000} {
			key := bytes.Repeat([]byte{byte(keyLen)}, keyLen)
			msg := bytes.Repeat([]byte{byte(msgLen + 1)}, msgLen)
			h := hmac.New(sha256.New, key)
			h.Write(msg)
			want := h.Sum(nil)
			// Split the message in three parts to exercise concatenation.
			a, b := msgLen/3, 2*msgLen/3
			got := HMAC(key, msg[:a], msg[a:b], msg[b:])
			if !bytes.Equal(got[:], want) {
				t.Fatalf("key %d msg %d: got %x want %x", keyLen, msgLen, got, want)
			}
		}
	}
}

// TestRFC5869 checks test case 1 of RFC 5869, appendix A.
func TestRFC5869(t *testing.T) {
	ikm := bytes.Repeat([]byte{0x0b}, 22)
	salt, _ := hex.DecodeString("000102030405060708090a0b0c")
	info, _ := hex.DecodeString("f0f1f2f3f4f5f6f7f8f9")
	okm := make([]byte, 42)
	if err := Key(okm, salt, ikm, info[:3], info[3:]); err != nil {
		t.Fatal(err)
	}
	want := "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
	if hex.EncodeToString(okm) != want {
		t.Fatalf("got %x", okm)
	}
}

func TestHKDFMatchesStdlib(t *testing.T) {
	for _, n := range []int{1, 32, 64, 80, 96, 1000, MaxExpand} {
		for _, salt := range [][]byte{nil, {}, bytes.Repeat([]byte{9}, 32), bytes.Repeat([]byte{7}, 100)} {
			ikm := bytes.Repeat([]byte{3}, 33)
			want, err := hkdf.Key(sha256.New, ikm, salt, "label", n)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, n)
			if err := Key(got, salt, ikm, []byte("label")); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d salt=%d: mismatch", n, len(salt))
			}
		}
	}
}

func TestExpandLimits(t *testing.T) {
	var prk [Size]byte
	if err := Expand(make([]byte, MaxExpand+1), &prk); err != ErrTooLong {
		t.Fatalf("got %v", err)
	}
	if err := Expand(make([]byte, 32), &prk, make([]byte, shortInput)); err != ErrTooLong {
		t.Fatalf("long info: got %v", err)
	}
}

func TestNoAllocations(t *testing.T) {
	key := make([]byte, 32)
	out := make([]byte, 96)
	n := testing.AllocsPerRun(100, func() {
		HMAC(key, []byte{1})
		_ = Key(out, key, key, []byte("WhisperMessageKeys"))
	})
	if n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

func BenchmarkHMAC(b *testing.B) {
	key := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		HMAC(key, []byte{1})
	}
}

func BenchmarkStdlibHMAC(b *testing.B) {
	key := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		h := hmac.New(sha256.New, key)
		h.Write([]byte{1})
		h.Sum(nil)
	}
}
