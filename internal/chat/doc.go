// Package chat is the client engine behind cmd/sotto: one account on this
// device, kept in an encrypted SQLite store, talking through a relay
// (internal/relay) to other accounts with package session's end-to-end
// encryption.
//
// A Client is what callers use. Open creates or unlocks the account in
// <dataDir>/<name>.db, registers with the relay and publishes prekeys; Send
// encrypts and queues a text message; Run receives. The address of an
// account is its name (session.Address{Name: name, DeviceID: 1}); names are
// 1-32 characters of a-z, 0-9, '.', '_' and '-'.
//
// What the engine guarantees on top of package session:
//
//   - A received message is decrypted and stored in the application's own
//     space of the store in the same transaction as the session change
//     (session.Account.DecryptWith), and acknowledged to the relay only
//     after that commits. A crash between the two makes the relay deliver
//     the message again; the engine recognises the relay id it already
//     stored and acknowledges the duplicate without showing it twice.
//   - A message that fails to decrypt — forged, tampered, replayed, for an
//     evicted key — is reported as an EventFailed and acknowledged, so that
//     it cannot block the queue; the session state is unchanged by it
//     (session's transactional Decrypt), so later messages still decrypt.
//   - A PreKey message carrying an identity key that differs from the
//     trusted one is not decrypted: it is held, encrypted, in the store and
//     reported as EventIdentityChanged. TrustIdentity accepts the new key
//     and releases the held messages. Send to a contact whose published
//     identity changed fails with an *IdentityChangedError until then.
//   - An encrypted message is written to an outbox in the store before it
//     goes to the relay and leaves it only when the relay accepted it, so
//     a relay that is down loses nothing once Send has returned; Run keeps
//     retrying. (A crash between session.Encrypt and the outbox write
//     loses that one message; the ratchet simply skips its key.)
//   - Delivery receipts are end-to-end encrypted messages like any other:
//     the relay cannot forge "delivered".
//   - Plaintexts are padded to a multiple of 160 bytes before encryption,
//     as Signal's apps do, so the relay learns message sizes only to that
//     granularity.
//
// What is visible at rest: see package keystore/encrypted. The chat spaces
// name rows after contacts' names, so the list of contacts is visible to
// whoever can read the store file; message texts and identity keys are not.
//
// Limits on what a relay or a peer can make a client store: at most
// MaxHeldPerContact messages held for an unaccepted identity per contact;
// texts of at most MaxTextSize bytes.
package chat
