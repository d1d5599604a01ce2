package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedModules are the third-party modules that ratchet and session may
// import.
var allowedModules = []string{
	"google.golang.org/protobuf",
	"filippo.io/edwards25519",
	"github.com/cloudflare/circl",
	"golang.org/x/sys", // cpu: feature detection for internal/kem's AVX clean-up
}

// impure are the standard packages ratchet must not import itself: it does
// no I/O, takes no context and never logs.
var impure = []string{"context", "os", "os/exec", "net", "net/http", "syscall", "log", "log/slog"}

// rule is one import rule. It applies to the module's packages whose
// module-relative path satisfies scope, and allow says whether such a
// package may import dep. Unless direct is set, the rule also covers what
// the package imports through other packages of the module.
type rule struct {
	scope  func(rel string) bool
	allow  func(dep pkg) bool
	direct bool
	says   string // the rule, for failure messages
}

var rules = []rule{
	{
		scope: func(rel string) bool { return under(rel, "ratchet") },
		allow: func(d pkg) bool {
			return d.std || d.own && (under(d.rel, "internal") || under(d.rel, "ratchet")) ||
				d.third && slices.Contains(allowedModules, d.module)
		},
		says: "ratchet imports only the standard library, internal/... and " + strings.Join(allowedModules, ", "),
	},
	{
		scope:  func(rel string) bool { return under(rel, "ratchet") },
		allow:  func(d pkg) bool { return !d.std || !slices.Contains(impure, d.path) },
		direct: true,
		says:   "ratchet is pure: no I/O, no context, no logs (it imports none of " + strings.Join(impure, ", ") + ")",
	},
	{
		scope: func(rel string) bool { return under(rel, "session") },
		allow: func(d pkg) bool {
			return d.std || d.own && (under(d.rel, "internal") || under(d.rel, "ratchet") || under(d.rel, "session") || d.rel == "keystore") ||
				d.third && slices.Contains(allowedModules, d.module)
		},
		says: "session imports only ratchet, keystore (the contract, not a store), internal/..., the standard library and " + strings.Join(allowedModules, ", "),
	},
	{
		// franking and attachment are pure crypto beside session: apps and
		// the relay use them, and they use nothing of the module's but
		// internal/... (attachment's blob format lives in internal/attachblob).
		scope: func(rel string) bool { return purePublic(rel) },
		allow: func(d pkg) bool { return d.std || d.own && under(d.rel, "internal") },
		says:  "franking and attachment import only the standard library and internal/...",
	},
	{
		scope:  func(rel string) bool { return purePublic(rel) },
		allow:  func(d pkg) bool { return !d.std || !slices.Contains(impure, d.path) },
		direct: true,
		says:   "franking and attachment are pure: no I/O, no context, no logs (they import none of " + strings.Join(impure, ", ") + ")",
	},
	{
		scope: func(rel string) bool { return rel == "keystore" },
		allow: func(d pkg) bool { return d.std },
		says:  "keystore imports only the standard library",
	},
	{
		scope: func(rel string) bool { return strings.HasPrefix(rel, "keystore/") },
		allow: func(d pkg) bool { return !d.own || !under(d.rel, "ratchet") && !under(d.rel, "session") },
		says:  "the stores under keystore/ never import ratchet or session",
	},
	{
		// internal/chat is the application engine behind cmd/sotto (an
		// account, its store and a relay connection): the one internal
		// package that sits above session.
		scope: func(rel string) bool { return under(rel, "internal") && !under(rel, "internal/chat") },
		allow: func(d pkg) bool { return !d.own || under(d.rel, "internal") },
		says:  "internal/... (but internal/chat) never imports the module's public packages",
	},
	{
		scope:  func(rel string) bool { return !under(rel, "cmd") },
		allow:  func(d pkg) bool { return !d.own || !under(d.rel, "cmd") },
		direct: true,
		says:   "nothing outside cmd/ imports cmd/...",
	},
	{
		scope:  func(rel string) bool { return !under(rel, "cmd") },
		allow:  func(d pkg) bool { return !d.std || d.path != "log" && d.path != "log/slog" },
		direct: true,
		says:   "libraries never log: only cmd/ imports log or log/slog",
	},
}

// purePublic reports whether rel is one of the pure public packages beside
// session.
func purePublic(rel string) bool { return rel == "franking" || rel == "attachment" }

