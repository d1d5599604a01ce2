package ratchetcore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sotto-im/sotto/internal/wptest"
)

// TestWycheproofAESCBC runs Wycheproof's AES-256-CBC/PKCS#5 vectors through
// the message cipher: valid cases must encrypt to the listed ciphertext and
// decrypt back; invalid ones (bad or missing padding) must fail to unpad
// with ErrBadPadding.
func TestWycheproofAESCBC(t *testing.T) {
	type group struct {
		KeySize int `json:"keySize"`
		IVSize  int `json:"ivSize"`
		Tests   []struct {
			wptest.Case
			Key wptest.Hex `json:"key"`
			IV  wptest.Hex `json:"iv"`
			Msg wptest.Hex `json:"msg"`
			CT  wptest.Hex `json:"ct"`
		} `json:"tests"`
	}
	f := wptest.Load[group](t, "aes_cbc_pkcs5_test.json")
	n := 0
	for _, g := range f.TestGroups {
		if g.KeySize != 256 || g.IVSize != 128 {
			continue // Sotto uses AES-256 only
		}
		for _, tc := range g.Tests {
			n++
			var mk messageKeys
			copy(mk.cipherKey[:], tc.Key)
			copy(mk.iv[:], tc.IV)
			pt, err := decryptCBC(&mk, tc.CT)
			if tc.Result == "valid" {
				if err != nil || !bytes.Equal(pt, tc.Msg) {
					t.Errorf("tcId %d (%s): decrypt %x, %v", tc.TcID, tc.Comment, pt, err)
				}
				if ct := encryptCBC(nil, &mk, tc.Msg); !bytes.Equal(ct, tc.CT) {
					t.Errorf("tcId %d (%s): encrypt %x, want %x", tc.TcID, tc.Comment, ct, []byte(tc.CT))
				}
			} else if !errors.Is(err, ErrBadPadding) {
				t.Errorf("tcId %d (%s): invalid case gave %x, %v", tc.TcID, tc.Comment, pt, err)
			}
		}
	}
	if n == 0 {
		t.Fatal("no AES-256 cases")
	}
	t.Logf("%d Wycheproof AES-256-CBC cases", n)
}
