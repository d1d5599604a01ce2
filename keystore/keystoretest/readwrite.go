package keystoretest

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sotto-im/sotto/keystore"
)

// Checks of Get, Put, Delete and List on committed data, and of spaces.

func testGetMissing(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"present": "v"})
	check := func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "absent", nil)
		wantGet(t, tx, "sp", "presen", nil) // a prefix of a key is not the key
		wantGet(t, tx, "other", "present", nil)
		return nil
	}
	update(t, s, check)
	view(t, s, check)
}

func testGetRoundTrip(t *testing.T, s keystore.Store) {
	update(t, s, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "k1", []byte("one"))
		mustPut(t, tx, "sp", "k2", []byte("two"))
		return nil
	})
	check := func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "k1", []byte("one"))
		wantGet(t, tx, "sp", "k2", []byte("two"))
		return nil
	}
	view(t, s, check)
	update(t, s, check)
}

func testGetOverwrite(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"k": "first, and longer"})
	putAll(t, s, "sp", map[string]string{"k": "second"})
	check := func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "k", []byte("second"))
		wantList(t, tx, "sp", "", "k")
		return nil
	}
	view(t, s, check)
	update(t, s, check)
}

// testGetEmptyValue checks that a zero-length value, given as nil or as an
// empty slice, is a value like any other and not a deletion.
func testGetEmptyValue(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"nil": "x", "empty": "x"})
	update(t, s, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "nil", nil)
		mustPut(t, tx, "sp", "empty", []byte{})
		mustPut(t, tx, "sp", "new-nil", nil)
		wantGet(t, tx, "sp", "nil", []byte{})
		wantGet(t, tx, "sp", "new-nil", []byte{})
		wantList(t, tx, "sp", "", "empty", "new-nil", "nil")
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "nil", []byte{})
		wantGet(t, tx, "sp", "empty", []byte{})
		wantGet(t, tx, "sp", "new-nil", []byte{})
		wantList(t, tx, "sp", "", "empty", "new-nil", "nil")
		return nil
	})
}

// testGetBinaryData checks that keys, spaces and values are arbitrary bytes:
// NUL, invalid UTF-8 and long keys included.
func testGetBinaryData(t *testing.T, s keystore.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	kv := map[string][]byte{
		"k\x00a":                    []byte("nul a"),
		"k\x00b":                    []byte("nul b"),
		"k":                         []byte("plain"),
		"\xff\xfe":                  []byte("invalid utf-8"),
		"é":                         []byte("utf-8"),
		strings.Repeat("long", 256): all,
		"all":                       all,
	}
	spaces := []string{"sp", "sp\x00", "\xff"}
	update(t, s, func(tx keystore.Tx) error {
		for i, sp := range spaces {
			for k, v := range kv {
				mustPut(t, tx, sp, k, slices.Concat(v, []byte{byte(i)}))
			}
		}
		return nil
	})
	want := slices.Sorted(maps.Keys(kv))
	view(t, s, func(tx keystore.Tx) error {
		for i, sp := range spaces {
			for k, v := range kv {
				wantGet(t, tx, sp, k, slices.Concat(v, []byte{byte(i)}))
			}
			wantList(t, tx, sp, "", want...)
		}
		return nil
	})
}

// testGetReturnsCopy checks that a value returned by Get belongs to the
// caller: changing it changes nothing stored, and later writes do not
// change it.
func testGetReturnsCopy(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"k": "committed", "k2": "other"})
	var kept []byte
	view(t, s, func(tx keystore.Tx) error {
		v, err := tx.Get("sp", "k")
		if err != nil {
			t.Errorf("Get: %v", err)
			return nil
		}
		kept = v
		clear(v)
		wantGet(t, tx, "sp", "k", []byte("committed"))
		return nil
	})
	if !bytes.Equal(kept, make([]byte, len("committed"))) {
		t.Fatalf("a value returned by Get changed after View returned: %q", kept)
	}
	kept = nil
	update(t, s, func(tx keystore.Tx) error {
		v, err := tx.Get("sp", "k")
		if err != nil {
			t.Errorf("Get: %v", err)
			return nil
		}
		copy(v, "COMMITTED")
		wantGet(t, tx, "sp", "k", []byte("committed"))

		mustPut(t, tx, "sp", "own", []byte("own write"))
		v, err = tx.Get("sp", "own")
		if err != nil {
			t.Errorf("Get of own write: %v", err)
			return nil
		}
		copy(v, "OWN WRITE")
		wantGet(t, tx, "sp", "own", []byte("own write"))
		kept = v
		return nil
	})
	wantKept := []byte("OWN WRITE")
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "k", []byte("committed"))
		wantGet(t, tx, "sp", "own", []byte("own write"))
		v, err := tx.Get("sp", "k2")
		if err != nil {
			t.Errorf("Get: %v", err)
			return nil
		}
		kept, wantKept = v, []byte("other")
		return nil
	})
	// The caller may keep a value: overwriting or deleting the key, which a
	// store may do by reusing or wiping the old value's memory, must not
	// change it.
	update(t, s, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "k2", []byte("vvvvv"))
		return nil
	})
	update(t, s, func(tx keystore.Tx) error {
		mustDelete(t, tx, "sp", "k2")
		return nil
	})
	if !bytes.Equal(kept, wantKept) {
		t.Errorf("a value returned by Get changed when the key was overwritten and deleted: %q, want %q", kept, wantKept)
	}
}

