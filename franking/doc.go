// Package franking makes abuse reports verifiable without giving up end-to-end
// encryption or deniability: message franking, as in Facebook's Messenger
// Secret Conversations ("two HMACs"), made binding in the sense of Grubbs, Lu
// and Ristenpart, "Message Franking via Committing Authenticated Encryption"
// (CRYPTO 2017). The byte-level specification is FRANKING.md beside this
// file; this comment is the manual.
//
// Four parties touch a franked message, each with one call:
//
//	sender     o := franking.NewOpening()
//	           com, err := o.Commit(&content)      // content: sender, recipient, sent, body, attachment digests
//	           // payload (inside session encryption) carries o.Bytes() and com;
//	           // com is also sent beside the ciphertext, in the clear
//	relay      tag, err := relay.Tag(com, franking.Context{Sender, Recipient, Received})
//	           // delivered with the message: tag.Bytes() and Received
//	recipient  err := franking.Check(outer, inner, o, &content) // before showing; any error: reject
//	           // keep o, the tag and Received with the message, for a report
//	report     rep := &franking.Report{Content: content, Opening: o, Tag: tag, Received: received}
//	           err := relay.Verify(rep)             // at the relay; nil: the sender really sent it
//
// A Content is what is committed, an Opening the per-message franking key,
// a Commitment the 32-byte HMAC the relay sees, a Tag the relay's MAC of it,
// a Relay the relay's keys, a Report what a recipient hands in.
//
// # What it guarantees
//
// Receiver binding (a recipient cannot frame a sender): Verify accepts a
// report only for the exact content, sender, recipient and relay time the
// relay tagged. Changing any of them, or presenting another opening, needs a
// second opening of the tagged commitment, that is a SHA-256 collision; a tag
// for a message never sent needs a forgery of HMAC-SHA256 under the relay key.
//
// Sender binding (a sender cannot send an abusive message that will not
// verify): the recipient shows a message only when Check passes, that is when
// the commitment that travelled beside the ciphertext (the one the relay
// tagged) equals the one inside the authenticated payload and opens to the
// content. Facebook's first scheme did not bind the commitment to the
// ciphertext; here the inner copy is authenticated by the Double Ratchet, so
// a sender cannot give the relay one commitment and the recipient another.
//
// Attachments are committed by the SHA-256 digests of their encrypted blobs.
// Package attachment's blobs are key committing, so a digest determines at
// most one key and one plaintext; with a blob format that is not (bare
// AES-GCM), a digest would not pin down what the recipient saw (Dodis,
// Grubbs, Ristenpart, Woodage, "Fast Message Franking", CRYPTO 2018).
//
// # Deniability: what a third party learns
//
// A third party (anyone without the relay key) given a report, or a
// recipient's whole store, learns only what the recipient claims: the
// content, and that it is shaped like a franked message. It cannot tell a
// genuine report from one the recipient invented: anyone can choose a content
// and an opening and compute the matching commitment, and without the relay
// key a tag is indistinguishable from 32 random bytes (HMAC-SHA256 is a
// pseudorandom function), so neither value is evidence. Only the relay can be
// convinced, and only the relay can vouch for a report; whoever trusts the
// relay's word then trusts the report. When a relay key is retired (left out
// of NewRelay), tags it made can no longer be verified by anyone, the relay
// included. At send time the relay learns the commitment, which under a fresh
// random opening reveals nothing about the content and differs for every
// message, and the context it knows anyway. The sessions themselves stay
// deniable (MACs, no signatures).
//
// This scheme needs the relay to know the sender; with sealed sender one would
// need asymmetric franking (Tyagi, Grubbs, Len, Miers, Ristenpart, CRYPTO
// 2019), which this package does not implement.
//
// # Wiring into a client and a relay
//
// Sender (client): for each recipient device, build the Content (its own
// address, the device's address, the send time, the body as the app encodes
// it, attachment.Pointer.Digest of each attachment), draw an Opening, Commit,
// and put the opening's 32 bytes and the commitment inside the plaintext given
// to session's Encrypt; send the commitment beside the ciphertext (a field of
// the relay's send request). Each device gets its own opening.
//
// Relay: on accepting a message from an authenticated sender, call Tag with
// the commitment, the authenticated sender's address, the recipient's, and
// the time it records (millisecond precision, as the envelope's received
// time); store and deliver the tag's 36 bytes and the time with the envelope.
// Keep the relay keys beside the relay's other secrets (NewRelayKey from id
// and bytes at start-up), rotate them on a schedule, keep old ones only as
// long as reports on old messages should verify. A report endpoint parses
// the report (ParseReport) and calls Verify; the relay never needs to log or
// keep the opening.
//
// Recipient (client): after session's Decrypt, parse the opening and inner
// commitment from the payload, rebuild the Content (Sender: the session's
// authenticated peer; Recipient: itself; the rest from the payload), and call
// Check with the outer commitment from the envelope. On any error treat the
// message as a fault of the sender (never show it). On success store the
// opening, tag and received time with the message. To report, marshal a
// Report and send it to the relay; attachment keys (the pointers) go with it
// if the relay is to look at attachments, which the relay then checks with
// attachment.Open against the digests Verify vouched for.
//
// The package is pure: no I/O, no clock, no logging; randomness comes from
// crypto/rand inside NewOpening and GenerateRelayKey only. Openings and relay
// keys print as placeholders under every fmt verb; errors never carry bytes.
package franking
