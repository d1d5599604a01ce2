package main

import (
	"strings"
	"testing"

	"rsc.io/qr"
)

// The terminal rendering holds exactly the code's modules: light as
// blocks, dark as blanks, two rows per line, inside the quiet zone.
func TestQRText(t *testing.T) {
	const digits = "253032376412648968037603521226354987737752707240212022956749"
	s, err := qrText(digits)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := qr.Encode(digits, qr.M)
	const quiet = 4
	n := code.Size + 2*quiet
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != (n+1)/2 {
		t.Fatalf("%d lines for %d modules", len(lines), n)
	}
	for row, l := range lines {
		r := []rune(l)
		if len(r) != n {
			t.Fatalf("line %d has %d columns, want %d", row, len(r), n)
		}
		for x, c := range r {
			top, bottom := c == '█' || c == '▀', c == '█' || c == '▄'
			y := 2 * row
			if top != !code.Black(x-quiet, y-quiet) {
				t.Fatalf("module (%d,%d) wrong", x, y)
			}
			if y+1 < n && bottom != !code.Black(x-quiet, y+1-quiet) {
				t.Fatalf("module (%d,%d) wrong", x, y+1)
			}
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             "plain",
		"a\x1b[2Jb":         "a\uFFFD[2Jb",
		"line\nbreak":       "line↵break",
		"rtl\u202Eoverride": "rtl\uFFFDoverride",
		"tab\there":         "tab here",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	if got := groupDigits("123456789012"); got != "12345 67890 12" {
		t.Errorf("groupDigits = %q", got)
	}
}