// testPutCopiesInput checks that Put copies its argument: the caller may
// reuse the slice at once.
func testPutCopiesInput(t *testing.T, s keystore.Store) {
	buf := []byte("value one")
	update(t, s, func(tx keystore.Tx) error {
		mustPut(t, tx, "sp", "a", buf)
		copy(buf, "VALUE TWO")
		mustPut(t, tx, "sp", "b", buf)
		clear(buf)
		wantGet(t, tx, "sp", "a", []byte("value one"))
		wantGet(t, tx, "sp", "b", []byte("VALUE TWO"))
		return nil
	})
	clear(buf)
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("value one"))
		wantGet(t, tx, "sp", "b", []byte("VALUE TWO"))
		return nil
	})
	// And after the commit, once more.
	copy(buf, "overwrite")
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("value one"))
		return nil
	})
}

func testDeleteCommitted(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1", "b": "2", "c": "3"})
	update(t, s, func(tx keystore.Tx) error {
		mustDelete(t, tx, "sp", "b")
		return nil
	})
	check := func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", []byte("1"))
		wantGet(t, tx, "sp", "b", nil)
		wantGet(t, tx, "sp", "c", []byte("3"))
		wantList(t, tx, "sp", "", "a", "c")
		return nil
	}
	view(t, s, check)
	update(t, s, check)
	// A deleted key can be written again.
	putAll(t, s, "sp", map[string]string{"b": "again"})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "b", []byte("again"))
		wantList(t, tx, "sp", "", "a", "b", "c")
		return nil
	})
}

// testDeleteMissing checks that deleting a key that has no value, in a space
// that has other keys or none, is not an error.
func testDeleteMissing(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1"})
	update(t, s, func(tx keystore.Tx) error {
		mustDelete(t, tx, "sp", "absent")
		mustDelete(t, tx, "never-used", "absent")
		mustDelete(t, tx, "sp", "a")
		mustDelete(t, tx, "sp", "a") // twice
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "sp", "a", nil)
		wantList(t, tx, "sp", "")
		return nil
	})
}

// testListSorted checks byte-wise order, over committed keys and a
// transaction's own writes merged together.
func testListSorted(t *testing.T, s keystore.Store) {
	committed := []string{"m", "B", "é", "a\x00", "10", "\xff"}
	pending := []string{"z", "a", "9", "ab", "A", "e"}
	update(t, s, func(tx keystore.Tx) error {
		for _, k := range committed {
			mustPut(t, tx, "sp", k, []byte(k))
		}
		return nil
	})
	want := slices.Sorted(slices.Values(append(slices.Clone(committed), pending...)))
	update(t, s, func(tx keystore.Tx) error {
		for _, k := range pending {
			mustPut(t, tx, "sp", k, []byte(k))
		}
		wantList(t, tx, "sp", "", want...)
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		wantList(t, tx, "sp", "", want...)
		return nil
	})
}

func testListPrefix(t *testing.T, s keystore.Store) {
	keys := []string{"user/1", "user/10", "user/2", "users", "use", "other", "user/1/a"}
	update(t, s, func(tx keystore.Tx) error {
		for _, k := range keys {
			mustPut(t, tx, "sp", k, []byte(k))
		}
		mustPut(t, tx, "other-space", "user/3", []byte("x"))
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		wantList(t, tx, "sp", "user/", "user/1", "user/1/a", "user/10", "user/2")
		wantList(t, tx, "sp", "user/1", "user/1", "user/1/a", "user/10")
		wantList(t, tx, "sp", "user", "user/1", "user/1/a", "user/10", "user/2", "users")
		wantList(t, tx, "sp", "users", "users")
		wantList(t, tx, "sp", "u", "use", "user/1", "user/1/a", "user/10", "user/2", "users")
		wantList(t, tx, "sp", "zzz")
		wantList(t, tx, "sp", "user/1/a/")
		wantList(t, tx, "sp", "", "other", "use", "user/1", "user/1/a", "user/10", "user/2", "users")
		return nil
	})
}

