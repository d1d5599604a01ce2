package ratchetcore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
)

// The message cipher is AES-256-CBC with PKCS#7 padding; the IV is derived
// with the keys and never sent (internal/wire/WIRE.md §7).

// encryptCBC pads plaintext to a multiple of the block size (always adding
// 1..16 bytes) and encrypts it, appending the result to dst.
func encryptCBC(dst []byte, mk *messageKeys, plaintext []byte) []byte {
	block, err := aes.NewCipher(mk.cipherKey[:])
	if err != nil {
		panic("ratchet: AES key size") // cipherKey is always 32 bytes
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	n := len(plaintext) + pad
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	out := dst[start:]
	copy(out, plaintext)
	for i := len(plaintext); i < n; i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, mk.iv[:]).CryptBlocks(out, out)
	return dst
}

// decryptCBC decrypts ciphertext and removes its PKCS#7 padding. The padding
// check runs in constant time over the last block; it is only reached after
// the MAC has verified, so it is no padding oracle.
func decryptCBC(mk *messageKeys, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, ErrBadPadding
	}
	block, err := aes.NewCipher(mk.cipherKey[:])
	if err != nil {
		panic("ratchet: AES key size")
	}
	out := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, mk.iv[:]).CryptBlocks(out, ciphertext)
	n, ok := unpadPKCS7(out)
	if !ok {
		clear(out)
		return nil, ErrBadPadding
	}
	return out[:n], nil
}

// unpadPKCS7 returns the unpadded length of b, checking every padding byte
// in constant time with respect to the padding's contents.
func unpadPKCS7(b []byte) (int, bool) {
	last := b[len(b)-aes.BlockSize:]
	pad := int(last[aes.BlockSize-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	for i := 0; i < aes.BlockSize; i++ {
		// Byte i of the last block is padding iff i >= 16-pad.
		inPad := subtle.ConstantTimeLessOrEq(aes.BlockSize-pad, i)
		eq := subtle.ConstantTimeByteEq(last[i], byte(pad))
		good &= subtle.ConstantTimeSelect(inPad, eq, 1)
	}
	if good != 1 {
		return 0, false
	}
	return len(b) - pad, true
}
