package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/sotto-im/sotto/internal/chat"
	"github.com/sotto-im/sotto/internal/relay"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/session"
)

// demoKDF are the demo stores' argon2id parameters: cheap, so that the
// demo starts at once. Real stores use keystore/encrypted's defaults.
var demoKDF = encrypted.Options{Time: 1, Memory: 8 << 10, Threads: 1}

func runDemo(args []string) error {
	fs := newFlagSet("demo", "",
		"Start a relay on 127.0.0.1, create two accounts (alice and bob) with encrypted\n"+
			"stores in a temporary directory, and hold a short conversation: a first message\n"+
			"that sets up the session (PQXDH), replies, and messages delivered out of order.\n"+
			"Then print the conversation beside what the relay stored, and both safety\n"+
			"numbers. Everything is deleted at the end.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return demo(ctx, os.Stdout)
}

// tap sits between the demo's clients and the relay: it records what each
// client hands the relay and can deliver a fetch in reverse order.
type tap struct {
	mu      sync.Mutex
	sent    []tapped
	label   string
	reverse map[string]bool
}

type tapped struct {
	relayID, from, to, label string
	typ                      uint8
	body                     []byte
}

type tapTransport struct {
	chat.Transport
	name string
	t    *tap
}

func (t *tapTransport) Send(ctx context.Context, to relay.Address, typ uint8, body []byte) (string, error) {
	id, err := t.Transport.Send(ctx, to, typ, body)
	if err == nil {
		t.t.mu.Lock()
		t.t.sent = append(t.t.sent, tapped{id, t.name, to.Name, t.t.label, typ, slices.Clone(body)})
		t.t.mu.Unlock()
	}
	return id, err
}

func (t *tapTransport) Fetch(ctx context.Context) ([]relay.Envelope, error) {
	envs, err := t.Transport.Fetch(ctx)
	t.t.mu.Lock()
	defer t.t.mu.Unlock()
	if t.t.reverse[t.name] {
		slices.Reverse(envs)
	}
	return envs, err
}

func (t *tap) setLabel(l string) {
	t.mu.Lock()
	t.label = l
	t.mu.Unlock()
}

func demo(ctx context.Context, w io.Writer) (err error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "sotto-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The relay, in process, on a free loopback port.
	st, err := relay.OpenSQLite(filepath.Join(dir, "relay", "relay.db"))
	if err != nil {
		if err := os.MkdirAll(filepath.Join(dir, "relay"), 0o700); err != nil {
			return err
		}
		if st, err = relay.OpenSQLite(filepath.Join(dir, "relay", "relay.db")); err != nil {
			return err
		}
	}
	srv := relay.NewServer(st, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer func() {
		srv.Close()
		hs.Close()
		st.Close()
	}()
	url := "http://" + ln.Addr().String()

	fmt.Fprintf(w, "Sotto demo: alice and bob talk through a relay at %s.\n", url)
	fmt.Fprintf(w, "Their stores are encrypted SQLite files in %s, deleted at the end.\n", dir)
	fmt.Fprintf(w, "(The demo stores use deliberately cheap argon2id parameters, t=%d m=%d MiB p=%d,\n",
		demoKDF.Time, demoKDF.Memory>>10, demoKDF.Threads)
	fmt.Fprintf(w, "to start fast; real stores use t=3 m=64 MiB p=4.)\n\n")

	t := &tap{reverse: map[string]bool{}}
	open := func(name string) (*chat.Client, error) {
		pass := make([]byte, 16)
		rand.Read(pass)
		kdf := demoKDF
		return chat.OpenConfig(ctx, &chat.Config{
			DataDir: filepath.Join(dir, name), Name: name, Passphrase: []byte(hex.EncodeToString(pass)),
			RelayURL: url, KDF: &kdf,
			Transport: func(self relay.Address, signer relay.Signer) chat.Transport {
				return &tapTransport{Transport: relay.NewClient(url, self, signer, nil), name: name, t: t}
			},
		})
	}
	alice, err := open("alice")
	if err != nil {
		return err
	}
	defer alice.Close()
	bob, err := open("bob")
	if err != nil {
		return err
	}
	defer bob.Close()
	fmt.Fprintln(w, "1. alice and bob each create an account: an identity key, a signed prekey, a")
	fmt.Fprintln(w, "   last-resort Kyber1024 prekey, 100 one-time X25519 and 20 one-time Kyber1024")
	fmt.Fprintln(w, "   prekeys, all published to the relay (public halves only).")

	var problems []string
	note := func(ev chat.Event) {
		if ev.Kind == chat.EventFailed || ev.Kind == chat.EventError || ev.Kind == chat.EventIdentityChanged {
			problems = append(problems, fmt.Sprintf("%s: %v", ev.Kind, ev.Err))
		}
	}
	var bobOrder []string
	bobNote := func(ev chat.Event) {
		note(ev)
		if ev.Kind == chat.EventMessage {
			bobOrder = append(bobOrder, ev.Message.Text)
		}
	}
	send := func(from *chat.Client, to, text string) error {
		t.setLabel("message")
		_, err := from.Send(ctx, to, text)
		return err
	}
	poll := func(c *chat.Client, h func(chat.Event)) error {
		t.setLabel("receipt")
		_, err := c.Poll(ctx, h)
		return err
	}

	fmt.Fprintln(w, "2. alice fetches bob's prekey bundle from the relay and starts a session")
	fmt.Fprintln(w, "   (PQXDH: X25519 and Kyber1024); her first message carries what bob needs.")
	if err := send(alice, "bob", "Hi Bob! This is Alice, end-to-end encrypted."); err != nil {
		return err
	}
	if err := poll(bob, bobNote); err != nil {
		return err
	}
	if err := send(bob, "alice", "Hi Alice, loud and clear. The relay only sees ciphertext."); err != nil {
		return err
	}
	if err := poll(alice, note); err != nil {
		return err
	}
	fmt.Fprintln(w, "3. alice sends three messages; the relay connection hands them to bob newest")
	fmt.Fprintln(w, "   first, and the Double Ratchet decrypts them all (it keeps skipped keys).")
	for _, s := range []string{"Out-of-order test, one.", "Out-of-order test, two.", "Out-of-order test, three."} {
		if err := send(alice, "bob", s); err != nil {
			return err
		}
	}
	bobOrder = nil
	t.mu.Lock()
	t.reverse["bob"] = true
	t.mu.Unlock()
	if err := poll(bob, bobNote); err != nil {
		return err
	}
	t.mu.Lock()
	t.reverse["bob"] = false
	t.mu.Unlock()
	fmt.Fprintf(w, "   bob received: %s\n", strings.Join(bobOrder, " / "))
	if err := send(bob, "alice", "Got all three. Shall we compare safety numbers?"); err != nil {
		return err
	}
	if err := poll(alice, note); err != nil {
		return err
	}
	if err := poll(bob, note); err != nil { // alice's last receipt
		return err
	}

	// The conversation, as alice's history has it, beside what the relay
	// stored for each message.
	hist, err := alice.History(ctx, "bob", 0)
	if err != nil {
		return err
	}
	t.mu.Lock()
	byID := map[string]tapped{}
	var receipts []tapped
	for _, s := range t.sent {
		byID[s.relayID] = s
		if s.label == "receipt" {
			receipts = append(receipts, s)
		}
	}
	all := slices.Clone(t.sent)
	t.mu.Unlock()
	// bob's outgoing messages carry the relay ids of his side.
	bobHist, err := bob.History(ctx, "alice", 0)
	if err != nil {
		return err
	}
	relayOf := map[string]string{}
	for _, m := range append(slices.Clone(hist), bobHist...) {
		if m.Outgoing {
			relayOf[m.ID] = m.RelayID
		}
	}

	fmt.Fprintln(w, "\n4. The conversation (alice's history), beside what the relay stored for each message:")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   \tmessage\tstate\t│ relay stored: type\tbytes\tciphertext (first and last bytes)")
	for _, m := range hist {
		dir := "alice → bob"
		if !m.Outgoing {
			dir = "bob → alice"
		}
		s := byID[relayOf[m.ID]]
		fmt.Fprintf(tw, "   %s\t%q\t%s\t│ %s\t%d\t%s\n", dir, m.Text, m.State, typeName(s.typ), len(s.body), hexEnds(s.body))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n   and %d delivery receipts, encrypted like messages:", len(receipts))
	for _, r := range receipts {
		fmt.Fprintf(w, " %d", len(r.body))
	}
	fmt.Fprintln(w, " bytes.")
	fmt.Fprintln(w, "   Texts are padded to multiples of 160 bytes before encryption; PreKey messages")
	fmt.Fprintln(w, "   also carry alice's identity key, a base key and a 1568-byte Kyber ciphertext.")

	// Safety numbers.
	fa, err := alice.SafetyNumber(ctx, "bob")
	if err != nil {
		return err
	}
	fb, err := bob.SafetyNumber(ctx, "alice")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n5. Safety numbers, which the two users compare out of band:")
	fmt.Fprintf(w, "   alice sees  %s\n", groupDigits(fa.Displayable()))
	fmt.Fprintf(w, "   bob sees    %s\n", groupDigits(fb.Displayable()))
	equal := fa.Displayable() == fb.Displayable()
	if equal {
		fmt.Fprintln(w, "   equal: no one sits between them.")
	} else {
		problems = append(problems, "the safety numbers differ")
	}

	// The plaintexts appear nowhere on disk.
	var texts []string
	for _, m := range hist {
		texts = append(texts, m.Text)
	}
	found, err := grepDir(dir, texts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n6. Searched every file under %s (relay database, both stores) for the\n", dir)
	if len(found) == 0 {
		fmt.Fprintln(w, "   message texts: none found.")
	} else {
		fmt.Fprintf(w, "   message texts: FOUND in %s\n", strings.Join(found, ", "))
		problems = append(problems, "plaintext found on disk")
	}
	if len(all) == 0 {
		problems = append(problems, "the relay carried nothing")
	}
	fmt.Fprintf(w, "\nDone in %.1f s.\n", time.Since(start).Seconds())
	if len(problems) > 0 {
		return errors.New("demo failed: " + strings.Join(problems, "; "))
	}
	return nil
}

func typeName(t uint8) string {
	switch session.MessageType(t) {
	case session.MessagePreKey:
		return "PreKey"
	case session.MessageWhisper:
		return "Whisper"
	}
	return fmt.Sprint(t)
}

// hexEnds shows a ciphertext's first 6 bytes (version and the start of
// the header) and its last 10 (the end of the AES-CBC ciphertext and the
// MAC), which differ between any two messages.
func hexEnds(b []byte) string {
	if len(b) <= 16 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:6]) + "…" + hex.EncodeToString(b[len(b)-10:])
}

// grepDir returns the files under dir that contain any of texts.
func grepDir(dir string, texts []string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, t := range texts {
			if bytes.Contains(b, []byte(t)) {
				rel, _ := filepath.Rel(dir, path)
				found = append(found, rel)
				break
			}
		}
		return nil
	})
	return found, err
}
