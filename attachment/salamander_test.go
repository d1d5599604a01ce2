package attachment_test

// The invisible-salamanders attack of Dodis, Grubbs, Ristenpart and
// Woodage ("Fast Message Franking: From Invisible Salamanders to
// Encryptment", CRYPTO 2018, section 3): one AES-GCM ciphertext that
// decrypts, and authenticates, under two different keys to two different
// files. GCM's tag is a polynomial in the ciphertext blocks over GF(2^128),
// linear in each block once the keys are fixed, so one free ciphertext
// block can be solved for to make both keys' tags equal. Then the same
// trick against this package's format: the tag is HMAC-SHA256, not linear
// in anything, and the key commitment binds the AES key, so it fails.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/attachment"
)

// gf is an element of GF(2^128) in GCM's bit order (NIST SP 800-38D,
// section 6.3): the first bit of the 16-byte block is the coefficient of
// x^0, the field polynomial is x^128 + x^7 + x^2 + x + 1.
type gf struct{ hi, lo uint64 }

func gfFromBlock(b []byte) gf {
	return gf{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (x gf) block() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, x.hi), x.lo)
}

func (x gf) add(y gf) gf { return gf{x.hi ^ y.hi, x.lo ^ y.lo} }

// mul is SP 800-38D Algorithm 1: for each bit of x, from x^0 up, add V and
// multiply V by x (a right shift, reducing with R = 11100001 || 0^120).
func (x gf) mul(y gf) gf {
	var z gf
	v := y
	for i := range 128 {
		var bit uint64
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		} else {
			bit = x.lo >> (127 - i) & 1
		}
		if bit == 1 {
			z = z.add(v)
		}
		carry := v.lo & 1
		v.lo = v.lo>>1 | v.hi<<63
		v.hi >>= 1
		if carry == 1 {
			v.hi ^= 0xe1 << 56
		}
	}
	return z
}

var gfOne = gf{hi: 1 << 63}

func (x gf) pow(n int) gf {
	r := gfOne
	for range n {
		r = r.mul(x)
	}
	return r
}

// inv is x^(2^128 - 2): x^(2^k - 1) for k = 1 .. 127 by r = r^2 * x, then
// one more squaring.
func (x gf) inv() gf {
	r := x
	for range 126 {
		r = r.mul(r).mul(x)
	}
	return r.mul(r)
}

// gcmParts are the values of one AES-GCM key and 96-bit nonce: the hash key
// H = E_K(0^128), the tag mask E_K(J0) and the keystream of n blocks.
type gcmParts struct {
	aead      cipher.AEAD
	h, mask   gf
	keystream []byte
}

func newGCMParts(t *testing.T, key, nonce []byte, n int) *gcmParts {
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	p := &gcmParts{aead: aead}
	var b [16]byte
	block.Encrypt(b[:], b[:])
	p.h = gfFromBlock(b[:])
	j0 := append(append([]byte(nil), nonce...), 0, 0, 0, 1)
	block.Encrypt(b[:], j0)
	p.mask = gfFromBlock(b[:])
	ctr := append(append([]byte(nil), nonce...), 0, 0, 0, 2) // inc32(J0)
	p.keystream = make([]byte, 16*n)
	cipher.NewCTR(block, ctr).XORKeyStream(p.keystream, p.keystream)
	return p
}

// tag is GCM's tag of a whole-block ciphertext without associated data:
// GHASH_H(C_1, ..., C_m, L) xor E_K(J0), where GHASH is
// C_1 H^(m+1) + ... + C_m H^2 + L H and L = 0^64 || BE64(bit length).
func (p *gcmParts) tag(ct []byte) gf {
	m := len(ct) / 16
	y := gf{}
	for i := range m {
		y = y.add(gfFromBlock(ct[16*i:]).mul(p.h.pow(m + 1 - i)))
	}
	return y.add(lengthBlock(len(ct)).mul(p.h)).add(p.mask)
}

func lengthBlock(n int) gf { return gf{0, uint64(n) * 8} }

