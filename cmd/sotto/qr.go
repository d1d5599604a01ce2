package main

import (
	"strings"

	"rsc.io/qr"
)

// qrText renders text as a QR code in terminal characters, two modules
// per character cell with half blocks, inside a four-module quiet zone.
// Light modules are drawn as blocks and dark ones as blank, which reads
// correctly on the usual light-on-dark terminal.
func qrText(text string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	dark := func(x, y int) bool { return code.Black(x-quiet, y-quiet) }
	n := code.Size + 2*quiet
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		for x := 0; x < n; x++ {
			top := !dark(x, y)
			bottom := y+1 < n && !dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
