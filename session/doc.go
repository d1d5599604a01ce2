// Package session is what applications use to hold end-to-end encrypted
// one-to-one conversations on the Signal Protocol, wire-compatible with
// libsignal 0.103: PQXDH key agreement (https://signal.org/docs/specifications/pqxdh/)
// with X25519 and Kyber1024, the Double Ratchet with SPQR (package ratchet),
// and Sesame-style session records (https://signal.org/docs/specifications/sesame/).
//
// Start with an Account. It lives in a keystore.Store that the application
// provides (keystore/memory for tests); every state change of one call is
// one transaction in that store.
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
// What the package guarantees:
//
//   - Trust on first use: the first identity key seen for an address is
//     trusted; a different one later fails with *UntrustedIdentityError
//     (errors.Is ErrUntrustedIdentity) until the application calls
//     TrustIdentity. SafetyNumber computes the number users compare, and
//     SetVerified records that they did.
//   - Decrypt is transactional: a message that fails for any reason changes
//     nothing in the store. Encrypt commits the advanced session before it
//     returns the ciphertext, so a message key is never used twice.
//   - One-time prekeys are consumed by the first PreKey message that uses
//     them; a last-resort Kyber prekey may serve many sessions, but the same
//     (Kyber prekey, signed prekey, base key) triple is accepted only once.
//   - Until the peer replies, messages are PreKey messages carrying the
//     PQXDH values (and, when both names are Signal service ids, the
//     addresses field binding sender and recipient). An unanswered session
//     expires after MaxUnacknowledgedSessionAge.
//   - A record keeps the current session and up to MaxArchivedSessions
//     archived ones; Decrypt tries them all, so both parties starting a
//     session at once still converge on a working conversation.
package session
