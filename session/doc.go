// Package session is what applications use to hold end-to-end encrypted
// one-to-one conversations on the Signal Protocol, wire-compatible with
// libsignal 0.103: PQXDH key agreement (https://signal.org/docs/specifications/pqxdh/)
// with X25519 and Kyber1024, the Double Ratchet with SPQR (package ratchet),
// and Sesame-style session records (https://signal.org/docs/specifications/sesame/).
//
// # First calls
//
// Start with an Account. It lives in a keystore.Store that the application
// provides (keystore/memory for tests, keystore/sqlite wrapped in
// keystore/encrypted for a device); every state change of one call is one
// transaction in that store.
//
//	acct, err := session.CreateAccount(ctx, store, session.Address{Name: aci, DeviceID: 1})
//	// publish prekeys
//	acct.GenerateSignedPreKey(ctx, 0)
//	acct.GenerateKyberPreKeys(ctx, 0, 1, true) // last resort
//	pks, _ := acct.GeneratePreKeys(ctx, 0, 100)
//	bundle, _ := acct.Bundle(ctx, pks[0].ID, 0, 0)
//	// ... the peer fetches the bundle from a server and calls:
//	peer.ProcessBundle(ctx, acctAddress, bundle)
//	msg, _ := peer.Encrypt(ctx, acctAddress, []byte("hi"))
//	plaintext, _ := acct.Decrypt(ctx, peerAddress, msg)
//
// An application that keeps an outbox uses EncryptWith, which stores the
// message in the ratchet step's own transaction and hands it out only after
// the commit; one that keeps received messages uses DecryptWith, which
// commits the ratchet step only together with the application's own write.
// EncryptBatch and DecryptBatch amortise a durable store's commit over many
// messages.
//
// # Errors
//
// Every error of Decrypt, DecryptWith and DecryptBatch is in exactly one of
// three classes, and the class says what to do with the message:
//
//	class            test                                      cause                                  what to do
//	---------------  ----------------------------------------  -------------------------------------  ------------------------------------------
//	invalid message  errors.Is(err, ErrInvalidMessage)         malformed, forged, tampered, replayed,  drop it (acknowledge it to the server):
//	                                                           too far ahead, wrong version, bad SPQR  trying again gives the same error; the
//	                                                           data, unknown prekey, no session, low-  session state is unchanged
//	                                                           order key, addresses mismatch, ...
//	untrusted        errors.Is(err, ErrUntrustedIdentity)      the sender's identity key differs from  hold it; show the user e.SafetyNumber from
//	identity                                                   the trusted one                         the *UntrustedIdentityError; on acceptance
//	                                                                                                   TrustIdentity(ctx, e.Address, e.Key) and
//	                                                                                                   decrypt it again
//	local fault      anything else                             the store, a cancelled context, the     keep it and retry later: nothing was
//	                                                           system's random source                  committed
//
// The specific cause of an invalid message stays reachable with errors.Is:
// the ratchet's (ratchet.ErrAuthentication, ratchet.ErrDuplicateMessage,
// ratchet.ErrSPQR, ...) and this package's (ErrUnknownPreKey, ErrNoSession,
// ErrInvalidKeyAgreement, ...). No error of an internal package reaches the
// API. ProcessBundle's errors are ErrInvalidBundle, ErrInvalidSignature or
// an *UntrustedIdentityError for a bad or untrusted bundle, and local faults.
//
// # Guarantees
//
//   - Trust on first use: the first identity key seen for an address is
//     trusted; a different one later fails with *UntrustedIdentityError
//     until the application calls TrustIdentity. SafetyNumber computes the
//     number users compare, and SetVerified records that they did.
//   - Decrypt is transactional: a message that fails for any reason changes
//     nothing in the store. Encrypt commits the advanced session before it
//     returns the ciphertext, and no API hands out a message whose ratchet
//     step may not be durable, so a message key is never used twice.
//   - One-time prekeys are consumed by the first PreKey message that uses
//     them; a last-resort Kyber prekey may serve many sessions, but the same
//     (Kyber prekey, signed prekey, base key) triple is accepted only once.
//   - Until the peer replies, messages are PreKey messages carrying the
//     PQXDH values (and, when both names are Signal service ids, the
//     addresses field binding sender and recipient). An unanswered session
//     expires after MaxUnacknowledgedSessionAge.
//   - A record keeps the current session and up to MaxArchivedSessions
//     archived ones; Decrypt tries them all, each within libsignal's limits,
//     so both parties starting a session at once still converge on a
//     working conversation. SECURITY.md states what a forged message can
//     cost.
//   - Every record this package writes opens with a magic and a version;
//     secrets it drops (prekeys that left the store, serialized records)
//     are wiped as far as Go allows.
package session
