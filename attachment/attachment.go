package attachment

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/sotto-im/sotto/internal/attachblob"
)

// Limits of the format.
const (
	// MaxSize is the largest attachment, in bytes (4 GiB). Applications and
	// relays will usually accept much less.
	MaxSize = attachblob.MaxSize
	// Overhead is what a blob adds to the padded plaintext: a 41-byte
	// header, a 16-byte IV and a 32-byte tag.
	Overhead = attachblob.Overhead
)

// Encrypt reads exactly size bytes from src, encrypts them under a fresh
// random key and writes the blob to dst, streaming: memory use is one 64 KiB
// buffer whatever the size. It returns the Pointer to put in the message,
// with BlobID empty (set it once the blob is uploaded). It returns
// ErrTooLarge for a size out of range, ErrSourceSize if src holds fewer or
// more than size bytes, and wraps I/O errors of src and dst; on any error
// what was written to dst must be discarded.
func Encrypt(dst io.Writer, src io.Reader, size int64) (*Pointer, error) {
	var key [KeySize]byte
	var iv [attachblob.IVSize]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails: it crashes the program instead
	_, _ = rand.Read(iv[:])
	defer clear(key[:])
	digest, err := attachblob.Seal(dst, src, size, &key, &iv)
	if err != nil {
		return nil, err
	}
	padded, _ := attachblob.Bucket(size)
	return &Pointer{Key: Key{k: key}, Digest: digest, Size: size, PaddedSize: padded}, nil
}

// Open verifies the blob a pointer names and returns a Reader of its
// plaintext. blob holds the downloaded blob and size is its length, as for
// zip.NewReader: usually an *os.File the client downloaded to (ciphertext
// only, so a temporary file is safe) and its size.
//
// Open reads the whole blob once before it returns, in bounded memory, and
// returns an error unless its length, its SHA-256 (the pointer's Digest,
// checked first: a blob is never accepted on its ciphertext alone), its
// header, its key commitment and tag (the pointer's Key) and its padding
// are right: ErrBlobSize, ErrDigestMismatch, ErrUnsupportedVersion or
// ErrMalformed, ErrAuthentication, ErrBadPadding, in that order. Only then
// does the Reader decrypt, reading blob a second time; blob must not change
// in between (see Reader).
func Open(blob io.ReaderAt, size int64, p *Pointer) (*Reader, error) {
	if err := p.checkSizes(); err != nil {
		return nil, err
	}
	if err := attachblob.Verify(blob, size, &p.Key.k, &p.Digest, p.Size); err != nil {
		return nil, err
	}
	r, err := attachblob.NewReader(blob, size, &p.Key.k, &p.Digest, p.Size)
	if err != nil {
		return nil, err
	}
	return &Reader{r: r}, nil
}

// A Reader returns the plaintext of a blob Open verified: exactly the
// pointer's Size bytes, then io.EOF. It reads the blob a second time, 64 KiB
// at a time, and hashes it again; if the blob changed since Open verified it
// (a file another process wrote to), the last Read returns ErrBlobChanged
// instead of io.EOF, and everything read must be discarded. Decrypt to a
// temporary file and rename it on success, or keep the downloaded blob where
// only the client writes.
type Reader struct {
	r *attachblob.Reader
}

// Read reads plaintext into p.
func (r *Reader) Read(p []byte) (int, error) { return r.r.Read(p) }

// String returns a placeholder: a Reader holds the key schedule.
func (Reader) String() string { return "attachment.Reader(REDACTED)" }

// Format prints the placeholder for every verb.
func (r Reader) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// Decrypt is Open followed by copying the plaintext to dst. It returns the
// number of plaintext bytes written. On any error what was written to dst
// must be discarded (with ErrBlobChanged, it is the plaintext of a blob
// that changed after it was verified; with every other error from Open,
// nothing was written).
func Decrypt(dst io.Writer, blob io.ReaderAt, size int64, p *Pointer) (int64, error) {
	r, err := Open(blob, size, p)
	if err != nil {
		return 0, err
	}
	return io.Copy(dst, r)
}

// PaddedSize returns the size a plaintext of size bytes is padded to:
// the smallest member of
//
//	b_0 = 1024,  b_(i+1) = b_i + floor(b_i / 20)
//
// that is at least size + 1, room for the padding's 0x80 marker (Signal-style rounding to powers of 1.05, in exact
// integer arithmetic). It returns ErrTooLarge for a size out of range.
func PaddedSize(size int64) (int64, error) {
	padded, ok := attachblob.Bucket(size)
	if !ok {
		return 0, ErrTooLarge
	}
	return padded, nil
}

// ValidBlobSize reports whether n is the size of a blob: Overhead plus a
// padded size. A relay refuses uploads of any other size, so that every blob
// it stores is padded.
func ValidBlobSize(n int64) bool { return attachblob.IsBucket(n - Overhead) }
