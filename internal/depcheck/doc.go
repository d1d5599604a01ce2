// Package depcheck has no code: its test enforces the direction of imports
// between Sotto's packages, described in the house style's "Layout and
// import direction", as crypto/internal/fips140deps does for the standard
// library. It reads the import graph with `go list -e -deps -json ./...`
// from the module root.
//
// The rules, where "imports" means directly or through other packages of
// this module (what a third-party package imports is its own business):
//
//   - ratchet imports only the standard library, internal/..., and the
//     modules google.golang.org/protobuf, filippo.io/edwards25519 and
//     github.com/cloudflare/circl: never session, keystore or cmd. It is pure:
//     it does not itself import context, os, os/exec, net, net/http,
//     syscall, log or log/slog.
//   - session imports only ratchet, keystore (the contract, not a store),
//     internal/..., the standard library and the three modules above.
//   - keystore imports only the standard library.
//   - The stores, and every other package under keystore/, never import
//     ratchet or session.
//   - internal/... never imports a public package of the module (ratchet,
//     session, keystore and its stores, testvectors, interop, ...).
//   - Nothing outside cmd/ imports cmd/..., and nothing outside cmd/
//     imports log or log/slog: libraries never log.
//
// Only the imports of non-test files are checked. A package that does not
// exist yet is not checked; one that fails to build is checked as far as
// go list -e can read its imports. A failure names the package, the
// offending import, the chain of imports that reaches it, and the rule.
package depcheck
