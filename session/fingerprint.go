package session

import (
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/wire"
)

// Safety numbers (internal/wire/WIRE.md §13): each party's identity key and stable
// identifier are hashed into a fingerprint; two devices that compute the same
// pair of fingerprints are talking to each other without a key substitution.

const (
	// DefaultFingerprintIterations is the hash iteration count Signal clients
	// use.
	DefaultFingerprintIterations = 5200
	// FingerprintVersion is the scannable fingerprint version of Signal
	// clients, whose stable identifiers are 16-byte ACI UUIDs. Version 1, with
	// E.164 phone numbers as identifiers, is accepted too.
	FingerprintVersion = 2

	// maxFingerprintIterations bounds the work a caller may ask for.
	maxFingerprintIterations = 1_000_000
	// fingerprintFormat is the two-byte format number that opens the hash
	// input. It is 0 for every scannable version.
	fingerprintFormat = 0
	// displayableBytes is how much of a fingerprint hash the digits encode.
	displayableBytes = 30
	// scannableBytes is how much of a fingerprint hash the scannable form
	// carries.
	scannableBytes = 32
)

var (
	// ErrFingerprintIterations is returned by NewFingerprint for an iteration
	// count outside 2..1,000,000.
	ErrFingerprintIterations = errors.New("session: fingerprint iterations out of range")
	// ErrFingerprintVersion is returned by NewFingerprint for a scannable
	// version other than 1 or 2.
	ErrFingerprintVersion = errors.New("session: unsupported fingerprint version")
	// ErrFingerprintMalformed is returned by Fingerprint.Compare for scanned
	// bytes that are not a CombinedFingerprints message.
	ErrFingerprintMalformed = errors.New("session: malformed scannable fingerprint")
)

// FingerprintVersionMismatchError is returned by Fingerprint.Compare when the
// scanned fingerprint has a different version from ours: the two devices
// cannot be compared, which is not the same as a mismatch. It corresponds to
// libsignal's FingerprintVersionMismatch.
type FingerprintVersionMismatchError struct {
	// Theirs is the version in the scanned fingerprint.
	Theirs uint32
	// Ours is the version of the fingerprint scanned against.
	Ours uint32
}

func (e *FingerprintVersionMismatchError) Error() string {
	return fmt.Sprintf("session: fingerprint version mismatch: theirs %d, ours %d", e.Theirs, e.Ours)
}

// Fingerprint is the safety number of a conversation between a local and a
// remote identity, in the two forms users compare: 60 digits to read aloud and
// a scannable encoding for a QR code. Both parties derive the same digits; the
// scannable forms mirror each other.
type Fingerprint struct {
	displayable string
	scannable   wire.CombinedFingerprints
}

// NewFingerprint computes the safety number between the local party (stable
// identifier localID, identity key localKey) and the remote party. Keys are
// serialized identity public keys (0x05 || u, 33 bytes). Identifiers are the
// parties' stable IDs: 16-byte ACI UUIDs for version 2, E.164 strings for
// version 1.
//
// iterations is the hash iteration count, 1 < iterations <= 1,000,000; use
// DefaultFingerprintIterations. version is the scannable version, 1 or 2; use
// FingerprintVersion.
func NewFingerprint(iterations, version int, localID, localKey, remoteID, remoteKey []byte) (*Fingerprint, error) {
	if iterations <= 1 || iterations > maxFingerprintIterations {
		return nil, ErrFingerprintIterations
	}
	if version != 1 && version != 2 {
		return nil, ErrFingerprintVersion
	}
	if !isIdentityKey(localKey) || !isIdentityKey(remoteKey) {
		return nil, fmt.Errorf("session: fingerprint: %w", curve.ErrInvalidPublicKey)
	}

	local := fingerprintHash(iterations, localID, localKey)
	remote := fingerprintHash(iterations, remoteID, remoteKey)

	localDigits := displayableDigits(local[:displayableBytes])
	remoteDigits := displayableDigits(remote[:displayableBytes])
	displayable := localDigits + remoteDigits
	if remoteDigits < localDigits {
		displayable = remoteDigits + localDigits
	}

	return &Fingerprint{
		displayable: displayable,
		scannable: wire.CombinedFingerprints{
			Version: uint32(version),
			Local:   local[:scannableBytes],
			Remote:  remote[:scannableBytes],
		},
	}, nil
}

// isIdentityKey reports whether key is a serialized X25519 public key. The
// hash covers exactly these 33 bytes, so a longer encoding is refused rather
// than truncated.
func isIdentityKey(key []byte) bool {
	return len(key) == curve.PublicKeySize && key[0] == curve.DjbType
}

// fingerprintHash is one party's fingerprint:
//
//	H_0 = SHA-512(format || key || id || key), format a 16-bit big-endian 0
//	H_i = SHA-512(H_{i-1} || key), for i = 1 .. iterations-1
//
// and the result is H_{iterations-1}.
func fingerprintHash(iterations int, id, key []byte) [sha512.Size]byte {
	h := sha512.New()
	var sum [sha512.Size]byte
	h.Write(binary.BigEndian.AppendUint16(nil, fingerprintFormat))
	h.Write(key)
	h.Write(id)
	h.Write(key)
	h.Sum(sum[:0])
	for range iterations - 1 {
		h.Reset()
		h.Write(sum[:])
		h.Write(key)
		h.Sum(sum[:0])
	}
	return sum
}

// displayableDigits encodes a 30-byte fingerprint prefix as 30 digits: six
// big-endian 5-byte integers, each reduced mod 100,000 and zero-padded to five
// digits.
func displayableDigits(b []byte) string {
	out := make([]byte, 0, 30)
	for i := 0; i+5 <= len(b); i += 5 {
		var chunk uint64
		for _, c := range b[i : i+5] {
			chunk = chunk<<8 | uint64(c)
		}
		d := strconv.AppendUint(nil, chunk%100_000, 10)
		for range 5 - len(d) {
			out = append(out, '0')
		}
		out = append(out, d...)
	}
	return string(out)
}

// Displayable returns the 60-digit safety number. It is the same on both
// devices: the two parties' 30-digit halves, numerically smaller first.
func (f *Fingerprint) Displayable() string {
	return f.displayable
}

// Scannable returns the scannable safety number to show as a QR code: a
// serialized CombinedFingerprints message with this device's fingerprint as
// local and the peer's as remote.
func (f *Fingerprint) Scannable() []byte {
	return f.scannable.Marshal()
}

// Compare reports whether scanned, the peer's Scannable output, matches this
// fingerprint: the peer's local fingerprint must equal our remote one and its
// remote ours, compared in constant time. It returns false, not an error, for a
// well-formed fingerprint that does not match. It returns a
// *FingerprintVersionMismatchError if the versions differ and an error
// matching ErrFingerprintMalformed if scanned cannot be decoded.
func (f *Fingerprint) Compare(scanned []byte) (bool, error) {
	theirs, err := wire.ParseCombinedFingerprints(scanned)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrFingerprintMalformed, err)
	}
	if theirs.Version != f.scannable.Version {
		return false, &FingerprintVersionMismatchError{Theirs: theirs.Version, Ours: f.scannable.Version}
	}
	localMatch := subtle.ConstantTimeCompare(theirs.Remote, f.scannable.Local)
	remoteMatch := subtle.ConstantTimeCompare(theirs.Local, f.scannable.Remote)
	return localMatch&remoteMatch == 1, nil
}
