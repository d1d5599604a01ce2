package sqlite

import (
	"database/sql/driver"
	"path/filepath"
	"strings"
	"testing"
)

// TestQueryPlans checks that every statement of a transaction finds its
// rows through the primary key's index rather than by scanning the table:
// a collation or affinity that did not match the index's would turn a Get
// into a scan without changing any result.
func TestQueryPlans(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := <-s.writer
	defer func() { s.writer <- c }()
	for _, q := range []struct {
		sql  string
		args []driver.Value
	}{
		{getSQL, []driver.Value{"sp", "k"}},
		{deleteSQL, []driver.Value{"sp", "k"}},
		{listAllSQL, []driver.Value{"sp"}},
		{listFromSQL, []driver.Value{"sp", "\xff"}},
		{listRangeSQL, []driver.Value{"sp", "a", "b"}},
	} {
		var plan []string
		err := c.query("EXPLAIN QUERY PLAN "+q.sql, q.args, func(row []driver.Value) error {
			plan = append(plan, row[len(row)-1].(string))
			return nil
		})
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN %s: %v", q.sql, err)
		}
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING") || !strings.Contains(p, "INDEX") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s\n\tplan: %s\n\twant a search of the primary key's index, with no sort", q.sql, p)
		} else {
			t.Logf("%s: %s", strings.Fields(q.sql)[0], p)
		}
	}
}
