package encrypted

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/sotto-im/sotto/keystore"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// The keyset record, the value of metaKey in spaceMeta, is a header followed
// by the keyset encrypted under the KEK:
//
//	magic   "sks\x01"                         (sotto keystore keyset, format 1)
//	kind    1 byte: kindPassphrase or kindAEAD
//	for kindPassphrase only:
//	  salt    16 bytes, random
//	  time    uint32be  argon2id passes
//	  memory  uint32be  argon2id memory, KiB
//	  threads 1 byte    argon2id parallelism
//	  check   32 bytes  passphrase check value (see deriveKEK)
//	sealed  the KEK's ciphertext of the keyset (a Tink Keyset proto)
//
// The keyset is sealed with Tink's Handle.WriteWithAssociatedData under the
// KEK, with associated data keysetLabel || header, so the header cannot be
// changed without the KEK. Of Tink's EncryptedKeyset only the ciphertext is
// kept: its KeysetInfo is unauthenticated metadata that Tink does not read,
// so every byte of the record is authenticated.
const (
	metaMagic   = "sks\x01"
	keysetLabel = "sotto-keystore-v1 keyset"

	kindPassphrase byte = 1
	kindAEAD       byte = 2

	saltSize  = 16
	checkSize = 32

	headerSizeAEAD       = len(metaMagic) + 1
	headerSizePassphrase = headerSizeAEAD + saltSize + 4 + 4 + 1 + checkSize
)

// unsealError reports that the KEK failed to decrypt the keyset. The
// callers turn it into ErrWrongKey or ErrTampered, depending on what they
// know.
type unsealError struct{ kekErr error }

func (e *unsealError) Error() string {
	return "keystore/encrypted: key-encryption key failed to decrypt the keyset: " + e.kekErr.Error()
}

// errResealed reports that the keyset in the inner store is no longer
// sealed under this Store's KEK.
var errResealed = errors.New("keystore/encrypted: the keyset was re-sealed under another passphrase or key; reopen the store")

// metaHeader is a parsed keyset record header.
type metaHeader struct {
	raw    []byte // the header bytes as stored
	kind   byte
	salt   []byte // kindPassphrase only
	params Options
	check  []byte
}

// appendHeaderAEAD appends the header of a keyset sealed with an
// application AEAD.
func appendHeaderAEAD(b []byte) []byte {
	return append(append(b, metaMagic...), kindAEAD)
}

// appendHeaderPassphrase appends the header of a keyset sealed with a
// passphrase.
func appendHeaderPassphrase(b, salt []byte, p Options, check []byte) []byte {
	b = append(append(b, metaMagic...), kindPassphrase)
	b = append(b, salt...)
	b = binary.BigEndian.AppendUint32(b, p.Time)
	b = binary.BigEndian.AppendUint32(b, p.Memory)
	b = append(b, p.Threads)
	return append(b, check...)
}

// parseMeta splits a keyset record into its header and the sealed keyset.
// It checks the stored argon2id parameters against their bounds, so a
// tampered record cannot make unlocking it exhaust memory or time.
func parseMeta(meta []byte) (h metaHeader, sealed []byte, err error) {
	malformed := fmt.Errorf("keystore/encrypted: keyset record malformed: %w", ErrTampered)
	if len(meta) < headerSizeAEAD || string(meta[:len(metaMagic)]) != metaMagic {
		return h, nil, malformed
	}
	h.kind = meta[len(metaMagic)]
	switch h.kind {
	case kindAEAD:
		h.raw = meta[:headerSizeAEAD]
	case kindPassphrase:
		if len(meta) < headerSizePassphrase {
			return h, nil, malformed
		}
		h.raw = meta[:headerSizePassphrase]
		b := meta[headerSizeAEAD:headerSizePassphrase]
		h.salt, b = b[:saltSize], b[saltSize:]
		h.params.Time, b = binary.BigEndian.Uint32(b), b[4:]
		h.params.Memory, b = binary.BigEndian.Uint32(b), b[4:]
		h.params.Threads, b = b[0], b[1:]
		h.check = b
		if err := h.params.check(); err != nil {
			return h, nil, fmt.Errorf("keystore/encrypted: keyset record: %v: %w", err, ErrTampered)
		}
	default:
		return h, nil, malformed
	}
	h.raw = slices.Clip(h.raw)
	return h, meta[len(h.raw):], nil
}

