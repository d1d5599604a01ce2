// Package testvectors holds Sotto's known-answer test vectors, a verifier
// that runs them against Sotto, and the generator that writes them.
//
// The vectors are JSON files in the Wycheproof style (README.md describes the
// format, schema.json is its JSON Schema): one file per algorithm —
// xeddsa.json, x25519.json, kyber1024.json, pqxdh.json, ratchet.json,
// conversation.json, fingerprint.json, franking.json and attachment.json —
// with valid and invalid cases, every invalid case naming the class of error
// it must fail with. They pin down the wire format and key schedule of
// libsignal 0.103's version-4 sessions (PQXDH with Kyber1024, the Double
// Ratchet with the SPQR chain), and Sotto's message franking and attachment
// encryption, so another implementation can check itself against the same
// bytes.
//
// FS holds the files, embedded. Verify runs every file of a file system
// against Sotto (the sotto vectors verify command calls it); Seeds returns
// the wire messages of the vectors for seeding fuzz targets. The generator
// is generate_test.go: `go test ./testvectors -run TestGenerate -update`
// rewrites data/ byte for byte from seeded ChaCha8 streams, and
// TestVectorsUpToDate fails when the files differ from a fresh generation.
package testvectors

import (
	"embed"
	"io/fs"
)

//go:embed data/*.json
var embedded embed.FS

// FS is the embedded vector files, at its root (the contents of data/).
var FS fs.FS = mustSub(embedded, "data")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic("testvectors: " + err.Error()) // unreachable: dir is a literal
	}
	return sub
}
