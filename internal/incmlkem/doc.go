// Package incmlkem is incremental ML-KEM-768 encapsulation (NIST FIPS 203,
// https://doi.org/10.6028/NIST.FIPS.203) as the ML-KEM Braid of SPQR needs
// it: the sender of the ciphertext starts encapsulating from a 64-byte
// header before it has the 1152-byte rest of the encapsulation key, and
// finishes once the rest arrives.
//
// FIPS 203 splits cleanly along that line. An encapsulation key is
// ek = ByteEncode12(t̂) || ρ, and ML-KEM.Encaps_internal(ek, m) (Algorithm
// 17) with K-PKE.Encrypt (Algorithm 14) is
//
//	(K, r) = G(m || H(ek))
//	u = NTT⁻¹(Âᵀ ∘ r̂) + e1                       needs only ρ, which expands to Â
//	v = NTT⁻¹(t̂ᵀ ∘ r̂) + e2 + Decompress1(m)       needs t̂
//	c = ByteEncode10(Compress10(u)) || ByteEncode4(Compress4(v))
//
// so with the header ρ || H(ek):
//
//   - Encaps1(header, m) returns ct1 (the 960 bytes of u), the shared key K
//     and an EncapsState;
//   - Encaps2(state, ekVector) checks that the 1152-byte ByteEncode12(t̂)
//     matches the header hash and passes FIPS 203's modulus check (§7.2),
//     then returns ct2 (the 128 bytes of v).
//
// ct1 || ct2 and K are exactly the ciphertext and key of
// ML-KEM.Encaps_internal(ek, m); the tests prove it against
// crypto/mlkem/mlkemtest and C2SP/CCTV vectors. Key generation and
// decapsulation need nothing new: use crypto/mlkem (GenerateKey768 or
// NewDecapsulationKey768, EncapsulationKey().Bytes(), Decapsulate on
// ct1 || ct2).
//
// m is the 32 random bytes of encapsulation, taken as a parameter: this
// package is internal, and its callers draw m from crypto/rand (or, in
// tests, from a seeded stream), as crypto/mlkem/mlkemtest does. The
// arithmetic on secrets (r, e1, e2, m) is constant-time: additions reduce
// with masks and products use division by the constant q, which the
// compiler turns into multiplications. Sampling Â branches on ρ, which is
// public.
package incmlkem
