package attachment_test

import (
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/attachment"
)

// bigSize is the file TestBoundedMemory streams.
const bigSize = 100 << 20

// maxAlloc bounds what one Encrypt or Decrypt of bigSize may allocate in
// total: the 64 KiB chunk buffer, hash states, io.Copy's 32 KiB buffer, with
// room to spare, and 1/100 of the file.
const maxAlloc = 1 << 20

// allocated returns the bytes allocated on the heap while f runs (the
// cumulative count, which bounds the peak f adds), and the heap in use
// after it.
func allocated(f func()) (total, heapAfter uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.HeapInuse
}

// TestBoundedMemory streams a 100 MB file through Encrypt into a file and
// back through Decrypt, and checks with runtime.MemStats that neither
// allocated more than maxAlloc bytes in total: memory does not grow with the
// file.
func TestBoundedMemory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()

	src := io.LimitReader(rand.NewChaCha8([32]byte{1}), bigSize)
	in := sha256.New()
	var p *attachment.Pointer
	encAlloc, _ := allocated(func() {
		p, err = attachment.Encrypt(f, io.TeeReader(src, in), bigSize)
	})
	require.NoError(t, err)
	st, err := f.Stat()
	require.NoError(t, err)
	require.Equal(t, p.BlobSize(), st.Size())

	out := sha256.New()
	var n int64
	decAlloc, heap := allocated(func() {
		n, err = attachment.Decrypt(out, f, st.Size(), p)
	})
	require.NoError(t, err)
	require.Equal(t, int64(bigSize), n)
	require.Equal(t, in.Sum(nil), out.Sum(nil), "the 100 MB came back")

	t.Logf("100 MB: Encrypt allocated %d bytes, Decrypt (two passes) %d bytes; heap in use after: %d bytes",
		encAlloc, decAlloc, heap)
	require.Less(t, encAlloc, uint64(maxAlloc), "Encrypt's memory grows with the file")
	require.Less(t, decAlloc, uint64(maxAlloc), "Decrypt's memory grows with the file")
}

// BenchmarkEncrypt and BenchmarkDecrypt report throughput and allocations
// per 1 MiB attachment; allocations per operation are constant in the size
// (compare -benchmem across sizes, not wall time).
func BenchmarkEncrypt(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			pt := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := attachment.Encrypt(io.Discard, newBytesReader(pt), int64(size)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 16 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			blob, p := encryptBytes(b, make([]byte, size))
			r := newBytesReader(blob)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := attachment.Decrypt(io.Discard, r, int64(len(blob)), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return itoa(n>>20) + "MiB"
	default:
		return itoa(n>>10) + "KiB"
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
