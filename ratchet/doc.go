// Package ratchet implements the Signal Protocol's message layer as
// libsignal 0.103 speaks it: the Double Ratchet (The Double Ratchet
// Algorithm, revision 3, 2025-09-26, sections 2-3), the SPQR symmetric chain
// (section 5) whose keys salt every message key as the Triple Ratchet does
// (section 6), and the version-4 SignalMessage wire format.
//
// Most applications want package session, which runs PQXDH, keeps session
// records and calls the same code. Use ratchet directly to build a different
// session layer on libsignal's message format: its API uses only the
// standard library's types (crypto/ecdh X25519 keys) and its own.
//
// # First calls
//
// A State is created from the output of the key agreement: NewInitiator by
// the party that fetched the other's prekeys, NewResponder by the other.
// Encrypt and Decrypt then advance it; MarshalBinary and UnmarshalBinary
// persist it in a compact, versioned encoding ("SOTR" and a version byte).
//
//	alice, _ := ratchet.NewInitiator(&ratchet.InitiatorParams{Keys: keys,
//		TheirRatchetKey: bobSignedPreKey.PublicKey(), LocalIdentity: aliceID, RemoteIdentity: bobID})
//	bob, _ := ratchet.NewResponder(&ratchet.ResponderParams{Keys: keys,
//		OurRatchetKey: bobSignedPreKey, LocalIdentity: bobID, RemoteIdentity: aliceID})
//	msg, _ := alice.Encrypt([]byte("hi"), nil)
//	plaintext, _ := bob.Decrypt(msg, nil)
//
// # Guarantees
//
//   - Decrypt is transactional: it changes the State only when the message
//     authenticates and decrypts. A forged, replayed, truncated or oversized
//     message returns an error and leaves the State, and its encoding,
//     byte-identical.
//   - Encrypt advances the State before it returns: persist the State before
//     sending the message, so that no message key is ever used twice.
//   - What a peer can make a State store or compute is bounded by
//     libsignal's limits: MaxForwardJump (25,000) counters ahead in one
//     chain, MaxSkippedKeys (2,000) stored keys per chain, MaxReceiverChains
//     (5), and the same jump and window for the SPQR chain.
//   - Secrets never print: State and InitialKeys redact themselves under
//     every fmt verb. A State must not be copied by assignment (go vet says
//     so); Clone makes an independent copy.
//
// # Errors
//
// Every error Decrypt returns is caused by the message and matches one of
// ErrMalformedMessage, ErrUnsupportedVersion, ErrAddressMismatch,
// ErrDuplicateMessage, ErrTooFarAhead, ErrSPQR, ErrAuthentication,
// ErrBadPadding or ErrInvalidKey (a failure of the system's random source,
// which only a DH step draws from, is the one exception).
//
// # Wire and KDF details
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
// The repository's internal/wire/WIRE.md describes every wire format and
// label in full.
//
// # SPQR
//
// This version implements the SPQR symmetric chain seeded from PQXDH
// (chain epoch 0) and sends braid messages of type None at epoch 1; it
// ignores the peer's braid chunks at epoch 1. libsignal accepts this, so
// the two interoperate, but there is no post-quantum re-keying after the
// handshake. A peer that advances the braid gets ErrSPQRBraidRequired.
package ratchet
