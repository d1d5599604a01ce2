// Package relay is Sotto's store-and-forward server and its client: an
// untrusted mailbox service that holds prekey bundles and ciphertext for
// devices that are offline, in the manner of the Signal service's keys and
// messages APIs (https://signal.org/docs/specifications/x3dh/, section 3.2,
// "Publishing keys"). The wire protocol is HTTP with JSON bodies under /v1/,
// plus a WebSocket for push; PROTOCOL.md beside this file specifies it.
//
// Most callers want a Client: NewClient, Register once, UploadKeys, then
// Send, Fetch or Subscribe, and Ack each message once it is safely handled.
// A server is NewServer over a Storage (OpenSQLite for a durable one),
// mounted as an http.Handler.
//
// The relay is not trusted with anything secret. It sees message bodies only
// as the ciphertext the sender gives it and stores them byte for byte; it
// never logs. What it does enforce is who may do what:
//
//   - An address (name and device id) belongs to the first identity key that
//     registers it, proved by an XEdDSA signature over a fresh, single-use
//     challenge ("sotto-relay-auth-v1\x00" || challenge). Registering again
//     with the same key is a no-op; another key gets ErrAddressTaken.
//   - Every other call carries a bearer token obtained the same way: random,
//     short-lived, bound to one address. Only that address can read or drain
//     its mailbox, acknowledge its messages, or replace its keys.
//   - Prekey signatures are checked against the registered identity key on
//     upload, and each one-time prekey is handed out at most once.
//   - A message stays in its recipient's mailbox until the recipient
//     acknowledges it, across restarts of the server.
//
// Most resources a client can drive have a bound (Options): message size,
// mailbox length, one-time prekeys per address, request rate per address
// and per remote network, requests in progress per address, outstanding
// challenges and tokens, the time to read a request and write its
// response, and concurrent WebSocket connections per address. Not yet
// bounded: one sender's share of a mailbox, and the bytes of one account
// (PROTOCOL.md, "Known limits").
//
// The relay does not hide metadata: it learns who writes to whom, when, and
// how much. Sotto has no sealed sender (see SECURITY.md).
package relay
