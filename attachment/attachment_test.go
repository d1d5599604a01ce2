package attachment_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/attachment"
)

// TestRoundTrip: every size around the padding floor, the AES block and the
// 64 KiB chunk decrypts to itself, through Decrypt and through a Reader read
// one byte at a time.
func TestRoundTrip(t *testing.T) {
	for i, size := range []int{0, 1, 15, 16, 17, 1022, 1023, 1024, 1025, 65535, 65536, 65537, 200_000} {
		pt := randBytes(uint64(i), size)
		blob, p := encryptBytes(t, pt)
		padded, err := attachment.PaddedSize(int64(size))
		require.NoError(t, err)
		require.Equal(t, padded, p.PaddedSize)
		require.Equal(t, attachment.Overhead+padded, int64(len(blob)))
		require.True(t, attachment.ValidBlobSize(int64(len(blob))))

		got, err := decryptBytes(blob, p)
		require.NoError(t, err, "size %d", size)
		require.Equal(t, pt, got)

		r, err := attachment.Open(bytes.NewReader(blob), int64(len(blob)), p)
		require.NoError(t, err)
		got, err = io.ReadAll(iotest.OneByteReader(r))
		require.NoError(t, err)
		require.Equal(t, pt, got)
		n, err := r.Read(make([]byte, 1))
		require.Equal(t, 0, n)
		require.ErrorIs(t, err, io.EOF, "EOF is sticky")
	}
	// Two encryptions of one file share nothing: fresh key, fresh IV.
	pt := []byte("same file")
	a, pa := encryptBytes(t, pt)
	b, pb := encryptBytes(t, pt)
	require.NotEqual(t, a, b)
	require.False(t, pa.Key.Equal(pb.Key))
	require.NotEqual(t, a[41:57], b[41:57])
}

// TestReaderPassesIOTest runs the standard reader checks on a Reader.
func TestReaderPassesIOTest(t *testing.T) {
	pt := randBytes(9, 100_000)
	blob, p := encryptBytes(t, pt)
	r, err := attachment.Open(bytes.NewReader(blob), int64(len(blob)), p)
	require.NoError(t, err)
	require.NoError(t, iotest.TestReader(r, pt))
}

func TestEncryptErrors(t *testing.T) {
	var dst bytes.Buffer
	for _, size := range []int64{-1, attachment.MaxSize + 1} {
		_, err := attachment.Encrypt(&dst, bytes.NewReader(nil), size)
		require.ErrorIs(t, err, attachment.ErrTooLarge)
	}
	_, err := attachment.Encrypt(&dst, bytes.NewReader(make([]byte, 10)), 11)
	require.ErrorIs(t, err, attachment.ErrSourceSize, "source too short")
	_, err = attachment.Encrypt(&dst, bytes.NewReader(make([]byte, 10)), 9)
	require.ErrorIs(t, err, attachment.ErrSourceSize, "source too long")
	_, err = attachment.Encrypt(&dst, bytes.NewReader(make([]byte, 70_000)), 69_999)
	require.ErrorIs(t, err, attachment.ErrSourceSize, "source too long past a chunk")

	boom := errors.New("disk on fire")
	_, err = attachment.Encrypt(&dst, iotest.ErrReader(boom), 10)
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, attachment.ErrSourceSize)
	_, err = attachment.Encrypt(&dst, io.MultiReader(bytes.NewReader(make([]byte, 10)), iotest.ErrReader(boom)), 10)
	require.ErrorIs(t, err, boom, "an error while checking the source ended")
	_, err = attachment.Encrypt(failingWriter{boom}, bytes.NewReader(make([]byte, 10)), 10)
	require.ErrorIs(t, err, boom)

	// Sources that return short reads are read in full.
	pt := randBytes(3, 5000)
	var blob bytes.Buffer
	p, err := attachment.Encrypt(&blob, iotest.HalfReader(bytes.NewReader(pt)), int64(len(pt)))
	require.NoError(t, err)
	got, err := decryptBytes(blob.Bytes(), p)
	require.NoError(t, err)
	require.Equal(t, pt, got)
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// spec is an independent, in-memory rendering of the format, to craft
// blobs that authenticate but break one rule.
type spec struct {
	version   byte
	headerLen int64 // the padded size written in the header
	key       [64]byte
	iv        [16]byte
	padded    []byte // plaintext || padding, as encrypted
	kcLabel   string
}

func newSpec(pt []byte, key [64]byte) *spec {
	padded, _ := attachment.PaddedSize(int64(len(pt)))
	buf := make([]byte, padded)
	copy(buf, pt)
	buf[len(pt)] = 0x80
	return &spec{version: 1, headerLen: padded, key: key, iv: [16]byte{1, 2, 3}, padded: buf,
		kcLabel: "sotto attachment v1 key commitment\x00"}
}

