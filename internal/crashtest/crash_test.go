package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/ratchet"
	"github.com/sotto-im/sotto/session"
)

var rounds = flag.Int("crash.rounds", 200, "how many times the child is killed")

const (
	childEnv = "SOTTO_CRASH_CHILD_DIR"
	inbox    = "app.inbox" // the receiving app's own space: plaintexts by sequence number

	aliceName = "9d0652a3-dcc3-4d11-975f-74d61598733f"
	bobName   = "796abedb-ca4e-4f18-8803-1fde5b921f9f"
)

var (
	aliceAddr = session.Address{Name: aliceName, DeviceID: 1}
	bobAddr   = session.Address{Name: bobName, DeviceID: 1}
)

// The wire is an append-only file of "from type hex" lines. A line is
// written, and fsynced, only after Encrypt returned: that is the moment
// the sender "saw the message accepted", so the child prints "sent N" then.

// TestCrash kills the child at random points and checks the invariants
// after each restart and at the end.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	seed := rng.Uint64()
	t.Logf("seed %d, %d rounds", seed, *rounds)
	acked := map[string]int{} // "from:seq" the child reported sent
	for round := range *rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir, "SOTTO_CRASH_SEED="+strconv.FormatUint(seed+uint64(round), 10))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// One round in eight is killed at a random point of start-up
		// (opening the stores, publishing prekeys, starting the session);
		// the others a random while after the child reports it is ready, so
		// every round makes progress however slow the machine (or -race).
		killAfter := func(max int) *time.Timer {
			d := time.Duration(rng.IntN(max)+1) * time.Millisecond
			return time.AfterFunc(d, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
		var timer *time.Timer
		if rng.IntN(8) == 0 {
			timer = killAfter(30)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "ready" && timer == nil:
				timer = killAfter(40)
			case len(f) == 3 && f[0] == "sent":
				acked[f[1]+":"+f[2]]++
			}
		}
		err = cmd.Wait()
		if timer != nil {
			timer.Stop()
		}
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled()) {
			t.Fatalf("round %d: child failed: %v\n%s", round, err, stderr.String())
		}
	}
	// A last, uninterrupted run delivers everything still on the wire.
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "SOTTO_CRASH_FINAL=1", "SOTTO_CRASH_SEED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	checkInvariants(t, dir, acked)
}

// checkInvariants verifies, from the files alone, that every acknowledged
// message was delivered exactly once with the right text, and that no two
// messages on the wire share a message key (ratchet key and counter).
func checkInvariants(t *testing.T, dir string, acked map[string]int) {
	ctx := context.Background()
	delivered := map[string]string{}
	for _, who := range []string{"alice", "bob"} {
		st, closeDB, err := openStore(ctx, filepath.Join(dir, who+".db"))
		if err != nil {
			t.Fatal(err)
		}
		err = st.View(ctx, func(tx keystore.Tx) error {
			keys, err := tx.List(inbox, "")
			if err != nil {
				return err
			}
			for _, k := range keys {
				v, err := tx.Get(inbox, k)
				if err != nil {
					return err
				}
				delivered[k] = string(v)
			}
			return nil
		})
		closeDB()
		if err != nil {
			t.Fatal(err)
		}
	}
	for k, n := range acked {
		if n != 1 {
			t.Errorf("message %s acknowledged %d times: a sequence number was reused", k, n)
		}
		got, ok := delivered[k]
		if !ok {
			t.Errorf("message %s was acknowledged to its sender but never delivered", k)
			continue
		}
		if want := text(k); got != want {
			t.Errorf("message %s delivered as %q, want %q", k, got, want)
		}
	}
	wire := readWire(t, dir)
	keys := map[string]int{}
	for _, w := range wire {
		body := w.body
		if w.typ == session.MessagePreKey {
			// The inner SignalMessage starts after the PreKey framing;
			// find it by parsing the protobuf field 4 generically.
			body = innerMessage(t, body)
		}
		m, err := ratchet.ParseSignalMessage(body)
		if err != nil {
			t.Fatalf("wire message does not parse: %v", err)
		}
		k := fmt.Sprintf("%s/%x/%d", w.from, m.RatchetKey().Bytes(), m.Counter())
		keys[k]++
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("message key %s used for %d different messages", k, n)
		}
	}
	t.Logf("%d messages acknowledged, %d delivered, %d on the wire", len(acked), len(delivered), len(wire))
	if len(acked) < *rounds/2 {
		t.Errorf("only %d messages acknowledged in %d rounds: the child made too little progress to test anything", len(acked), *rounds)
	}
}

func text(seqKey string) string { return "message " + seqKey }

type wireMsg struct {
	from string
	typ  session.MessageType
	body []byte
}

// readWire reads the wire file, ignoring a torn last line (a crash while
// appending).
func readWire(t *testing.T, dir string) []wireMsg {
	b, err := os.ReadFile(filepath.Join(dir, "wire"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []wireMsg
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[3] != "." {
			continue
		}
		typ, err1 := strconv.Atoi(f[1])
		body, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("corrupt wire line %q", line)
		}
		from, _, _ := strings.Cut(f[0], ":")
		out = append(out, wireMsg{from: from, typ: session.MessageType(typ), body: body})
	}
	return out
}