// testListPrefixWildcards checks that a prefix is matched byte for byte,
// not as a LIKE, GLOB or regular-expression pattern.
func testListPrefixWildcards(t *testing.T, s keystore.Store) {
	keys := []string{"a%b", "a_c", "abc", "a*d", "a?e", "a[f]", `a\g`, "a.h", "aXi", "a^j", "a$k"}
	update(t, s, func(tx keystore.Tx) error {
		for _, k := range keys {
			mustPut(t, tx, "sp", k, []byte(k))
		}
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		for _, k := range keys {
			if k == "abc" || k == "aXi" {
				continue
			}
			wantList(t, tx, "sp", k[:2], k)
		}
		wantList(t, tx, "sp", "a%", "a%b")
		wantList(t, tx, "sp", "a_", "a_c")
		wantList(t, tx, "sp", "%")
		wantList(t, tx, "sp", "_")
		wantList(t, tx, "sp", "*")
		wantList(t, tx, "sp", ".")
		return nil
	})
}

// testListEmptySpace checks that listing a space with no keys, one never
// written or one whose keys were all deleted, returns nothing and no error.
func testListEmptySpace(t *testing.T, s keystore.Store) {
	putAll(t, s, "sp", map[string]string{"a": "1"})
	update(t, s, func(tx keystore.Tx) error {
		mustDelete(t, tx, "sp", "a")
		return nil
	})
	check := func(tx keystore.Tx) error {
		wantList(t, tx, "never-used", "")
		wantList(t, tx, "never-used", "a")
		wantList(t, tx, "sp", "")
		return nil
	}
	view(t, s, check)
	update(t, s, check)
}

// testSpacesIndependent checks that the same key in two spaces holds two
// values, and that writes in one space leave the other alone.
func testSpacesIndependent(t *testing.T, s keystore.Store) {
	update(t, s, func(tx keystore.Tx) error {
		mustPut(t, tx, "s1", "k", []byte("one"))
		mustPut(t, tx, "s2", "k", []byte("two"))
		mustPut(t, tx, "s1", "only1", []byte("x"))
		mustPut(t, tx, "s", "k", []byte("prefix space"))
		return nil
	})
	update(t, s, func(tx keystore.Tx) error {
		mustDelete(t, tx, "s1", "k")
		return nil
	})
	view(t, s, func(tx keystore.Tx) error {
		wantGet(t, tx, "s1", "k", nil)
		wantGet(t, tx, "s2", "k", []byte("two"))
		wantGet(t, tx, "s", "k", []byte("prefix space"))
		wantGet(t, tx, "s2", "only1", nil)
		wantList(t, tx, "s1", "", "only1")
		wantList(t, tx, "s2", "", "k")
		wantList(t, tx, "s", "", "k")
		return nil
	})
}

// testSpacesNoCollision checks that a store does not join a space and a key
// into one string that another space and key can also produce.
func testSpacesNoCollision(t *testing.T, s keystore.Store) {
	seps := []string{"/", ":", ".", "|", "\x00", "\x1f", "\xff", " "}
	update(t, s, func(tx keystore.Tx) error {
		for _, sep := range seps {
			mustPut(t, tx, "a"+sep+"b", "c", []byte("space a"+sep+"b"))
			mustPut(t, tx, "a", "b"+sep+"c", []byte("key b"+sep+"c"))
		}
		return nil
	})
	var wantKeys []string
	for _, sep := range seps {
		wantKeys = append(wantKeys, "b"+sep+"c")
	}
	slices.Sort(wantKeys)
	view(t, s, func(tx keystore.Tx) error {
		for _, sep := range seps {
			wantGet(t, tx, "a"+sep+"b", "c", []byte("space a"+sep+"b"))
			wantGet(t, tx, "a", "b"+sep+"c", []byte("key b"+sep+"c"))
			wantList(t, tx, "a"+sep+"b", "", "c")
		}
		wantList(t, tx, "a", "", wantKeys...)
		return nil
	})
}
