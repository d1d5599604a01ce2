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
//     Trust is bound to what the user compared: PendingSafetyNumber returns
//     the safety number together with the key it was computed from, and
//     TrustIdentity takes that key and refuses (ErrPendingMismatch) if it
//     is not the pending one. The first pending key stays until trusted or
//     discarded (RejectIdentity); a message with yet another new key for
//     the contact meanwhile is refused as an EventFailed with an
//     *IdentityConflictError, so the number the user is comparing cannot
//     be swapped under them.
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
// What the relay can do about names: it authenticates senders to itself,
// but the sender name a client sees is the relay's word, and a PreKey
// message binds no name (chat names are not UUIDs). A hostile relay can
// therefore relabel a contact's first message so that it appears to come
// from another name. For a name with a trusted identity the label does not
// survive: the key differs, so the message is held as an identity change
// whose safety number will not match. For a name with no trusted identity
// yet, trust on first use would adopt the key: so a PreKey message whose
// identity key is already trusted for another contact (or is this
// account's own) is refused as an EventFailed with a *SenderMismatchError
// ("message claiming to be from carol carries alice's identity key"). The
// relay can still present a stranger's first message under a name this
// account never talked to, with that stranger's own key; only comparing
// safety numbers with the person behind the name tells them apart.
//
// Limits on what a relay or a peer can make a client store: at most
// MaxHeldPerContact messages held for an unaccepted identity per contact;
// texts of at most MaxTextSize bytes.
package chat
