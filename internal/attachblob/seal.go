package attachblob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Seal encrypts exactly size bytes of src under key and iv and writes the
// blob to dst, in one pass and chunkSize bytes of memory. It returns the
// SHA-256 digest of the blob. It returns ErrTooLarge for a size out of
// range, ErrSourceSize if src holds fewer or more than size bytes (dst then
// holds a partial blob, to be discarded), and wraps any I/O error of src or
// dst. key and iv must be fresh: package attachment draws them from
// crypto/rand.
func Seal(dst io.Writer, src io.Reader, size int64, key *[KeySize]byte, iv *[IVSize]byte) ([DigestSize]byte, error) {
	padded, ok := Bucket(size)
	if !ok {
		return [DigestSize]byte{}, ErrTooLarge
	}
	aesKey, macKey := splitKey(key)
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		panic("attachblob: " + err.Error()) // unreachable: the key is 32 bytes
	}
	w := &blobWriter{dst: dst, digest: sha256.New(), mac: hmac.New(sha256.New, macKey)}
	h := header(padded, aesKey, macKey)
	w.write(h[:])
	w.write(iv[:])

	// ciphertext = AES-256-CTR(aesKey, iv, plaintext || 0x80 || zeros)
	stream := cipher.NewCTR(block, iv[:])
	buf := make([]byte, min(chunkSize, padded))
	for off := int64(0); off < size && w.err == nil; {
		n := int(min(int64(len(buf)), size-off))
		if _, err := io.ReadFull(src, buf[:n]); err != nil {
			return [DigestSize]byte{}, sourceError(err)
		}
		stream.XORKeyStream(buf[:n], buf[:n])
		w.write(buf[:n])
		off += int64(n)
	}
	if w.err == nil {
		var one [1]byte
		if _, err := io.ReadAtLeast(src, one[:], 1); err == nil {
			return [DigestSize]byte{}, ErrSourceSize
		} else if !errors.Is(err, io.EOF) {
			return [DigestSize]byte{}, fmt.Errorf("attachment: reading the source: %w", err)
		}
	}
	for off := size; off < padded && w.err == nil; {
		n := int(min(int64(len(buf)), padded-off))
		clear(buf[:n])
		if off == size {
			buf[0] = paddingMarker
		}
		stream.XORKeyStream(buf[:n], buf[:n])
		w.write(buf[:n])
		off += int64(n)
	}

	// tag = HMAC-SHA256(macKey, header || iv || ciphertext), then the
	// digest covers the tag too.
	tag := w.mac.Sum(nil)
	w.mac = nil
	w.write(tag)
	if w.err != nil {
		return [DigestSize]byte{}, w.err
	}
	return [DigestSize]byte(w.digest.Sum(nil)), nil
}

func sourceError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrSourceSize
	}
	return fmt.Errorf("attachment: reading the source: %w", err)
}

// blobWriter writes to the destination and feeds the digest and, while it
// is set, the MAC. The first write error sticks.
type blobWriter struct {
	dst    io.Writer
	digest hash.Hash
	mac    hash.Hash
	err    error
}

func (w *blobWriter) write(b []byte) {
	if w.err != nil {
		return
	}
	w.digest.Write(b)
	if w.mac != nil {
		w.mac.Write(b)
	}
	if _, err := w.dst.Write(b); err != nil {
		w.err = fmt.Errorf("attachment: writing the blob: %w", err)
	}
}
