package testvectors

// An independent implementation of the Signal Protocol computations the
// vectors pin down, written from the specifications (PQXDH, Double Ratchet
// revision 3, the SPQR chain of internal/wire/WIRE.md §10) rather than from Sotto's
// ratchet and session packages. The generator cross-checks every value Sotto
// produces against it, and the verifier recomputes the key-schedule vectors
// with it: what a reviewer's own implementation has to reproduce.
//
// It deliberately shares no code with ratchet or session: HKDF and HMAC come
// from the standard library (crypto/hkdf, crypto/hmac), encodings are written
// out here with protowire. Only the primitives are Sotto's: X25519 from
// internal/curve, Kyber1024 from internal/kem, which have vectors of their own.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/curve"
)

// Labels of libsignal's key schedule, byte for byte.
const (
	specLabelPQXDH       = "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024"
	specLabelRatchet     = "WhisperRatchet"
	specLabelMessageKeys = "WhisperMessageKeys"
	specLabelSPQRStart   = "Signal PQ Ratchet V1 Chain  Start" // two spaces
	specLabelSPQRNext    = "Signal PQ Ratchet V1 Chain Next"
)

// specVersionByte opens every version-4 message: (4 << 4) | 4.
const specVersionByte = 0x44

// specHKDF is HKDF-SHA256 (RFC 5869). A nil salt is HashLen zero bytes.
func specHKDF(n int, salt, ikm []byte, info ...[]byte) []byte {
	out, err := hkdf.Key(sha256.New, ikm, salt, string(slices.Concat(info...)), n)
	if err != nil {
		panic("testvectors: " + err.Error())
	}
	return out
}

func specHMAC(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// specPQXDH is the PQXDH computation of one side (PQXDH §3.3 with libsignal's
// parameters, internal/wire/WIRE.md §4).
type specPQXDH struct {
	DH          [][]byte // DH1, DH2, DH3 and, with a one-time prekey, DH4
	SecretInput []byte   // F || DH1 || DH2 || DH3 [|| DH4] || SS
	Root        []byte   // HKDF output [0:32]
	Chain       []byte   // [32:64]
	SPQR        []byte   // [64:96], the SPQR authentication key
}

// specDH is X25519; an all-zero output is curve.ErrInvalidKeyAgreement.
func specDH(priv *curve.PrivateKey, pub *curve.PublicKey) ([]byte, error) {
	return priv.ECDH(pub)
}

// specPQXDHInitiator computes Alice's side:
//
//	DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A, OPK_B)
//
// opk may be nil. ss is the Kyber shared secret Alice encapsulated.
func specPQXDHInitiator(ik, ek *curve.PrivateKey, theirIK, spk, opk *curve.PublicKey, ss []byte) (*specPQXDH, error) {
	pairs := [][2]any{{ik, spk}, {ek, theirIK}, {ek, spk}}
	if opk != nil {
		pairs = append(pairs, [2]any{ek, opk})
	}
	return specPQXDHFrom(pairs, ss)
}

// specPQXDHResponder computes Bob's side, the mirror image. opk may be nil.
func specPQXDHResponder(ik, spk, opk *curve.PrivateKey, theirIK, theirEK *curve.PublicKey, ss []byte) (*specPQXDH, error) {
	pairs := [][2]any{{spk, theirIK}, {ik, theirEK}, {spk, theirEK}}
	if opk != nil {
		pairs = append(pairs, [2]any{opk, theirEK})
	}
	return specPQXDHFrom(pairs, ss)
}

func specPQXDHFrom(pairs [][2]any, ss []byte) (*specPQXDH, error) {
	out := &specPQXDH{}
	in := slices.Repeat([]byte{0xFF}, 32) // F: 32 0xFF bytes for X25519
	for _, p := range pairs {
		dh, err := specDH(p[0].(*curve.PrivateKey), p[1].(*curve.PublicKey))
		if err != nil {
			return nil, err
		}
		out.DH = append(out.DH, dh)
		in = append(in, dh...)
	}
	in = append(in, ss...)
	out.SecretInput = in
	k := specHKDF(96, nil, in, []byte(specLabelPQXDH))
	out.Root, out.Chain, out.SPQR = k[:32], k[32:64], k[64:]
	return out, nil
}

// specKDFRK is KDF_RK: HKDF(salt = root key, ikm = DH output,
// "WhisperRatchet", 64) -> new root key || chain key.
func specKDFRK(root, dh []byte) (newRoot, chainKey []byte) {
	k := specHKDF(64, root, dh, []byte(specLabelRatchet))
	return k[:32], k[32:]
}

// specKDFCK is KDF_CK: message-key seed HMAC(CK, 0x01), next CK HMAC(CK, 0x02).
func specKDFCK(ck []byte) (seed, next []byte) {
	return specHMAC(ck, []byte{0x01}), specHMAC(ck, []byte{0x02})
}

// specChainKeyAt steps a chain key n times.
func specChainKeyAt(ck []byte, n uint32) []byte {
	for range n {
		_, ck = specKDFCK(ck)
	}
	return ck
}

// specMessageKeys expands a seed: HKDF(salt = SPQR key or none, ikm = seed,
// "WhisperMessageKeys", 80) -> cipher key || MAC key || IV.
func specMessageKeys(seed, salt []byte) (cipherKey, macKey, iv []byte) {
	k := specHKDF(80, salt, seed, []byte(specLabelMessageKeys))
	return k[:32], k[32:64], k[64:]
}

// specSPQRStart starts the SPQR chain from the PQXDH SPQR key: HKDF(ikm =
// key, "... Chain  Start", 96) -> next root, A2B chain, B2A chain.
func specSPQRStart(key []byte) (nextRoot, a2b, b2a []byte) {
	k := specHKDF(96, nil, key, []byte(specLabelSPQRStart))
	return k[:32], k[32:64], k[64:]
}

// specSPQRNext is one step of an SPQR chain to counter ctr: HKDF(ikm = next,
// BE32(ctr) || "... Chain Next", 64) -> next || key.
func specSPQRNext(next []byte, ctr uint32) (newNext, key []byte) {
	k := specHKDF(64, nil, next, binary.BigEndian.AppendUint32(nil, ctr), []byte(specLabelSPQRNext))
	return k[:32], k[32:]
}

// specSPQRKeyAt returns the SPQR chain key of index n (n >= 1) from a chain
// start, and the chain's next value after it.
func specSPQRKeyAt(start []byte, n uint32) (key, next []byte) {
	next = start
	for i := uint32(1); i <= n; i++ {
		next, key = specSPQRNext(next, i)
	}
	return key, next
}

// specSPQRMessage encodes an SPQR V1 message: 0x01 || varint(epoch) ||
// varint(index) || type [|| varint(chunk index) || chunk].
func specSPQRMessage(epoch uint64, index uint32, typ byte, chunkIndex uint16, chunk []byte) []byte {
	b := []byte{0x01}
	b = protowire.AppendVarint(b, epoch)
	b = protowire.AppendVarint(b, uint64(index))
	b = append(b, typ)
	if chunk != nil {
		b = protowire.AppendVarint(b, uint64(chunkIndex))
		b = append(b, chunk...)
	}
	return b
}

// specSignalMessageBody encodes versionByte || SignalMessage protobuf
// (fields in tag order; pq_ratchet and addresses only when not empty).
func specSignalMessageBody(version byte, ratchetKey []byte, counter, previous uint32, ciphertext, pq, addresses []byte) []byte {
	b := []byte{version}
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, ratchetKey)
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(counter))
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(previous))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendBytes(b, ciphertext)
	if len(pq) > 0 {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, pq)
	}
	if len(addresses) > 0 {
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendBytes(b, addresses)
	}
	return b
}

// specMAC is the SignalMessage MAC: HMAC-SHA256(MAC key, sender identity ||
// receiver identity || versionByte || protobuf) truncated to 8 bytes.
func specMAC(macKey, senderIdentity, receiverIdentity, body []byte) []byte {
	return specHMAC(macKey, senderIdentity, receiverIdentity, body)[:8]
}

// specEncryptCBC is AES-256-CBC with PKCS#7 padding.
func specEncryptCBC(key, iv, plaintext []byte) []byte {
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	return specEncryptBlocks(key, iv, append(slices.Clone(plaintext), slices.Repeat([]byte{byte(pad)}, pad)...))
}

// specEncryptBlocks is AES-256-CBC of whole blocks, without padding (to
// craft messages with invalid padding).
func specEncryptBlocks(key, iv, blocks []byte) []byte {
	c, err := aes.NewCipher(key)
	if err != nil {
		panic("testvectors: " + err.Error())
	}
	out := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(out, blocks)
	return out
}

// specPreKeyMessage encodes a PreKeySignalMessage: 0x44 || protobuf with
// fields in tag order (pre_key_id only with a one-time prekey).
type specPreKeyFields struct {
	HasPreKeyID     bool
	PreKeyID        uint32
	BaseKey         []byte
	IdentityKey     []byte
	Message         []byte
	RegistrationID  uint32
	SignedPreKeyID  uint32
	KyberPreKeyID   uint32
	KyberCiphertext []byte
}

func specPreKeyMessage(version byte, f *specPreKeyFields) []byte {
	b := []byte{version}
	u := func(n protowire.Number, v uint32) {
		b = protowire.AppendTag(b, n, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(v))
	}
	by := func(n protowire.Number, v []byte) {
		b = protowire.AppendTag(b, n, protowire.BytesType)
		b = protowire.AppendBytes(b, v)
	}
	if f.HasPreKeyID {
		u(1, f.PreKeyID)
	}
	by(2, f.BaseKey)
	by(3, f.IdentityKey)
	by(4, f.Message)
	u(5, f.RegistrationID)
	u(6, f.SignedPreKeyID)
	u(7, f.KyberPreKeyID)
	by(8, f.KyberCiphertext)
	return b
}

// specServiceID is the 17-byte fixed-width form of a service id string: a
// kind byte (0x00 ACI, 0x01 for a "PNI:" prefix) and the UUID. ok is false for
// a name that is not a service id.
func specServiceID(name string) (id []byte, ok bool) {
	kind := byte(0x00)
	if rest, found := strings.CutPrefix(name, "PNI:"); found {
		kind, name = 0x01, rest
	}
	if len(name) != 36 || name[8] != '-' || name[13] != '-' || name[18] != '-' || name[23] != '-' {
		return nil, false
	}
	u, err := hex.DecodeString(name[0:8] + name[9:13] + name[14:18] + name[19:23] + name[24:36])
	if err != nil {
		return nil, false
	}
	return append([]byte{kind}, u...), true
}

// specAddresses is the 36-byte SignalMessage addresses field: sender service
// id || sender device || recipient service id || recipient device, or nil
// when either name is not a service id or a device id exceeds a byte.
func specAddresses(sender, recipient address) []byte {
	s, ok1 := specServiceID(sender.Name)
	r, ok2 := specServiceID(recipient.Name)
	if !ok1 || !ok2 || sender.DeviceID > 0xFF || recipient.DeviceID > 0xFF {
		return nil
	}
	b := append(s, byte(sender.DeviceID))
	b = append(b, r...)
	return append(b, byte(recipient.DeviceID))
}
