package testvectors

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestVerifyEmbedded runs every embedded vector against Sotto: all pass.
func TestVerifyEmbedded(t *testing.T) {
	var out bytes.Buffer
	passed, failed, err := Verify(FS, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if failed != 0 || passed == 0 {
		t.Fatalf("%d passed, %d failed", passed, failed)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if want := regexp.MustCompile(`^\d+ passed, 0 failed$`); !want.MatchString(lines[len(lines)-1]) {
		t.Errorf("last line %q is not the plain summary", lines[len(lines)-1])
	}
	names, _ := vectorFiles(FS)
	if len(lines) != len(names)+1 {
		t.Errorf("%d output lines for %d files", len(lines), len(names))
	}
}

// TestVerifyDirFS runs the verifier on the files on disk, as the command
// line does with os.DirFS.
func TestVerifyDirFS(t *testing.T) {
	if testing.Short() {
		t.Skip("the embedded run covers the same files")
	}
	for _, dir := range []string{"data", "."} {
		passed, failed, err := Verify(os.DirFS(dir), &bytes.Buffer{})
		if err != nil || failed != 0 || passed == 0 {
			t.Fatalf("Verify(os.DirFS(%q)) = %d, %d, %v", dir, passed, failed, err)
		}
	}
}

// corrupt returns a copy of FS with one file's bytes edited.
func corrupt(t *testing.T, name string, edit func([]byte) []byte) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	names, err := vectorFiles(FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n != name {
			continue
		}
		b, err := fs.ReadFile(FS, n)
		if err != nil {
			t.Fatal(err)
		}
		e := edit(slices.Clone(b))
		if bytes.Equal(e, b) {
			t.Fatalf("edit of %s changed nothing", n)
		}
		m[n] = &fstest.MapFile{Data: e}
	}
	return m
}

// flipHexValue flips the last hex digit of the first value of a JSON field.
func flipHexValue(field string) func([]byte) []byte {
	return func(b []byte) []byte {
		key := []byte(`"` + field + `": "`)
		i := bytes.Index(b, key)
		if i < 0 {
			return b
		}
		end := i + len(key) + bytes.IndexByte(b[i+len(key):], '"') - 1
		if b[end] == '0' {
			b[end] = '1'
		} else {
			b[end] = '0'
		}
		return b
	}
}

// TestVerifyDetectsCorruption: flipping one expected output, or turning a
// valid case invalid, makes Verify report exactly one failure in that file.
func TestVerifyDetectsCorruption(t *testing.T) {
	for _, tc := range []struct {
		file, field string
	}{
		{"xeddsa.json", "sig"},
		{"x25519.json", "clamped"},
		{"kyber1024.json", "sharedSecret"},
		{"pqxdh.json", "rootKey"},
		{"pqxdh.json", "preKeyMessage"},
		{"ratchet.json", "newRootKey"},
		{"ratchet.json", "nextChainKey"},
		{"ratchet.json", "next"},
		{"ratchet.json", "iv"},
		{"conversation.json", "message"},
		{"fingerprint.json", "localScannable"},
		{"franking.json", "commitment"},
		{"franking.json", "tag"},
		{"franking.json", "report"},
		{"attachment.json", "blob"},
		{"attachment.json", "digest"},
		{"attachment.json", "pointer"},
	} {
		t.Run(tc.file+" "+tc.field, func(t *testing.T) {
			var out bytes.Buffer
			passed, failed, err := Verify(corrupt(t, tc.file, flipHexValue(tc.field)), &out)
			if err != nil {
				t.Fatal(err)
			}
			if failed == 0 {
				t.Fatalf("a corrupted %s passed (%d passed)", tc.field, passed)
			}
			if !strings.Contains(out.String(), "FAIL tcId") {
				t.Errorf("no failing case listed:\n%s", out.String())
			}
		})
	}
	t.Run("result flipped", func(t *testing.T) {
		fsys := corrupt(t, "x25519.json", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"result": "valid"`), []byte(`"result": "invalid",
      "error": "invalid-key"`), 1)
		})
		_, failed, err := Verify(fsys, &bytes.Buffer{})
		if err != nil || failed != 1 {
			t.Fatalf("failed = %d, err = %v; want 1 failure", failed, err)
		}
	})
	t.Run("error class changed", func(t *testing.T) {
		fsys := corrupt(t, "conversation.json", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"error": "duplicate"`), []byte(`"error": "authentication"`), 1)
		})
		_, failed, err := Verify(fsys, &bytes.Buffer{})
		if err != nil || failed == 0 {
			t.Fatalf("failed = %d, err = %v; want a failure", failed, err)
		}
	})
	t.Run("numberOfTests wrong", func(t *testing.T) {
		fsys := corrupt(t, "fingerprint.json", func(b []byte) []byte {
			return regexp.MustCompile(`"numberOfTests": \d+`).ReplaceAll(b, []byte(`"numberOfTests": 1`))
		})
		_, failed, err := Verify(fsys, &bytes.Buffer{})
		if err != nil || failed != 1 {
			t.Fatalf("failed = %d, err = %v; want 1", failed, err)
		}
	})
	t.Run("value of the wrong size", func(t *testing.T) {
		fsys := corrupt(t, "pqxdh.json", func(b []byte) []byte {
			return regexp.MustCompile(`"signedPreKeySignatureRandom": "[0-9a-f]+"`).ReplaceAll(b, []byte(`"signedPreKeySignatureRandom": "00"`))
		})
		var out bytes.Buffer
		_, failed, err := Verify(fsys, &out)
		if err != nil || failed == 0 || !strings.Contains(out.String(), "cannot be run") {
			t.Fatalf("failed = %d, err = %v\n%s", failed, err, out.String())
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		var out bytes.Buffer
		_, failed, err := Verify(fstest.MapFS{"x.json": {Data: []byte("{")}}, &out)
		if err != nil || failed != 1 {
			t.Fatalf("failed = %d, err = %v; want 1", failed, err)
		}
	})
	t.Run("no files", func(t *testing.T) {
		if _, _, err := Verify(fstest.MapFS{"schema.json": {Data: []byte("{}")}}, &bytes.Buffer{}); err == nil {
			t.Fatal("no error for a directory without vector files")
		}
	})
}

