package ratchet

import (
	"github.com/sotto-im/sotto/internal/kdf"
)

// KDF labels, byte for byte as libsignal uses them.
var (
	// labelRootChain is the HKDF info of KDF_RK ("create_chain" in libsignal).
	labelRootChain = []byte("WhisperRatchet")
	// labelMessageKeys is the HKDF info that turns a message-key seed into
	// cipher key, MAC key and IV.
	labelMessageKeys = []byte("WhisperMessageKeys")
)

// Chain-key step inputs (Double Ratchet §5.2, libsignal's constants).
var (
	messageKeySeedInput = []byte{0x01}
	chainKeyInput       = []byte{0x02}
)

const (
	keySize        = 32
	messageKeysLen = 80 // cipher key 32 || MAC key 32 || IV 16
)

// hkdf fills out with HKDF-SHA256(salt, ikm, info...). Every caller asks for
// a fixed length far below the HKDF limit, so an error is a programming bug.
func hkdf(out, salt, ikm []byte, info ...[]byte) {
	if err := kdf.Key(out, salt, ikm, info...); err != nil {
		panic("ratchet: " + err.Error())
	}
}

// kdfRK is the root KDF of Double Ratchet §3.4: HKDF-SHA256 with the root key
// as salt and the DH output as input keying material. It returns the new root
// key and the new chain key.
func kdfRK(root *[keySize]byte, dhOut []byte) (newRoot, chainKey [keySize]byte) {
	var out [2 * keySize]byte
	hkdf(out[:], root[:], dhOut, labelRootChain)
	copy(newRoot[:], out[:keySize])
	copy(chainKey[:], out[keySize:])
	clear(out[:])
	return newRoot, chainKey
}

// kdfCK is KDF_CK (Double Ratchet §5.2): it returns the message-key seed
// HMAC(CK, 0x01) and the next chain key HMAC(CK, 0x02).
func kdfCK(ck *[keySize]byte) (seed, next [keySize]byte) {
	return kdf.HMAC(ck[:], messageKeySeedInput), kdf.HMAC(ck[:], chainKeyInput)
}

// messageKeys are the per-message AES-256-CBC key, HMAC-SHA256 key and IV.
type messageKeys struct {
	cipherKey [32]byte
	macKey    [32]byte
	iv        [16]byte
}

// deriveMessageKeys expands a message-key seed into message keys. The SPQR
// message key, when there is one, is the HKDF salt (libsignal's "Triple
// Ratchet" mixing); a nil salt means 32 zero bytes.
func deriveMessageKeys(seed *[keySize]byte, pqKey []byte) messageKeys {
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
