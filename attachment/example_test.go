package attachment_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/sotto-im/sotto/attachment"
)

// A sender encrypts a file straight into its upload, the message carries
// the pointer, and the recipient decrypts the downloaded blob.
func Example() {
	file := strings.NewReader("the minutes of the meeting")

	// Sender: encrypt into the upload (here a buffer standing for the
	// relay's storage), then name the blob and encode the pointer for the
	// message.
	var upload bytes.Buffer
	p, err := attachment.Encrypt(&upload, file, file.Size())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("relay may store it:", attachment.ValidBlobSize(int64(upload.Len())))
	p.BlobID = "4f3c2a"
	p.FileName = "minutes.txt"
	p.ContentType = "text/plain"
	inMessage, err := p.MarshalBinary()
	if err != nil {
		log.Fatal(err)
	}

	// Recipient: download the blob to a file only it writes, then open it.
	dir, err := os.MkdirTemp("", "attachment-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	blobPath := filepath.Join(dir, "blob")
	if err := os.WriteFile(blobPath, upload.Bytes(), 0o600); err != nil {
		log.Fatal(err)
	}
	got, err := attachment.ParsePointer(inMessage)
	if err != nil {
		log.Fatal(err)
	}
	blob, err := os.Open(blobPath)
	if err != nil {
		log.Fatal(err)
	}
	defer blob.Close()
	st, err := blob.Stat()
	if err != nil {
		log.Fatal(err)
	}
	r, err := attachment.Open(blob, st.Size(), got) // verifies the whole blob first
	if err != nil {
		log.Fatal(err)
	}
	plaintext, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s\n", got.FileName, plaintext)
	// Output:
	// relay may store it: true
	// minutes.txt: the minutes of the meeting
}

// A relay that serves another blob than the one the message names is
// caught by the digest before anything is decrypted.
func ExampleOpen_wrongBlob() {
	p, _ := attachment.Encrypt(io.Discard, strings.NewReader("the real file"), 13)
	var other bytes.Buffer
	_, _ = attachment.Encrypt(&other, strings.NewReader("a substitute!"), 13)

	_, err := attachment.Open(bytes.NewReader(other.Bytes()), int64(other.Len()), p)
	fmt.Println(errors.Is(err, attachment.ErrDigestMismatch))
	// Output: true
}

// Sizes are padded to buckets about 5% apart, so the relay learns only the
// bucket.
func ExamplePaddedSize() {
	for _, size := range []int64{0, 1000, 1024, 100_000, 100 << 20} {
		padded, _ := attachment.PaddedSize(size)
		fmt.Println(size, "->", padded)
	}
	// Output:
	// 0 -> 1024
	// 1000 -> 1024
	// 1024 -> 1075
	// 100000 -> 104695
	// 104857600 -> 106847094
}
