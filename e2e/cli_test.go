package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const wait = 20 * time.Second

// (a) A relay and two line-mode clients, as separate processes, exchange
// messages both ways and agree on the safety number; (d) neither the
// relay's files nor its log contain a plaintext.
func TestChatProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	relayDir := filepath.Join(dir, "relay")
	relay, url := startRelay(t, relayDir, "127.0.0.1:0")
	alice := startChat(t, "alice", url, filepath.Join(dir, "clients"))
	bob := startChat(t, "bob", url, filepath.Join(dir, "clients"))

	texts := []string{
		"Hello Bob, this is alice-plaintext-1",
		"A second one, alice-plaintext-2",
		"Hi Alice! bob-plaintext-1",
		"And bob-plaintext-2 with ünïcode ✓",
	}
	ma, mb := alice.mark(), bob.mark()
	alice.send("/msg bob " + texts[0])
	alice.send("/msg bob " + texts[1])
	_, mb = bob.expect(mb, "^alice: "+regexp.QuoteMeta(texts[0])+"$", wait)
	_, mb = bob.expect(mb, "^alice: "+regexp.QuoteMeta(texts[1])+"$", wait)
	bob.send("/msg alice " + texts[2])
	bob.send("/msg alice " + texts[3])
	_, ma = alice.expect(ma, "^bob: "+regexp.QuoteMeta(texts[2])+"$", wait)
	_, ma = alice.expect(ma, "^bob: "+regexp.QuoteMeta(texts[3])+"$", wait)
	// Delivery receipts come back.
	alice.expect(0, `^\* delivered to bob: `, wait)
	bob.expect(0, `^\* delivered to alice: `, wait)

	alice.send("/verify bob")
	bob.send("/verify alice")
	sa, _ := alice.expect(ma, `^safety number with bob: ([0-9 ]{71})$`, wait)
	sb, _ := bob.expect(mb, `^safety number with alice: ([0-9 ]{71})$`, wait)
	if sa[1] != sb[1] {
		t.Errorf("safety numbers differ:\n%s\n%s", sa[1], sb[1])
	}
	for _, p := range []*proc{alice, bob} {
		for _, l := range p.stdoutLines() {
			if strings.HasPrefix(l, "!") {
				t.Errorf("%s reported: %s", p.name, l)
			}
		}
	}
	alice.send("/quit")
	alice.stop(false)
	bob.stop(false)
	relay.stop(true)

	// (d) The relay saw ciphertext only.
	if found := grepFiles(t, relayDir, texts); len(found) > 0 {
		t.Errorf("plaintext in the relay's files: %q", found)
	}
	if log := relay.output(); containsAny(log, texts) {
		t.Errorf("plaintext in the relay's log:\n%s", log)
	}
	if !strings.Contains(relay.output(), "path=/v1/messages") {
		t.Errorf("the relay logged no message requests:\n%s", relay.output())
	}
	// The clients' stores are encrypted too.
	if found := grepFiles(t, filepath.Join(dir, "clients"), texts); len(found) > 0 {
		t.Errorf("plaintext in the clients' stores: %q", found)
	}
}