func TestGF128(t *testing.T) {
	x := gfFromBlock(randBytes(20, 16))
	y := gfFromBlock(randBytes(21, 16))
	z := gfFromBlock(randBytes(22, 16))
	require.Equal(t, x, x.mul(gfOne))
	require.Equal(t, x.mul(y), y.mul(x))
	require.Equal(t, x.mul(y.add(z)), x.mul(y).add(x.mul(z)))
	require.Equal(t, gfOne, x.mul(x.inv()))
	// Our GCM tag is crypto/cipher's: the arithmetic is the real one.
	key, nonce := randBytes(23, 32), randBytes(24, 12)
	p := newGCMParts(t, key, nonce, 5)
	sealed := p.aead.Seal(nil, nonce, randBytes(25, 80), nil)
	require.Equal(t, sealed[80:], p.tag(sealed[:80]).block())
	require.Equal(t, sealed[:80], xor(randBytes(25, 80), p.keystream), "the keystream is GCM's")
}

func xor(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// The two files. As in the paper, a real attack wraps each in a file
// format that ignores the other's region (a JPEG comment, a BMP's unused
// tail); here each file is simply the region its key controls.
var (
	innocent = []byte("a picture of a kitten asleep in a sunny window..") // 48 bytes: 3 blocks
	abusive  = []byte("THE ABUSIVE IMAGE THE RECIPIENT WAS SHOWN!......") // 48 bytes: 3 blocks
)

// TestInvisibleSalamandersGCM builds one (nonce, ciphertext, tag) that
// AES-GCM opens under two keys, to a plaintext starting with one file under
// the first and ending with the other under the second.
func TestInvisibleSalamandersGCM(t *testing.T) {
	k1, k2, nonce := randBytes(30, 32), randBytes(31, 32), randBytes(32, 12)
	const m, free = 7, 3 // blocks 0-2 for k1's file, 3 solved for, 4-6 for k2's file
	g1, g2 := newGCMParts(t, k1, nonce, m), newGCMParts(t, k2, nonce, m)

	ct := make([]byte, 16*m)
	copy(ct, xor(innocent, g1.keystream[:48]))
	copy(ct[16*(free+1):], xor(abusive, g2.keystream[16*(free+1):]))

	// tag1 = tag2 is linear in the free block C_f:
	// C_f (H1^e + H2^e) = sum over other blocks of C_i (H1^ei + H2^ei)
	//                     + L (H1 + H2) + E_K1(J0) + E_K2(J0)
	exp := func(i int) int { return m + 1 - i }
	s := lengthBlock(len(ct)).mul(g1.h.add(g2.h)).add(g1.mask).add(g2.mask)
	for i := range m {
		if i != free {
			s = s.add(gfFromBlock(ct[16*i:]).mul(g1.h.pow(exp(i)).add(g2.h.pow(exp(i)))))
		}
	}
	cf := s.mul(g1.h.pow(exp(free)).add(g2.h.pow(exp(free))).inv())
	copy(ct[16*free:], cf.block())
	tag := g1.tag(ct)
	require.Equal(t, tag, g2.tag(ct), "the tags collide")
	sealed := append(bytes.Clone(ct), tag.block()...)

	p1, err := g1.aead.Open(nil, nonce, sealed, nil)
	require.NoError(t, err, "GCM accepts the ciphertext under the first key")
	p2, err := g2.aead.Open(nil, nonce, sealed, nil)
	require.NoError(t, err, "GCM accepts the same ciphertext under the second key")
	require.Equal(t, innocent, p1[:48])
	require.Equal(t, abusive, p2[16*(free+1):])
	require.NotEqual(t, p1, p2)
	// A digest of the ciphertext (what a franked message commits to) is the
	// same for both: it does not tell which file the recipient saw.
}

// plainEtMOpen is Signal's attachment layout without a key commitment:
// the tag is HMAC-SHA256(macKey, iv || ciphertext), which commits the MAC
// key only. It returns the plaintext if the tag verifies.
func plainEtMOpen(key, iv, ct, tag []byte) ([]byte, bool) {
	m := hmac.New(sha256.New, key[32:])
	m.Write(iv)
	m.Write(ct)
	if !hmac.Equal(m.Sum(nil), tag) {
		return nil, false
	}
	return ctr(key[:32], iv, ct), true
}

// oursBlob assembles a blob of this package's format around a ciphertext
// chosen freely: header with the key commitment of (aesKey, macKey), iv,
// ciphertext, tag.
func oursBlob(aesKey, macKey, iv, ct []byte) []byte {
	kc := hmac.New(sha256.New, macKey)
	kc.Write([]byte("sotto attachment v1 key commitment\x00"))
	kc.Write(aesKey)
	b := binary.BigEndian.AppendUint64([]byte{1}, uint64(len(ct)))
	b = append(append(append(b, kc.Sum(nil)...), iv...), ct...)
	tag := hmac.New(sha256.New, macKey)
	tag.Write(b)
	return append(b, tag.Sum(nil)...)
}

func ctr(key, iv, in []byte) []byte {
	block, _ := aes.NewCipher(key)
	out := make([]byte, len(in))
	cipher.NewCTR(block, iv).XORKeyStream(out, in)
	return out
}

// TestSalamandersFailHere: the trick against this package. With two
// independent 64-byte keys nothing can be solved for: the tag is
// HMAC-SHA256 under each MAC key, and equal tags under two MAC keys are a
// SHA-256 collision. The only way to have one tag verify under two keys is
// to share the MAC key; against plain encrypt-then-MAC (the tag alone) that
// works, and CTR's malleability makes each key show its own file. The key
// commitment in the header stops it: the second key is refused.
func TestSalamandersFailHere(t *testing.T) {
	aes1, aes2, macKey, iv := randBytes(40, 32), randBytes(41, 32), randBytes(42, 32), randBytes(43, 16)
	padded, err := attachment.PaddedSize(int64(len(innocent)))
	require.NoError(t, err)

	key1 := append(bytes.Clone(aes1), macKey...)
	key2 := append(bytes.Clone(aes2), macKey...)

	// The ciphertext: the innocent file, then (at offset 512, in what key 1
	// sees as the file's ignored tail) the abusive file under aes2, then the
	// padding under aes1.
	const at = 512
	size := at + len(abusive)
	pt1 := make([]byte, padded)
	copy(pt1, innocent)
	pt1[size] = 0x80
	ct := ctr(aes1, iv, pt1)
	ks2 := ctr(aes2, iv, make([]byte, padded))
	copy(ct[at:], xor(abusive, ks2[at:size]))

	// Plain encrypt-then-MAC is fooled: the tag verifies under both keys,
	// and each decrypts to its own file.
	m := hmac.New(sha256.New, macKey)
	m.Write(iv)
	m.Write(ct)
	etmTag := m.Sum(nil)
	got1, ok1 := plainEtMOpen(key1, iv, ct, etmTag)
	got2, ok2 := plainEtMOpen(key2, iv, ct, etmTag)
	require.True(t, ok1)
	require.True(t, ok2)
	require.Equal(t, innocent, got1[:len(innocent)])
	require.Equal(t, abusive, got2[at:size])

	// This package's format, the same ciphertext in a blob committed to
	// (aes1, macKey): genuine under key 1.
	blob := oursBlob(aes1, macKey, iv, ct)
	k1, err := attachment.ParseKey(key1)
	require.NoError(t, err)
	k2, err := attachment.ParseKey(key2)
	require.NoError(t, err)
	p := &attachment.Pointer{BlobID: "x", Key: k1, Digest: sha256.Sum256(blob), Size: int64(size), PaddedSize: padded}
	got, err := decryptBytes(blob, p)
	require.NoError(t, err, "the blob is genuine under key 1")
	require.Equal(t, innocent, got[:len(innocent)])

	// The second key, sharing the MAC key, would decrypt it to the abusive
	// file; the key commitment refuses it before any plaintext.
	p2 := *p
	p2.Key = k2
	got, err = decryptBytes(blob, &p2)
	require.ErrorIs(t, err, attachment.ErrAuthentication)
	require.Empty(t, got)

	// A blob committed to key 2 instead is a different blob (another
	// header, tag and digest), and key 1 is refused on it: a digest names
	// one blob, and a blob one key.
	blob2 := oursBlob(aes2, macKey, iv, ct)
	require.NotEqual(t, sha256.Sum256(blob), sha256.Sum256(blob2))
	p1 := *p
	p1.Digest = sha256.Sum256(blob2)
	_, err = decryptBytes(blob2, &p1)
	require.ErrorIs(t, err, attachment.ErrAuthentication)

	// Independent keys: the GCM solution has no counterpart (HMAC is not
	// linear), and changing any ciphertext block, as the attack does,
	// changes the tag.
	k3, err := attachment.ParseKey(randBytes(44, 64))
	require.NoError(t, err)
	p3 := *p
	p3.Key = k3
	_, err = decryptBytes(blob, &p3)
	require.ErrorIs(t, err, attachment.ErrAuthentication)
}
