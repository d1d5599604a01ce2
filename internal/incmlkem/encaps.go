package incmlkem

import (
	"bytes"
	"crypto/sha3"
	"errors"
	"fmt"
)

const (
	// HeaderSize is the size of a Header: ρ || H(ek).
	HeaderSize = 64
	// EKVectorSize is the size of ByteEncode12(t̂), the encapsulation key
	// without ρ.
	EKVectorSize = k * 384
	// EncapsulationKeySize is the size of a whole FIPS 203 ML-KEM-768
	// encapsulation key, ByteEncode12(t̂) || ρ.
	EncapsulationKeySize = EKVectorSize + 32
	// Ct1Size is the size of ct1 = ByteEncode10(Compress10(u)).
	Ct1Size = k * 32 * 10
	// Ct2Size is the size of ct2 = ByteEncode4(Compress4(v)).
	Ct2Size = 32 * 4
	// CiphertextSize is the size of an ML-KEM-768 ciphertext, ct1 || ct2.
	CiphertextSize = Ct1Size + Ct2Size
	// SharedKeySize is the size of the shared key K.
	SharedKeySize = 32
	// RandomnessSize is the size of m, the encapsulation randomness.
	RandomnessSize = 32
	// EncapsStateSize is the size of an encoded EncapsState.
	EncapsStateSize = 96
)

var (
	// ErrKeyModulus is returned for an ek vector with a 12-bit value of q
	// or more: it fails FIPS 203's modulus check (§7.2).
	ErrKeyModulus = errors.New("incmlkem: encapsulation key fails the modulus check")
	// ErrKeyHash is returned for an ek vector that does not hash, with ρ,
	// to the header's H(ek).
	ErrKeyHash = errors.New("incmlkem: encapsulation key does not match the header")
	// ErrInvalidLength is returned for a header, key or state of the wrong
	// length.
	ErrInvalidLength = errors.New("incmlkem: invalid length")
)

// Header is ρ || H(ek): the public seed of Â and the SHA3-256 hash of the
// whole 1184-byte encapsulation key. It is all Encaps1 needs.
type Header [HeaderSize]byte

// Rho returns ρ.
func (h *Header) Rho() *[32]byte { return (*[32]byte)(h[:32]) }

// KeyHash returns H(ek).
func (h *Header) KeyHash() *[32]byte { return (*[32]byte)(h[32:]) }

// SplitEncapsulationKey splits a FIPS 203 ML-KEM-768 encapsulation key
// (crypto/mlkem's EncapsulationKey768.Bytes()) into its header
// ρ || SHA3-256(ek) and its ek vector ByteEncode12(t̂).
func SplitEncapsulationKey(ek []byte) (Header, [EKVectorSize]byte, error) {
	var h Header
	var v [EKVectorSize]byte
	if len(ek) != EncapsulationKeySize {
		return h, v, ErrInvalidLength
	}
	copy(h[:32], ek[EKVectorSize:])
	hash := sha3.Sum256(ek)
	copy(h[32:], hash[:])
	copy(v[:], ek[:EKVectorSize])
	return h, v, nil
}

// CheckKey checks an ek vector against a header, as the ML-KEM Braid
// requires before Encaps2: SHA3-256(ekVector || ρ) must equal the header's
// H(ek) (ErrKeyHash), and every 12-bit value must be below q (ErrKeyModulus,
// FIPS 203 §7.2).
func CheckKey(h *Header, ekVector *[EKVectorSize]byte) error {
	_, err := decodeKey(h, ekVector)
	return err
}

// decodeKey is CheckKey returning t̂.
func decodeKey(h *Header, ekVector *[EKVectorSize]byte) (*[k]nttElement, error) {
	var t [k]nttElement
	for i := range k {
		var ok bool
		t[i], ok = byteDecode12(ekVector[384*i : 384*(i+1)])
		if !ok {
			return nil, ErrKeyModulus
		}
	}
	d := sha3.New256()
	d.Write(ekVector[:])
	d.Write(h.Rho()[:])
	// Both sides of the comparison are public: bytes.Equal is enough.
	if !bytes.Equal(d.Sum(nil), h.KeyHash()[:]) {
		return nil, ErrKeyHash
	}
	return &t, nil
}

// EncapsState is what Encaps2 needs from Encaps1: m and the header. m is
// secret (it determines K), so the state has a redacting Format and Wipe.
type EncapsState struct {
	m   [RandomnessSize]byte
	hdr Header
}

// Header returns the header the state was made from.
func (s *EncapsState) Header() Header { return s.hdr }

