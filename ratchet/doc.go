// Package ratchet implements the Signal Protocol's message layer as libsignal
// 0.103 speaks it: the Double Ratchet (https://signal.org/docs/specifications/doubleratchet/,
// revision 4, the "Triple Ratchet" with SPQR), the SPQR symmetric chain that
// salts every message key with a post-quantum chain key, and the version-4
// SignalMessage wire format.
//
// Most applications want package session, which runs PQXDH, keeps session
// records and calls this package. Use ratchet directly only to build a
// different session layer.
//
// A State is created with NewInitiator or NewResponder from the output of
// the key agreement, then Encrypt and Decrypt advance it. Decrypt is
// transactional: it changes the State only when the message authenticates
// and decrypts. States persist with MarshalBinary and UnmarshalBinary in a
// compact versioned encoding.
//
// Wire and KDF details (libsignal rust/protocol, signal-wire.md §5-10):
//
//   - Root KDF: HKDF-SHA256(salt = root key, ikm = X25519 output,
//     info = "WhisperRatchet") -> root key || chain key.
//   - Chain KDF: seed = HMAC-SHA256(CK, 0x01), next CK = HMAC-SHA256(CK, 0x02).
//   - Message keys: HKDF-SHA256(salt = SPQR key, ikm = seed,
//     info = "WhisperMessageKeys", 80) -> AES-256 key || HMAC key || CBC IV.
//   - Cipher: AES-256-CBC with PKCS#7 padding.
//   - SignalMessage: 0x44 || protobuf{1 ratchet key, 2 counter, 3 previous
//     counter, 4 ciphertext, 5 SPQR message, 6 addresses} || MAC, the MAC
//     being HMAC-SHA256(HMAC key, sender identity || recipient identity ||
//     0x44 || protobuf) truncated to 8 bytes.
//
// Limits, as libsignal's: MaxForwardJump (25,000) counters ahead in one
// chain, MaxSkippedKeys (2,000) stored keys per chain, MaxReceiverChains (5).
//
// SPQR: this version implements the SPQR symmetric chain seeded from PQXDH
// (chain epoch 0) and sends braid messages of type None at epoch 1; it
// ignores the peer's braid chunks at epoch 1. libsignal accepts this, so the
// two interoperate, but there is no post-quantum re-keying after the
// handshake until the ML-KEM braid lands. A peer that advances the braid
// gets ErrSPQRBraidRequired (wrapped in *SPQRError).
package ratchet

import "fmt"

// String redacts the state: it holds secrets.
func (s State) String() string { return "ratchet.State{REDACTED}" }

// GoString redacts the state.
func (s State) GoString() string { return s.String() }

// Format redacts the state under every verb.
func (s State) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// Format redacts the keys under every verb.
func (k InitialKeys) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }
