package ratchetcore

import (
	"github.com/sotto-im/sotto/internal/kdf"
)

// The Double Ratchet's key schedule: KDF_RK and KDF_CK of the Double Ratchet
// (revision 3, 2025-09-26, section 3.1), instantiated with HKDF and HMAC as
// its implementation considerations (section 7) recommend and as libsignal
// does (internal/wire/WIRE.md §5). Each key role
// has its own type, so a chain key cannot be passed where a root key is
// expected.

// KDF labels, byte for byte as libsignal uses them.
var (
	// labelRootChain is the HKDF info of KDF_RK ("create_chain" in libsignal).
	labelRootChain = []byte("WhisperRatchet")
	// labelMessageKeys is the HKDF info that turns a message-key seed into
	// cipher key, MAC key and IV.
	labelMessageKeys = []byte("WhisperMessageKeys")
)

// Chain-key step inputs (the constants the spec recommends, libsignal's).
var (
	messageKeySeedInput = []byte{0x01}
	chainKeyInput       = []byte{0x02}
)

const (
	keySize        = 32
	messageKeysLen = 80 // cipher key 32 || MAC key 32 || IV 16
)

type (
	// rootKey is the root chain's key (RK in the spec).
	rootKey [keySize]byte
	// chainKey is a sending or receiving chain key (CKs, CKr).
	chainKey [keySize]byte
	// messageKeySeed is what a chain step yields: the input of the
	// message-key HKDF. Skipped messages keep seeds, not final keys, because
	// the final keys also depend on the SPQR key the message carries.
	messageKeySeed [keySize]byte
	// macKey is a message's HMAC-SHA256 key.
	macKey [keySize]byte
)

// hkdf fills out with HKDF-SHA256(salt, ikm, info...). Every caller asks for
// a fixed length far below the HKDF limit, so an error is a programming bug.
func hkdf(out, salt, ikm []byte, info ...[]byte) {
	if err := kdf.Key(out, salt, ikm, info...); err != nil {
		panic("ratchet: " + err.Error())
	}
}

// kdfRK is KDF_RK (Double Ratchet section 3.1): HKDF-SHA256 with the root
// key as salt and the DH output as input keying material. It returns the new
// root key and the new chain key.
func kdfRK(root *rootKey, dhOut []byte) (rootKey, chainKey) {
	var out [2 * keySize]byte
	hkdf(out[:], root[:], dhOut, labelRootChain)
	var newRoot rootKey
	var ck chainKey
	copy(newRoot[:], out[:keySize])
	copy(ck[:], out[keySize:])
	clear(out[:])
	return newRoot, ck
}

// kdfCK is KDF_CK (Double Ratchet section 3.1): it returns the message-key
// seed HMAC(CK, 0x01) and the next chain key HMAC(CK, 0x02).
func kdfCK(ck *chainKey) (messageKeySeed, chainKey) {
	return kdf.HMAC(ck[:], messageKeySeedInput), kdf.HMAC(ck[:], chainKeyInput)
}

// messageKeys are the per-message AES-256-CBC key, HMAC-SHA256 key and IV.
type messageKeys struct {
	cipherKey [32]byte
	macKey    macKey
	iv        [16]byte
}

// deriveMessageKeys expands a message-key seed into message keys. The SPQR
// message key, when there is one, is the HKDF salt (the "Triple Ratchet"
// mixing of Double Ratchet revision 3, section 6); a nil salt means 32 zero
// bytes.
func deriveMessageKeys(seed *messageKeySeed, pqKey []byte) messageKeys {
	var out [messageKeysLen]byte
	hkdf(out[:], pqKey, seed[:], labelMessageKeys)
	var mk messageKeys
	copy(mk.cipherKey[:], out[0:32])
	copy(mk.macKey[:], out[32:64])
	copy(mk.iv[:], out[64:80])
	clear(out[:])
	return mk
}

func (mk *messageKeys) wipe() {
	clear(mk.cipherKey[:])
	clear(mk.macKey[:])
	clear(mk.iv[:])
}
