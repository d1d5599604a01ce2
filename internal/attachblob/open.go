package attachblob

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Verify is the first pass of decryption: it reads the blob once, in
// chunkSize bytes of memory, and accepts it only if, in this order,
//
//  1. its length is Overhead + Bucket(size) (else ErrBlobSize),
//  2. its SHA-256 equals digest (else ErrDigestMismatch): the blob is the one
//     the pointer names, never a blob accepted on its ciphertext alone,
//  3. its header is version 1 (ErrUnsupportedVersion) with that padded size
//     (ErrMalformed),
//  4. its key commitment and its tag verify under key (else
//     ErrAuthentication; both are computed and compared in constant time),
//  5. its padding decrypts to 0x80 then zeros, the marker at offset size
//     (else ErrBadPadding): the blob itself fixes the plaintext's length, so
//     a blob and a key determine one plaintext whatever size a pointer
//     claims, and a blob is the only encoding of its plaintext under its key.
//
// It releases no plaintext; the padding it decrypts to check step 5 is
// only compared with the expected padding. blobSize is the length of the blob as the
// caller stored it; a blob whose reader ends before blobSize is ErrBlobSize.
// size must be in range (ErrTooLarge otherwise).
func Verify(blob io.ReaderAt, blobSize int64, key *[KeySize]byte, digest *[DigestSize]byte, size int64) error {
	padded, ok := Bucket(size)
	if !ok {
		return ErrTooLarge
	}
	if blobSize != Overhead+padded {
		return ErrBlobSize
	}
	aesKey, macKey := splitKey(key)
	r := io.NewSectionReader(blob, 0, blobSize)
	sum := sha256.New()
	mac := hmac.New(sha256.New, macKey)

	var head [HeaderSize + IVSize]byte
	if err := readFull(r, head[:], ErrBlobSize); err != nil {
		return err
	}
	sum.Write(head[:])
	mac.Write(head[:])
	// The keystream from plaintext offset size on: what the padding must
	// decrypt with.
	pad := ctrAt(aesKey, head[HeaderSize:], size)
	var nonzero byte

	buf := make([]byte, min(chunkSize, padded))
	for off := int64(0); off < padded; {
		n := int(min(int64(len(buf)), padded-off))
		if err := readFull(r, buf[:n], ErrBlobSize); err != nil {
			return err
		}
		sum.Write(buf[:n])
		mac.Write(buf[:n])
		if end := off + int64(n); end > size {
			start := max(size-off, 0)
			p := buf[start:n]
			pad.XORKeyStream(p, p)
			if off+start == size {
				p[0] ^= paddingMarker
			}
			for _, c := range p {
				nonzero |= c
			}
		}
		off += int64(n)
	}
	var tag [MACSize]byte
	if err := readFull(r, tag[:], ErrBlobSize); err != nil {
		return err
	}
	sum.Write(tag[:])

	if !hmac.Equal(sum.Sum(nil), digest[:]) {
		return ErrDigestMismatch
	}
	if head[0] != Version {
		return ErrUnsupportedVersion
	}
	if binary.BigEndian.Uint64(head[1:9]) != uint64(padded) {
		return ErrMalformed
	}
	kc := keyCommitment(aesKey, macKey)
	good := subtle.ConstantTimeCompare(kc[:], head[9:HeaderSize]) & subtle.ConstantTimeCompare(mac.Sum(nil), tag[:])
	if good != 1 {
		return ErrAuthentication
	}
	if nonzero != 0 {
		return ErrBadPadding
	}
	return nil
}

// A Reader is the second pass: it decrypts a blob that Verify accepted,
// reading it again chunk by chunk, and returns exactly size plaintext bytes.
// It hashes the blob again as it goes and, at the end, returns io.EOF only
// if the digest is still the one Verify checked; if the blob changed in
// between (a file someone else wrote to), it returns ErrBlobChanged, after
// the plaintext of the changed blob: a caller must discard what it read
// when Read ends with any error but io.EOF.
type Reader struct {
	blob    io.ReaderAt
	off     int64 // next blob offset to read
	plainTo int64 // blob offset where the plaintext (and the padding) starts + size
	end     int64 // blob size
	stream  cipher.Stream
	sum     hash.Hash
	want    [DigestSize]byte
	buf     []byte
	err     error // sticky: io.EOF at the end, or the failure
}

// NewReader returns the second-pass reader of a blob Verify accepted with
// the same arguments. It reads the header and IV.
func NewReader(blob io.ReaderAt, blobSize int64, key *[KeySize]byte, digest *[DigestSize]byte, size int64) (*Reader, error) {
	padded, ok := Bucket(size)
	if !ok {
		return nil, ErrTooLarge
	}
	if blobSize != Overhead+padded {
		return nil, ErrBlobSize
	}
	r := &Reader{blob: blob, end: blobSize, sum: sha256.New(), want: *digest,
		plainTo: HeaderSize + IVSize + size, buf: make([]byte, min(chunkSize, padded))}
	head := r.buf[:HeaderSize+IVSize]
	if err := r.readAt(head); err != nil {
		return nil, err
	}
	r.sum.Write(head)
	aesKey, _ := splitKey(key)
	r.stream = ctrAt(aesKey, head[HeaderSize:], 0)
	return r, nil
}

// readAt reads len(b) bytes at r.off and advances; a short blob is
// ErrBlobChanged (Verify saw all of it).
func (r *Reader) readAt(b []byte) error {
	n, err := r.blob.ReadAt(b, r.off)
	if n == len(b) {
		r.off += int64(n)
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return ErrBlobChanged
	}
	return fmt.Errorf("attachment: reading the blob: %w", err)
}

// Read decrypts the next plaintext bytes into p.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.off < r.plainTo {
		n := int(min(int64(len(p)), int64(len(r.buf)), r.plainTo-r.off))
		if err := r.readAt(r.buf[:n]); err != nil {
			r.err = err
			return 0, err
		}
		r.sum.Write(r.buf[:n])
		r.stream.XORKeyStream(p[:n], r.buf[:n])
		return n, nil
	}
	// The plaintext is out: hash the padding and the tag, then compare.
	for r.off < r.end {
		n := int(min(int64(len(r.buf)), r.end-r.off))
		if err := r.readAt(r.buf[:n]); err != nil {
			r.err = err
			return 0, err
		}
		r.sum.Write(r.buf[:n])
	}
	r.err = io.EOF
	if !hmac.Equal(r.sum.Sum(nil), r.want[:]) {
		r.err = ErrBlobChanged
	}
	r.buf = nil
	return 0, r.err
}

// String returns a placeholder: a Reader holds the key schedule.
func (*Reader) String() string { return "attachblob.Reader(REDACTED)" }

// Format prints String for every verb.
func (r *Reader) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }
