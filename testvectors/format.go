package testvectors

import (
	"encoding/hex"
	"encoding/json"
	"errors"
)

// The vector file format (README.md, schema.json). Every file is one JSON
// object:
//
//	{"algorithm": ..., "version": 1, "header": [...], "notes": {flag: text},
//	 "numberOfTests": N, "testGroups": [{"type": ..., ..., "tests": [...]}]}
//
// and every test case carries tcId, comment, flags, its inputs and outputs in
// lowercase hex, result ("valid" or "invalid") and, when invalid, the error
// class Sotto must report. The Go types below are shared by the verifier and
// by the generator (generate_test.go), so that what is written is exactly
// what is read.

// formatVersion is the version of the file format this package reads and
// writes.
const formatVersion = 1

// Results of a test case.
const (
	resultValid   = "valid"
	resultInvalid = "invalid"
)

// hexBytes is a byte string stored in JSON as lowercase hex. The empty string
// decodes to an empty, non-nil slice; an absent field stays nil, so optional
// fields use the omitzero option and "no value" differs from "empty value".
type hexBytes []byte

// MarshalJSON encodes h as a lowercase hex string.
func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// errUppercaseHex is returned for hex strings that are not lowercase: the
// files are canonical, so that regenerating them byte for byte is meaningful.
var errUppercaseHex = errors.New("testvectors: hex must be lowercase")

// UnmarshalJSON decodes a lowercase hex string.
func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, c := range s {
		if c >= 'A' && c <= 'F' {
			return errUppercaseHex
		}
	}
	d, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	if d == nil {
		d = []byte{}
	}
	*h = d
	return nil
}

// fileHeader is the part of a vector file read before its groups.
type fileHeader struct {
	Algorithm     string            `json:"algorithm"`
	Version       int               `json:"version"`
	Header        []string          `json:"header"`
	Notes         map[string]string `json:"notes"`
	NumberOfTests int               `json:"numberOfTests"`
}

// vectorFile is a whole vector file with groups of type G.
type vectorFile[G any] struct {
	fileHeader
	TestGroups []G `json:"testGroups"`
}

// caseID opens every test case.
type caseID struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Source  string   `json:"source,omitempty"`
	Flags   []string `json:"flags"`
}

