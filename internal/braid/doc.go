// Package braid is the ML-KEM Braid, the sparse continuous key agreement
// (SCKA) of SPQR (The ML-KEM Braid Protocol, https://signal.org/docs/specifications/mlkembraid/;
// Double Ratchet revision 3 of 2025-09-26, §5 "The Sparse Post-Quantum
// Ratchet" and §6 "The Triple Ratchet"), as libsignal 0.103 runs it. It
// turns a session's stream of Signal messages into a sequence of epoch
// secrets, each from a fresh ML-KEM-768 exchange, that the SPQR symmetric
// chain folds in: post-quantum healing after the handshake.
//
// The package is pure: no I/O, no clock, randomness only from the reader
// Send is given. The symmetric chain, the SPQR wire framing and the chain's
// message index stay with package ratchet; this package exchanges Message
// values (epoch, payload type, chunk index, chunk) and EpochSecret values
// with it.
//
// # One epoch
//
// Roles alternate by epoch: in odd epochs the session initiator (A2B) is
// the ek sender and the responder (B2A) the ct sender; in even epochs the
// other way round. In epoch e the ek sender generates an ML-KEM-768 key
// pair and sends header = ρ || H(ek) with a MAC, then the 1152-byte ek
// vector; the ct sender encapsulates from the header alone (Encaps1,
// package incmlkem), sends ct1, and once it has the whole ek and an
// acknowledgement of ct1, finishes (Encaps2) and sends ct2 with a MAC. Each
// of the four streams is erasure-coded into 32-byte chunks (package
// erasure), one chunk per Signal message, so losses and reordering only
// delay the epoch. The ek sender decapsulates, and both hold
// ss_e = HKDF(K, "Signal_PQCKA_V1_MLKEM768:SCKA Key" || BE64(e)).
//
// The eleven states, what each sends (one payload per Signal message) and
// what moves it on (anything else received at the state's epoch is
// ignored):
//
//	role     state                 sends                 on receiving (epoch e)      goes to
//	send_ek  KeysUnsampled         Hdr 0 (new key pair)  -                           (send) KeysSampled
//	send_ek  KeysSampled           Hdr n                 Ct1                         HeaderSent
//	send_ek  HeaderSent            Ek n                  Ct1 completing ct1          Ct1Received
//	send_ek  Ct1Received           EkCt1Ack n            Ct2                         EkSentCt1Received
//	send_ek  EkSentCt1Received     Ct1Ack                Ct2 completing ct2: decaps, NoHeaderReceived(e+1)
//	                                                     verify MAC, OUTPUT ss_e
//	send_ct  NoHeaderReceived      None                  Hdr completing, MAC ok      HeaderReceived
//	send_ct  HeaderReceived        Ct1 0 (Encaps1,       -                           (send) Ct1Sampled
//	                               OUTPUT ss_e)
//	send_ct  Ct1Sampled            Ct1 n                 Ek/EkCt1Ack: see below
//	send_ct  EkReceivedCt1Sampled  Ct1 n                 Ct1Ack or EkCt1Ack          Ct2Sampled (Encaps2)
//	send_ct  Ct1Acknowledged       None                  Ek/EkCt1Ack completing ek   Ct2Sampled (Encaps2)
//	send_ct  Ct2Sampled            Ct2 n                 any payload of epoch e+1    KeysUnsampled(e+1)
//
// In Ct1Sampled an ek chunk that completes the ek, once the ek matches the
// header hash and passes the modulus check, leads to Ct2Sampled if it is an
// EkCt1Ack and to EkReceivedCt1Sampled if not; an EkCt1Ack that does not
// complete it leads to Ct1Acknowledged. Messages from an earlier epoch are
// ignored; from a later one they are an *EpochError, but for epoch e+1 in
// Ct2Sampled. Chunk indices of each stream count 0, 1, 2, ... from its
// first chunk (uint16, wrapping), data chunks first, then parity.
//
// Under strict alternation, every message delivered, an epoch takes 87
// messages: the first message carrying epoch 2 is number 87, then 174,
// 261, ..., exactly what libsignal 0.103 peers do with each other. This
// follows from the braid alone (the chain only picks keys). With a 2:1
// sending ratio epochs change at messages 109, 234 and 343, also as
// libsignal does. A silent peer stops the braid: a one-way stream never
// completes an epoch. The tests replay SPQR traffic and a session record
// captured from two libsignal-client 0.103.0 peers (testdata/libsignal):
// the payload sequence, chain indices, erasure code, header and ciphertext
// MACs, epoch secret, authenticator and Add Epoch all match.
//
// # API
//
// New gives a session's initial state from the SPQR key of PQXDH (the
// same pqr_key that starts the symmetric chain). A *State is immutable:
//
//	next, m, out, err := st.Send(crypto/rand.Reader)  // the payload of the next outgoing message
//	next, out, err := st.Recv(m)                      // the payload of a received message
//
// both return a new State and leave st as it was, so the caller decides
// what to commit. out is an *EpochSecret or nil. Send fails only when the
// reader does; every Recv error is a fault of the received message
// (ErrMalformedMessage, *EpochError matching ErrFutureEpoch,
// ErrAuthentication, ErrErroneousData) and says nothing secret. States
// persist with MarshalBinary/UnmarshalBinary (ParseState): a canonical
// binary encoding, "brd" || version 1, at most 2,327 bytes. String, GoString
// and Format print only the direction, state name and epoch. Wipe zeroes a
// dropped state's secrets.
//
// # Integration with the SPQR symmetric chain (package ratchet)
//
// A message whose braid epoch is E takes its chain key from chain epoch
// E-1; chain epoch 0 is the one seeded from pqr_key ("Chain  Start"). The
// chain gains epoch e when the braid outputs secret e: through AddEpoch,
// (nextRoot, A2B seed, B2A seed) = HKDF(salt = nextRoot, ikm = secret,
// "Signal PQ Ratchet V1 Chain Add Epoch", 96), the party's send chain being
// its own direction's seed and its receive chain the other's, both counters
// at 0. Secrets come out in order 1, 2, 3, ...; each must be chain.epoch+1.
//
// Encrypt, per Signal message:
//
//  1. next, m, out, err := braid.Send(rand); on error fail the encryption.
//  2. If out != nil, add chain epoch out.Epoch first (on the copy of the
//     chain this encryption will commit). out.Epoch == m.Epoch here: the ct
//     sender gains epoch e when it sends ct1 chunk 0, but keeps sending at
//     braid epoch e, so its keys still come from chain epoch e-1 until it
//     has seen the peer's epoch e+1.
//  3. (index, key) = next send key of chain epoch m.Epoch-1 (index counts
//     from 1 in each chain epoch). Prune: when the send chain epoch moves
//     up to s, keep only chain epochs >= s-1 and erase the send chains of
//     epochs < s.
//  4. Frame 0x01 || varint(m.Epoch) || varint(index) || byte(m.Type)
//     [|| varint(m.ChunkIndex) || m.Chunk if m.Type.HasChunk()], and salt
//     "WhisperMessageKeys" with key.
//  5. Commit next (and wipe the old braid state and out) with the chain and
//     the Double Ratchet sender chain.
//
// Decrypt, per candidate session:
//
//  1. Parse the SPQR bytes (version, varints, type, chunk: the lead's
//     parser) into a Message and the index.
//  2. next, out, err := braid.Recv(m); an error rejects the message.
//  3. If out != nil, add chain epoch out.Epoch to a copy of the chain. This
//     is the ek sender completing ct2; out.Epoch == m.Epoch, and the
//     party's next message carries epoch m.Epoch+1, keyed from chain epoch
//     out.Epoch.
//  4. Key: none if m.Epoch == 1 and index == 0; otherwise the receive key
//     (chain epoch m.Epoch-1, index), with the chain's rules: an epoch
//     above the chain's current one or pruned fails, index jumps over
//     25,000 fail, up to 2,000 skipped keys are kept per direction, a used
//     index fails.
//  5. Only if the MAC verifies and the message decrypts, commit next and
//     the chain copy (wipe the old braid state); otherwise drop them (Wipe)
//     and keep the state as it was. A message that fails must not advance
//     the braid: its chunks may be forged.
//
// Who holds which chain epochs, for a party at braid epoch e: as ek sender
// (before ct2 completes) chain epochs e-1 and e-2 (the latter for the
// peer's late messages); as ct sender before Encaps1 the same; as ct
// sender after Encaps1 also chain epoch e, not yet used for sending or
// receiving (the peer starts using it only after decapsulating). The
// peer's messages carry epoch e or e+1 (e+1 only once it has
// decapsulated, which moves Ct2Sampled on), and late ones lower epochs,
// whose braid payload is ignored but whose chain key is still looked up.
//
// What to store per session: the braid state (MarshalBinary) and the
// chain (its retained epochs' send and receive chains with their skipped
// keys, next root, current epoch, send epoch).
//
// # Security notes
//
// The header MAC binds the ek sender's key to the authenticator, which
// starts from pqr_key and absorbs every epoch secret; the ciphertext MAC,
// under the authenticator updated with ss_e, confirms the key. MACs are
// compared in constant time. A ct2 that does not decapsulate (ML-KEM's
// implicit rejection) fails as a MAC error. The header hash and FIPS 203's
// modulus check reject a bad ek vector before Encaps2. Attacker-driven
// memory is bounded: a decoder holds at most the chunks its stream needs
// (35 × 32 bytes for the ek), and a state at most 2,327 bytes encoded.
// Wipe is best effort: Go may copy memory, and crypto/mlkem's key objects,
// created from the stored seed when needed, cannot be wiped.
package braid
