package attachblob

import (
	"errors"
	"fmt"
	"io"
)

// Errors, re-exported by package attachment under the same names (their
// strings name that package). None carries key or content bytes.
var (
	ErrTooLarge           = errors.New("attachment: size out of range")
	ErrSourceSize         = errors.New("attachment: source does not hold exactly the given size")
	ErrBlobSize           = errors.New("attachment: blob size does not match the pointer")
	ErrDigestMismatch     = errors.New("attachment: blob digest does not match the pointer")
	ErrUnsupportedVersion = errors.New("attachment: unsupported version")
	ErrMalformed          = errors.New("attachment: malformed encoding")
	ErrAuthentication     = errors.New("attachment: blob does not authenticate under the key")
	ErrBadPadding         = errors.New("attachment: blob padding is invalid")
	ErrBlobChanged        = errors.New("attachment: blob changed while it was read")
)

// readFull reads exactly len(b) bytes: a blob that ends early is the wrong
// size (short), anything else an I/O error of the caller's reader.
func readFull(r io.Reader, b []byte, short error) error {
	_, err := io.ReadFull(r, b)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return short
	default:
		return fmt.Errorf("attachment: reading the blob: %w", err)
	}
}
