// Package e2e tests Sotto end to end: the sotto binary as real processes
// (relay and chat clients on 127.0.0.1), a hostile relay in front of the
// real one, and the loopback throughput of the whole path.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// sottoBin is the sotto binary TestMain builds.
var sottoBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sotto-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sottoBin = filepath.Join(dir, "sotto")
	build := exec.Command("go", "build", "-o", sottoBin, "github.com/sotto-im/sotto/cmd/sotto")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sotto:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running sotto process whose output lines can be awaited.
type proc struct {
	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error // of Wait, once done is closed

	mu     sync.Mutex
	cond   *sync.Cond
	lines  []string // stdout and stderr lines, in arrival order
	stdout []string
}

// start runs sotto with args and env added to the environment.
func start(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	p.cmd = exec.Command(sottoBin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errp, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go p.read(out, true, &wg)
	go p.read(errp, false, &wg)
	go func() {
		wg.Wait()
		p.err = p.cmd.Wait()
		close(p.done)
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) read(r io.Reader, stdout bool, wg *sync.WaitGroup) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, sc.Text())
		if stdout {
			p.stdout = append(p.stdout, sc.Text())
		}
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// expect waits for an output line (stdout or stderr) after line index from
// that matches re, and returns its submatches and the index after it.
func (p *proc) expect(from int, re string, timeout time.Duration) ([]string, int) {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := from; ; {
		for ; i < len(p.lines); i++ {
			if m := rx.FindStringSubmatch(p.lines[i]); m != nil {
				return m, i + 1
			}
		}
		if p.exited() || time.Now().After(deadline) {
			p.t.Fatalf("%s: no line matching %q within %v; output:\n%s", p.name, re, timeout, strings.Join(p.lines, "\n"))
		}
		p.cond.Wait()
	}
}

// mark returns the number of lines so far, for expect.
func (p *proc) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func (p *proc) stdoutLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.stdout...)
}

func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("%s: writing %q: %v", p.name, line, err)
	}
}

// stop sends SIGTERM (or closes stdin for a chat) and waits for a clean
// exit.
func (p *proc) stop(signal bool) {
	p.t.Helper()
	if signal {
		p.cmd.Process.Signal(os.Interrupt)
	} else {
		p.stdin.Close()
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
		p.t.Fatalf("%s did not exit; output:\n%s", p.name, p.output())
	}
	if p.err != nil {
		p.t.Errorf("%s exited with %v; output:\n%s", p.name, p.err, p.output())
	}
}

func (p *proc) kill() {
	if !p.exited() {
		p.cmd.Process.Kill()
		<-p.done
	}
}

// startRelay runs "sotto relay" on listen (port 0: any) with its database
// in dir, and returns the process and its URL.
func startRelay(t testing.TB, dir, listen string) (*proc, string) {
	t.Helper()
	p := start(t, "relay", nil, "relay", "--listen", listen, "--data", dir)
	m, _ := p.expect(0, `relay listening.* url=(http://\S+)`, 10*time.Second)
	return p, m[1]
}

// startChat runs "sotto chat --plain" as name and waits until it is online.
func startChat(t testing.TB, name, relayURL, dataDir string) *proc {
	t.Helper()
	p := start(t, name, []string{"SOTTO_PASSPHRASE=correct horse battery " + name},
		"chat", "--plain", "--name", name, "--relay", relayURL, "--data", dataDir)
	p.expect(0, `^\* connected to the relay`, 20*time.Second)
	return p
}

// grepFiles returns the files under dir containing any of needles.
func grepFiles(t testing.TB, dir string, needles []string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				found = append(found, path+": "+n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