// Bytes returns the state's encoding, m || header (EncapsStateSize bytes).
// It holds a secret.
func (s *EncapsState) Bytes() [EncapsStateSize]byte {
	var b [EncapsStateSize]byte
	copy(b[:32], s.m[:])
	copy(b[32:], s.hdr[:])
	return b
}

// ParseEncapsState decodes the output of Bytes.
func ParseEncapsState(b []byte) (EncapsState, error) {
	var s EncapsState
	if len(b) != EncapsStateSize {
		return s, ErrInvalidLength
	}
	copy(s.m[:], b[:32])
	copy(s.hdr[:], b[32:])
	return s, nil
}

// Wipe zeroes the state.
func (s *EncapsState) Wipe() { clear(s.m[:]); clear(s.hdr[:]) }

// String redacts the state.
func (s EncapsState) String() string { return "incmlkem.EncapsState{REDACTED}" }

// GoString redacts the state.
func (s EncapsState) GoString() string { return s.String() }

// Format redacts the state under every verb.
func (s EncapsState) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// gRandomness is (K, r) = G(m || H(ek)) (FIPS 203 Algorithm 17, step 1),
// G being SHA3-512.
func gRandomness(m *[RandomnessSize]byte, h *Header) (key, r [32]byte) {
	d := sha3.New512()
	d.Write(m[:])
	d.Write(h.KeyHash()[:])
	var g [64]byte
	d.Sum(g[:0])
	copy(key[:], g[:32])
	copy(r[:], g[32:])
	clear(g[:])
	return key, r
}

// Encaps1 is the first half of ML-KEM.Encaps_internal(ek, m) (FIPS 203
// Algorithms 17 and 14) from the header alone: the shared key K and
// ct1 = ByteEncode10(Compress10(u)), u = NTT⁻¹(Âᵀ ∘ r̂) + e1. m must be 32
// bytes from a cryptographically secure source, used once.
func Encaps1(h *Header, m *[RandomnessSize]byte) (ct1 [Ct1Size]byte, st EncapsState, key [SharedKeySize]byte) {
	key, r := gRandomness(m, h)
	defer clear(r[:])
	// Algorithm 14, steps 9-17: r̂ from PRF nonces 0..k-1, e1 from k..2k-1.
	var rHat [k]nttElement
	for i := range k {
		rHat[i] = sampleNoiseNTT(&r, byte(i))
	}
	for i := range k {
		// (Âᵀ ∘ r̂)[i] = Σ_j Â[j][i] ∘ r̂[j], and Â[j][i] = SampleNTT(ρ || i || j).
		var acc nttElement
		for j := range k {
			a := sampleNTT(h.Rho(), byte(i), byte(j))
			multiplyNTTsAdd(&acc, &a, &rHat[j])
		}
		e1 := sampleNoise(&r, byte(k+i))
		u := polyAdd(inverseNTT(acc), e1)
		encodeCompressed(ct1[320*i:320*(i+1)], &u, 10)
		clear(e1[:])
	}
	clear(rHat[0][:])
	clear(rHat[1][:])
	clear(rHat[2][:])
	return ct1, EncapsState{m: *m, hdr: *h}, key
}

// Encaps2 finishes the encapsulation begun by Encaps1 once the ek vector
// ByteEncode12(t̂) is known: it checks the vector against the header
// (CheckKey: ErrKeyHash, ErrKeyModulus) and returns
// ct2 = ByteEncode4(Compress4(v)), v = NTT⁻¹(t̂ᵀ ∘ r̂) + e2 + Decompress1(m).
// r̂ and e2 are sampled again from r = G(m || H(ek)), so the state stays
// small.
func Encaps2(st *EncapsState, ekVector *[EKVectorSize]byte) ([Ct2Size]byte, error) {
	var ct2 [Ct2Size]byte
	t, err := decodeKey(&st.hdr, ekVector)
	if err != nil {
		return ct2, err
	}
	key, r := gRandomness(&st.m, &st.hdr)
	clear(key[:])
	defer clear(r[:])
	var acc nttElement
	for i := range k {
		rHat := sampleNoiseNTT(&r, byte(i))
		multiplyNTTsAdd(&acc, &t[i], &rHat)
		clear(rHat[:])
	}
	e2 := sampleNoise(&r, 2*k) // Algorithm 14, step 17: nonce 2k
	v := polyAdd(inverseNTT(acc), e2)
	for i := range n { // + Decompress1(ByteDecode1(m))
		v[i] = fieldAdd(v[i], decompress1(st.m[i/8]>>(i%8)))
	}
	encodeCompressed(ct2[:], &v, 4)
	clear(acc[:])
	clear(e2[:])
	clear(v[:])
	return ct2, nil
}