// under reports whether the module-relative path rel is dir or below it.
func under(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// pkg is a package of the import graph, classified.
type pkg struct {
	path    string
	std     bool     // in the standard library
	own     bool     // in this module; rel is its path in the module
	third   bool     // in another module, module
	rel     string   // "." for the module's root package
	module  string   // for third
	imports []string // import paths, only for own packages
}

// graph is the import graph of the module's packages and everything they
// import.
type graph struct {
	module string
	pkgs   map[string]pkg
}

// violations applies every rule to every package of the module, and
// returns one message per offending import, sorted.
func (g *graph) violations() []string {
	var out []string
	for _, r := range rules {
		for _, p := range g.pkgs {
			if p.own && r.scope(p.rel) {
				out = append(out, g.check(p, r)...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// check applies r to p: its imports, and unless r.direct, what it imports
// through allowed packages of the module, breadth first so that the chain
// reported is a shortest one.
func (g *graph) check(p pkg, r rule) []string {
	var out []string
	via := map[string]string{p.path: ""} // how each package was reached
	queue := []pkg{p}
	for len(queue) > 0 {
		from := queue[0]
		queue = queue[1:]
		for _, path := range from.imports {
			if _, seen := via[path]; seen {
				continue
			}
			via[path] = from.path
			dep, ok := g.pkgs[path]
			if !ok {
				dep = g.classify(path, nil)
			}
			if !r.allow(dep) {
				out = append(out, fmt.Sprintf("%s imports %s (%s): %s", p.path, path, g.chain(via, path), r.says))
				continue
			}
			if dep.own && !r.direct {
				queue = append(queue, dep)
			}
		}
	}
	return out
}

// chain renders how a package was reached, in module-relative names.
func (g *graph) chain(via map[string]string, path string) string {
	var links []string
	for ; path != ""; path = via[path] {
		links = append(links, g.short(path))
	}
	slices.Reverse(links)
	return strings.Join(links, " → ")
}

func (g *graph) short(path string) string {
	if rel, ok := strings.CutPrefix(path, g.module+"/"); ok {
		return rel
	}
	return path
}

// classify makes a pkg from what go list says of path; module is nil for a
// package go list could not place in a module.
func (g *graph) classify(path string, module *listModule) pkg {
	p := pkg{path: path}
	switch {
	case path == g.module:
		p.own, p.rel = true, "."
	case strings.HasPrefix(path, g.module+"/"):
		p.own, p.rel = true, strings.TrimPrefix(path, g.module+"/")
	case module != nil:
		p.third, p.module = true, module.Path
	default:
		// Not in the standard library (go list would have said so) and in
		// no module: a missing package. Report it as an unknown module.
		p.third, p.module = true, path
	}
	return p
}

type listModule struct {
	Path string
	Main bool
}

type listPackage struct {
	ImportPath string
	Standard   bool
	DepOnly    bool
	Module     *listModule
	Imports    []string
	Error      *struct{ Err string }
}

// load runs go list from the module root.
func load(t *testing.T) *graph {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to read the import graph: %v", err)
	}
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("go env GOMOD: not in a module")
	}
	cmd := exec.Command(goTool, "list", "-e", "-deps",
		"-json=ImportPath,Standard,DepOnly,Module,Imports,Error", "./...")
	cmd.Dir = filepath.Dir(gomod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v\n%s", cmd.Dir, err, stderr.Bytes())
	}

	var listed []listPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var lp listPackage
		if err := dec.Decode(&lp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		listed = append(listed, lp)
	}
	g := &graph{pkgs: map[string]pkg{}}
	for _, lp := range listed {
		if !lp.DepOnly && lp.Module != nil && lp.Module.Main {
			g.module = lp.Module.Path
			break
		}
	}
	if g.module == "" {
		t.Fatalf("go list in %s listed no package of the main module", cmd.Dir)
	}
	for _, lp := range listed {
		p := pkg{path: lp.ImportPath, std: lp.Standard}
		if !lp.Standard {
			p = g.classify(lp.ImportPath, lp.Module)
		}
		if p.own {
			p.imports = lp.Imports
			if lp.Error != nil {
				t.Logf("%s does not build (its imports are checked as listed): %s", lp.ImportPath, lp.Error.Err)
			}
		}
		g.pkgs[p.path] = p
	}
	return g
}

// TestImports enforces the rules on the module as it is.
func TestImports(t *testing.T) {
	g := load(t)
	for _, want := range []string{"ratchet", "keystore", "internal/curve"} {
		if _, ok := g.pkgs[g.module+"/"+want]; !ok {
			t.Errorf("go list did not list %s/%s: is the graph complete?", g.module, want)
		}
	}
	for _, v := range g.violations() {
		t.Error(v)
	}
}

// TestRulesCatchViolations checks the checker: each rule, broken once in a
// made-up module, must be reported with the offending import named.
func TestRulesCatchViolations(t *testing.T) {
	const m = "example.org/mod"
	// In the made-up module, an import is a standard package if listed in
	// std, a third-party one if it is in one of modules, and a package of the
	// module otherwise, written module-relative.
	std := []string{"context", "errors", "fmt", "crypto/aes", "crypto/hmac", "sync", "net/http", "log", "log/slog", "database/sql"}
	modules := append([]string{"golang.org/x/net"}, allowedModules...)
	fake := func(imports map[string][]string) *graph {
		g := &graph{module: m, pkgs: map[string]pkg{}}
		resolve := func(imp string) pkg {
			if slices.Contains(std, imp) {
				return pkg{path: imp, std: true}
			}
			for _, mod := range modules {
				if under(imp, mod) {
					return g.classify(imp, &listModule{Path: mod})
				}
			}
			return g.classify(m+"/"+imp, nil)
		}
		for from, to := range imports {
			p := resolve(from)
			for _, imp := range to {
				dep := resolve(imp)
				if _, ok := g.pkgs[dep.path]; !ok {
					g.pkgs[dep.path] = dep
				}
				p.imports = append(p.imports, dep.path)
			}
			g.pkgs[p.path] = p
		}
		return g
	}

	clean := fake(map[string][]string{
		"ratchet":               {"crypto/aes", "fmt", "internal/wire", "internal/kem"},
		"internal/wire":         {"google.golang.org/protobuf/encoding/protowire", "errors"},
		"internal/kem":          {"github.com/cloudflare/circl/kem/kyber/kyber1024"},
		"internal/relay":        {"net/http", "golang.org/x/net/http2"},
		"session":               {"context", "ratchet", "keystore", "internal/wire", "filippo.io/edwards25519"},
		"keystore":              {"context", "errors"},
		"keystore/memory":       {"keystore", "sync"},
		"keystore/sqlite":       {"keystore", "internal/kdf", "database/sql"},
		"internal/kdf":          {"crypto/hmac"},
		"testvectors":           {"ratchet", "session", "franking", "attachment"},
		"franking":              {"crypto/hmac", "errors"},
		"attachment":            {"crypto/aes", "internal/attachblob"},
		"internal/attachblob":   {"crypto/hmac"},
		"cmd/sotto":             {"log/slog", "session", "keystore/memory", "internal/relay", "cmd/sotto/internal/ui"},
		"cmd/sotto/internal/ui": {"log"},
	})
	if v := clean.violations(); len(v) > 0 {
		t.Errorf("a module that follows the rules was reported:\n%s", strings.Join(v, "\n"))
	}

	broken := fake(map[string][]string{
		"ratchet":         {"context", "internal/wire"},
		"internal/wire":   {"session", "golang.org/x/net/http2"},
		"session":         {"keystore/memory"},
		"keystore":        {"internal/kdf"},
		"keystore/memory": {"keystore"},
		"keystore/sqlite": {"internal/kdf"},
		"internal/kdf":    {"ratchet"},
		"testvectors":     {"cmd/sotto"},
		"internal/relay":  {"log/slog"},
		"cmd/sotto":       {"log"},
		"franking":        {"context"},
		"attachment":      {"session"},
	})
	got := strings.Join(broken.violations(), "\n")
	for _, want := range []string{
		m + "/ratchet imports context (ratchet → context): ratchet is pure",
		m + "/ratchet imports " + m + "/session (ratchet → internal/wire → session): ratchet imports only",
		m + "/ratchet imports golang.org/x/net/http2 (ratchet → internal/wire → golang.org/x/net/http2): ratchet imports only",
		m + "/internal/wire imports " + m + "/session (internal/wire → session): internal/... (but internal/chat) never imports",
		m + "/internal/kdf imports " + m + "/ratchet (internal/kdf → ratchet): internal/... (but internal/chat) never imports",
		m + "/session imports " + m + "/keystore/memory (session → keystore/memory): session imports only",
		m + "/keystore imports " + m + "/internal/kdf (keystore → internal/kdf): keystore imports only the standard library",
		m + "/keystore/sqlite imports " + m + "/ratchet (keystore/sqlite → internal/kdf → ratchet): the stores under keystore/",
		m + "/testvectors imports " + m + "/cmd/sotto (testvectors → cmd/sotto): nothing outside cmd/",
		m + "/internal/relay imports log/slog (internal/relay → log/slog): libraries never log",
		m + "/franking imports context (franking → context): franking and attachment are pure",
		m + "/attachment imports " + m + "/session (attachment → session): franking and attachment import only",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("violation not reported: %s", want)
		}
	}
	if strings.Contains(got, "cmd/sotto imports log ") {
		t.Error("cmd/sotto reported for logging, which cmd/ may do")
	}
	if t.Failed() {
		t.Logf("reported:\n%s", got)
	}
}
