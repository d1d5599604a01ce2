// Package attachment encrypts files sent with messages, streaming and in
// bounded memory, so that a blob the relay stores decrypts to exactly one
// file under exactly one key. It is encrypt-then-MAC, AES-256-CTR with
// HMAC-SHA256 over the whole blob under a 64-byte key drawn per attachment,
// as Signal's attachments are, plus a key commitment, and never bare
// AES-GCM: GCM is not key committing, and one GCM ciphertext can decrypt to
// two different files under two keys (Dodis, Grubbs, Ristenpart, Woodage,
// "Fast Message Franking: From Invisible Salamanders to Encryptment",
// CRYPTO 2018; salamander_test.go builds such a ciphertext).
//
// Most users want Encrypt, a Pointer, and Open:
//
//	// sender: encrypt to a file or straight into the upload
//	p, err := attachment.Encrypt(upload, file, size)
//	p.BlobID = idTheRelayAssigned
//	enc, err := p.MarshalBinary() // goes inside the end-to-end encrypted message
//
//	// recipient: download the blob to a file, then
//	p, err := attachment.ParsePointer(enc)
//	r, err := attachment.Open(blobFile, blobSize, p) // verifies everything first
//	_, err = io.Copy(dst, r)
//
// # Format
//
// Version 1, every integer big-endian (the Go source of the construction is
// internal/attachblob):
//
//	blob          = header || iv || ciphertext || tag
//	header        = 0x01 || BE64(paddedSize) || keyCommitment          (41 bytes)
//	keyCommitment = HMAC-SHA256(macKey, "sotto attachment v1 key commitment" || 0x00 || aesKey)
//	iv            = 16 random bytes: the initial counter block
//	ciphertext    = AES-256-CTR(aesKey, iv, plaintext || 0x80 || zeros)  (paddedSize bytes)
//	tag           = HMAC-SHA256(macKey, header || iv || ciphertext)
//	key           = aesKey (32 bytes) || macKey (32 bytes)
//	digest        = SHA-256(blob)                                      (in the Pointer)
//
// The CTR counter is the 16-byte IV as a 128-bit big-endian integer,
// incremented per block. A blob is Overhead (89) bytes longer than its
// padded plaintext.
//
// Why CTR rather than Signal's CBC: the MAC is checked before any
// decryption, so CBC's padding would add nothing but a second length rule
// and an oracle to avoid; CTR keeps the ciphertext exactly as long as the
// padded plaintext (the padding is ours, to a bucket), can start at any
// offset (the padding check decrypts only the padding), and encrypts and
// decrypts in place, chunk by chunk. A key is never used twice, so the IV
// could be fixed; it is random anyway, for 16 bytes, so that the
// construction stays safe even if a key were reused.
//
// # Key commitment
//
// A blob authenticates under at most one key. The tag commits the MAC key:
// two different 32-byte HMAC keys giving one tag over one input means equal
// SHA-256 outputs for outer inputs that differ in their first block, a
// SHA-256 collision. The key commitment commits the AES key under the MAC
// key: two AES keys giving one commitment is again a SHA-256 collision. Plain
// encrypt-then-MAC (Signal's layout, the tag alone) commits only the MAC key:
// the same blob then verifies under (aesKey1, macKey) and (aesKey2, macKey)
// and, since CTR is malleable, can be made to decrypt to a chosen file
// under each in the regions that file formats ignore; the key commitment
// field rules that out (salamander_test.go shows both). With the digest in
// the pointer, one digest names one blob, one key and one plaintext, which
// is what lets package franking commit to attachments by digest.
//
// # Padding
//
// The plaintext is padded with a 0x80 byte and zeros (ISO/IEC 7816-4, as
// Signal pads messages) to PaddedSize(size): the smallest member of
// b_0 = 1024, b_(i+1) = b_i + floor(b_i/20) that is at least size + 1, so at
// most 5% above the size (or the 1 KiB floor), in exact integer arithmetic.
// The relay learns only the bucket, one of about 310 below MaxSize. The
// decryptor checks that the padding is exactly the marker at the pointer's
// Size and zeros after it (ErrBadPadding): the blob itself fixes the
// plaintext's length, so a blob and its key determine one plaintext, whatever
// size a pointer claims, and a blob is the only encoding of its plaintext
// under its key.
//
// # Streaming without releasing unverified plaintext
//
// Encrypt is one pass with one 64 KiB buffer. Decryption is two passes over
// an io.ReaderAt: Open reads the whole blob and checks, in this order, its
// length, its digest against the pointer (a blob is never accepted on the
// ciphertext alone), its header, its key commitment and tag, and its padding;
// only then does the Reader decrypt, reading the blob again. No plaintext is
// returned before the whole blob verified, and memory stays at one 64 KiB
// buffer for any size (memory_test.go streams 100 MB and measures it). The
// second pass hashes the blob again and ends with ErrBlobChanged instead of
// io.EOF if it no longer matches, for a blob file that someone else wrote to
// in between; keep downloaded blobs where only the client writes.
//
// # Wiring into a client and a relay
//
// Sender (client): Encrypt straight into the upload (or a temporary file, to
// retry uploads), with the size known in advance (the upload's length is
// p.BlobSize()). The relay answers with a blob id (or the client chooses a
// random one, 16 random bytes in base64url); set p.BlobID, and put
// p.MarshalBinary() in the message body, inside session encryption, and
// p.Digest in franking.Content.Attachments so that a report covers the
// attachment. Nothing secret leaves the client outside the encrypted message.
//
// Relay: store blobs by id as opaque bytes and serve them unchanged; accept
// an upload only if ValidBlobSize(its length) and it is within the relay's
// own size limit and quota, so every stored blob is padded and bounded.
// Never deduplicate or look up blobs by their content or digest. On a report
// with attachments, check that SHA-256 of each blob is among the digests in
// the verified franking.Content and decrypt with the pointer the reporter
// supplies (Open checks the digest and key commitment again).
//
// Recipient (client): parse the pointer from the decrypted message, download
// the blob by id to a file the client alone writes (it is ciphertext), refuse
// a download longer than p.BlobSize(), then Open (or Decrypt) with the file
// and its length. Treat every error as a fault of the message: do not show a
// partial file.
//
// The package does no I/O of its own beyond the readers and writers it is
// given, takes no context and never logs. Keys print as placeholders under
// every fmt verb; errors never carry bytes.
package attachment
