package attachment_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/attachment"
)

func testPointer(t *testing.T) *attachment.Pointer {
	t.Helper()
	k, err := attachment.ParseKey(bytes.Repeat([]byte{0xab}, 64))
	require.NoError(t, err)
	return &attachment.Pointer{BlobID: "Zm9v_bar-1.2~", Key: k, Digest: [32]byte{0xcd}, Size: 3000, PaddedSize: 3050,
		ContentType: "image/jpeg; q=0.9", FileName: "Éclair photo (1).jpg"}
}

// TestPointerEncoding pins the layout and the round trip.
func TestPointerEncoding(t *testing.T) {
	p := testPointer(t)
	padded, _ := attachment.PaddedSize(3000)
	p.PaddedSize = padded
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	want := []byte{1, byte(len(p.BlobID))}
	want = append(want, p.BlobID...)
	want = append(want, bytes.Repeat([]byte{0xab}, 64)...)
	want = append(want, p.Digest[:]...)
	want = binary.BigEndian.AppendUint64(want, 3000)
	want = binary.BigEndian.AppendUint64(want, uint64(padded))
	want = append(want, byte(len(p.ContentType)))
	want = append(want, p.ContentType...)
	want = append(want, byte(len(p.FileName)))
	want = append(want, p.FileName...)
	require.Equal(t, want, b)

	back, err := attachment.ParsePointer(b)
	require.NoError(t, err)
	require.Equal(t, p, back)
	again, err := back.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, again)

	// Optional strings may be empty.
	p.ContentType, p.FileName = "", ""
	b, err = p.MarshalBinary()
	require.NoError(t, err)
	back, err = attachment.ParsePointer(b)
	require.NoError(t, err)
	require.Equal(t, p, back)
}

// TestPointerStrict: each field out of bounds is refused both ways.
func TestPointerStrict(t *testing.T) {
	base := testPointer(t)
	base.PaddedSize, _ = attachment.PaddedSize(base.Size)
	for name, tc := range map[string]struct {
		edit func(*attachment.Pointer)
		want error
	}{
		"empty blob id":             {func(p *attachment.Pointer) { p.BlobID = "" }, attachment.ErrMalformed},
		"blob id with a slash":      {func(p *attachment.Pointer) { p.BlobID = "a/b" }, attachment.ErrMalformed},
		"blob id with a space":      {func(p *attachment.Pointer) { p.BlobID = "a b" }, attachment.ErrMalformed},
		"blob id too long":          {func(p *attachment.Pointer) { p.BlobID = strings.Repeat("a", attachment.MaxBlobIDSize+1) }, attachment.ErrMalformed},
		"content type with a tab":   {func(p *attachment.Pointer) { p.ContentType = "text/plain\t" }, attachment.ErrMalformed},
		"content type not ASCII":    {func(p *attachment.Pointer) { p.ContentType = "text/é" }, attachment.ErrMalformed},
		"content type too long":     {func(p *attachment.Pointer) { p.ContentType = strings.Repeat("a", 256) }, attachment.ErrMalformed},
		"file name with a slash":    {func(p *attachment.Pointer) { p.FileName = "../etc/passwd" }, attachment.ErrMalformed},
		"file name with backslash":  {func(p *attachment.Pointer) { p.FileName = `a\b` }, attachment.ErrMalformed},
		"file name dot dot":         {func(p *attachment.Pointer) { p.FileName = ".." }, attachment.ErrMalformed},
		"file name dot":             {func(p *attachment.Pointer) { p.FileName = "." }, attachment.ErrMalformed},
		"file name with newline":    {func(p *attachment.Pointer) { p.FileName = "a\nb" }, attachment.ErrMalformed},
		"file name with C1 control": {func(p *attachment.Pointer) { p.FileName = "a\u0085b" }, attachment.ErrMalformed},
		"file name not UTF-8":       {func(p *attachment.Pointer) { p.FileName = "a\xffb" }, attachment.ErrMalformed},
		"file name too long":        {func(p *attachment.Pointer) { p.FileName = strings.Repeat("é", 128) }, attachment.ErrMalformed},
		"padded size not bucket":    {func(p *attachment.Pointer) { p.PaddedSize++ }, attachment.ErrMalformed},
		"size negative":             {func(p *attachment.Pointer) { p.Size = -1 }, attachment.ErrTooLarge},
		"size too large":            {func(p *attachment.Pointer) { p.Size = attachment.MaxSize + 1 }, attachment.ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			p := *base
			tc.edit(&p)
			_, err := p.MarshalBinary()
			require.ErrorIs(t, err, tc.want)
		})
	}
	good, err := base.MarshalBinary()
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":             {nil, attachment.ErrMalformed},
		"version 0":         {append([]byte{0}, good[1:]...), attachment.ErrUnsupportedVersion},
		"version 2":         {append([]byte{2}, good[1:]...), attachment.ErrUnsupportedVersion},
		"truncated":         {good[:len(good)-1], attachment.ErrMalformed},
		"only the version":  {good[:1], attachment.ErrMalformed},
		"trailing byte":     {append(bytes.Clone(good), 'x'), attachment.ErrMalformed},
		"blob id length 0":  {append([]byte{1, 0}, good[2+len(base.BlobID):]...), attachment.ErrMalformed},
		"size 2^63":         {setU64(good, 2+len(base.BlobID)+96, 1<<63), attachment.ErrTooLarge},
		"padded size 2^63":  {setU64(good, 2+len(base.BlobID)+104, 1<<63), attachment.ErrMalformed},
		"padded size wrong": {setU64(good, 2+len(base.BlobID)+104, 1024), attachment.ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := attachment.ParsePointer(tc.b)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, p)
		})
	}
}

func setU64(b []byte, at int, v uint64) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint64(b[at:], v)
	return b
}

func TestParseKey(t *testing.T) {
	for _, n := range []int{0, 63, 65} {
		_, err := attachment.ParseKey(make([]byte, n))
		require.ErrorIs(t, err, attachment.ErrMalformed)
	}
	k, err := attachment.ParseKey(bytes.Repeat([]byte{1}, 64))
	require.NoError(t, err)
	b := k.Bytes()
	b[0] = 2
	require.Equal(t, bytes.Repeat([]byte{1}, 64), k.Bytes(), "Bytes is a copy")
}

// TestSecretsDoNotPrint: keys, pointers and readers print no key bytes under
// any verb.
func TestSecretsDoNotPrint(t *testing.T) {
	blob, p := encryptBytes(t, []byte("secret file"))
	r, err := attachment.Open(bytes.NewReader(blob), int64(len(blob)), p)
	require.NoError(t, err)
	k := p.Key
	key := k.Bytes()
	for _, v := range []any{k, &k, p, *p, r, *r, []attachment.Key{k}, struct{ P *attachment.Pointer }{p}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, half := range [][]byte{key[:32], key[32:]} {
				for _, enc := range []string{hex.EncodeToString(half), strings.ToUpper(hex.EncodeToString(half)),
					strings.Trim(fmt.Sprint(half), "[]"), string(half)} {
					require.NotContains(t, out, enc, "%s of %T prints the key", verb, v)
				}
			}
		}
	}
}
