package relay

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	msqlite "modernc.org/sqlite"
)

// testStorage is the contract of Storage, for any implementation: open
// returns a new, empty store.
func testStorage(t *testing.T, open func(t *testing.T) Storage) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000).UTC()
	a := Address{Name: "alice", DeviceID: 1}
	b := Address{Name: "bob", DeviceID: 7}
	nobody := Address{Name: "nobody", DeviceID: 1}
	keyA, keyB := bytes.Repeat([]byte{5}, 33), bytes.Repeat([]byte{6}, 33)

	t.Run("accounts", func(t *testing.T) {
		st := open(t)
		if err := st.Register(ctx, a, keyA, now); err != nil {
			t.Fatal(err)
		}
		if err := st.Register(ctx, a, keyA, now); err != nil {
			t.Fatalf("same key again: %v", err)
		}
		if err := st.Register(ctx, a, keyB, now); !errors.Is(err, ErrAddressTaken) {
			t.Fatalf("other key: %v", err)
		}
		if k, err := st.IdentityKey(ctx, a); err != nil || !bytes.Equal(k, keyA) {
			t.Fatalf("IdentityKey: %x, %v", k, err)
		}
		if _, err := st.IdentityKey(ctx, nobody); !errors.Is(err, ErrUnknownAddress) {
			t.Fatalf("IdentityKey of nobody: %v", err)
		}
	})

	t.Run("keys", func(t *testing.T) {
		st := open(t)
		st.Register(ctx, b, keyB, now)
		if _, err := st.TakeBundle(ctx, b); !errors.Is(err, ErrNoKeys) {
			t.Fatalf("TakeBundle without keys: %v", err)
		}
		if _, err := st.TakeBundle(ctx, nobody); !errors.Is(err, ErrUnknownAddress) {
			t.Fatalf("TakeBundle of nobody: %v", err)
		}
		if err := st.PutKeys(ctx, nobody, &Keys{}, 10); !errors.Is(err, ErrUnknownAddress) {
			t.Fatalf("PutKeys of nobody: %v", err)
		}
		// A signed prekey but no Kyber key at all: still no bundle, and
		// the one-time EC prekey is not used up.
		k := &Keys{
			RegistrationID: 9,
			SignedPreKey:   &SignedPreKey{ID: 3, PublicKey: []byte("spk"), Signature: []byte("spk sig")},
			PreKeys:        []PreKey{{ID: 10, PublicKey: []byte("pk10")}, {ID: 5, PublicKey: []byte("pk5")}},
		}
		if err := st.PutKeys(ctx, b, k, 10); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TakeBundle(ctx, b); !errors.Is(err, ErrNoKeys) {
			t.Fatalf("TakeBundle without a Kyber key: %v", err)
		}
		if ec, ky, _ := st.KeyCounts(ctx, b); ec != 2 || ky != 0 {
			t.Fatalf("counts %d %d", ec, ky)
		}
		k = &Keys{
			LastResortKyber: &KyberPreKey{ID: 99, PublicKey: []byte("lr"), Signature: []byte("lr sig")},
			KyberPreKeys:    []KyberPreKey{{ID: 1, PublicKey: []byte("k1"), Signature: []byte("k1 sig")}},
		}
		if err := st.PutKeys(ctx, b, k, 10); err != nil {
			t.Fatal(err)
		}
		// Too many: nothing changes.
		var many []PreKey
		for i := range 9 {
			many = append(many, PreKey{ID: uint32(100 + i), PublicKey: []byte("x")})
		}
		if err := st.PutKeys(ctx, b, &Keys{RegistrationID: 1, PreKeys: many}, 10); !errors.Is(err, ErrTooManyPreKeys) {
			t.Fatalf("too many: %v", err)
		}
		// Handed out in the order stored (10 before 5), each once.
		want := []string{"10 pk10 1 k1", "5 pk5 99 lr", "0  99 lr"}
		for i, w := range want {
			bu, err := st.TakeBundle(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%d %s %d %s", bu.PreKeyID, bu.PreKey, bu.KyberPreKeyID, bu.KyberPreKey)
			if got != w || bu.RegistrationID != 9 || bu.DeviceID != 7 || string(bu.SignedPreKey) != "spk" ||
				string(bu.SignedPreKeySignature) != "spk sig" || !bytes.Equal(bu.IdentityKey, keyB) {
				t.Errorf("bundle %d: %s %+v, want %s", i, got, bu, w)
			}
			if i == 2 && bu.PreKey != nil {
				t.Error("PreKey not nil when none is left")
			}
		}
	})

	t.Run("mailbox", func(t *testing.T) {
		st := open(t)
		st.Register(ctx, a, keyA, now)
		st.Register(ctx, b, keyB, now)
		put := func(to Address, id string, body string) (int64, error) {
			return st.PutMessage(ctx, to, &Envelope{ID: id, From: a, Type: 3, Body: []byte(body), Received: now}, 3)
		}
		var seqs []int64
		for i, body := range []string{"one", "two", "three"} {
			seq, err := put(b, fmt.Sprint("id", i), body)
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, seq)
		}
		if seqs[0] <= 0 || seqs[1] <= seqs[0] || seqs[2] <= seqs[1] {
			t.Fatalf("sequence numbers %v", seqs)
		}
		if _, err := put(b, "id3", "four"); !errors.Is(err, ErrMailboxFull) {
			t.Fatalf("full: %v", err)
		}
		if _, err := put(nobody, "id4", "x"); !errors.Is(err, ErrUnknownAddress) {
			t.Fatalf("nobody: %v", err)
		}
		if _, err := put(a, "id5", "for a"); err != nil {
			t.Fatalf("another mailbox: %v", err)
		}

		msgs, more, err := st.Messages(ctx, b, 0, 10, 1<<20)
		if err != nil || more || len(msgs) != 3 {
			t.Fatalf("Messages: %d, more %v, %v", len(msgs), more, err)
		}
		m := msgs[0]
		if m.ID != "id0" || m.From != a || m.Type != 3 || string(m.Body) != "one" || !m.Received.Equal(now) || m.Seq != seqs[0] {
			t.Fatalf("message: %+v", m)
		}
		// Paging by count, by bytes (the first always comes), and cursor.
		if msgs, more, _ := st.Messages(ctx, b, 0, 2, 1<<20); len(msgs) != 2 || !more {
			t.Fatalf("limit 2: %d, %v", len(msgs), more)
		}
		if msgs, more, _ := st.Messages(ctx, b, 0, 10, 1); len(msgs) != 1 || !more {
			t.Fatalf("maxBytes 1: %d, %v", len(msgs), more)
		}
		if msgs, more, _ := st.Messages(ctx, b, 0, 10, 6); len(msgs) != 2 || !more {
			t.Fatalf("maxBytes 6: %d, %v", len(msgs), more)
		}
		if msgs, more, _ := st.Messages(ctx, b, seqs[1], 10, 1<<20); len(msgs) != 1 || more || msgs[0].ID != "id2" {
			t.Fatalf("after: %+v, %v", msgs, more)
		}

		if err := st.DeleteMessage(ctx, a, "id1"); !errors.Is(err, ErrUnknownMessage) {
			t.Fatalf("delete from the wrong mailbox: %v", err)
		}
		if err := st.DeleteMessage(ctx, b, "id1"); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteMessage(ctx, b, "id1"); !errors.Is(err, ErrUnknownMessage) {
			t.Fatalf("delete twice: %v", err)
		}
		// Room for one more, numbered after all earlier ones.
		seq, err := put(b, "id6", "five")
		if err != nil || seq <= seqs[2] {
			t.Fatalf("put after delete: %d, %v", seq, err)
		}
		msgs, _, _ = st.Messages(ctx, b, 0, 10, 1<<20)
		var ids []string
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		if fmt.Sprint(ids) != "[id0 id2 id6]" {
			t.Fatalf("ids %v", ids)
		}
	})
}

