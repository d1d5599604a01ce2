package attachblob

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCTRAt: the keystream positioned at any offset is crypto/cipher's CTR
// keystream from the start, also when the low 64 bits of the counter carry
// and when the whole 128-bit counter wraps.
func TestCTRAt(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	for _, iv := range [][]byte{
		make([]byte, 16),
		// the low half carries into the high half after 2 blocks
		append(bytes.Repeat([]byte{0x12}, 8), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd),
		// the whole counter wraps after 1 block
		bytes.Repeat([]byte{0xff}, 16),
	} {
		want := make([]byte, 200)
		cipher.NewCTR(block, iv).XORKeyStream(want, want)
		for off := range int64(len(want)) {
			got := make([]byte, len(want)-int(off))
			ctrAt(key, iv, off).XORKeyStream(got, got)
			require.Equal(t, want[off:], got, "iv %x offset %d", iv, off)
		}
	}
}

func TestBucket(t *testing.T) {
	for _, tc := range []struct{ size, padded int64 }{
		{0, 1024}, {1, 1024}, {1023, 1024}, {1024, 1075}, {1074, 1075}, {1075, 1128},
	} {
		got, ok := Bucket(tc.size)
		require.True(t, ok)
		require.Equal(t, tc.padded, got, "Bucket(%d)", tc.size)
	}
	for _, bad := range []int64{-1, MaxSize + 1, 1 << 62} {
		_, ok := Bucket(bad)
		require.False(t, ok)
	}
	// Every bucket holds its size and the marker, is at most 5% (or the
	// 1 KiB floor) above it, and is a bucket; sizes in a bucket share it.
	n := 0
	prev := int64(0)
	for b := int64(MinBucket); ; b += b / 20 {
		require.True(t, IsBucket(b))
		require.False(t, IsBucket(b+1))
		if b-1 <= MaxSize {
			got, _ := Bucket(b - 1)
			require.Equal(t, b, got)
		}
		if prev > 0 {
			got, _ := Bucket(prev)
			require.Equal(t, b, got)
			require.LessOrEqual(t, float64(b), 1.05*float64(prev+1))
		}
		n++
		prev = b
		if b >= MaxSize+1 {
			break
		}
	}
	top, _ := Bucket(MaxSize)
	require.Equal(t, prev, top)
	require.Less(t, n, 320)
	require.False(t, IsBucket(MinBucket-1))
	require.False(t, IsBucket(top+1))
	t.Logf("%d buckets up to %d bytes", n, top)
}
