package keystoretest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sotto-im/sotto/keystore"
)

// TestReference runs the suite against the fault-free reference store.
func TestReference(t *testing.T) {
	TestStore(t, func(*testing.T) keystore.Store { return newRefStore(correct) })
}

// mutants pairs each fault of the reference store with the check that must
// catch it.
var mutants = []struct {
	name  string
	fault fault
	check string // group/check
}{
	{"missingIsNil", missingIsNil, "Get/Missing"},
	{"neverCommits", neverCommits, "Get/RoundTrip"},
	{"putNoOverwrite", putNoOverwrite, "Get/Overwrite"},
	{"nilValueDeletes", nilValueDeletes, "Get/EmptyValue"},
	{"nulTruncates", nulTruncates, "Get/BinaryData"},
	{"getNoCopy", getNoCopy, "Get/ReturnsCopy"},
	{"putNoCopy", putNoCopy, "Put/CopiesInput"},
	{"deleteNoop", deleteNoop, "Delete/Committed"},
	{"deleteMissingErrs", deleteMissingErrs, "Delete/Missing"},
	{"listUnsorted", listUnsorted, "List/Sorted"},
	{"listIgnoresPrefix", listIgnoresPrefix, "List/Prefix"},
	{"listLike", listLike, "List/PrefixWildcards"},
	{"listMissingSpace", listMissingSpace, "List/EmptySpace"},
	{"ignoreSpace", ignoreSpace, "Spaces/Independent"},
	{"flatKeys", flatKeys, "Spaces/NoCollision"},
	{"getNoOwnWrites", getNoOwnWrites, "Tx/OwnWrites"},
	{"listNoOwnWrites", listNoOwnWrites, "Tx/OwnWrites"},
	{"commitOnError", commitOnError, "Tx/Rollback"},
	{"ignoreFnError", ignoreFnError, "Tx/ErrorReturned"},
	{"commitOnPanic", commitOnPanic, "Tx/Panic"},
	{"swallowPanic", swallowPanic, "Tx/Panic"},
	{"leakLockOnPanic", leakLockOnPanic, "Tx/Panic"},
	{"viewWritable", viewWritable, "View/ReadOnly"},
	{"dirtyWrites", dirtyWrites, "Isolation/Uncommitted"},
	{"nonAtomicCommit", nonAtomicCommit, "Isolation/AllOrNothing"},
	{"viewNoSnapshot", viewNoSnapshot, "Isolation/Snapshot"},
	{"noWriterLock", noWriterLock, "Isolation/LostUpdates"},
	{"snapshotIsolation", snapshotIsolation, "Isolation/WriteSkew"},
	{"noCtxBefore", noCtxBefore, "Cancel/Before"},
	{"noCtxCommit", noCtxCommit, "Cancel/DuringFn"},
	{"sizeOffByOne", sizeOffByOne, "Limits/MaxValueSize"},
	{"noSizeLimit", noSizeLimit, "Limits/TooLarge"},
	{"emptyKeyOK", emptyKeyOK, "Limits/InvalidKey"},
}

const mutantEnv = "KEYSTORETEST_MUTANT"

// TestMutantChild runs the suite against the mutant named by
// $KEYSTORETEST_MUTANT. TestMutants runs it in a child process, because it
// must fail.
func TestMutantChild(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestMutants")
	}
	stuck = time.Second // leakLockOnPanic deadlocks
	for _, m := range mutants {
		if m.name == name {
			TestStore(t, func(*testing.T) keystore.Store { return newRefStore(m.fault) })
			return
		}
	}
	t.Fatalf("no mutant %q", name)
}

// TestMutants shows that every check of the suite can fail: for each fault
// injected into the reference store, the check paired with it must fail,
// cleanly (no crash) and by itself. Every fault and every check must appear
// in the table.
func TestMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite once per mutant in a child process")
	}
	faults := map[fault]bool{}
	checks := map[string]bool{}
	for _, m := range mutants {
		faults[m.fault] = true
		checks[m.check] = true
	}
	for f := correct + 1; f < numFaults; f++ {
		if !faults[f] {
			t.Errorf("fault %d has no mutant", f)
		}
	}
	for _, g := range groups {
		for _, c := range g.checks {
			if !checks[g.name+"/"+c.name] {
				t.Errorf("check %s/%s is failed by no mutant", g.name, c.name)
			}
		}
	}
	for _, m := range mutants {
		t.Run(m.name+"/"+m.check, func(t *testing.T) {
			t.Parallel()
			group, check, _ := strings.Cut(m.check, "/")
			cmd := exec.CommandContext(t.Context(), os.Args[0],
				"-test.run=^TestMutantChild$/^"+group+"$/^"+check+"$", "-test.count=1", "-test.timeout=2m")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			switch {
			case err == nil:
				t.Errorf("the suite passed a store with fault %s; check %s should have failed:\n%s", m.name, m.check, out)
			case strings.Contains(string(out), "\npanic: "):
				t.Errorf("the suite crashed on a store with fault %s:\n%s", m.name, out)
			case !strings.Contains(string(out), "--- FAIL: TestMutantChild/"+m.check+" "):
				t.Errorf("check %s did not fail on a store with fault %s:\n%s", m.check, m.name, out)
			}
		})
	}
}
