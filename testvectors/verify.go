package testvectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
)

// verifier runs the cases of one vector file against Sotto, recording each
// case's outcome in r. It returns an error only when the file's groups cannot
// be decoded at all.
type verifier func(data []byte, r *fileReport) error

// verifiers maps a file's algorithm to its verifier.
var verifiers = map[string]verifier{
	algXEdDSA:       verifyXEdDSA,
	algX25519:       verifyX25519,
	algKyber:        verifyKyber,
	algPQXDH:        verifyPQXDH,
	algRatchet:      verifyRatchet,
	algConversation: verifyConversation,
	algFingerprint:  verifyFingerprint,
	algFranking:     verifyFranking,
	algAttachment:   verifyAttachment,
}

// Algorithms, one per file.
const (
	algXEdDSA       = "XEdDSA"
	algX25519       = "X25519"
	algKyber        = "Kyber1024"
	algPQXDH        = "PQXDH"
	algRatchet      = "DoubleRatchet"
	algConversation = "Conversation"
	algFingerprint  = "SafetyNumber"
	algFranking     = "Franking"
	algAttachment   = "Attachment"
)

// maxReportedFailures bounds how many failing cases are listed per file.
const maxReportedFailures = 20

// Verify runs every vector file in the root of fsys (every *.json file but
// schema.json) against Sotto and writes one summary line per file, the
// failing cases, and a last line "N passed, N failed" to w. A case passes
// when Sotto reproduces its outputs byte for byte and fails each invalid
// case with the expected error class; passed and failed count cases.
//
// A file that cannot be decoded, names an unknown algorithm or format
// version, or miscounts its tests counts as one failure. err is returned
// only when fsys cannot be read or holds no vector file; Verify never stops
// early because of a failing case. If the root of fsys holds no vector file
// but a data directory, the files are taken from there, so both the
// testvectors directory and its data directory can be named. Use it as
//
//	testvectors.Verify(testvectors.FS, os.Stdout)
//	testvectors.Verify(os.DirFS(dir), os.Stdout)
func Verify(fsys fs.FS, w io.Writer) (passed, failed int, err error) {
	fsys, names, err := vectorRoot(fsys)
	if err != nil {
		return 0, 0, err
	}
	for _, name := range names {
		r := &fileReport{name: name}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return passed, failed, fmt.Errorf("testvectors: %w", err)
		}
		r.run(data)
		r.write(w)
		passed += r.passed
		failed += r.failed
	}
	if _, err := fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed); err != nil {
		return passed, failed, err
	}
	return passed, failed, nil
}

// vectorRoot returns the file system holding the vector files, fsys or its
// data directory, and the files' names.
func vectorRoot(fsys fs.FS) (fs.FS, []string, error) {
	names, err := vectorFiles(fsys)
	if err == nil {
		return fsys, names, nil
	}
	if st, serr := fs.Stat(fsys, "data"); serr == nil && st.IsDir() {
		sub, serr := fs.Sub(fsys, "data")
		if serr == nil {
			if names, serr := vectorFiles(sub); serr == nil {
				return sub, names, nil
			}
		}
	}
	return nil, nil, err
}

// vectorFiles lists the vector files in the root of fsys, sorted.
func vectorFiles(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("testvectors: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && path.Ext(e.Name()) == ".json" && e.Name() != schemaFile {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return nil, errors.New("testvectors: no vector files (*.json) found")
	}
	return names, nil
}

// schemaFile is the JSON Schema of the format; it sits beside the vector
// files in the repository and is not a vector file.
const schemaFile = "schema.json"

// fileReport is the outcome of one file.
type fileReport struct {
	name, algorithm string
	passed, failed  int
	failures        []string
	seen            map[int]bool // tcIds, to reject duplicates
}

// run decodes the file and runs its verifier.
func (r *fileReport) run(data []byte) {
	var h fileHeader
	if err := json.Unmarshal(data, &h); err != nil {
		r.fileFailure("not a vector file: %v", err)
		return
	}
	r.algorithm = h.Algorithm
	if h.Version != formatVersion {
		r.fileFailure("format version %d, want %d", h.Version, formatVersion)
		return
	}
	v, ok := verifiers[h.Algorithm]
	if !ok {
		r.fileFailure("unknown algorithm %q", h.Algorithm)
		return
	}
	if err := v(data, r); err != nil {
		r.fileFailure("cannot decode test groups: %v", err)
		return
	}
	if n := r.passed + r.failed; n != h.NumberOfTests {
		r.fileFailure("numberOfTests is %d but the file has %d tests", h.NumberOfTests, n)
	}
}

// fileFailure records a defect of the file itself as one failure.
func (r *fileReport) fileFailure(format string, args ...any) {
	r.failed++
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// record records the outcome of one case: err is nil when Sotto behaved as
// the case says. It also checks the case's own consistency.
func (r *fileReport) record(c *caseID, res *caseResult, err error) {
	if r.seen == nil {
		r.seen = map[int]bool{}
	}
	switch {
	case r.seen[c.TcID]:
		err = errorf("duplicate tcId")
	case res.Result == resultValid && res.Error != "":
		err = errorf("valid case names an error class")
	case res.Result == resultInvalid && !slices.Contains(errorClasses, res.Error):
		err = errorf("invalid case with unknown error class %q", res.Error)
	case res.Result != resultValid && res.Result != resultInvalid:
		err = errorf("result %q is neither valid nor invalid", res.Result)
	}
	r.seen[c.TcID] = true
	if err == nil {
		r.passed++
		return
	}
	r.failed++
	r.failures = append(r.failures, fmt.Sprintf("tcId %d (%s): %v", c.TcID, c.Comment, err))
}

// write prints the file's summary line and its failures.
func (r *fileReport) write(w io.Writer) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%-18s %-14s %5d passed, %d failed\n", r.name, r.algorithm, r.passed, r.failed)
	for i, f := range r.failures {
		if i == maxReportedFailures {
			fmt.Fprintf(&b, "    ... and %d more\n", len(r.failures)-i)
			break
		}
		fmt.Fprintf(&b, "    FAIL %s\n", f)
	}
	_, _ = w.Write(b.Bytes())
}

// decodeFile decodes a whole vector file with groups of type G.
func decodeFile[G any](data []byte) (*vectorFile[G], error) {
	var f vectorFile[G]
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&f); err != nil {
		return nil, err
	}
	return &f, nil
}

// safely runs a case check, turning a panic (a vector edited into a shape
// the check does not expect, such as a key of the wrong length) into a
// failure of that case.
func safely(check func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errorf("the case cannot be run: %v", p)
		}
	}()
	return check()
}

// errorf builds a discrepancy description.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// expect is the outcome check of an operation that succeeds or fails: a
// valid case must succeed, an invalid one fail with its class.
func expect(res *caseResult, err error) error {
	if res.Result == resultInvalid {
		return checkError(err, res.Error)
	}
	if err != nil {
		return errorf("unexpected error: %v", err)
	}
	return nil
}

// equal compares an output with the expected bytes.
func equal(what string, got, want []byte) error {
	if !bytes.Equal(got, want) {
		return errorf("%s = %s, want %s", what, short(got), short(want))
	}
	return nil
}

// short renders bytes for a failure message, eliding the middle of long
// values.
func short(b []byte) string {
	s := fmt.Sprintf("%x", b)
	if len(s) > 40 {
		return s[:16] + "…" + s[len(s)-16:] + fmt.Sprintf(" (%d bytes)", len(b))
	}
	if s == "" {
		return "(empty)"
	}
	return s
}

// first returns the first non-nil error.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
