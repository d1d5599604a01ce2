package curve

// Test vectors are data: testdata/*.json, Wycheproof-style (tcId, comment,
// result valid/invalid, flags), embedded and run through every API path.
// vectors_gen_test.go regenerates them; see TestVectorFiles.

import (
	"bytes"
	"embed"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

//go:embed testdata/*.json
var vectorFS embed.FS

var update = flag.Bool("update", false, "rewrite testdata/*.json from vectors_gen_test.go")

// hexBytes is a byte string stored as hex in JSON.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = d
	return err
}

// vectorFile is the common envelope of every vector file.
type vectorFile[T any] struct {
	Algorithm     string   `json:"algorithm"`
	Notes         []string `json:"notes"`
	NumberOfTests int      `json:"numberOfTests"`
	Tests         []T      `json:"tests"`
}

type xeddsaVector struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Source  string   `json:"source,omitempty"`
	Private hexBytes `json:"private,omitempty"`
	Random  hexBytes `json:"random,omitempty"`
	Public  hexBytes `json:"public"`
	Msg     hexBytes `json:"msg"`
	Sig     hexBytes `json:"sig"`
	Result  string   `json:"result"`
	Flags   []string `json:"flags"`
}

type x25519Vector struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	Source  string   `json:"source,omitempty"`
	Private hexBytes `json:"private"`
	Public  hexBytes `json:"public,omitempty"`
	Peer    hexBytes `json:"peer"`
	Shared  hexBytes `json:"shared,omitempty"`
	Result  string   `json:"result"`
	Flags   []string `json:"flags"`
}

type canonicalVector struct {
	TcID    int      `json:"tcId"`
	Comment string   `json:"comment"`
	U       hexBytes `json:"u"`
	Result  string   `json:"result"`
	Flags   []string `json:"flags"`
}

// loadVectors reads and decodes one embedded vector file; an empty file fails
// the test so that lost vectors cannot go unnoticed.
func loadVectors[T any](tb testing.TB, name string) []T {
	tb.Helper()
	b, err := fs.ReadFile(vectorFS, path.Join("testdata", name))
	require.NoError(tb, err)
	var f vectorFile[T]
	require.NoError(tb, json.Unmarshal(b, &f))
	require.NotEmpty(tb, f.Tests, "no vectors in %s", name)
	require.Len(tb, f.Tests, f.NumberOfTests, "numberOfTests in %s", name)
	return f.Tests
}

// TestVectorFiles checks that testdata matches the generator, or rewrites it
// with -update.
func TestVectorFiles(t *testing.T) {
	files := map[string][]byte{
		"xeddsa.json":    encodeVectors(genXEdDSA(), func(v *xeddsaVector, id int) { v.TcID = id }),
		"x25519.json":    encodeVectors(genX25519(), func(v *x25519Vector, id int) { v.TcID = id }),
		"canonical.json": encodeVectors(genCanonical(), func(v *canonicalVector, id int) { v.TcID = id }),
	}
	for name, want := range files {
		if *update {
			require.NoError(t, os.WriteFile(path.Join("testdata", name), want, 0o644))
			continue
		}
		got, err := fs.ReadFile(vectorFS, path.Join("testdata", name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(got, want), "testdata/%s is stale: run go test -run TestVectorFiles -update", name)
	}
}

func TestXEdDSAVectors(t *testing.T) {
	for _, v := range loadVectors[xeddsaVector](t, "xeddsa.json") {
		pub, err := ParsePublicKey(v.Public)
		require.NoError(t, err, "tcId %d", v.TcID)
		assert.Equal(t, []byte(v.Public), pub.Bytes(), "tcId %d: re-encoding", v.TcID)
		assert.Equal(t, v.Result == "valid", pub.Verify(v.Msg, v.Sig), "tcId %d: %s", v.TcID, v.Comment)

		if v.Private != nil {
			priv, err := NewPrivateKey(v.Private)
			require.NoError(t, err, "tcId %d", v.TcID)
			assert.True(t, priv.PublicKey().Equal(pub), "tcId %d: public key of private", v.TcID)
			assert.Equal(t, []byte(v.Private), priv.Bytes(), "tcId %d: private key re-encoding", v.TcID)
		}
		if v.Random != nil && v.Result == "valid" {
			priv, err := NewPrivateKey(v.Private)
			require.NoError(t, err, "tcId %d", v.TcID)
			assert.Equal(t, []byte(v.Sig), priv.SignWithRandom(v.Msg, (*[64]byte)(v.Random)),
				"tcId %d: SignWithRandom: %s", v.TcID, v.Comment)
		}
	}
}

func TestX25519Vectors(t *testing.T) {
	for _, v := range loadVectors[x25519Vector](t, "x25519.json") {
		priv, err := NewPrivateKey(v.Private)
		require.NoError(t, err, "tcId %d", v.TcID)
		if v.Public != nil {
			assert.Equal(t, [32]byte(v.Public), priv.PublicKey().U(), "tcId %d: public key", v.TcID)
		}

		// Both ways in: raw u and the serialized 0x05 || u form.
		fromU, err := NewPublicKeyFromU(v.Peer)
		require.NoError(t, err, "tcId %d", v.TcID)
		parsed, err := ParsePublicKey(append([]byte{DjbType}, v.Peer...))
		require.NoError(t, err, "tcId %d", v.TcID)
		for _, peer := range []*PublicKey{fromU, parsed} {
			shared, err := priv.ECDH(peer)
			if v.Result == "valid" {
				require.NoError(t, err, "tcId %d: %s", v.TcID, v.Comment)
				assert.Equal(t, []byte(v.Shared), shared, "tcId %d: %s", v.TcID, v.Comment)
			} else {
				assert.ErrorIs(t, err, ErrInvalidKeyAgreement, "tcId %d: %s", v.TcID, v.Comment)
				assert.Nil(t, shared, "tcId %d", v.TcID)
			}
		}
	}
}

func TestCanonicalVectors(t *testing.T) {
	for _, v := range loadVectors[canonicalVector](t, "canonical.json") {
		pub, err := NewPublicKeyFromU(v.U)
		require.NoError(t, err, "tcId %d", v.TcID)
		assert.Equal(t, v.Result == "valid", pub.IsCanonical(), "tcId %d: %s", v.TcID, v.Comment)
	}
}
