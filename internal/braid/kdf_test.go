package braid

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/incmlkem"
)

// The KDFs recomputed with crypto/hkdf and crypto/hmac from the labels
// written out again here, so a typo in a label or a wrong input order in
// the package fails.

func refHKDF(t *testing.T, salt, ikm []byte, info string, e *uint64, n int) []byte {
	t.Helper()
	if e != nil {
		info += string(binary.BigEndian.AppendUint64(nil, *e))
	}
	if salt == nil {
		salt = make([]byte, 32)
	}
	out, err := hkdf.Key(sha256.New, ikm, salt, info, n)
	require.NoError(t, err)
	return out
}

func refHMAC(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func TestAuthenticatorSchedule(t *testing.T) {
	key := [32]byte{1, 2, 3}
	one := uint64(1)
	// Init: update(1, authKey) from zero keys.
	want := refHKDF(t, nil, append(make([]byte, 32), key[:]...), "Signal_PQCKA_V1_MLKEM768:Authenticator Update", &one, 64)
	a := newAuthenticator(&key)
	require.Equal(t, want[:32], a.root[:])
	require.Equal(t, want[32:], a.mac[:])
	// A later update mixes the root key with the epoch secret.
	e := uint64(7)
	ss := [32]byte{9}
	want = refHKDF(t, nil, append(a.root[:], ss[:]...), "Signal_PQCKA_V1_MLKEM768:Authenticator Update", &e, 64)
	a.update(e, &ss)
	require.Equal(t, want[:32], a.root[:])
	require.Equal(t, want[32:], a.mac[:])

	var h incmlkem.Header
	h[0], h[63] = 0xaa, 0xbb
	be := binary.BigEndian.AppendUint64(nil, e)
	gotH := a.headerMAC(e, &h)
	require.Equal(t, refHMAC(a.mac[:], []byte("Signal_PQCKA_V1_MLKEM768:ekheader"), be, h[:]), gotH[:])
	require.True(t, a.verifyHeader(e, &h, gotH[:]))
	require.False(t, a.verifyHeader(e+1, &h, gotH[:]), "the epoch is bound")
	require.False(t, a.verifyHeader(e, &h, gotH[:31]))

	var ct1 [incmlkem.Ct1Size]byte
	var ct2 [incmlkem.Ct2Size]byte
	ct1[0], ct2[127] = 1, 2
	gotC := a.ciphertextMAC(e, &ct1, &ct2)
	require.Equal(t, refHMAC(a.mac[:], []byte("Signal_PQCKA_V1_MLKEM768:ciphertext"), be, ct1[:], ct2[:]), gotC[:])
	require.True(t, a.verifyCiphertext(e, &ct1, &ct2, gotC[:]))
	ct2[0] ^= 1
	require.False(t, a.verifyCiphertext(e, &ct1, &ct2, gotC[:]))
}

func TestEpochSecretKDF(t *testing.T) {
	k := [32]byte{4, 5, 6}
	e := uint64(3)
	got := epochSecret(e, &k)
	require.Equal(t, refHKDF(t, nil, k[:], "Signal_PQCKA_V1_MLKEM768:SCKA Key", &e, 32), got[:])
}

// TestEpochSecretIsFromTheKEM: the ct sender's epoch-1 secret is
// KDF(K, 1), K = G(m || H(ek))[0:32] the ML-KEM shared key of its Encaps1
// randomness, and the ek sender derives the same from decapsulation.
func TestEpochSecretIsFromTheKEM(t *testing.T) {
	s := newSim(t, 20)
	for s.b.st.Kind() != Ct1Sampled {
		s.step(s.msgNo%2 == 0)
	}
	es := s.b.st.es.Bytes()
	m, h := es[:32], incmlkem.Header(es[32:])
	g := sha3.Sum512(append(append([]byte(nil), m...), h.KeyHash()[:]...))
	one := uint64(1)
	want := refHKDF(t, nil, g[:32], "Signal_PQCKA_V1_MLKEM768:SCKA Key", &one, 32)
	require.Equal(t, [32]byte(want), s.b.secrets[1])
	s.run("AB", 100)
	require.Equal(t, [32]byte(want), s.a.secrets[1])
}

func TestAddEpoch(t *testing.T) {
	root := [32]byte{0x11}
	sec := EpochSecret{Epoch: 2, Key: [32]byte{0x22}}
	newRoot, a2b, b2a := AddEpoch(&root, &sec)
	want := refHKDF(t, root[:], sec.Key[:], "Signal PQ Ratchet V1 Chain Add Epoch", nil, 96)
	require.Equal(t, want[0:32], newRoot[:])
	require.Equal(t, want[32:64], a2b[:])
	require.Equal(t, want[64:96], b2a[:])
	require.Equal(t, "Signal PQ Ratchet V1 Chain Add Epoch", LabelChainAddEpoch)
}
