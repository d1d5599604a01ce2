package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/term"

	"github.com/sotto-im/sotto/internal/chat"
)

func runChat(args []string) error {
	fs := newFlagSet("chat", "--name NAME [--relay URL] [--data DIR] [--plain]",
		"Chat from this terminal as NAME (the account is created on first use).\n\n"+
			"The store, DIR/NAME.db, is encrypted under a passphrase read from the\n"+
			"environment variable SOTTO_PASSPHRASE or, if it is unset, asked for on the\n"+
			"terminal (never a flag: flags show in the process list).\n\n"+
			"In a terminal, a full-screen UI: contacts, the conversation, an input line,\n"+
			"delivery states and a verify screen (safety number as digits and QR code).\n"+
			"With --plain, or when standard input is not a terminal, line mode:\n"+
			"  /msg NAME TEXT   send TEXT to NAME\n"+
			"  /verify NAME     print the safety number with NAME\n"+
			"  /trust NAME      accept NAME's changed identity key shown by the last /verify NAME\n"+
			"  /reject NAME     discard NAME's changed identity key shown by the last /verify NAME\n"+
			"  /contacts        list contacts\n"+
			"  /history NAME    print the conversation with NAME\n"+
			"  /quit            leave (so does end of input)\n"+
			"Received messages print as \"NAME: TEXT\", problems as \"! ...\" lines, both on\n"+
			"standard output; progress notes (\"* ...\") go to standard error.")
	name := fs.String("name", "", "your account `name` (1-32 of a-z 0-9 . _ -)")
	relayURL := fs.String("relay", "http://127.0.0.1:8080", "the relay's base `URL`")
	data := fs.String("data", defaultDataDir(), "`directory` of your encrypted store")
	plain := fs.Bool("plain", false, "line mode instead of the full-screen UI")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if !chat.ValidName(*name) {
		return chat.ErrInvalidName
	}
	interactive := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
	_, statErr := os.Stat(filepath.Join(*data, *name+".db"))
	pass, err := passphrase(interactive, errors.Is(statErr, os.ErrNotExist))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	octx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := chat.Open(octx, *data, *name, pass, *relayURL)
	cancel()
	clear(pass)
	if err != nil {
		return err
	}
	defer c.Close()
	if *plain || !interactive {
		return plainChat(ctx, c, os.Stdin, os.Stdout, os.Stderr, *relayURL)
	}
	return tuiChat(ctx, c, *relayURL)
}

func defaultDataDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "sotto")
	}
	return "sotto-data"
}

// passphrase reads the store's passphrase from SOTTO_PASSPHRASE or the
// terminal, asking twice for a new store.
func passphrase(interactive, fresh bool) ([]byte, error) {
	if p, ok := os.LookupEnv("SOTTO_PASSPHRASE"); ok {
		if p == "" {
			return nil, errors.New("SOTTO_PASSPHRASE is empty")
		}
		return []byte(p), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, errors.New("no terminal to ask for the passphrase: set SOTTO_PASSPHRASE")
	}
	fmt.Fprint(os.Stderr, "Passphrase: ")
	p, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase")
	}
	if fresh {
		fmt.Fprint(os.Stderr, "New store: the passphrase again: ")
		q, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, errors.New("the passphrases differ")
		}
		clear(q)
	}
	return p, nil
}

// lockedWriter serializes lines from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// plainChat is line mode: commands on in, messages and problems on out,
// progress notes on info.
func plainChat(ctx context.Context, c *chat.Client, in io.Reader, outW, infoW io.Writer, relayURL string) error {
	out, info := &lockedWriter{w: outW}, &lockedWriter{w: infoW}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		c.Run(ctx, func(ev chat.Event) { printEvent(out, info, ev) })
	}()
	info.printf("* signed in as %s at %s; /msg NAME TEXT to write, /quit to leave\n", c.Name(), relayURL)

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 0, 4096), chat.MaxTextSize+1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	shown := map[string][]byte{} // the changed identity key the last /verify NAME showed
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			cancel()
			<-runDone
			return nil
		case line, ok = <-lines:
		}
		if !ok {
			break
		}
		if quit := plainCommand(ctx, c, out, info, shown, line); quit {
			break
		}
	}
	cancel()
	<-runDone
	return nil
}

