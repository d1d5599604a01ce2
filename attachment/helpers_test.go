package attachment_test

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/attachment"
)

// randBytes returns n reproducible bytes for a seed.
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// encryptBytes encrypts pt and returns the blob and its pointer, with a
// blob id set.
func encryptBytes(t testing.TB, pt []byte) ([]byte, *attachment.Pointer) {
	t.Helper()
	var blob bytes.Buffer
	p, err := attachment.Encrypt(&blob, bytes.NewReader(pt), int64(len(pt)))
	require.NoError(t, err)
	require.Equal(t, p.BlobSize(), int64(blob.Len()))
	require.Equal(t, sha256.Sum256(blob.Bytes()), p.Digest)
	p.BlobID = "blob-1"
	return blob.Bytes(), p
}

// decryptBytes runs Decrypt over an in-memory blob.
func decryptBytes(blob []byte, p *attachment.Pointer) ([]byte, error) {
	var out bytes.Buffer
	n, err := attachment.Decrypt(&out, bytes.NewReader(blob), int64(len(blob)), p)
	if err == nil && n != int64(out.Len()) {
		panic("Decrypt miscounted")
	}
	return out.Bytes(), err
}

func newBytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
