package testvectors

import (
	"errors"
	"slices"

	"github.com/sotto-im/sotto/attachment"
	"github.com/sotto-im/sotto/franking"
	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/session"
)

// Error classes: what an invalid test case must fail with. They name the
// reason, not an implementation's error value, so that any implementation can
// map its own errors onto them (README.md lists what each means).
const (
	classAuthentication      = "authentication"        // MAC (or implicit KEM rejection) failure
	classDuplicate           = "duplicate"             // replayed message, or key no longer stored
	classTooFarAhead         = "too-far-ahead"         // counter jump over 25,000
	classUnsupportedVersion  = "unsupported-version"   // message or fingerprint version not supported
	classBadPadding          = "bad-padding"           // authenticated, but PKCS#7 padding invalid
	classMalformed           = "malformed"             // does not parse
	classSPQR                = "spqr"                  // SPQR message missing, malformed or unusable
	classAddressMismatch     = "address-mismatch"      // addresses field names other parties
	classInvalidKey          = "invalid-key"           // key of wrong size or type, or not canonical
	classInvalidKeyAgreement = "invalid-key-agreement" // X25519 output all zero
	classInvalidCiphertext   = "invalid-ciphertext"    // KEM ciphertext of wrong size or type
	classInvalidSignature    = "invalid-signature"     // XEdDSA signature does not verify
	classInvalidParameter    = "invalid-parameter"     // parameter out of range
	classUnknownPreKey       = "unknown-prekey"        // PreKey message names an unknown prekey
	classVersionMismatch     = "version-mismatch"      // scanned fingerprint of another version
	classCommitment          = "commitment"            // franking commitment differs or does not open
	classInvalidReport       = "invalid-report"        // franking report's tag does not verify
	classUnknownKey          = "unknown-key"           // franking tag names a relay key not held
	classDigestMismatch      = "digest-mismatch"       // attachment blob is not the one the pointer names
	classSizeMismatch        = "size-mismatch"         // attachment blob of another length than the pointer's
)

// errorClasses lists every class known to this package, for the format check.
var errorClasses = []string{
	classAuthentication, classDuplicate, classTooFarAhead, classUnsupportedVersion,
	classBadPadding, classMalformed, classSPQR, classAddressMismatch, classInvalidKey,
	classInvalidKeyAgreement, classInvalidCiphertext, classInvalidSignature,
	classInvalidParameter, classUnknownPreKey, classVersionMismatch,
	classCommitment, classInvalidReport, classUnknownKey, classDigestMismatch, classSizeMismatch,
}

// classesOf returns the classes a Sotto error satisfies. Most errors map to
// one class; session's catch-alls (ErrInvalidMessage for any defect of a
// PreKey message's session layer, ErrInvalidBundle for any defect of a
// bundle) satisfy each class they stand for.
func classesOf(err error) []string {
	var out []string
	add := func(target error, classes ...string) {
		if errors.Is(err, target) {
			out = append(out, classes...)
		}
	}
	add(ratchetcore.ErrAuthentication, classAuthentication)
	add(ratchetcore.ErrDuplicateMessage, classDuplicate)
	add(ratchetcore.ErrTooFarAhead, classTooFarAhead)
	add(ratchetcore.ErrUnsupportedVersion, classUnsupportedVersion)
	add(ratchetcore.ErrBadPadding, classBadPadding)
	add(ratchetcore.ErrMalformedMessage, classMalformed)
	add(ratchetcore.ErrAddressMismatch, classAddressMismatch)
	add(ratchetcore.ErrSPQR, classSPQR)
	add(curve.ErrInvalidPublicKey, classInvalidKey)
	add(curve.ErrInvalidPrivateKey, classInvalidKey)
	add(curve.ErrInvalidKeyAgreement, classInvalidKeyAgreement)
	add(kem.ErrInvalidKey, classInvalidKey)
	add(kem.ErrInvalidCiphertext, classInvalidCiphertext)
	add(wire.ErrMalformed, classMalformed)
	add(wire.ErrTooLarge, classMalformed)
	add(wire.ErrLegacyVersion, classUnsupportedVersion)
	add(wire.ErrUnsupportedVersion, classUnsupportedVersion)
	add(wire.ErrUnknownVersion, classUnsupportedVersion)
	add(session.ErrMalformedPreKeyMessage, classMalformed)
	add(session.ErrUnknownMessageType, classMalformed)
	add(session.ErrInvalidKey, classInvalidKey)
	add(session.ErrInvalidKeyAgreement, classInvalidKeyAgreement)
	add(session.ErrInvalidKyberCiphertext, classInvalidCiphertext)
	add(ratchetcore.ErrInvalidKey, classInvalidKeyAgreement)
	add(session.ErrInvalidBundle, classMalformed, classInvalidKey)
	add(session.ErrInvalidSignature, classInvalidSignature)
	add(session.ErrUnknownPreKey, classUnknownPreKey)
	add(session.ErrFingerprintIterations, classInvalidParameter)
	add(session.ErrFingerprintVersion, classUnsupportedVersion)
	add(session.ErrFingerprintMalformed, classMalformed)
	if _, ok := errors.AsType[*session.FingerprintVersionMismatchError](err); ok {
		out = append(out, classVersionMismatch)
	}
	add(franking.ErrMalformed, classMalformed)
	add(franking.ErrInvalidContent, classInvalidParameter)
	add(franking.ErrInvalidKey, classInvalidKey)
	add(franking.ErrCommitment, classCommitment)
	add(franking.ErrInvalidReport, classInvalidReport)
	add(franking.ErrUnknownKey, classUnknownKey)
	add(attachment.ErrTooLarge, classInvalidParameter)
	add(attachment.ErrBlobSize, classSizeMismatch)
	add(attachment.ErrDigestMismatch, classDigestMismatch)
	add(attachment.ErrUnsupportedVersion, classUnsupportedVersion)
	add(attachment.ErrMalformed, classMalformed)
	add(attachment.ErrAuthentication, classAuthentication)
	add(attachment.ErrBadPadding, classBadPadding)
	return out
}

// checkError reports whether err is a failure of the expected class; it
// returns a description of the discrepancy, or nil.
func checkError(err error, class string) error {
	if err == nil {
		return errorf("succeeded; want a %q error", class)
	}
	if !slices.Contains(classesOf(err), class) {
		return errorf("error %q is not of class %q", err, class)
	}
	return nil
}