// plainCommand runs one line of line mode and reports whether to quit.
// shown holds, per contact, the changed identity key whose safety number
// /verify printed last: /trust and /reject act on that key only.
func plainCommand(ctx context.Context, c *chat.Client, out, info *lockedWriter, shown map[string][]byte, line string) bool {
	line = strings.TrimSpace(line)
	if line == "" {
		return false
	}
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit":
		return true
	case "/msg":
		peer, text, _ := strings.Cut(rest, " ")
		if peer == "" || strings.TrimSpace(text) == "" {
			out.printf("! usage: /msg NAME TEXT\n")
			return false
		}
		m, err := c.Send(ctx, peer, text)
		if err != nil {
			out.printf("! not sent to %s: %s\n", peer, oneLine(err.Error()))
			return false
		}
		if m.State != chat.StateSent { // "sent" comes as an event
			info.printf("* %s to %s: %s\n", m.State, peer, preview(text))
		}
	case "/verify":
		if rest == "" {
			out.printf("! usage: /verify NAME\n")
			return false
		}
		fp, err := c.SafetyNumber(ctx, rest)
		if err != nil {
			out.printf("! no safety number with %s yet: %s\n", rest, oneLine(err.Error()))
		} else {
			out.printf("safety number with %s: %s\n", rest, groupDigits(fp.Displayable()))
		}
		delete(shown, rest)
		if p, key, err := c.PendingSafetyNumber(ctx, rest); err == nil {
			shown[rest] = key
			out.printf("! %s's identity key changed; the new key's safety number: %s (/trust %s to accept it, /reject %s to discard it)\n",
				rest, groupDigits(p.Displayable()), rest, rest)
		}
	case "/trust", "/reject":
		if rest == "" {
			out.printf("! usage: %s NAME\n", cmd)
			return false
		}
		key, ok := shown[rest]
		if !ok {
			out.printf("! no changed identity key of %s shown yet: /verify %s first and compare the safety number\n", rest, rest)
			return false
		}
		delete(shown, rest) // one decision per comparison
		if cmd == "/reject" {
			n, err := c.RejectIdentity(ctx, rest, key)
			if err != nil {
				out.printf("! %s\n", oneLine(err.Error()))
				return false
			}
			info.printf("* discarded the new identity key of %s and %d held message(s)\n", rest, n)
			return false
		}
		evs, err := c.TrustIdentity(ctx, rest, key)
		if err != nil {
			out.printf("! %s\n", oneLine(err.Error()))
			return false
		}
		info.printf("* trusted the new identity key of %s\n", rest)
		for _, ev := range evs {
			printEvent(out, info, ev)
		}
	case "/contacts":
		cs, err := c.Contacts(ctx)
		if err != nil {
			out.printf("! %s\n", oneLine(err.Error()))
			return false
		}
		for _, k := range cs {
			flags := ""
			if k.Verified {
				flags += " (verified)"
			}
			if k.IdentityChanged {
				flags += " (identity changed)"
			}
			out.printf("contact %s%s\n", k.Name, flags)
		}
	case "/history":
		ms, err := c.History(ctx, rest, 0)
		if err != nil {
			out.printf("! %s\n", oneLine(err.Error()))
			return false
		}
		for _, m := range ms {
			from := m.Peer
			if m.Outgoing {
				from = c.Name()
			}
			out.printf("history %s %s: %s [%s]\n", m.Sent.Format(time.TimeOnly), from, sanitize(m.Text), m.State)
		}
	default:
		out.printf("! unknown command %q: use /msg NAME TEXT, /verify NAME, /trust NAME, /reject NAME, /contacts, /history NAME, /quit\n", cmd)
	}
	return false
}

func printEvent(out, info *lockedWriter, ev chat.Event) {
	switch ev.Kind {
	case chat.EventMessage:
		out.printf("%s: %s\n", ev.Peer, sanitize(ev.Message.Text))
	case chat.EventState:
		info.printf("* %s to %s: %s\n", ev.Message.State, ev.Peer, preview(ev.Message.Text))
	case chat.EventIdentityChanged:
		out.printf("! identity key of %s changed: their messages are held; compare safety numbers (/verify %s), then /trust %s\n",
			ev.Peer, ev.Peer, ev.Peer)
	case chat.EventFailed:
		from := ev.Peer
		if from == "" {
			from = "an invalid sender"
		}
		out.printf("! rejected a message from %s: %s\n", from, oneLine(ev.Err.Error()))
	case chat.EventError:
		out.printf("! %s\n", oneLine(ev.Err.Error()))
	case chat.EventConnected:
		info.printf("* connected to the relay\n")
	case chat.EventDuplicate:
		info.printf("* ignored a message from %s delivered twice\n", ev.Peer)
	}
}

// sanitize makes a peer's text safe to print: control characters (escape
// sequences could drive the terminal) and bidirectional overrides become
// U+FFFD, line breaks a visible mark.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return '↵'
		case r == '\t':
			return ' '
		case unicode.IsControl(r), r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F:
			return '\uFFFD'
		}
		return r
	}, s)
}

func preview(s string) string {
	s = sanitize(s)
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func oneLine(s string) string { return strings.ReplaceAll(sanitize(s), "↵", " ") }

// groupDigits writes a 60-digit safety number as 12 groups of 5.
func groupDigits(d string) string {
	var b strings.Builder
	for i := 0; i < len(d); i += 5 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d[i:min(i+5, len(d))])
	}
	return b.String()
}
