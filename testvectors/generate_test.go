package testvectors

// The generator of data/*.json. Every value is either a published vector
// (named with its source) or drawn from a ChaCha8 stream seeded with a
// readable label (internal/detrand), and every message is produced by Sotto
// through its deterministic entry points and checked, at generation time,
// against the independent implementation of spec.go; so
//
//	go test ./testvectors -run TestGenerate -update
//
// rewrites the files byte for byte, and TestVectorsUpToDate fails when the
// committed files differ from a fresh generation.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/detrand"
)

var update = flag.Bool("update", false, "rewrite data/*.json from the generator")

// generators lists every vector file and the function that generates it.
var generators = []struct {
	name string
	gen  func() []byte
}{
	{"xeddsa.json", genXEdDSA},
	{"x25519.json", genX25519},
	{"kyber1024.json", genKyber},
	{"pqxdh.json", genPQXDH},
	{"ratchet.json", genRatchet},
	{"conversation.json", genConversation},
	{"fingerprint.json", genFingerprint},
	{"franking.json", genFranking},
	{"attachment.json", genAttachment},
}

// TestGenerate rewrites data/ when run with -update.
func TestGenerate(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite data/*.json")
	}
	for _, g := range generators {
		if err := os.WriteFile(filepath.Join("data", g.name), g.gen(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVectorsUpToDate regenerates every file and compares it with the one
// on disk, and checks that data/ holds nothing else.
func TestVectorsUpToDate(t *testing.T) {
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			want := g.gen()
			got, err := os.ReadFile(filepath.Join("data", g.name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("data/%s differs from a fresh generation (first difference at byte %d); "+
					"run go test ./testvectors -run TestGenerate -update", g.name, firstDiff(got, want))
			}
		})
	}
	entries, err := os.ReadDir("data")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.ContainsFunc(generators, func(g struct {
			name string
			gen  func() []byte
		}) bool {
			return g.name == e.Name()
		}) {
			t.Errorf("data/%s is not generated", e.Name())
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// ---- helpers shared by the generators ----

// labelPrefix opens every stream label: changing it regenerates everything.
const labelPrefix = "sotto testvectors v1: "

// stream returns the deterministic stream of a label.
func stream(label string) *detrand.Stream { return detrand.New(labelPrefix + label) }

// randBytes returns the first n bytes of a label's stream.
func randBytes(label string, n int) []byte {
	b := make([]byte, n)
	stream(label).Read(b)
	return b
}

// genKey returns the X25519 key pair of a label.
func genKey(label string) *curve.PrivateKey {
	return must(curve.NewPrivateKey(randBytes(label, 32)))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}

func u32(v uint32) *uint32 { return &v }

// number assigns tcIds 1..n across all groups, makes nil flag lists empty,
// and returns n.
func number[G any, E any, P interface {
	*E
	identified
}](groups []G, tests func(*G) []E) int {
	n := 0
	for gi := range groups {
		ts := tests(&groups[gi])
		for i := range ts {
			n++
			c := P(&ts[i]).id()
			c.TcID = n
			if c.Flags == nil {
				c.Flags = []string{}
			}
		}
	}
	return n
}

// encodeFile renders a vector file exactly as stored: two-space indent,
// no HTML escaping, a final newline. Every flag a case uses must be
// described in the file's notes.
func encodeFile[G any, E any, P interface {
	*E
	identified
}](f *vectorFile[G], tests func(*G) []E) []byte {
	f.Version = formatVersion
	f.NumberOfTests = number[G, E, P](f.TestGroups, tests)
	for gi := range f.TestGroups {
		for _, tc := range tests(&f.TestGroups[gi]) {
			for _, flag := range P(&tc).id().Flags {
				if _, ok := f.Notes[flag]; !ok {
					panic(fmt.Sprintf("%s: flag %q is not described in notes", f.Algorithm, flag))
				}
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	check(enc.Encode(f))
	return b.Bytes()
}

// valid and invalid build case results.
func valid() caseResult { return caseResult{Result: resultValid} }

func invalid(class string) caseResult { return caseResult{Result: resultInvalid, Error: class} }

// flags builds a flag list.
func flags(f ...string) []string { return f }