// (b) The relay is killed mid-conversation and started again on the same
// port and data directory: nothing is lost, nothing is duplicated.
func TestRelayRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	relayDir := filepath.Join(dir, "relay")
	relay, url := startRelay(t, relayDir, "127.0.0.1:0")
	listen := strings.TrimPrefix(url, "http://")
	alice := startChat(t, "alice", url, filepath.Join(dir, "clients"))
	bob := startChat(t, "bob", url, filepath.Join(dir, "clients"))

	var want []string
	mb := bob.mark()
	for i := range 3 {
		s := fmt.Sprintf("before restart %d", i)
		want = append(want, s)
		alice.send("/msg bob " + s)
		_, mb = bob.expect(mb, "^alice: "+s+"$", wait)
	}
	// Messages in the relay's mailbox, not yet fetched by bob: stop bob.
	bob.stop(false)
	for i := range 3 {
		s := fmt.Sprintf("waiting in the mailbox %d", i)
		want = append(want, s)
		ma := alice.mark()
		alice.send("/msg alice-typo-guard " + "x") // an unknown name is refused, not queued
		alice.expect(ma, `^! not sent to alice-typo-guard`, wait)
		alice.send("/msg bob " + s)
		alice.expect(ma, `^\* sent to bob: `+s, wait)
	}
	relay.kill() // SIGKILL: no clean shutdown
	// While the relay is down alice writes; the messages queue.
	for i := range 3 {
		s := fmt.Sprintf("while the relay is down %d", i)
		want = append(want, s)
		ma := alice.mark()
		alice.send("/msg bob " + s)
		alice.expect(ma, `^\* queued to bob: `+s, wait)
	}
	relay2, url2 := startRelay(t, relayDir, listen)
	if url2 != url {
		t.Fatalf("relay came back at %s, not %s", url2, url)
	}
	bob = startChat(t, "bob", url, filepath.Join(dir, "clients"))
	for i := range 3 {
		s := fmt.Sprintf("after restart %d", i)
		want = append(want, s)
		alice.send("/msg bob " + s)
	}
	// bob's new process receives everything after the first three.
	mb = 0
	for _, s := range want[3:] {
		_, mb = bob.expect(mb, "^alice: "+s+"$", wait)
	}
	bob.send("/msg alice got them all")
	alice.expect(0, "^bob: got them all$", wait)

	// Each message exactly once, in bob's history.
	m := bob.mark()
	bob.send("/history alice")
	bob.expect(m, `^history .* bob: got them all`, wait)
	counts := map[string]int{}
	for _, l := range bob.stdoutLines() {
		if rest, ok := strings.CutPrefix(l, "history "); ok {
			if _, text, ok := strings.Cut(rest, " alice: "); ok {
				counts[strings.TrimSuffix(text, " [received]")]++
			}
		}
	}
	for _, s := range want {
		if counts[s] != 1 {
			t.Errorf("%q is %d times in bob's history", s, counts[s])
		}
	}
	alice.stop(false)
	bob.stop(false)
	relay2.stop(true)
	if found := grepFiles(t, relayDir, want); len(found) > 0 {
		t.Errorf("plaintext in the relay's files: %q", found)
	}
	if containsAny(relay.output()+relay2.output(), want) {
		t.Error("plaintext in the relay's log")
	}
}

// (e) The demo runs without set-up and exits 0.
func TestDemo(t *testing.T) {
	t.Parallel()
	start := time.Now()
	out, err := exec.Command(sottoBin, "demo").CombinedOutput()
	if err != nil {
		t.Fatalf("sotto demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Hi Bob! This is Alice, end-to-end encrypted.",
		"Out-of-order test, three. / Out-of-order test, two. / Out-of-order test, one.",
		"equal: no one sits between them.",
		"message texts: none found.",
		"cheap argon2id",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("demo took %v", d)
	}
}

// Every subcommand answers --help with its usage, on standard output.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"demo", "relay", "chat", "vectors"} {
		out, err := exec.Command(sottoBin, c, "--help").Output()
		if err != nil {
			t.Errorf("sotto %s --help: %v", c, err)
		}
		if !strings.Contains(string(out), "Usage: sotto "+c) {
			t.Errorf("sotto %s --help printed:\n%s", c, out)
		}
	}
	out, err := exec.Command(sottoBin, "--help").Output()
	if err != nil || !strings.Contains(string(out), "sotto demo") {
		t.Errorf("sotto --help: %v\n%s", err, out)
	}
	if err := exec.Command(sottoBin, "nonsense").Run(); err == nil {
		t.Error("an unknown command succeeded")
	}
}

func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// (f) The published vectors verify; a corrupted copy fails with a
// non-zero exit.
func TestVectors(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(sottoBin, "vectors", "verify").CombinedOutput()
	if err != nil {
		t.Fatalf("sotto vectors verify: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^\d+ passed, 0 failed$`).Match(out) {
		t.Errorf("no summary line:\n%s", out)
	}
	dir := t.TempDir()
	src, err := filepath.Glob("../testvectors/data/*.json")
	if err != nil || len(src) == 0 {
		t.Fatalf("no vector files: %v", err)
	}
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "x25519.json" {
			b = bytes.Replace(b, []byte(`"result": "valid"`), []byte(`"result": "invalid"`), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err = exec.Command(sottoBin, "vectors", "verify", dir).CombinedOutput()
	if err == nil {
		t.Errorf("a corrupted vector verified:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^\d+ passed, [1-9]\d* failed$`).Match(out) {
		t.Errorf("no failure in the summary:\n%s", out)
	}
}