func (s *spec) blob() []byte {
	mac := func(parts ...[]byte) []byte {
		m := hmac.New(sha256.New, s.key[32:])
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	h := []byte{s.version}
	h = binary.BigEndian.AppendUint64(h, uint64(s.headerLen))
	h = append(h, mac([]byte(s.kcLabel), s.key[:32])...)
	block, _ := aes.NewCipher(s.key[:32])
	ct := make([]byte, len(s.padded))
	cipher.NewCTR(block, s.iv[:]).XORKeyStream(ct, s.padded)
	b := append(append(h, s.iv[:]...), ct...)
	return append(b, mac(b)...)
}

// pointerFor returns a pointer to blob with the spec's key and the blob's
// true digest.
func pointerFor(s *spec, size int, blob []byte) *attachment.Pointer {
	k, _ := attachment.ParseKey(s.key[:])
	padded, _ := attachment.PaddedSize(int64(size))
	return &attachment.Pointer{BlobID: "b", Key: k, Digest: sha256.Sum256(blob), Size: int64(size), PaddedSize: padded}
}

// TestOpenRejects: every defect is refused with its sentinel, in the
// documented order (size, digest, header, authentication, padding), and no
// plaintext is ever written.
func TestOpenRejects(t *testing.T) {
	pt := randBytes(1, 3000)
	key := [64]byte(randBytes(2, 64))
	good := newSpec(pt, key)
	blob := good.blob()
	p := pointerFor(good, len(pt), blob)
	got, err := decryptBytes(blob, p)
	require.NoError(t, err, "the independent rendering is the format")
	require.Equal(t, pt, got)

	// The package's own blobs are the spec's blobs.
	var own bytes.Buffer
	pOwn, err := attachment.Encrypt(&own, bytes.NewReader(pt), int64(len(pt)))
	require.NoError(t, err)
	s := newSpec(pt, [64]byte(pOwn.Key.Bytes()))
	s.iv = [16]byte(own.Bytes()[41:57])
	require.Equal(t, own.Bytes(), s.blob())

	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 0x01; return b }
	withDigest := func(b []byte) *attachment.Pointer { q := *p; q.Digest = sha256.Sum256(b); return &q }
	otherKey := func(edit func(k []byte)) *attachment.Pointer {
		q := *p
		k := q.Key.Bytes()
		edit(k)
		q.Key, _ = attachment.ParseKey(k)
		return &q
	}
	crafted := func(edit func(*spec)) ([]byte, *attachment.Pointer) {
		s := newSpec(pt, key)
		edit(s)
		b := s.blob()
		return b, pointerFor(s, len(pt), b)
	}
	type tc struct {
		blob []byte
		p    *attachment.Pointer
		want error
	}
	cases := map[string]tc{
		"truncated":                   {blob[:len(blob)-1], p, attachment.ErrBlobSize},
		"truncated to the header":     {blob[:41], p, attachment.ErrBlobSize},
		"empty":                       {nil, p, attachment.ErrBlobSize},
		"extended":                    {append(bytes.Clone(blob), 0), p, attachment.ErrBlobSize},
		"wrong digest":                {blob, func() *attachment.Pointer { q := *p; q.Digest[0] ^= 1; return &q }(), attachment.ErrDigestMismatch},
		"wrong key":                   {blob, otherKey(func(k []byte) { copy(k, randBytes(5, 64)) }), attachment.ErrAuthentication},
		"wrong AES key, same MAC key": {blob, otherKey(func(k []byte) { k[0] ^= 1 }), attachment.ErrAuthentication},
		"wrong MAC key, same AES key": {blob, otherKey(func(k []byte) { k[63] ^= 1 }), attachment.ErrAuthentication},
		"size of another bucket": {blob, func() *attachment.Pointer {
			q := *p
			q.Size = 2000
			q.PaddedSize, _ = attachment.PaddedSize(2000)
			return &q
		}(), attachment.ErrBlobSize},
		"padded size not the bucket": {blob, func() *attachment.Pointer { q := *p; q.PaddedSize++; return &q }(), attachment.ErrMalformed},
		"size out of range":          {blob, func() *attachment.Pointer { q := *p; q.Size = -1; return &q }(), attachment.ErrTooLarge},
		"size claims one byte less":  {blob, func() *attachment.Pointer { q := *p; q.Size--; return &q }(), attachment.ErrBadPadding},
		"size claims one byte more":  {blob, func() *attachment.Pointer { q := *p; q.Size++; return &q }(), attachment.ErrBadPadding},
	}
	// A flipped byte anywhere fails the digest; with the digest recomputed
	// (a pointer made for the tampered blob), the check of that region.
	regions := []struct {
		name string
		at   int
		want error
	}{
		{"version", 0, attachment.ErrUnsupportedVersion},
		{"padded size", 8, attachment.ErrMalformed},
		{"key commitment", 20, attachment.ErrAuthentication},
		{"iv", 41 + 15, attachment.ErrAuthentication},
		{"first ciphertext byte", 57, attachment.ErrAuthentication},
		{"marker", 57 + len(pt), attachment.ErrAuthentication},
		{"last padding byte", len(blob) - 33, attachment.ErrAuthentication},
		{"tag", len(blob) - 1, attachment.ErrAuthentication},
	}
	for _, r := range regions {
		b := flip(blob, r.at)
		cases["flipped "+r.name] = tc{b, p, attachment.ErrDigestMismatch}
		cases["flipped "+r.name+", digest recomputed"] = tc{b, withDigest(b), r.want}
	}
	// Blobs that authenticate but break a rule.
	b, q := crafted(func(s *spec) { s.version = 2 })
	cases["version 2, authenticated"] = tc{b, q, attachment.ErrUnsupportedVersion}
	b, q = crafted(func(s *spec) { s.headerLen++ })
	cases["header size wrong, authenticated"] = tc{b, q, attachment.ErrMalformed}
	b, q = crafted(func(s *spec) { s.padded[len(s.padded)-1] = 1 })
	cases["padding not zero, authenticated"] = tc{b, q, attachment.ErrBadPadding}
	b, q = crafted(func(s *spec) { s.padded[len(pt)] = 0 })
	cases["no marker, authenticated"] = tc{b, q, attachment.ErrBadPadding}
	b, q = crafted(func(s *spec) { s.kcLabel = "another label\x00" })
	cases["key commitment of another label"] = tc{b, q, attachment.ErrAuthentication}

	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := decryptBytes(c.blob, c.p)
			require.ErrorIs(t, err, c.want)
			require.Equal(t, c.want.Error(), err.Error(), "the error carries more than the sentinel")
			require.Empty(t, out, "plaintext written before verification")
			r, err := attachment.Open(bytes.NewReader(c.blob), int64(len(c.blob)), c.p)
			require.ErrorIs(t, err, c.want)
			require.Nil(t, r)
		})
	}
}

