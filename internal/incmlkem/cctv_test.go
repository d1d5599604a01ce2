package incmlkem

import (
	"bufio"
	"compress/gzip"
	"crypto/mlkem"
	"crypto/sha3"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func sha3Sum256(b []byte) [32]byte { return sha3.Sum256(b) }

// loadFields reads a CCTV "name = hex" file; the first occurrence of a name
// wins (the intermediate file reuses "r"), and lines that are not hex (the
// "{...}" coefficient lists) are skipped.
func loadFields(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string][]byte{}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, val, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		v, err := hex.DecodeString(val)
		if err != nil {
			continue
		}
		if _, dup := out[name]; !dup {
			out[name] = v
		}
	}
	require.NotEmpty(t, out, path)
	return out
}

func TestCCTVModulus(t *testing.T) {
	f, err := os.Open("testdata/modulus-ML-KEM-768.txt.gz")
	require.NoError(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	require.NoError(t, err)
	s := bufio.NewScanner(z)
	s.Buffer(nil, 1<<16)
	count := 0
	for s.Scan() {
		ek, err := hex.DecodeString(s.Text())
		require.NoError(t, err)
		h, v, err := SplitEncapsulationKey(ek)
		require.NoError(t, err)
		require.ErrorIs(t, CheckKey(&h, &v), ErrKeyModulus, "line %d", count+1)
		var m [32]byte
		_, st, _ := Encaps1(&h, &m)
		_, err = Encaps2(&st, &v)
		require.ErrorIs(t, err, ErrKeyModulus, "line %d", count+1)
		_, err = mlkem.NewEncapsulationKey768(ek)
		require.Error(t, err, "crypto/mlkem agrees, line %d", count+1)
		count++
	}
	require.NoError(t, s.Err())
	require.Equal(t, 780, count)
}

func TestCCTVUnluckySample(t *testing.T) {
	v := loadFields(t, "testdata/unluckysample-ML-KEM-768.txt")
	m := [32]byte(v["m"])
	ct, key := incremental(t, v["ek"], &m)
	require.Equal(t, v["c"], ct)
	require.Equal(t, v["K"], key)
}

func TestCCTVIntermediate(t *testing.T) {
	v := loadFields(t, "testdata/intermediate-ML-KEM-768.txt")
	m := [32]byte(v["m"])
	h, ekv, err := SplitEncapsulationKey(v["ek"])
	require.NoError(t, err)
	require.Equal(t, v["H(ek)"], h.KeyHash()[:])

	// Âᵀ, row-major: Âᵀ[i][j] = Â[j][i] = SampleNTT(ρ || i || j).
	var at []byte
	for i := range k {
		for j := range k {
			a := sampleNTT(h.Rho(), byte(i), byte(j))
			at = append(at, encode12(&a)...)
		}
	}
	require.Equal(t, v["A^T"], at)

	ct1, st, key := Encaps1(&h, &m)
	require.Equal(t, v["K"], key[:])
	require.Equal(t, v["c1"], ct1[:])
	ct2, err := Encaps2(&st, &ekv)
	require.NoError(t, err)
	require.Equal(t, v["c2"], ct2[:])
	require.Equal(t, v["c"], append(ct1[:], ct2[:]...))
}

func encode12(f *nttElement) []byte {
	var c [n]uint16
	for i, x := range f {
		c[i] = uint16(x)
	}
	out := make([]byte, 384)
	byteEncode(out, &c, 12)
	return out
}
