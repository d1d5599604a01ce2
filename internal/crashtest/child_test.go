package crashtest

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/keystore"
	"github.com/sotto-im/sotto/keystore/encrypted"
	"github.com/sotto-im/sotto/keystore/sqlite"
	"github.com/sotto-im/sotto/session"
)

// openStore opens the full durable stack an app would use: the SQLite
// store wrapped in encryption at rest (with cheap argon2id parameters, to
// keep restarts fast).
func openStore(ctx context.Context, path string) (keystore.Store, func() error, error) {
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := encrypted.OpenWithPassphrase(ctx, db, []byte("crash test passphrase"),
		&encrypted.Options{Time: 1, Memory: 1 << 10, Threads: 1})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return st, db.Close, nil
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if err := child(dir); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// party is one side of the conversation in the child.
type party struct {
	name  string // "alice" or "bob"
	store keystore.Store
	acct  *session.Account
	peer  session.Address
	seen  map[string]bool // inbox keys already delivered
}

// child runs the conversation until it is killed, or, with
// SOTTO_CRASH_FINAL set, delivers what is left and exits.
func child(dir string) error {
	ctx := context.Background()
	seed, _ := strconv.ParseUint(os.Getenv("SOTTO_CRASH_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 1))
	alice, err := openParty(ctx, dir, "alice", aliceAddr, bobAddr)
	if err != nil {
		return err
	}
	bob, err := openParty(ctx, dir, "bob", bobAddr, aliceAddr)
	if err != nil {
		return err
	}
	w, err := openWire(dir)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := ensureSession(ctx, alice, bob); err != nil {
		return err
	}
	fmt.Println("ready")
	if os.Getenv("SOTTO_CRASH_FINAL") != "" {
		for _, p := range []*party{bob, alice, bob} {
			if err := deliver(ctx, dir, p); err != nil {
				return err
			}
		}
		return nil
	}
	for step := 0; step < 100000; step++ {
		switch r := rng.IntN(10); {
		case r < 4:
			if err := sendOne(ctx, w, alice); err != nil {
				return err
			}
		case r < 6:
			if err := sendOne(ctx, w, bob); err != nil {
				return err
			}
		case r < 8:
			if err := deliver(ctx, dir, bob); err != nil {
				return err
			}
		default:
			if err := deliver(ctx, dir, alice); err != nil {
				return err
			}
		}
	}
	return nil
}

func openParty(ctx context.Context, dir, name string, self, peer session.Address) (*party, error) {
	st, _, err := openStore(ctx, filepath.Join(dir, name+".db"))
	if err != nil {
		return nil, err
	}
	acct, err := session.OpenAccount(ctx, st)
	if errors.Is(err, session.ErrNoAccount) {
		acct, err = session.CreateAccount(ctx, st, self)
	}
	if err != nil {
		return nil, err
	}
	p := &party{name: name, store: st, acct: acct, peer: peer, seen: map[string]bool{}}
	err = st.View(ctx, func(tx keystore.Tx) error {
		keys, err := tx.List(inbox, "")
		for _, k := range keys {
			p.seen[k] = true
		}
		return err
	})
	return p, err
}

// ensureSession makes Bob publish prekeys and Alice start a session, each
// step idempotent so a crash anywhere in it is recovered on restart.
func ensureSession(ctx context.Context, alice, bob *party) error {
	b, err := bob.acct.Bundle(ctx, 0, 0, 0)
	if errors.Is(err, session.ErrUnknownPreKey) {
		if _, err := bob.acct.GenerateSignedPreKey(ctx, 0); err != nil {
			return err
		}
		if _, err := bob.acct.GenerateKyberPreKeys(ctx, 0, 1, true); err != nil {
			return err
		}
		b, err = bob.acct.Bundle(ctx, 0, 0, 0)
	}
	if err != nil {
		return err
	}
	var has bool
	err = alice.store.View(ctx, func(tx keystore.Tx) error {
		_, err := tx.Get("sotto.session", bobAddr.String())
		has = err == nil
		if errors.Is(err, keystore.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil || has {
		return err
	}
	return alice.acct.ProcessBundle(ctx, bobAddr, b)
}

// sendOne reserves a sequence number, encrypts, appends the message to the
// wire with an fsync, and only then reports it sent.
func sendOne(ctx context.Context, w *os.File, p *party) error {
	var seq uint64
	err := p.store.Update(ctx, func(tx keystore.Tx) error {
		b, err := tx.Get("app.outbox", "next")
		if err != nil && !errors.Is(err, keystore.ErrNotFound) {
			return err
		}
		if len(b) == 8 {
			seq = binary.BigEndian.Uint64(b)
		}
		return tx.Put("app.outbox", "next", binary.BigEndian.AppendUint64(nil, seq+1))
	})
	if err != nil {
		return err
	}
	key := p.name + ":" + strconv.FormatUint(seq, 10)
	m, err := p.acct.Encrypt(ctx, p.peer, []byte(text(key)))
	if errors.Is(err, session.ErrNoSession) {
		return nil // Bob has not heard from Alice yet
	}
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s %d %s .\n", key, m.Type, hex.EncodeToString(m.Body))
	if _, err := w.WriteString(line); err != nil {
		return err
	}
	if err := w.Sync(); err != nil {
		return err
	}
	fmt.Printf("sent %s %d\n", p.name, seq)
	return nil
}

// deliver decrypts every wire message to p not yet in its inbox, storing
// the plaintext in the same transaction as the session update.
func deliver(ctx context.Context, dir string, p *party) error {
	b, err := os.ReadFile(filepath.Join(dir, "wire"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[3] != "." {
			continue
		}
		key := f[0]
		if strings.HasPrefix(key, p.name+":") || p.seen[key] {
			continue
		}
		typ, _ := strconv.Atoi(f[1])
		body, err := hex.DecodeString(f[2])
		if err != nil {
			return err
		}
		m := &session.Message{Type: session.MessageType(typ), Body: body}
		err = p.acct.DecryptWith(ctx, p.peer, m, func(tx keystore.Tx, pt []byte) error {
			if string(pt) != text(key) {
				return fmt.Errorf("message %s decrypted to %q", key, pt)
			}
			return tx.Put(inbox, key, pt)
		})
		if err != nil {
			return fmt.Errorf("delivering %s to %s: %w", key, p.name, err)
		}
		p.seen[key] = true
	}
	return nil
}

// openWire opens the wire for appending, first cutting a line torn by a
// crash so the next message starts on a line of its own.
func openWire(dir string) (*os.File, error) {
	path := filepath.Join(dir, "wire")
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if n := len(b); n > 0 && b[n-1] != '\n' {
		cut := strings.LastIndexByte(string(b), '\n') + 1
		if err := os.Truncate(path, int64(cut)); err != nil {
			return nil, err
		}
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}

// innerMessage returns the SignalMessage inside a PreKeySignalMessage.
func innerMessage(t *testing.T, body []byte) []byte {
	pm, err := wire.ParsePreKeySignalMessage(body)
	if err != nil {
		t.Fatalf("PreKey message on the wire does not parse: %v", err)
	}
	return pm.Message
}