// TestOpenReadErrors: an I/O error of the blob reader is returned wrapped,
// not as a verdict on the blob.
func TestOpenReadErrors(t *testing.T) {
	blob, p := encryptBytes(t, []byte("x"))
	boom := errors.New("network gone")
	_, err := attachment.Open(errReaderAt{boom}, int64(len(blob)), p)
	require.ErrorIs(t, err, boom)
}

type errReaderAt struct{ err error }

func (r errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, r.err }

// changingReaderAt serves a until the blob's start is read a second time
// (the Reader's pass), then b.
type changingReaderAt struct {
	a, b   []byte
	starts int
}

func (r *changingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off == 0 {
		r.starts++
	}
	src := r.a
	if r.starts > 1 {
		src = r.b
	}
	return bytes.NewReader(src).ReadAt(p, off)
}

// TestBlobChangedBetweenPasses: a blob replaced after Open verified it ends
// the Reader with ErrBlobChanged, not io.EOF, also when the replacement is
// a valid blob under the same key, and also when it is shorter.
func TestBlobChangedBetweenPasses(t *testing.T) {
	pt := randBytes(4, 3000)
	key := [64]byte(randBytes(6, 64))
	s := newSpec(pt, key)
	blob := s.blob()
	p := pointerFor(s, len(pt), blob)
	other := newSpec(randBytes(7, 3000), key) // the sender's second blob, same key
	other.iv = [16]byte{9}
	for name, replacement := range map[string][]byte{
		"flipped ciphertext":       func() []byte { b := bytes.Clone(blob); b[100] ^= 1; return b }(),
		"another blob, same key":   other.blob(),
		"truncated":                blob[:500],
		"flipped tag (after text)": func() []byte { b := bytes.Clone(blob); b[len(b)-1] ^= 1; return b }(),
	} {
		t.Run(name, func(t *testing.T) {
			ra := &changingReaderAt{a: blob, b: replacement}
			var out bytes.Buffer
			_, err := attachment.Decrypt(&out, ra, int64(len(blob)), p)
			require.ErrorIs(t, err, attachment.ErrBlobChanged)
		})
	}
	// Unchanged, the same reader type ends cleanly.
	var out bytes.Buffer
	_, err := attachment.Decrypt(&out, &changingReaderAt{a: blob, b: blob}, int64(len(blob)), p)
	require.NoError(t, err)
	require.Equal(t, pt, out.Bytes())
}

func TestValidBlobSize(t *testing.T) {
	for _, n := range []int64{0, 1, attachment.Overhead, attachment.Overhead + 1023, attachment.Overhead + 1025, -1} {
		require.False(t, attachment.ValidBlobSize(n), "%d", n)
	}
	require.True(t, attachment.ValidBlobSize(attachment.Overhead+1024))
	require.True(t, attachment.ValidBlobSize(attachment.Overhead+1075))
}
