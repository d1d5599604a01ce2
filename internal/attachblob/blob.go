// Package attachblob is the blob format behind package attachment: streaming,
// key-committing encrypt-then-MAC of one attachment (AES-256-CTR and
// HMAC-SHA256 under a 64-byte key), with the plaintext padded to a size
// bucket. Package attachment is its only user in applications' reach; this
// package is internal so that Seal, which takes the key and IV as arguments,
// is callable only from inside the module: by attachment (with fresh random
// values) and by testvectors (with the listed ones, for known-answer vectors).
// It must not be used with a key or IV that is not fresh.
//
// The format (version 1), every integer big-endian:
//
//	blob   = header || iv || ciphertext || tag
//	header = 0x01 || BE64(paddedSize) || keyCommitment        (41 bytes)
//	iv     = 16 random bytes, the initial CTR counter block
//	keyCommitment = HMAC-SHA256(macKey, "sotto attachment v1 key commitment" || 0x00 || aesKey)
//	ciphertext    = AES-256-CTR(aesKey, iv, plaintext || 0x80 || zeros)   (paddedSize bytes)
//	tag    = HMAC-SHA256(macKey, header || iv || ciphertext)
//	key    = aesKey (32 bytes) || macKey (32 bytes)
//
// and paddedSize = Bucket(len(plaintext)). The SHA-256 of the whole blob is
// the digest an attachment pointer carries.
package attachblob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Sizes of the format.
const (
	// Version is the blob format version, the first byte of every blob.
	Version = 1
	// KeySize is the size of an attachment key: AES-256 key || HMAC key.
	KeySize = 64
	// IVSize is the size of the CTR initial counter block.
	IVSize = aes.BlockSize
	// HeaderSize is the version, the padded size and the key commitment.
	HeaderSize = 1 + 8 + sha256.Size
	// MACSize is the size of the trailing tag.
	MACSize = sha256.Size
	// Overhead is what a blob adds to the padded plaintext.
	Overhead = HeaderSize + IVSize + MACSize
	// DigestSize is the size of a blob digest (SHA-256).
	DigestSize = sha256.Size
	// MaxSize is the largest plaintext, in bytes (4 GiB).
	MaxSize = 1 << 32
	// MinBucket is the smallest padded size.
	MinBucket = 1024
)

// keyCommitmentLabel separates the key commitment from the tag, both HMACs
// under the MAC key: a tag's input starts with the version byte 0x01, this
// label with 's'.
const keyCommitmentLabel = "sotto attachment v1 key commitment\x00"

// chunkSize is how much of a blob is in memory at a time.
const chunkSize = 64 << 10

// Bucket returns the padded size of a plaintext of size bytes: the smallest
// member of the sequence
//
//	b_0 = 1024,  b_(i+1) = b_i + floor(b_i / 20)
//
// that is at least size + 1 (the padding holds at least its 0x80 marker).
// Each bucket is at most 5% above the one before (the
// rounding to powers of 1.05 that Signal's attachments use, in integer
// arithmetic so that every implementation agrees byte for byte), so the
// padding costs at most 5% (or the 1 KiB floor) and a blob's length tells
// the relay only which of about 310 buckets below MaxSize the file falls in.
// ok is false for a negative size or one above MaxSize.
func Bucket(size int64) (padded int64, ok bool) {
	if size < 0 || size > MaxSize {
		return 0, false
	}
	b := int64(MinBucket)
	for b < size+1 {
		b += b / 20
	}
	return b, true
}

// IsBucket reports whether n is a padded size Bucket can return.
func IsBucket(n int64) bool {
	top, _ := Bucket(MaxSize)
	if n < MinBucket || n > top {
		return false
	}
	b := int64(MinBucket)
	for b < n {
		b += b / 20
	}
	return b == n
}

// splitKey returns the AES key and the MAC key.
func splitKey(key *[KeySize]byte) (aesKey, macKey []byte) { return key[:32], key[32:] }

// keyCommitment is HMAC-SHA256(macKey, label || aesKey). With the tag,
// which commits the MAC key, it commits the whole 64-byte key: a blob that
// authenticates under two different keys needs, if the MAC keys differ, two
// equal HMAC tags under different 32-byte keys over one input (equal outer
// SHA-256 outputs for inputs that differ in their first block), and if only
// the AES keys differ, two equal key commitments under one MAC key over
// different inputs; either way a SHA-256 collision.
func keyCommitment(aesKey, macKey []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, macKey)
	m.Write([]byte(keyCommitmentLabel))
	m.Write(aesKey)
	return [sha256.Size]byte(m.Sum(nil))
}

// header builds the 41-byte header.
func header(padded int64, aesKey, macKey []byte) [HeaderSize]byte {
	var h [HeaderSize]byte
	h[0] = Version
	binary.BigEndian.PutUint64(h[1:9], uint64(padded))
	kc := keyCommitment(aesKey, macKey)
	copy(h[9:], kc[:])
	return h
}

// ctrAt returns the AES-256-CTR keystream of iv positioned at byte offset
// off of the plaintext: the counter block iv + floor(off/16), as a 128-bit
// big-endian integer (the counter crypto/cipher's CTR increments), with the
// first off%16 bytes of that block's keystream discarded.
func ctrAt(aesKey, iv []byte, off int64) cipher.Stream {
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		panic("attachblob: " + err.Error()) // unreachable: the key is 32 bytes
	}
	hi, lo := binary.BigEndian.Uint64(iv[:8]), binary.BigEndian.Uint64(iv[8:])
	var carry uint64
	lo, carry = bits.Add64(lo, uint64(off)/aes.BlockSize, 0)
	hi += carry
	var ctr [aes.BlockSize]byte
	binary.BigEndian.PutUint64(ctr[:8], hi)
	binary.BigEndian.PutUint64(ctr[8:], lo)
	s := cipher.NewCTR(block, ctr[:])
	var skip [aes.BlockSize]byte
	n := off % aes.BlockSize
	s.XORKeyStream(skip[:n], skip[:n])
	return s
}

// paddingMarker opens the padding, as in ISO/IEC 7816-4 (and Signal's
// message padding): plaintext || 0x80 || zeros is unambiguous.
const paddingMarker = 0x80
