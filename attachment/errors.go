package attachment

import "github.com/sotto-im/sotto/internal/attachblob"

// Errors returned by the package. Callers branch on them with errors.Is;
// none carries key or content bytes. I/O errors of the caller's readers and
// writers are returned wrapped, and are none of these.
var (
	// ErrTooLarge is returned for a size below 0 or above MaxSize.
	ErrTooLarge = attachblob.ErrTooLarge
	// ErrSourceSize is returned by Encrypt when the source holds fewer or
	// more bytes than the size given. What was written must be discarded.
	ErrSourceSize = attachblob.ErrSourceSize
	// ErrBlobSize is returned when a blob is not exactly as long as its
	// pointer says (truncated or extended).
	ErrBlobSize = attachblob.ErrBlobSize
	// ErrDigestMismatch is returned when a blob's SHA-256 is not the
	// pointer's digest: it is not the blob the message named.
	ErrDigestMismatch = attachblob.ErrDigestMismatch
	// ErrUnsupportedVersion is returned for a pointer encoding or a blob of a
	// version other than 1.
	ErrUnsupportedVersion = attachblob.ErrUnsupportedVersion
	// ErrMalformed is returned for a pointer encoding that does not parse,
	// a pointer whose fields are out of bounds, or a blob header that
	// contradicts the pointer.
	ErrMalformed = attachblob.ErrMalformed
	// ErrAuthentication is returned when a blob does not authenticate under
	// the pointer's key (its key commitment or its tag). It is
	// deliberately uninformative.
	ErrAuthentication = attachblob.ErrAuthentication
	// ErrBadPadding is returned for a blob that authenticates but whose
	// padding is not a 0x80 byte at the pointer's Size followed by zeros:
	// the sender's software is broken or hostile, or the pointer's Size is
	// not the blob's.
	ErrBadPadding = attachblob.ErrBadPadding
	// ErrBlobChanged is returned by a Reader at the end of the plaintext when
	// the blob it read again differs from the one Open verified. What was
	// read must be discarded.
	ErrBlobChanged = attachblob.ErrBlobChanged
)
