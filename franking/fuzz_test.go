package franking_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sotto-im/sotto/franking"
	"github.com/sotto-im/sotto/testvectors"
)

// FuzzParseContent starts from every content encoding in the published
// vectors: parsing never panics, fails only with ErrMalformed, and what
// parses re-encodes to its input.
func FuzzParseContent(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedFrankingContent) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := franking.ParseContent(b)
		if err != nil {
			if err != franking.ErrMalformed {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again, err := c.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parsed content does not re-encode to its input: %v", err)
		}
	})
}

// fuzzRelay holds two keys no fuzz input can know, under the key ids the
// vectors use.
var fuzzRelay = func() *franking.Relay {
	r, err := franking.NewRelay(franking.GenerateRelayKey(2), franking.GenerateRelayKey(1))
	if err != nil {
		panic(err)
	}
	return r
}()

// FuzzReport starts from every report in the published vectors: parsing
// never panics and fails only with ErrMalformed, what parses re-encodes to
// its input, and Verify, by a relay whose keys the input cannot know, never
// accepts it and fails only with the documented sentinels.
func FuzzReport(f *testing.F) {
	for _, s := range testvectors.Seeds(testvectors.SeedFrankingReport) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := franking.ParseReport(b)
		if err != nil {
			if err != franking.ErrMalformed {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		again, err := rep.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("parsed report does not re-encode to its input: %v", err)
		}
		err = fuzzRelay.Verify(rep)
		if err == nil {
			t.Fatal("a report verified under keys it could not know")
		}
		if !errors.Is(err, franking.ErrInvalidReport) && !errors.Is(err, franking.ErrUnknownKey) {
			t.Fatalf("Verify failed with %v", err)
		}
	})
}