func TestSQLiteStorage(t *testing.T) {
	testStorage(t, func(t *testing.T) Storage {
		st, err := OpenSQLite(filepath.Join(t.TempDir(), "relay.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

func TestOpenSQLiteRefuses(t *testing.T) {
	dir := t.TempDir()

	// Another program's database.
	other := filepath.Join(dir, "other.db")
	db := sql.OpenDB(mustConnector(t, other))
	if _, err := db.Exec(`CREATE TABLE t (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenSQLite(other); !errors.Is(err, ErrNotRelayDB) {
		t.Fatalf("other program's database: %v", err)
	}

	// A newer schema.
	newer := filepath.Join(dir, "newer.db")
	st, err := OpenSQLite(newer)
	if err != nil {
		t.Fatal(err)
	}
	st.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion+1))
	st.Close()
	if _, err := OpenSQLite(newer); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("newer schema: %v", err)
	}

	// Not a database at all.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("junk"), 1024), 0o600)
	if _, err := OpenSQLite(junk); err == nil {
		t.Fatal("opened a file of junk")
	}
	if _, err := OpenSQLite(""); err == nil {
		t.Fatal("opened an empty path")
	}

	// Reopening a current one is fine and keeps its mode.
	st, err = OpenSQLite(filepath.Join(dir, "ok.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = OpenSQLite(filepath.Join(dir, "ok.db"))
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	st.r.QueryRow("PRAGMA journal_mode").Scan(&mode)
	var sync int
	st.w.QueryRow("PRAGMA synchronous").Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Errorf("journal_mode %q, synchronous %d; want wal, 2 (FULL)", mode, sync)
	}
	st.Close()
}

func mustConnector(t *testing.T, path string) driver.Connector {
	c, err := msqlite.NewConnector("file:" + path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
