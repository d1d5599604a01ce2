package wire

import "google.golang.org/protobuf/encoding/protowire"

// Field numbers of fingerprint.proto: CombinedFingerprints{version = 1,
// local_fingerprint = 2, remote_fingerprint = 3} and
// LogicalFingerprint{content = 1}.
const (
	combinedVersionField protowire.Number = 1
	combinedLocalField   protowire.Number = 2
	combinedRemoteField  protowire.Number = 3
	logicalContentField  protowire.Number = 1
)

// CombinedFingerprints is the scannable form of a safety number
// (internal/wire/WIRE.md §13): the scanning version and both parties' fingerprint
// contents, from the point of view of the device that shows it. It is bare
// protobuf, with no version byte.
type CombinedFingerprints struct {
	// Version is the scannable fingerprint version (1 or 2 in libsignal).
	Version uint32
	// Local is the content of local_fingerprint: the first 32 bytes of the
	// showing device's own fingerprint hash.
	Local []byte
	// Remote is the content of remote_fingerprint: the same for its peer.
	Remote []byte
}

// Marshal returns the protobuf encoding of c, fields in tag order.
func (c *CombinedFingerprints) Marshal() []byte {
	localLen := sizeBytesField(logicalContentField, c.Local)
	remoteLen := sizeBytesField(logicalContentField, c.Remote)
	size := sizeUint32Field(combinedVersionField, c.Version) +
		protowire.SizeTag(combinedLocalField) + protowire.SizeBytes(localLen) +
		protowire.SizeTag(combinedRemoteField) + protowire.SizeBytes(remoteLen)

	b := make([]byte, 0, size)
	b = appendUint32Field(b, combinedVersionField, c.Version)
	b = appendLogicalFingerprint(b, combinedLocalField, c.Local, localLen)
	b = appendLogicalFingerprint(b, combinedRemoteField, c.Remote, remoteLen)
	return b
}

// appendLogicalFingerprint appends field num holding a LogicalFingerprint
// message with the given content; size is that message's encoded size.
func appendLogicalFingerprint(b []byte, num protowire.Number, content []byte, size int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	return appendBytesField(b, logicalContentField, content)
}

// ParseCombinedFingerprints decodes a scanned CombinedFingerprints.
//
// Both local_fingerprint and remote_fingerprint must be present (else an error
// matching ErrMissingField); a missing version decodes as 0 and a missing
// content as empty, leaving the caller's comparison to fail. Repeated
// sub-messages merge, as protobuf specifies, so the last content wins.
// Unknown fields are ignored; other defects are ErrMalformed, and input past
// 4 KiB (libsignal's is 74 bytes) is ErrTooLarge. The result does not alias b.
func ParseCombinedFingerprints(b []byte) (*CombinedFingerprints, error) {
	if len(b) > maxFingerprintsSize {
		return nil, ErrTooLarge
	}
	c := &CombinedFingerprints{}
	err := walkFields(b, func(f field) error {
		var err error
		switch f.num {
		case combinedVersionField:
			c.Version, err = f.uint32Value()
		case combinedLocalField:
			c.Local, err = mergeLogicalFingerprint(f, c.Local)
		case combinedRemoteField:
			c.Remote, err = mergeLogicalFingerprint(f, c.Remote)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	switch {
	case c.Local == nil:
		return nil, &missingFieldError{"local_fingerprint"}
	case c.Remote == nil:
		return nil, &missingFieldError{"remote_fingerprint"}
	}
	return c, nil
}

// mergeLogicalFingerprint decodes the LogicalFingerprint in f over the content
// decoded so far (nil if none) and returns the resulting content, never nil.
func mergeLogicalFingerprint(f field, content []byte) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, ErrMalformed
	}
	if content == nil {
		content = []byte{}
	}
	err := walkFields(f.buf, func(g field) error {
		if g.num != logicalContentField {
			return nil
		}
		var err error
		content, err = g.bytesValue()
		return err
	})
	return content, err
}
