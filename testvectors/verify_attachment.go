package testvectors

import (
	"bytes"
	"crypto/sha256"

	"github.com/sotto-im/sotto/attachment"
	"github.com/sotto-im/sotto/internal/attachblob"
)

// attachment.json runs against package attachment's public API (padding,
// pointers, Encrypt, Open and Decrypt) and, to reproduce blobs from the
// listed key and IV, the deterministic Seal of internal/attachblob that
// attachment's Encrypt calls with random ones.

func verifyAttachment(data []byte, r *fileReport) error {
	f, err := decodeFile[attachmentGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkAttachment(g, t) }))
		}
	}
	return nil
}

func checkAttachment(g *attachmentGroup, t *attachmentTest) error {
	switch g.Type {
	case typeAttachmentPadding:
		padded, err := attachment.PaddedSize(*t.Size)
		if err != nil || t.Result == resultInvalid {
			return expect(&t.caseResult, err)
		}
		switch {
		case padded != *t.PaddedSize:
			return errorf("padded size = %d, want %d", padded, *t.PaddedSize)
		case attachment.Overhead+padded != *t.BlobSize:
			return errorf("blob size = %d, want %d", attachment.Overhead+padded, *t.BlobSize)
		case !attachment.ValidBlobSize(*t.BlobSize) || attachment.ValidBlobSize(*t.BlobSize-1):
			return errorf("ValidBlobSize does not single out the blob size")
		}
		return nil

	case typeAttachmentEncrypt:
		return checkAttachmentEncrypt(t)

	case typeAttachmentDecrypt:
		p, err := attachment.ParsePointer(t.Pointer)
		if err != nil {
			return errorf("the case's pointer does not parse: %v", err)
		}
		var out bytes.Buffer
		n, err := attachment.Decrypt(&out, bytes.NewReader(t.Blob), int64(len(t.Blob)), p)
		if e := expect(&t.caseResult, err); e != nil {
			return e
		}
		if t.Result == resultInvalid {
			if out.Len() != 0 {
				return errorf("%d bytes of plaintext written before the blob was rejected", out.Len())
			}
			return nil
		}
		if n != int64(out.Len()) {
			return errorf("Decrypt counted %d bytes, wrote %d", n, out.Len())
		}
		return equal("plaintext", out.Bytes(), t.Plaintext)

	case typeAttachmentPointer:
		p, err := attachment.ParsePointer(t.Pointer)
		if err != nil || t.Result == resultInvalid {
			return expect(&t.caseResult, err)
		}
		return checkPointer(p, t)
	}
	return errorf("unknown group type %q", g.Type)
}

// checkAttachmentEncrypt: the listed key, IV and plaintext seal to the
// listed blob; the pointer parses to the listed fields and re-encodes; the
// blob decrypts back; and the public Encrypt, with its own random key,
// makes a blob of the same size that decrypts to the same plaintext.
func checkAttachmentEncrypt(t *attachmentTest) error {
	if len(t.Key) != attachblob.KeySize || len(t.IV) != attachblob.IVSize {
		return errorf("key of %d bytes or IV of %d bytes", len(t.Key), len(t.IV))
	}
	var blob bytes.Buffer
	digest, err := attachblob.Seal(&blob, bytes.NewReader(t.Plaintext), int64(len(t.Plaintext)),
		(*[attachblob.KeySize]byte)(t.Key), (*[attachblob.IVSize]byte)(t.IV))
	if err != nil {
		return errorf("Seal: %v", err)
	}
	sum := sha256.Sum256(t.Blob)
	if err := first(equal("blob", blob.Bytes(), t.Blob), equal("digest", digest[:], t.Digest),
		equal("SHA-256 of the blob", sum[:], t.Digest)); err != nil {
		return err
	}
	p, err := attachment.ParsePointer(t.Pointer)
	if err != nil {
		return errorf("ParsePointer: %v", err)
	}
	if err := checkPointer(p, t); err != nil {
		return err
	}
	var out bytes.Buffer
	if _, err := attachment.Decrypt(&out, bytes.NewReader(t.Blob), int64(len(t.Blob)), p); err != nil {
		return errorf("Decrypt: %v", err)
	}
	if err := equal("decrypted plaintext", out.Bytes(), t.Plaintext); err != nil {
		return err
	}
	var fresh bytes.Buffer
	fp, err := attachment.Encrypt(&fresh, bytes.NewReader(t.Plaintext), int64(len(t.Plaintext)))
	if err != nil {
		return errorf("Encrypt: %v", err)
	}
	if fresh.Len() != len(t.Blob) {
		return errorf("Encrypt made a blob of %d bytes, want %d", fresh.Len(), len(t.Blob))
	}
	out.Reset()
	if _, err := attachment.Decrypt(&out, bytes.NewReader(fresh.Bytes()), int64(fresh.Len()), fp); err != nil {
		return errorf("Decrypt of Encrypt's blob: %v", err)
	}
	return equal("plaintext through Encrypt", out.Bytes(), t.Plaintext)
}

// checkPointer compares a parsed pointer with the case's listed fields and
// checks that it re-encodes to the case's bytes.
func checkPointer(p *attachment.Pointer, t *attachmentTest) error {
	switch {
	case t.BlobID != nil && p.BlobID != *t.BlobID:
		return errorf("blob id = %q, want %q", p.BlobID, *t.BlobID)
	case t.ContentType != nil && p.ContentType != *t.ContentType:
		return errorf("content type = %q, want %q", p.ContentType, *t.ContentType)
	case t.FileName != nil && p.FileName != *t.FileName:
		return errorf("file name = %q, want %q", p.FileName, *t.FileName)
	case t.Size != nil && p.Size != *t.Size:
		return errorf("size = %d, want %d", p.Size, *t.Size)
	case t.PaddedSize != nil && p.PaddedSize != *t.PaddedSize:
		return errorf("padded size = %d, want %d", p.PaddedSize, *t.PaddedSize)
	}
	if t.Key != nil {
		if err := equal("key", p.Key.Bytes(), t.Key); err != nil {
			return err
		}
	}
	if t.Digest != nil {
		if err := equal("digest", p.Digest[:], t.Digest); err != nil {
			return err
		}
	}
	b, err := p.MarshalBinary()
	if err != nil {
		return errorf("a parsed pointer does not re-encode: %v", err)
	}
	return equal("re-encoded pointer", b, t.Pointer)
}