// TestSeeds: every kind has seeds, without duplicates; unknown kinds panic.
func TestSeeds(t *testing.T) {
	for _, kind := range []string{SeedSignalMessage, SeedPreKeyMessage, SeedSPQRMessage, SeedPublicKey,
		SeedKyberCiphertext, SeedFingerprint, SeedBundle, SeedFrankingContent, SeedFrankingReport,
		SeedAttachmentPointer, SeedAttachmentBlob} {
		seeds := Seeds(kind)
		if len(seeds) == 0 {
			t.Errorf("no %s seeds", kind)
		}
		seen := map[string]bool{}
		for _, s := range seeds {
			if seen[string(s)] {
				t.Errorf("duplicate %s seed", kind)
			}
			seen[string(s)] = true
		}
		t.Logf("%s: %d seeds", kind, len(seeds))
	}
	defer func() {
		if recover() == nil {
			t.Error("Seeds of an unknown kind did not panic")
		}
	}()
	Seeds("no such kind")
}

// TestVectorFormat checks the conventions every file follows (which
// schema.json also states): envelope fields, sequential tcIds, results and
// error classes, documented flags, lowercase hex.
func TestVectorFormat(t *testing.T) {
	names, err := vectorFiles(FS)
	if err != nil {
		t.Fatal(err)
	}
	hexField := regexp.MustCompile(`"[A-Za-z0-9]+": "(?:[0-9A-Fa-f]{2})+"`)
	for _, name := range names {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			fileHeader
			TestGroups []struct {
				Type  string            `json:"type"`
				Tests []json.RawMessage `json:"tests"`
			} `json:"testGroups"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Algorithm == "" || f.Version != formatVersion || len(f.Header) == 0 || len(f.Notes) == 0 {
			t.Errorf("%s: incomplete envelope", name)
		}
		n := 0
		used := map[string]bool{}
		for _, g := range f.TestGroups {
			if g.Type == "" {
				t.Errorf("%s: group without a type", name)
			}
			for _, raw := range g.Tests {
				n++
				var c struct {
					caseID
					caseResult
				}
				if err := json.Unmarshal(raw, &c); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if c.TcID != n {
					t.Errorf("%s: tcId %d at position %d", name, c.TcID, n)
				}
				if c.Comment == "" || c.Flags == nil {
					t.Errorf("%s: tcId %d lacks a comment or flags", name, c.TcID)
				}
				switch c.Result {
				case resultValid:
					if c.Error != "" {
						t.Errorf("%s: tcId %d: valid with an error class", name, c.TcID)
					}
				case resultInvalid:
					if !slices.Contains(errorClasses, c.Error) {
						t.Errorf("%s: tcId %d: error class %q", name, c.TcID, c.Error)
					}
				default:
					t.Errorf("%s: tcId %d: result %q", name, c.TcID, c.Result)
				}
				for _, fl := range c.Flags {
					used[fl] = true
					if _, ok := f.Notes[fl]; !ok {
						t.Errorf("%s: tcId %d: flag %q not in notes", name, c.TcID, fl)
					}
				}
			}
		}
		if n != f.NumberOfTests || n == 0 {
			t.Errorf("%s: numberOfTests %d, %d tests", name, f.NumberOfTests, n)
		}
		for fl := range f.Notes {
			if !used[fl] {
				t.Errorf("%s: note for unused flag %q", name, fl)
			}
		}
		for _, m := range hexField.FindAll(b, -1) {
			if bytes.ContainsAny(m[bytes.IndexByte(m, ':'):], "ABCDEF") {
				t.Errorf("%s: uppercase hex: %.60s", name, m)
			}
		}
	}
}

// TestSchemaIsJSON: schema.json parses and names every algorithm.
func TestSchemaIsJSON(t *testing.T) {
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for alg := range verifiers {
		if !bytes.Contains(b, []byte(`"`+alg+`"`)) {
			t.Errorf("schema.json does not mention %s", alg)
		}
	}
}
