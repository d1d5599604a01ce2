package main

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/sotto-im/sotto/testvectors"
)

func runVectors(args []string) error {
	vfs := newFlagSet("vectors", "verify [DIR]",
		"Run Sotto against its test vectors and print one line per file and a summary.\n"+
			"Without DIR, the vectors embedded in this binary; with DIR, the *.json files in it.\n"+
			"Exits non-zero if any case fails.")
	if err := parse(vfs, args); err != nil {
		return err
	}
	if vfs.NArg() < 1 || vfs.NArg() > 2 || vfs.Arg(0) != "verify" {
		vfs.Usage()
		return errUsage
	}
	var fsys fs.FS = testvectors.FS
	if vfs.NArg() == 2 {
		dir := vfs.Arg(1)
		if st, err := os.Stat(dir); err != nil {
			return err
		} else if !st.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		fsys = os.DirFS(dir)
	}
	passed, failed, err := testvectors.Verify(fsys, os.Stdout)
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d cases failed", failed, passed+failed)
	}
	return nil
}
