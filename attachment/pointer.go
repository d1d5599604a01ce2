package attachment

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

	"github.com/sotto-im/sotto/internal/attachblob"
)

// PointerVersion is the version byte of the pointer encoding.
const PointerVersion = 1

// Bounds of a pointer's strings.
const (
	// MaxBlobIDSize bounds a blob id, in bytes.
	MaxBlobIDSize = 128
	// MaxContentTypeSize bounds a content type, in bytes.
	MaxContentTypeSize = 255
	// MaxFileNameSize bounds a file name, in bytes.
	MaxFileNameSize = 255
)

// A Pointer is what an encrypted message carries to refer to an attachment:
// where the blob is, the key that opens it, and the digest that pins it
// down. It is secret (it holds the key) and travels only inside end-to-end
// encryption.
type Pointer struct {
	// BlobID names the blob on the relay: 1 to MaxBlobIDSize bytes of
	// A-Z a-z 0-9 - . _ ~ (URL-safe), chosen by the uploader or assigned by
	// the relay on upload. Encrypt leaves it empty; set it before
	// MarshalBinary.
	BlobID string
	// Key opens the blob.
	Key Key
	// Digest is the SHA-256 of the whole blob. Open accepts no other blob,
	// and franking.Content.Attachments commits to it.
	Digest [attachblob.DigestSize]byte
	// Size is the plaintext size and PaddedSize the size it is padded to
	// (always PaddedSize(Size)).
	Size, PaddedSize int64
	// ContentType is an optional MIME type: up to MaxContentTypeSize bytes
	// of printable ASCII.
	ContentType string
	// FileName is an optional file name: up to MaxFileNameSize bytes of
	// UTF-8 without control characters, slashes or backslashes, and neither
	// "." nor "..". It is the sender's word: sanitize it again before using
	// it on a file system.
	FileName string
}

// BlobSize returns the size of the blob the pointer names.
func (p *Pointer) BlobSize() int64 { return attachblob.Overhead + p.PaddedSize }

// checkSizes checks what Open needs: a size in range and its bucket.
func (p *Pointer) checkSizes() error {
	padded, ok := attachblob.Bucket(p.Size)
	if !ok {
		return ErrTooLarge
	}
	if p.PaddedSize != padded {
		return ErrMalformed
	}
	return nil
}

// validate checks every field.
func (p *Pointer) validate() error {
	if err := p.checkSizes(); err != nil {
		return err
	}
	if !validBlobID(p.BlobID) || !validContentType(p.ContentType) || !validFileName(p.FileName) {
		return ErrMalformed
	}
	return nil
}

func validBlobID(s string) bool {
	if s == "" || len(s) > MaxBlobIDSize {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

func validContentType(s string) bool {
	if len(s) > MaxContentTypeSize {
		return false
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func validFileName(s string) bool {
	if len(s) > MaxFileNameSize || !utf8.ValidString(s) || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '/' || r == '\\' {
			return false
		}
	}
	return true
}

// MarshalBinary encodes the pointer (version 1), every integer big-endian:
//
//	pointer = 0x01 || u8(len(blobID)) || blobID || key (64) || digest (32) ||
//	          BE64(size) || BE64(paddedSize) ||
//	          u8(len(contentType)) || contentType || u8(len(fileName)) || fileName
//
// It returns ErrMalformed or ErrTooLarge for a pointer out of bounds (an
// empty BlobID included).
func (p *Pointer) MarshalBinary() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 1+1+len(p.BlobID)+KeySize+len(p.Digest)+16+2+len(p.ContentType)+len(p.FileName))
	b = append(b, PointerVersion, byte(len(p.BlobID)))
	b = append(b, p.BlobID...)
	b = append(b, p.Key.k[:]...)
	b = append(b, p.Digest[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Size))
	b = binary.BigEndian.AppendUint64(b, uint64(p.PaddedSize))
	b = append(b, byte(len(p.ContentType)))
	b = append(b, p.ContentType...)
	b = append(b, byte(len(p.FileName)))
	return append(b, p.FileName...), nil
}

// ParsePointer decodes a pointer strictly: version 1 (else
// ErrUnsupportedVersion), every field present and within its bounds, the
// padded size the bucket of the size, nothing after the file name (else
// ErrMalformed or ErrTooLarge). The result re-encodes to exactly b.
func ParsePointer(b []byte) (*Pointer, error) {
	if len(b) == 0 {
		return nil, ErrMalformed
	}
	if b[0] != PointerVersion {
		return nil, ErrUnsupportedVersion
	}
	r := reader{b: b[1:]}
	p := &Pointer{BlobID: string(r.short())}
	copy(p.Key.k[:], r.next(KeySize))
	copy(p.Digest[:], r.next(len(p.Digest)))
	size, padded := binary.BigEndian.Uint64(r.next(8)), binary.BigEndian.Uint64(r.next(8))
	p.ContentType = string(r.short())
	p.FileName = string(r.short())
	if r.bad || len(r.b) != 0 {
		return nil, ErrMalformed
	}
	if size > attachblob.MaxSize {
		return nil, ErrTooLarge
	}
	if padded > 1<<62 {
		return nil, ErrMalformed
	}
	p.Size, p.PaddedSize = int64(size), int64(padded)
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// reader reads fields; after the first short read, every read returns
// zeros and bad is set.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) next(n int) []byte {
	if r.bad || len(r.b) < n {
		r.bad = true
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// short reads a u8-length-prefixed string.
func (r *reader) short() []byte { return r.next(int(r.next(1)[0])) }

func constantTimeEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// String describes the pointer with its key redacted. Pointer has its own
// formatting methods because fmt does not call Key's redaction in every
// case (a *Pointer nested in a struct and printed with %s or %x); they have
// value receivers so that a Pointer value is covered too.
func (p Pointer) String() string {
	return fmt.Sprintf("attachment.Pointer{BlobID: %q, Key: REDACTED, Digest: %x, Size: %d, PaddedSize: %d, "+
		"ContentType: %q, FileName: %q}", p.BlobID, p.Digest, p.Size, p.PaddedSize, p.ContentType, p.FileName)
}

// GoString is String, for %#v.
func (p Pointer) GoString() string { return p.String() }

// Format prints String for every verb.
func (p Pointer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

var (
	_ fmt.Formatter = Pointer{}
	_ fmt.Formatter = (*Pointer)(nil)
)