// caseResult closes every test case: the expected result and, for an invalid
// case, the error class.
type caseResult struct {
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

func (c *caseID) id() *caseID { return c }

// identified is implemented by every test case type (through caseID).
type identified interface{ id() *caseID }

// ---- xeddsa.json ----

// Group types of xeddsa.json.
const (
	typeXEdDSASign   = "XEdDSASign"
	typeXEdDSAVerify = "XEdDSAVerify"
)

type xeddsaGroup struct {
	Type    string       `json:"type"`
	Comment string       `json:"comment"`
	Private hexBytes     `json:"private,omitzero"`
	Public  hexBytes     `json:"public"`
	Tests   []xeddsaTest `json:"tests"`
}

type xeddsaTest struct {
	caseID
	Msg    hexBytes `json:"msg"`
	Random hexBytes `json:"random,omitzero"`
	Sig    hexBytes `json:"sig"`
	caseResult
}

// ---- x25519.json ----

// Group types of x25519.json.
const (
	typeX25519KeyPair   = "X25519KeyPair"
	typeX25519PublicKey = "X25519PublicKey"
	typeX25519Agreement = "X25519Agreement"
	typeX25519Canonical = "X25519Canonical"
)

type x25519Group struct {
	Type    string       `json:"type"`
	Comment string       `json:"comment"`
	Tests   []x25519Test `json:"tests"`
}

type x25519Test struct {
	caseID
	Private hexBytes `json:"private,omitzero"`
	Clamped hexBytes `json:"clamped,omitzero"`
	Public  hexBytes `json:"public,omitzero"`
	Peer    hexBytes `json:"peer,omitzero"`
	Shared  hexBytes `json:"shared,omitzero"`
	caseResult
}

// ---- kyber1024.json ----

// Group types of kyber1024.json.
const (
	typeKyberKeyGen        = "KyberKeyGen"
	typeKyberEncapsulation = "KyberEncapsulation"
	typeKyberDecapsulation = "KyberDecapsulation"
	typeKyberPublicKey     = "KyberPublicKey"
	typeKyberSecretKey     = "KyberSecretKey"
)

type kyberGroup struct {
	Type      string      `json:"type"`
	Comment   string      `json:"comment"`
	PublicKey hexBytes    `json:"publicKey,omitzero"`
	SecretKey hexBytes    `json:"secretKey,omitzero"`
	Tests     []kyberTest `json:"tests"`
}

type kyberTest struct {
	caseID
	Seed         hexBytes `json:"seed,omitzero"`
	PublicKey    hexBytes `json:"publicKey,omitzero"`
	SecretKey    hexBytes `json:"secretKey,omitzero"`
	Ciphertext   hexBytes `json:"ciphertext,omitzero"`
	SharedSecret hexBytes `json:"sharedSecret,omitzero"`
	caseResult
}

// ---- pqxdh.json and conversation.json: the parties ----

// address is a session.Address.
type address struct {
	Name     string `json:"name"`
	DeviceID uint32 `json:"deviceId"`
}

// party is everything listed about one side of a session: the secrets that
// let a verifier rebuild its keys, and the public values derived from them.
// Optional fields are absent when they do not apply (an initiator has no
// prekeys, a responder no base key).
type party struct {
	Address         address  `json:"address"`
	RegistrationID  uint32   `json:"registrationId"`
	IdentityPrivate hexBytes `json:"identityPrivate"`
	IdentityKey     hexBytes `json:"identityKey"`

	// Initiator: PQXDH base key and the Kyber encapsulation randomness.
	BasePrivate       hexBytes `json:"basePrivate,omitzero"`
	BaseKey           hexBytes `json:"baseKey,omitzero"`
	EncapsulationSeed hexBytes `json:"encapsulationSeed,omitzero"`

	// Responder: prekeys. The signature randomness is XEdDSA's Z.
	SignedPreKeyID              uint32   `json:"signedPreKeyId,omitzero"`
	SignedPreKeyPrivate         hexBytes `json:"signedPreKeyPrivate,omitzero"`
	SignedPreKey                hexBytes `json:"signedPreKey,omitzero"`
	SignedPreKeySignatureRandom hexBytes `json:"signedPreKeySignatureRandom,omitzero"`
	SignedPreKeySignature       hexBytes `json:"signedPreKeySignature,omitzero"`
	OneTimePreKeyID             uint32   `json:"oneTimePreKeyId,omitzero"`
	OneTimePreKeyPrivate        hexBytes `json:"oneTimePreKeyPrivate,omitzero"`
	OneTimePreKey               hexBytes `json:"oneTimePreKey,omitzero"`
	KyberPreKeyID               uint32   `json:"kyberPreKeyId,omitzero"`
	KyberPreKeySeed             hexBytes `json:"kyberPreKeySeed,omitzero"`
	KyberPreKey                 hexBytes `json:"kyberPreKey,omitzero"`
	KyberPreKeySecret           hexBytes `json:"kyberPreKeySecret,omitzero"`
	KyberPreKeySignatureRandom  hexBytes `json:"kyberPreKeySignatureRandom,omitzero"`
	KyberPreKeySignature        hexBytes `json:"kyberPreKeySignature,omitzero"`

	// The Double Ratchet key pairs the party generates, in order: for the
	// initiator the first is made with the session, for both the others at
	// each DH ratchet step on receiving a new ratchet key.
	RatchetPrivates []hexBytes `json:"ratchetPrivates,omitzero"`
	RatchetKeys     []hexBytes `json:"ratchetKeys,omitzero"`
}

// bundle is the prekey bundle the initiator processes (session.Bundle).
type bundle struct {
	RegistrationID        uint32   `json:"registrationId"`
	DeviceID              uint32   `json:"deviceId"`
	PreKeyID              uint32   `json:"preKeyId,omitzero"`
	PreKey                hexBytes `json:"preKey,omitzero"`
	SignedPreKeyID        uint32   `json:"signedPreKeyId"`
	SignedPreKey          hexBytes `json:"signedPreKey"`
	SignedPreKeySignature hexBytes `json:"signedPreKeySignature"`
	IdentityKey           hexBytes `json:"identityKey"`
	KyberPreKeyID         uint32   `json:"kyberPreKeyId"`
	KyberPreKey           hexBytes `json:"kyberPreKey"`
	KyberPreKeySignature  hexBytes `json:"kyberPreKeySignature"`
}

// ---- pqxdh.json ----

const typePQXDH = "PQXDH"

type pqxdhGroup struct {
	Type      string      `json:"type"`
	Comment   string      `json:"comment"`
	Responder party       `json:"responder"`
	Bundle    bundle      `json:"bundle"`
	Tests     []pqxdhTest `json:"tests"`
}

type pqxdhTest struct {
	caseID
	Initiator         party      `json:"initiator"`
	KyberCiphertext   hexBytes   `json:"kyberCiphertext,omitzero"`
	KyberSharedSecret hexBytes   `json:"kyberSharedSecret,omitzero"`
	DH                []hexBytes `json:"dh,omitzero"`
	SecretInput       hexBytes   `json:"secretInput,omitzero"`
	RootKey           hexBytes   `json:"rootKey,omitzero"`
	ChainKey          hexBytes   `json:"chainKey,omitzero"`
	SPQRKey           hexBytes   `json:"spqrKey,omitzero"`
	Plaintext         hexBytes   `json:"plaintext,omitzero"`
	PreKeyMessage     hexBytes   `json:"preKeyMessage,omitzero"`
	caseResult
}

// ---- ratchet.json ----

// Group types of ratchet.json.
const (
	typeRootKDF       = "RootKDF"
	typeChainKDF      = "ChainKDF"
	typeMessageKeys   = "MessageKeys"
	typeSPQRChain     = "SPQRChain"
	typeSignalMessage = "SignalMessage"
)

type ratchetGroup struct {
	Type    string `json:"type"`
	Comment string `json:"comment"`

	// ChainKDF
	ChainKey hexBytes `json:"chainKey,omitzero"`

	// SPQRChain: the PQXDH SPQR key and the chain start derived from it.
	SPQRKey     hexBytes `json:"spqrKey,omitzero"`
	NextRoot    hexBytes `json:"nextRoot,omitzero"`
	A2BChainKey hexBytes `json:"a2bChainKey,omitzero"`
	B2AChainKey hexBytes `json:"b2aChainKey,omitzero"`

	// SignalMessage: a session from the initiator's side, right after PQXDH
	// (RootKey, ChainKey and SPQRKey are its output).
	RootKey                    hexBytes `json:"rootKey,omitzero"`
	SenderIdentity             hexBytes `json:"senderIdentity,omitzero"`
	ReceiverIdentity           hexBytes `json:"receiverIdentity,omitzero"`
	SenderRatchetPrivate       hexBytes `json:"senderRatchetPrivate,omitzero"`
	SenderRatchetKey           hexBytes `json:"senderRatchetKey,omitzero"`
	ReceiverRatchetPrivate     hexBytes `json:"receiverRatchetPrivate,omitzero"`
	ReceiverRatchetKey         hexBytes `json:"receiverRatchetKey,omitzero"`
	ReceiverNextRatchetPrivate hexBytes `json:"receiverNextRatchetPrivate,omitzero"`
	SendingRootKey             hexBytes `json:"sendingRootKey,omitzero"`
	SendingChainKey            hexBytes `json:"sendingChainKey,omitzero"`

	Tests []ratchetTest `json:"tests"`
}

type ratchetTest struct {
	caseID

	// RootKDF
	RootKey     hexBytes `json:"rootKey,omitzero"`
	OurPrivate  hexBytes `json:"ourPrivate,omitzero"`
	TheirPublic hexBytes `json:"theirPublic,omitzero"`
	DHOutput    hexBytes `json:"dhOutput,omitzero"`
	NewRootKey  hexBytes `json:"newRootKey,omitzero"`

	// ChainKDF (Index, ChainKey at Index, MessageKeySeed, NextChainKey),
	// RootKDF (ChainKey), SPQRChain (Direction, Index, Key, Next).
	Direction      string   `json:"direction,omitempty"`
	Index          *uint32  `json:"index,omitempty"`
	ChainKey       hexBytes `json:"chainKey,omitzero"`
	MessageKeySeed hexBytes `json:"messageKeySeed,omitzero"`
	NextChainKey   hexBytes `json:"nextChainKey,omitzero"`
	Key            hexBytes `json:"key,omitzero"`
	Next           hexBytes `json:"next,omitzero"`

	// MessageKeys (Seed = MessageKeySeed above, Salt absent = no salt).
	Salt      hexBytes `json:"salt,omitzero"`
	CipherKey hexBytes `json:"cipherKey,omitzero"`
	MacKey    hexBytes `json:"macKey,omitzero"`
	IV        hexBytes `json:"iv,omitzero"`

	// SignalMessage: Counter set means the message is the initiator's
	// message number Counter and can be regenerated; otherwise it is a
	// crafted message that is only decrypted.
	Counter    *uint32  `json:"counter,omitempty"`
	Plaintext  hexBytes `json:"plaintext,omitzero"`
	Addresses  hexBytes `json:"addresses,omitzero"`
	PQRatchet  hexBytes `json:"pqRatchet,omitzero"`
	Ciphertext hexBytes `json:"ciphertext,omitzero"`
	MAC        hexBytes `json:"mac,omitzero"`
	Message    hexBytes `json:"message,omitzero"`

	caseResult
}

// ---- conversation.json ----

const typeConversation = "Conversation"

// Actions of a conversation event.
const (
	actionSend    = "send"
	actionDeliver = "deliver"
)

// Message types of a conversation event.
const (
	msgPreKey  = "prekey"
	msgWhisper = "whisper"
)

type conversationGroup struct {
	Type    string `json:"type"`
	Comment string `json:"comment"`
	Alice   party  `json:"alice"`
	Bob     party  `json:"bob"`
	Bundle  bundle `json:"bundle"`

	// PQXDH output and the values Alice's PreKey messages carry.
	KyberCiphertext hexBytes `json:"kyberCiphertext"`
	RootKey         hexBytes `json:"rootKey"`
	ChainKey        hexBytes `json:"chainKey"`
	SPQRKey         hexBytes `json:"spqrKey"`
	// Addresses is the SignalMessage addresses field of Alice's PreKey
	// messages (sender Alice, recipient Bob); Bob expects exactly it.
	Addresses hexBytes `json:"addresses"`

	Tests []conversationEvent `json:"tests"`
}

type conversationEvent struct {
	caseID
	Action    string   `json:"action"`
	Party     string   `json:"party"`
	MessageID string   `json:"messageId"`
	Type      string   `json:"type"`
	Plaintext hexBytes `json:"plaintext,omitzero"`
	Message   hexBytes `json:"message"`
	DHStep    bool     `json:"dhStep,omitempty"`
	caseResult
}

// ---- fingerprint.json ----

// Group types of fingerprint.json.
const (
	typeFingerprint        = "Fingerprint"
	typeFingerprintCompare = "FingerprintCompare"
)

type fingerprintGroup struct {
	Type       string            `json:"type"`
	Comment    string            `json:"comment"`
	Iterations int               `json:"iterations"`
	Version    int               `json:"version"`
	Tests      []fingerprintTest `json:"tests"`
}

type fingerprintTest struct {
	caseID
	LocalID         hexBytes `json:"localId"`
	LocalKey        hexBytes `json:"localKey"`
	RemoteID        hexBytes `json:"remoteId"`
	RemoteKey       hexBytes `json:"remoteKey"`
	Displayable     string   `json:"displayable,omitempty"`
	LocalScannable  hexBytes `json:"localScannable,omitzero"`
	RemoteScannable hexBytes `json:"remoteScannable,omitzero"`
	Scanned         hexBytes `json:"scanned,omitzero"`
	Match           *bool    `json:"match,omitempty"`
	caseResult
}
