package testvectors

// Generator of attachment.json: blobs sealed by internal/attachblob (the
// deterministic core of attachment.Encrypt) with keys and IVs drawn from
// seeded streams, and by the independent in-memory implementation below
// (written from attachment's package documentation with crypto/aes,
// crypto/cipher, crypto/hmac); generation fails if they differ. The
// negative cases are built with the independent implementation, so that
// they can break one rule while keeping the others (a blob that
// authenticates but has a bad padding), and the verifier run on the file
// checks each rejection against Sotto.

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/sotto-im/sotto/attachment"
	"github.com/sotto-im/sotto/internal/attachblob"
)

const specKeyCommitmentLabel = "sotto attachment v1 key commitment\x00"

// specBucket is the smallest b_i >= size + 1, b_0 = 1024,
// b_(i+1) = b_i + floor(b_i / 20).
func specBucket(size int64) int64 {
	b := int64(1024)
	for b < size+1 {
		b += b / 20
	}
	return b
}

// specBlob describes one blob, every field free to be set wrong.
type specBlob struct {
	version    byte
	headerSize int64  // the padded size written in the header
	key        []byte // aes key || mac key
	commitKey  []byte // the AES key the header commits to (normally key[:32])
	iv         []byte //
	padded     []byte // plaintext || 0x80 || zeros, as encrypted
}

func newSpecBlob(key, iv, pt []byte) *specBlob {
	padded := make([]byte, specBucket(int64(len(pt))))
	copy(padded, pt)
	padded[len(pt)] = 0x80
	return &specBlob{version: 1, headerSize: int64(len(padded)), key: key, commitKey: key[:32], iv: iv, padded: padded}
}

// bytes renders header || iv || AES-256-CTR(padded) || HMAC tag.
func (s *specBlob) bytes() []byte {
	h := binary.BigEndian.AppendUint64([]byte{s.version}, uint64(s.headerSize))
	h = append(h, specHMAC(s.key[32:], []byte(specKeyCommitmentLabel), s.commitKey)...)
	ct := specCTR(s.key[:32], s.iv, s.padded)
	b := slices.Concat(h, s.iv, ct)
	return append(b, specHMAC(s.key[32:], b)...)
}

// specCTR is AES-256-CTR from the full 16-byte counter block iv.
func specCTR(key, iv, in []byte) []byte {
	out := make([]byte, len(in))
	block := must(aes.NewCipher(key))
	ctr := slices.Clone(iv)
	var ks [16]byte
	for i := 0; i < len(in); i += 16 {
		block.Encrypt(ks[:], ctr)
		for j := i; j < min(i+16, len(in)); j++ {
			out[j] = in[j] ^ ks[j-i]
		}
		for k := 15; k >= 0; k-- { // increment the 128-bit big-endian counter
			ctr[k]++
			if ctr[k] != 0 {
				break
			}
		}
	}
	return out
}

// specPointer is the version-1 pointer encoding.
func specPointer(blobID string, key, digest []byte, size, padded int64, contentType, fileName string) []byte {
	b := append([]byte{1, byte(len(blobID))}, blobID...)
	b = slices.Concat(b, key, digest, binary.BigEndian.AppendUint64(nil, uint64(size)),
		binary.BigEndian.AppendUint64(nil, uint64(padded)), []byte{byte(len(contentType))}, []byte(contentType),
		[]byte{byte(len(fileName))}, []byte(fileName))
	return b
}

// sealed seals pt with key and iv through attachblob.Seal and checks the
// result against the independent implementation.
func sealed(key, iv, pt []byte) []byte {
	want := newSpecBlob(key, iv, pt).bytes()
	var got bytes.Buffer
	digest := must(attachblob.Seal(&got, bytes.NewReader(pt), int64(len(pt)), (*[64]byte)(key), (*[16]byte)(iv)))
	if !bytes.Equal(got.Bytes(), want) || digest != sha256.Sum256(want) {
		panic("generator: attachblob.Seal disagrees with the independent implementation")
	}
	return want
}

