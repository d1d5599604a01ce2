package attachment_test

import (
	"bytes"
	"testing"

	"github.com/sotto-im/sotto/attachment"
	"github.com/sotto-im/sotto/testvectors"
)

// sentinels are the errors ParsePointer and Decrypt may return on bytes
// from the network.
var sentinels = []error{attachment.ErrMalformed, attachment.ErrUnsupportedVersion, attachment.ErrTooLarge,
	attachment.ErrBlobSize, attachment.ErrDigestMismatch, attachment.ErrAuthentication, attachment.ErrBadPadding}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s {
			return true
		}
	}
	return false
}

// FuzzParsePointer starts from every pointer in the published vectors:
// parsing never panics, fails only with a sentinel, and what parses
// re-encodes to its input.
func FuzzParsePointer(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedAttachmentPointer) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := attachment.ParsePointer(b)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error %v is not a sentinel", err)
			}
			return
		}
		again, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parsed pointer does not re-encode to its input: %v", err)
		}
	})
}

// FuzzDecrypt starts from every blob of the published vectors paired with
// every pointer to a blob of its size (so the genuine pairs are there) and
// corrupts both: Decrypt never panics, fails only with a sentinel and then
// writes nothing, and on success writes exactly the pointer's size.
func FuzzDecrypt(f *testing.F) {
	pointers := testvectors.Seeds(testvectors.SeedAttachmentPointer)
	n := 0
	for _, blob := range testvectors.Seeds(testvectors.SeedAttachmentBlob) {
		for _, pb := range pointers {
			if p, err := attachment.ParsePointer(pb); err == nil && p.BlobSize() == int64(len(blob)) {
				f.Add(pb, blob)
				n++
			}
		}
	}
	if n == 0 {
		f.Fatal("no pointer of the vectors fits a blob of the vectors")
	}
	f.Fuzz(func(t *testing.T, pb, blob []byte) {
		p, err := attachment.ParsePointer(pb)
		if err != nil {
			return
		}
		var out bytes.Buffer
		written, err := attachment.Decrypt(&out, bytes.NewReader(blob), int64(len(blob)), p)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error %v is not a sentinel", err)
			}
			if out.Len() != 0 || written != 0 {
				t.Fatalf("%d bytes written before the blob was refused", out.Len())
			}
			return
		}
		if written != p.Size || int64(out.Len()) != p.Size {
			t.Fatalf("wrote %d bytes for a %d-byte attachment", out.Len(), p.Size)
		}
	})
}
