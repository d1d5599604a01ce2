package kdf

import (
	"bytes"
	"testing"

	"github.com/sotto-im/sotto/internal/wptest"
)

func TestWycheproofHMACSHA256(t *testing.T) {
	type group struct {
		TagSize int `json:"tagSize"` // bits
		Tests   []struct {
			wptest.Case
			Key wptest.Hex `json:"key"`
			Msg wptest.Hex `json:"msg"`
			Tag wptest.Hex `json:"tag"`
		} `json:"tests"`
	}
	f := wptest.Load[group](t, "hmac_sha256_test.json")
	n := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			n++
			sum := HMAC(tc.Key, tc.Msg)
			match := bytes.Equal(sum[:g.TagSize/8], tc.Tag)
			if match != (tc.Result == "valid") {
				t.Errorf("tcId %d (%s): tag match %v, result %s", tc.TcID, tc.Comment, match, tc.Result)
			}
		}
	}
	t.Logf("%d Wycheproof HMAC-SHA256 cases", n)
}

func TestWycheproofHKDFSHA256(t *testing.T) {
	type group struct {
		Tests []struct {
			wptest.Case
			IKM  wptest.Hex `json:"ikm"`
			Salt wptest.Hex `json:"salt"`
			Info wptest.Hex `json:"info"`
			Size int        `json:"size"`
			OKM  wptest.Hex `json:"okm"`
		} `json:"tests"`
	}
	f := wptest.Load[group](t, "hkdf_sha256_test.json")
	n := 0
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			n++
			out := make([]byte, tc.Size)
			err := Key(out, tc.Salt, tc.IKM, tc.Info)
			switch {
			case tc.Result == "valid" && (err != nil || !bytes.Equal(out, tc.OKM)):
				t.Errorf("tcId %d (%s): err %v, okm %x", tc.TcID, tc.Comment, err, out)
			case tc.Result == "invalid" && err == nil:
				t.Errorf("tcId %d (%s): accepted an invalid case", tc.TcID, tc.Comment)
			}
		}
	}
	t.Logf("%d Wycheproof HKDF-SHA256 cases", n)
}
