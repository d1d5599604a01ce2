package braid

import (
	"crypto/hmac"
	"encoding/binary"

	"github.com/sotto-im/sotto/internal/incmlkem"
	"github.com/sotto-im/sotto/internal/kdf"
)

// Labels of the ML-KEM Braid's KDFs and MACs, as libsignal 0.103 uses them.
// All HKDF is HKDF-SHA256 with a salt of 32 zero bytes unless said, all
// HMAC is HMAC-SHA256, and BE64(e) is the epoch as a big-endian uint64.
const (
	labelAuthUpdate  = "Signal_PQCKA_V1_MLKEM768:Authenticator Update"
	labelHeaderMAC   = "Signal_PQCKA_V1_MLKEM768:ekheader"
	labelCtMAC       = "Signal_PQCKA_V1_MLKEM768:ciphertext"
	labelEpochSecret = "Signal_PQCKA_V1_MLKEM768:SCKA Key"
	// LabelChainAddEpoch is the info of the SPQR symmetric chain's "Add
	// Epoch" HKDF (see AddEpoch).
	LabelChainAddEpoch = "Signal PQ Ratchet V1 Chain Add Epoch"
)

// macSize is the size of the header and ciphertext MACs.
const macSize = 32

// authenticator is the braid's MAC key schedule (ML-KEM Braid §2). Both
// parties start it from the session's SPQR key and update it with every
// epoch secret in order, so their authenticators stay equal: the header
// MAC of epoch e authenticates the ek sender under the secrets of epochs
// before e, and the ciphertext MAC of epoch e confirms epoch e's secret.
type authenticator struct {
	root [32]byte
	mac  [32]byte
}

// newAuthenticator is update(1, authKey) from zero keys.
func newAuthenticator(authKey *[32]byte) authenticator {
	var a authenticator
	a.update(1, authKey)
	return a
}

func be64(e uint64) []byte { return binary.BigEndian.AppendUint64(nil, e) }

// update is (root, mac) = HKDF(ikm = root || k, info = "...Authenticator
// Update" || BE64(e), 64).
func (a *authenticator) update(e uint64, k *[32]byte) {
	var ikm [64]byte
	copy(ikm[:32], a.root[:])
	copy(ikm[32:], k[:])
	var out [64]byte
	if err := kdf.Key(out[:], nil, ikm[:], []byte(labelAuthUpdate), be64(e)); err != nil {
		panic(err) // fixed sizes, far below the HKDF limits
	}
	copy(a.root[:], out[:32])
	copy(a.mac[:], out[32:])
	clear(ikm[:])
	clear(out[:])
}

// headerMAC is HMAC(mac, "...ekheader" || BE64(e) || header), under the
// authenticator as it stands before epoch e's update.
func (a *authenticator) headerMAC(e uint64, h *incmlkem.Header) [macSize]byte {
	return kdf.HMAC(a.mac[:], []byte(labelHeaderMAC), be64(e), h[:])
}

// ciphertextMAC is HMAC(mac, "...ciphertext" || BE64(e) || ct1 || ct2),
// under the authenticator after epoch e's update.
func (a *authenticator) ciphertextMAC(e uint64, ct1 *[incmlkem.Ct1Size]byte, ct2 *[incmlkem.Ct2Size]byte) [macSize]byte {
	return kdf.HMAC(a.mac[:], []byte(labelCtMAC), be64(e), ct1[:], ct2[:])
}

// verifyHeader checks a header MAC in constant time.
func (a *authenticator) verifyHeader(e uint64, h *incmlkem.Header, mac []byte) bool {
	want := a.headerMAC(e, h)
	return hmac.Equal(want[:], mac)
}

// verifyCiphertext checks a ciphertext MAC in constant time.
func (a *authenticator) verifyCiphertext(e uint64, ct1 *[incmlkem.Ct1Size]byte, ct2 *[incmlkem.Ct2Size]byte, mac []byte) bool {
	want := a.ciphertextMAC(e, ct1, ct2)
	return hmac.Equal(want[:], mac)
}

func (a *authenticator) wipe() { clear(a.root[:]); clear(a.mac[:]) }

// epochSecret is the SCKA output key of epoch e: HKDF(ikm = K,
// info = "...SCKA Key" || BE64(e), 32), K the ML-KEM shared key.
func epochSecret(e uint64, key *[32]byte) [32]byte {
	var out [32]byte
	if err := kdf.Key(out[:], nil, key[:], []byte(labelEpochSecret), be64(e)); err != nil {
		panic(err)
	}
	return out
}
