// Command sotto is Sotto's demo client and relay: end-to-end encrypted
// one-to-one chats on the Signal Protocol (package session), through an
// untrusted store-and-forward relay (internal/relay).
//
//	sotto demo                      a two-party conversation in a few seconds, no set-up
//	sotto relay [--listen ADDR]     serve a relay
//	sotto chat --name NAME          chat (a terminal UI, or line mode with --plain)
//	sotto vectors verify [DIR]      check the published test vectors
//
// Run "sotto COMMAND --help" for a command's flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(args []string) error
}

func commands() []command {
	return []command{
		{"demo", "", "hold a short encrypted conversation between two local accounts and show what the relay saw", runDemo},
		{"relay", "[--listen ADDR] [--data DIR]", "serve a relay until interrupted", runRelay},
		{"chat", "--name NAME [--relay URL] [--data DIR] [--plain]", "chat from this terminal", runChat},
		{"vectors", "verify [DIR]", "verify the test vectors (embedded, or those in DIR)", runVectors},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Sotto: end-to-end encrypted one-to-one chats on the Signal Protocol.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s\n      %s\n", strings.TrimSpace("sotto "+c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "sotto COMMAND --help" for a command's flags.`)
}

// errUsage is returned after a usage message was printed.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(os.Stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(os.Stderr, "sotto %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(os.Stderr, "sotto: unknown command %q\n\n", args[0])
	usage(os.Stderr)
	return 2
}

// newFlagSet returns a FlagSet for a subcommand whose --help prints the
// command's usage and its flags.
func newFlagSet(name, args, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("sotto "+name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: sotto %s %s\n\n%s\n", name, args, about)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args, turning a parse error into errUsage (the FlagSet
// printed it) and leaving flag.ErrHelp as it is.
func parse(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(os.Stdout) // asked for: not an error
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