// pointerBytes encodes a pointer with the spec, checked against
// attachment.Pointer.MarshalBinary when that can encode it.
func pointerBytes(blobID string, key, digest []byte, size, padded int64, contentType, fileName string) []byte {
	want := specPointer(blobID, key, digest, size, padded, contentType, fileName)
	k, err := attachment.ParseKey(key)
	if err != nil {
		return want
	}
	p := &attachment.Pointer{BlobID: blobID, Key: k, Digest: [32]byte(digest), Size: size, PaddedSize: padded,
		ContentType: contentType, FileName: fileName}
	if got, err := p.MarshalBinary(); err == nil && !bytes.Equal(got, want) {
		panic("generator: attachment's pointer encoding disagrees with the independent implementation")
	}
	return want
}

func genAttachment() []byte {
	f := &vectorFile[attachmentGroup]{fileHeader: fileHeader{
		Algorithm: algAttachment,
		Header: []string{
			"Attachment encryption (package attachment), version 1; integers big-endian, sizes in bytes.",
			"paddedSize = the smallest b_i >= size + 1 with b_0 = 1024, b_(i+1) = b_i + floor(b_i / 20); blobSize = paddedSize + 89.",
			"key = aesKey (32) || macKey (32). blob = header || iv || ciphertext || tag, header = 0x01 || BE64(paddedSize) || HMAC-SHA256(macKey, \"sotto attachment v1 key commitment\" || 0x00 || aesKey), ciphertext = AES-256-CTR(aesKey, iv as a 128-bit big-endian counter, plaintext || 0x80 || zeros to paddedSize), tag = HMAC-SHA256(macKey, header || iv || ciphertext); digest = SHA-256(blob).",
			"pointer = 0x01 || u8(len(blobId)) || blobId || key (64) || digest (32) || BE64(size) || BE64(paddedSize) || u8(len(contentType)) || contentType || u8(len(fileName)) || fileName; blobId is 1 to 128 bytes of A-Z a-z 0-9 - . _ ~, contentType printable ASCII, fileName UTF-8 without control characters, / or \\, and not . or ..",
			"AttachmentPadding: size -> paddedSize, blobSize (invalid: a size below 0 or above 2^32, invalid-parameter).",
			"AttachmentEncrypt: key, iv, plaintext -> blob, digest; pointer is the encoding of the listed fields.",
			"AttachmentDecrypt: pointer, blob -> plaintext. A decryptor checks, in this order: the blob's length (size-mismatch), its digest (digest-mismatch), its header version (unsupported-version) and padded size (malformed), its key commitment and tag (authentication), its padding: 0x80 at offset size, then zeros (bad-padding); and releases no plaintext unless all pass.",
			"AttachmentPointer: pointer parses to the listed fields and re-encodes to itself (invalid: unsupported-version, malformed, invalid-parameter for a size above 2^32).",
		},
		Notes: map[string]string{
			"Bucket":        "A size at or next to a bucket boundary.",
			"Large":         "A size far larger than the files listed here; only the padding is computed.",
			"Chunk":         "A file around the AES block size or the 1 KiB padding floor.",
			"WrongKey":      "The pointer's key is not the blob's.",
			"SharedMACKey":  "The pointer's key shares the blob's MAC key but not its AES key: the invisible-salamanders shape that plain encrypt-then-MAC accepts and the key commitment refuses.",
			"Tampered":      "The blob was altered after it was sealed.",
			"DigestUpdated": "The pointer's digest was recomputed for the altered blob, so that the later checks are reached.",
			"Crafted":       "A blob that authenticates under the pointer's key but breaks a rule of the format.",
			"Marker":        "The plaintext itself ends like padding (0x80 0x00): the marker position still fixes the size.",
			"Encoding":      "A pointer encoding that breaks one rule.",
		},
	}}

	// Padding.
	pad := attachmentGroup{Type: typeAttachmentPadding, Comment: "sizes to buckets"}
	for _, c := range []struct {
		size int64
		fl   []string
	}{{0, nil}, {1, nil}, {1023, flags("Bucket")}, {1024, flags("Bucket")}, {1074, flags("Bucket")}, {1075, flags("Bucket")},
		{3000, nil}, {65536, nil}, {1 << 20, flags("Large")}, {100 << 20, flags("Large")}, {attachblob.MaxSize, flags("Large", "Bucket")}} {
		p := specBucket(c.size)
		if got := must(attachment.PaddedSize(c.size)); got != p {
			panic("generator: attachment's padding disagrees with the independent implementation")
		}
		pad.Tests = append(pad.Tests, attachmentTest{caseID: caseID{Comment: fmt.Sprintf("%d bytes", c.size), Flags: c.fl},
			Size: i64(c.size), PaddedSize: i64(p), BlobSize: i64(p + attachblob.Overhead), caseResult: valid()})
	}
	for _, size := range []int64{-1, attachblob.MaxSize + 1} {
		pad.Tests = append(pad.Tests, attachmentTest{caseID: caseID{Comment: fmt.Sprintf("%d bytes", size), Flags: flags("Bucket")},
			Size: i64(size), caseResult: invalid(classInvalidParameter)})
	}
	f.TestGroups = append(f.TestGroups, pad)

	// Encryption with fixed keys and IVs.
	enc := attachmentGroup{Type: typeAttachmentEncrypt, Comment: "small files with fixed keys and IVs"}
	for i, c := range []struct {
		pt                  []byte
		blobID, ctype, name string
		fl                  []string
	}{
		{[]byte{}, "empty-file", "", "", nil},
		{[]byte{0x42}, "AQIDBAUGBwgJCgsMDQ4PEA", "application/octet-stream", "one.bin", flags("Chunk")},
		{[]byte("fifteen bytes!!"), "b15", "text/plain", "", flags("Chunk")},
		{[]byte("sixteen bytes!!!"), "b16", "", "sixteen.txt", flags("Chunk")},
		{[]byte("seventeen bytes!!"), "b17", "text/plain; charset=utf-8", "seventeen.txt", flags("Chunk")},
		{[]byte("the minutes of the meeting, attached as promised"), "4f3c2a.minutes_v2~1", "text/plain", "Minutes — 2026-03-01.txt", nil},
		{randBytes("attachment file 1023", 1023), "f1023", "image/jpeg", "photo.jpg", flags("Chunk", "Bucket")},
		{randBytes("attachment file 1024", 1024), "f1024", "image/png", "picture (1).png", flags("Chunk", "Bucket")},
		{randBytes("attachment file 2500", 2500), strings.Repeat("z", attachment.MaxBlobIDSize), "video/mp4", strings.Repeat("é", 127) + ".", nil},
		{slices.Concat([]byte("ends like padding"), []byte{0x80, 0x00}), "marker", "", "", flags("Marker")},
	} {
		key := randBytes(fmt.Sprint("attachment key ", i), 64)
		iv := randBytes(fmt.Sprint("attachment iv ", i), 16)
		if i == 3 {
			iv = bytes.Repeat([]byte{0xff}, 16) // the counter wraps after one block
		}
		blob := sealed(key, iv, c.pt)
		d := sha256.Sum256(blob)
		size, padded := int64(len(c.pt)), specBucket(int64(len(c.pt)))
		enc.Tests = append(enc.Tests, attachmentTest{
			caseID: caseID{Comment: fmt.Sprintf("%d bytes", len(c.pt)), Flags: c.fl},
			Size:   i64(size), PaddedSize: i64(padded), Key: key, IV: iv, Plaintext: c.pt, Blob: blob, Digest: d[:],
			BlobID: str(c.blobID), ContentType: str(c.ctype), FileName: str(c.name),
			Pointer:    pointerBytes(c.blobID, key, d[:], size, padded, c.ctype, c.name),
			caseResult: valid(),
		})
	}
	// The IV that wraps is documented in the case's comment.
	enc.Tests[3].Comment += ", IV ff..ff: the counter wraps to zero after the first block"
	f.TestGroups = append(f.TestGroups, enc)

	// Decryption: one file, and everything that must be refused.
	pt := randBytes("attachment decrypt file", 600)
	key := randBytes("attachment decrypt key", 64)
	iv := randBytes("attachment decrypt iv", 16)
	good := newSpecBlob(key, iv, pt)
	blob := sealed(key, iv, pt)
	size, padded := int64(len(pt)), specBucket(int64(len(pt)))
	ptr := func(k, b []byte, size int64) []byte {
		d := sha256.Sum256(b)
		return pointerBytes("blob", k, d[:], size, specBucket(size), "", "")
	}
	p0 := ptr(key, blob, size)
	dec := attachmentGroup{Type: typeAttachmentDecrypt, Comment: "a 600-byte file and its defects"}
	add := func(comment string, res caseResult, pointer, b []byte, fl ...string) {
		t := attachmentTest{caseID: caseID{Comment: comment, Flags: fl}, Pointer: pointer, Blob: b, caseResult: res}
		if res.Result == resultValid {
			t.Plaintext = pt
		}
		dec.Tests = append(dec.Tests, t)
	}
	flip := func(at int) []byte { b := slices.Clone(blob); b[at] ^= 0x01; return b }
	craft := func(fn func(*specBlob)) []byte {
		s := *good
		s.padded = slices.Clone(good.padded)
		fn(&s)
		return s.bytes()
	}
	withKey := func(fn func(k []byte)) []byte { k := slices.Clone(key); fn(k); return k }
	const ctAt = attachblob.HeaderSize + attachblob.IVSize

	add("the blob as sealed", valid(), p0, blob)
	add("another key", invalid(classAuthentication), ptr(randBytes("attachment other key", 64), blob, size), blob, "WrongKey")
	add("another AES key, the same MAC key", invalid(classAuthentication),
		ptr(withKey(func(k []byte) { copy(k, randBytes("attachment other aes key", 32)) }), blob, size), blob, "WrongKey", "SharedMACKey")
	add("the MAC key's last bit flipped", invalid(classAuthentication), ptr(withKey(func(k []byte) { k[63] ^= 1 }), blob, size), blob, "WrongKey")
	add("the pointer's digest flipped", invalid(classDigestMismatch),
		func() []byte { q := slices.Clone(p0); q[2+len("blob")+64] ^= 1; return q }(), blob)
	add("truncated by one byte", invalid(classSizeMismatch), p0, blob[:len(blob)-1], "Tampered")
	add("truncated to the header and IV", invalid(classSizeMismatch), p0, blob[:ctAt], "Tampered")
	add("empty", invalid(classSizeMismatch), p0, []byte{}, "Tampered")
	add("one byte appended", invalid(classSizeMismatch), p0, append(slices.Clone(blob), 0), "Tampered")
	add("a pointer for another bucket", invalid(classSizeMismatch), ptr(key, blob, 1500), blob)
	for _, r := range []struct {
		name  string
		at    int
		class string
	}{
		{"the version byte", 0, classUnsupportedVersion},
		{"the header's padded size", 8, classMalformed},
		{"the key commitment", 20, classAuthentication},
		{"the IV", ctAt - 1, classAuthentication},
		{"a ciphertext byte", ctAt + 100, classAuthentication},
		{"the padding marker", ctAt + len(pt), classAuthentication},
		{"the tag", len(blob) - 1, classAuthentication},
	} {
		b := flip(r.at)
		add(r.name+" flipped", invalid(classDigestMismatch), p0, b, "Tampered")
		add(r.name+" flipped, digest updated", invalid(r.class), ptr(key, b, size), b, "Tampered", "DigestUpdated")
	}
	b := craft(func(s *specBlob) { s.version = 2 })
	add("version 2, authenticated", invalid(classUnsupportedVersion), ptr(key, b, size), b, "Crafted")
	b = craft(func(s *specBlob) { s.headerSize-- })
	add("the header's padded size one less, authenticated", invalid(classMalformed), ptr(key, b, size), b, "Crafted")
	b = craft(func(s *specBlob) { s.commitKey = randBytes("attachment committed aes key", 32) })
	add("a key commitment to another AES key, tag valid", invalid(classAuthentication), ptr(key, b, size), b, "Crafted", "SharedMACKey")
	b = craft(func(s *specBlob) { s.padded[len(s.padded)-1] = 0x01 })
	add("the last padding byte not zero, authenticated", invalid(classBadPadding), ptr(key, b, size), b, "Crafted")
	b = craft(func(s *specBlob) { s.padded[len(pt)] = 0x00 })
	add("no marker, authenticated", invalid(classBadPadding), ptr(key, b, size), b, "Crafted")
	b = craft(func(s *specBlob) { s.padded[len(pt)] = 0x81 })
	add("marker 0x81, authenticated", invalid(classBadPadding), ptr(key, b, size), b, "Crafted")
	add("a pointer claiming one byte more", invalid(classBadPadding), ptr(key, blob, size+1), blob)
	add("a pointer claiming one byte less", invalid(classBadPadding), ptr(key, blob, size-1), blob)
	// A plaintext ending in 0x80 0x00: only its true size opens it.
	mpt := enc.Tests[len(enc.Tests)-1]
	dec.Tests = append(dec.Tests, attachmentTest{
		caseID:  caseID{Comment: "a plaintext ending in 0x80 0x00, opened at its true size", Flags: flags("Marker")},
		Pointer: mpt.Pointer, Blob: mpt.Blob, Plaintext: mpt.Plaintext, caseResult: valid()})
	for _, d := range []int64{-2, 2} {
		dec.Tests = append(dec.Tests, attachmentTest{
			caseID:  caseID{Comment: fmt.Sprintf("the same blob with a pointer claiming %+d bytes", d), Flags: flags("Marker")},
			Pointer: ptr(mpt.Key, mpt.Blob, *mpt.Size+d), Blob: mpt.Blob, caseResult: invalid(classBadPadding)})
	}
	f.TestGroups = append(f.TestGroups, dec)

	// Pointer encodings.
	d := sha256.Sum256(blob)
	pp := func(comment string, res caseResult, b []byte, fl ...string) attachmentTest {
		return attachmentTest{caseID: caseID{Comment: comment, Flags: fl}, Pointer: b, caseResult: res}
	}
	full := pointerBytes("abc-123", key, d[:], size, padded, "image/jpeg", "photo.jpg")
	okPtr := pp("every field", valid(), full)
	okPtr.BlobID, okPtr.ContentType, okPtr.FileName = str("abc-123"), str("image/jpeg"), str("photo.jpg")
	okPtr.Key, okPtr.Digest, okPtr.Size, okPtr.PaddedSize = key, d[:], i64(size), i64(padded)
	bad := func(comment string, class string, blobID string, sz, pd int64, ct, fn string) attachmentTest {
		return pp(comment, invalid(class), specPointer(blobID, key, d[:], sz, pd, ct, fn), "Encoding")
	}
	ptrs := attachmentGroup{Type: typeAttachmentPointer, Comment: "pointer encodings", Tests: []attachmentTest{
		okPtr,
		pp("no content type, no file name", valid(), pointerBytes("x", key, d[:], 0, 1024, "", "")),
		pp("the largest size", valid(), pointerBytes("x", key, d[:], attachblob.MaxSize, specBucket(attachblob.MaxSize), "", "")),
		pp("empty", invalid(classMalformed), []byte{}, "Encoding"),
		pp("version 0", invalid(classUnsupportedVersion), slices.Concat([]byte{0}, full[1:]), "Encoding"),
		pp("version 2", invalid(classUnsupportedVersion), slices.Concat([]byte{2}, full[1:]), "Encoding"),
		pp("truncated by one byte", invalid(classMalformed), full[:len(full)-1], "Encoding"),
		pp("a trailing byte", invalid(classMalformed), append(slices.Clone(full), 'x'), "Encoding"),
		bad("an empty blob id", classMalformed, "", size, padded, "", ""),
		bad("a blob id with a slash", classMalformed, "a/b", size, padded, "", ""),
		bad("a blob id of 129 bytes", classMalformed, strings.Repeat("a", 129), size, padded, "", ""),
		bad("the padded size one more than the bucket", classMalformed, "x", size, padded+1, "", ""),
		bad("the padded size of the next bucket", classMalformed, "x", size, 1075, "", ""),
		bad("a size above 2^32", classInvalidParameter, "x", attachblob.MaxSize+1, specBucket(attachblob.MaxSize+1), "", ""),
		bad("a size of 2^63", classInvalidParameter, "x", -1<<63, 1024, "", ""),
		bad("a content type with a tab", classMalformed, "x", size, padded, "text/plain\t", ""),
		bad("a content type with a non-ASCII byte", classMalformed, "x", size, padded, "text/é", ""),
		bad("a file name with a slash", classMalformed, "x", size, padded, "", "../etc/passwd"),
		bad("a file name with a backslash", classMalformed, "x", size, padded, "", `..\boot.ini`),
		bad("the file name ..", classMalformed, "x", size, padded, "", ".."),
		bad("a file name with a newline", classMalformed, "x", size, padded, "", "a\nb.txt"),
		bad("a file name that is not UTF-8", classMalformed, "x", size, padded, "", "a\xffb.txt"),
	}}
	f.TestGroups = append(f.TestGroups, ptrs)

	out := encodeFile(f, func(g *attachmentGroup) []attachmentTest { return g.Tests })
	selfCheck(algAttachment, out, verifyAttachment)
	return out
}
