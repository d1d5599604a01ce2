// Package erasure is the erasure code of SPQR's ML-KEM Braid (ML-KEM Braid
// specification §2; Double Ratchet revision 3 §5): a systematic
// Reed-Solomon code over GF(2^16) that cuts a message into 32-byte chunks
// so that any n distinct chunks of an n-chunk message rebuild it, whichever
// chunks were lost and in whatever order the rest arrived.
//
// The code is byte-for-byte the one libsignal 0.103 puts on the wire, since
// the chunks travel in SPQR messages:
//
//   - The field is GF(2^16) in polynomial basis, reduced by
//     x^16 + x^12 + x^3 + x + 1 (0x1100b). An element is a uint16; its
//     encoding is big-endian.
//   - A message of 32n bytes is 16n elements, element i being the
//     big-endian uint16 of bytes 2i and 2i+1. Element i is the value at
//     x = i div 16 of polynomial j = i mod 16, so each of the 16
//     interleaved polynomials has degree below n and is fixed by its
//     values at x = 0, 1, ..., n-1.
//   - Chunk c (c = 0..65535) is, for j = 0..15, the big-endian p_j(c). For
//     c < n that is message bytes [32c, 32c+32) (the code is systematic);
//     for c >= n it is parity, the Lagrange extrapolation of every p_j.
//
// Encoder gives chunk c of a message for any c; Decoder collects chunks
// (duplicates ignored, the first chunk received under an index wins) and
// rebuilds the message from any n distinct indices. Nothing checks that the
// chunks are consistent: the braid's MACs and hashes catch corruption.
//
// Everything this code carries is public (SPQR chunks travel unencrypted,
// under the message MAC), so the field arithmetic uses logarithm tables and
// is not constant-time. Do not use it for secret data.
package erasure