// keyring is an unlocked keyset and what is needed to seal it again. It is
// never modified: Rotate and ChangePassphrase make a new one.
type keyring struct {
	aead    tink.AEAD // the keyset's primitive, which seals with the primary key
	primary uint32    // the primary key's id
	ids     []uint32  // the ids of every key in the keyset, sorted
	kek     tink.AEAD // the key-encryption key the keyset is sealed under
	header  []byte    // the keyset record header, part of the keyset's associated data
}

// has reports whether the keyset has a key with this id.
func (r *keyring) has(id uint32) bool {
	_, ok := slices.BinarySearch(r.ids, id)
	return ok
}

// covers reports whether r has every key that old has.
func (r *keyring) covers(old *keyring) bool {
	for _, id := range old.ids {
		if !r.has(id) {
			return false
		}
	}
	return true
}

// keysetAD returns the associated data of a keyset sealed under header.
func keysetAD(header []byte) []byte {
	return append([]byte(keysetLabel), header...)
}

// newKeyset generates a keyset with one AES-256-GCM key and seals it.
func newKeyset(kek tink.AEAD, header []byte) (*keyring, []byte, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, nil, fmt.Errorf("keystore/encrypted: generating keyset: %w", err)
	}
	return sealKeyset(h, kek, header)
}

// sealKeyset returns the keyring of h and its keyset record, sealed under
// kek with header.
func sealKeyset(h *keyset.Handle, kek tink.AEAD, header []byte) (*keyring, []byte, error) {
	ring, err := newKeyring(h, kek, header)
	if err != nil {
		return nil, nil, err
	}
	var w keyset.MemReaderWriter
	if err := h.WriteWithAssociatedData(&w, kek, keysetAD(header)); err != nil {
		return nil, nil, fmt.Errorf("keystore/encrypted: sealing keyset: %w", err)
	}
	sealed := w.EncryptedKeyset.GetEncryptedKeyset()
	return ring, append(slices.Clone(header), sealed...), nil
}

// newKeyring builds the keyring of an unlocked keyset.
func newKeyring(h *keyset.Handle, kek tink.AEAD, header []byte) (*keyring, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("keystore/encrypted: keyset unusable: %w", err)
	}
	info := h.KeysetInfo()
	ring := &keyring{aead: a, primary: info.GetPrimaryKeyId(), kek: kek, header: header}
	for _, k := range info.GetKeyInfo() {
		ring.ids = append(ring.ids, k.GetKeyId())
	}
	slices.Sort(ring.ids)
	return ring, nil
}

// failRecorder passes calls through to an AEAD and records whether Decrypt
// failed, which tells a wrong KEK apart from a keyset that decrypts but does
// not parse.
type failRecorder struct {
	tink.AEAD
	err error
}

func (f *failRecorder) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	pt, err := f.AEAD.Decrypt(ciphertext, associatedData)
	if err != nil {
		f.err = err
	}
	return pt, err
}

// unsealKeyset decrypts a sealed keyset with kek and returns its handle. If
// kek fails to decrypt it, the error is an *unsealError; anything else wrong
// with it is ErrTampered.
func unsealKeyset(sealed []byte, kek tink.AEAD, header []byte) (*keyset.Handle, error) {
	if len(sealed) == 0 {
		return nil, fmt.Errorf("keystore/encrypted: keyset record malformed: %w", ErrTampered)
	}
	ek := &tinkpb.EncryptedKeyset{EncryptedKeyset: sealed}
	rec := &failRecorder{AEAD: kek}
	h, err := keyset.ReadWithAssociatedData(&keyset.MemReaderWriter{EncryptedKeyset: ek}, rec, keysetAD(header))
	switch {
	case rec.err != nil:
		return nil, &unsealError{rec.err}
	case err != nil:
		return nil, fmt.Errorf("keystore/encrypted: keyset invalid: %w", ErrTampered)
	}
	return h, nil
}

// readKeyset reads the keyset record in a transaction of the inner store
// and unseals it with ring's KEK, which must still be the one it is sealed
// under.
func readKeyset(itx keystore.Tx, ring *keyring) (*keyset.Handle, error) {
	meta, err := itx.Get(spaceMeta, metaKey)
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, fmt.Errorf("keystore/encrypted: keyset record missing: %w", ErrTampered)
	}
	if err != nil {
		return nil, err
	}
	h, sealed, err := parseMeta(meta)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(h.raw, ring.header) {
		return nil, errResealed
	}
	kh, err := unsealKeyset(sealed, ring.kek, ring.header)
	if _, ok := err.(*unsealError); ok {
		// The header is the one this Store sealed under, so the KEK is
		// right and the keyset was changed.
		return nil, fmt.Errorf("keystore/encrypted: keyset: %w", ErrTampered)
	}
	return kh, err
}
