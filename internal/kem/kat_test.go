package kem

// The NIST round-3 known-answer test for Kyber1024, run through this
// package's API. The reference implementation's PQCgenKAT_kem program writes
// PQCkemKAT_3168.rsp from an AES-256 CTR DRBG; this test regenerates the same
// text and compares its SHA-256 with the hash of the reference file, as
// recorded in cloudflare/circl kem/kyber/kat_test.go ("Computed from reference
// implementation"). ML-KEM-1024 gives a different hash, so this also pins the
// round-3 (pre-FIPS 203) algorithm that libsignal's type 0x08 uses.

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// kyber1024KATHash is the SHA-256 of PQCkemKAT_3168.rsp (round 3, Kyber1024).
const kyber1024KATHash = "89248f2f33f7f4f7051729111f3049c409a933ec904aedadf035f30fa5646cd5"

// katDRBG is the AES-256 CTR DRBG of NIST's PQC KAT harness (rng.c): SP 800-90A
// CTR_DRBG without derivation function, prediction resistance or reseeding,
// where each randombytes call ends with an update of Key and V.
type katDRBG struct {
	key [32]byte
	v   [16]byte
}

func newKATDRBG(entropy *[48]byte) *katDRBG {
	d := new(katDRBG)
	d.update(entropy)
	return d
}

// incV increments V as a 128-bit big-endian counter.
func (d *katDRBG) incV() {
	for i := 15; i >= 0; i-- {
		d.v[i]++
		if d.v[i] != 0 {
			return
		}
	}
}

// block increments V and returns AES-256(Key, V).
func (d *katDRBG) block() [16]byte {
	c, err := aes.NewCipher(d.key[:])
	if err != nil {
		panic(err)
	}
	d.incV()
	var out [16]byte
	c.Encrypt(out[:], d.v[:])
	return out
}

// update is CTR_DRBG_Update: three blocks, XORed with the provided data if
// any, become the new Key and V.
func (d *katDRBG) update(provided *[48]byte) {
	var temp [48]byte
	for i := range 3 {
		b := d.block()
		copy(temp[16*i:], b[:])
	}
	if provided != nil {
		for i := range temp {
			temp[i] ^= provided[i]
		}
	}
	copy(d.key[:], temp[:32])
	copy(d.v[:], temp[32:])
}

// randombytes fills out as one call of the harness's randombytes.
func (d *katDRBG) randombytes(out []byte) {
	for len(out) > 0 {
		b := d.block()
		out = out[copy(out, b[:]):]
	}
	d.update(nil)
}

func TestNISTRound3KAT(t *testing.T) {
	var seed [48]byte
	for i := range seed {
		seed[i] = byte(i)
	}
	outer := newKATDRBG(&seed)

	var rsp bytes.Buffer
	fmt.Fprintf(&rsp, "# Kyber1024\n\n")
	for i := range 100 {
		outer.randombytes(seed[:])
		fmt.Fprintf(&rsp, "count = %d\n", i)
		fmt.Fprintf(&rsp, "seed = %X\n", seed)

		// crypto_kem_keypair calls randombytes twice (d, then z); crypto_kem_enc
		// once (m).
		inner := newKATDRBG(&seed)
		kseed := make([]byte, KeySeedSize)
		inner.randombytes(kseed[:32])
		inner.randombytes(kseed[32:])
		eseed := make([]byte, EncapsulationSeedSize)
		inner.randombytes(eseed)

		priv, err := GenerateKeyDeterministic(kseed)
		require.NoError(t, err)
		ct, ss, err := priv.PublicKey().EncapsulateDeterministic(eseed)
		require.NoError(t, err)
		ss2, err := priv.Decapsulate(ct)
		require.NoError(t, err)
		require.Equal(t, ss, ss2, "count %d", i)

		// The .rsp file holds the raw round-3 encodings, without libsignal's
		// type byte.
		fmt.Fprintf(&rsp, "pk = %X\n", priv.PublicKey().Bytes()[1:])
		fmt.Fprintf(&rsp, "sk = %X\n", priv.Bytes()[1:])
		fmt.Fprintf(&rsp, "ct = %X\n", ct[1:])
		fmt.Fprintf(&rsp, "ss = %X\n\n", ss)
	}
	sum := sha256.Sum256(rsp.Bytes())
	require.Equal(t, kyber1024KATHash, hex.EncodeToString(sum[:]))
}

// katKey returns the key pair and encapsulation seed of KAT entry 0, used to
// seed fuzz targets and benchmarks.
func katKey(tb testing.TB) (*PrivateKey, []byte) {
	tb.Helper()
	var seed [48]byte
	for i := range seed {
		seed[i] = byte(i)
	}
	newKATDRBG(&seed).randombytes(seed[:])
	inner := newKATDRBG(&seed)
	kseed := make([]byte, KeySeedSize)
	inner.randombytes(kseed[:32])
	inner.randombytes(kseed[32:])
	eseed := make([]byte, EncapsulationSeedSize)
	inner.randombytes(eseed)
	priv, err := GenerateKeyDeterministic(kseed)
	require.NoError(tb, err)
	return priv, eseed
}
