// Package interop holds Sotto's cross-implementation tests.
//
// The tests never link two implementations together. Instead, each
// implementation of the Signal 1:1 protocol is wrapped in a small "peer"
// program that speaks a line-delimited JSON protocol on stdin/stdout
// (specified in PROTOCOL.md in this directory), and the tests start pairs of
// peer processes and relay bundles and ciphertexts between them: the test is
// the (adversarial) network. Every test runs for every ordered pair of
// available implementations, so the same scenario checks Sotto against
// itself, libsignal against itself, and each against the other in both
// roles.
//
// Implementations:
//
//   - "node": node/peer.mjs, on @signalapp/libsignal-client, pinned in
//     node/package.json (the reference). Run `npm ci` in interop/node once;
//     the tests fail (they never skip) when its dependencies are missing.
//   - "go": the gopeer command (interop/gopeer), a peer built on Sotto's
//     public API. It is built once per test run and is included only when
//     the interop/gopeer directory exists.
//
// Scenarios: session set-up from either side with and without a one-time
// prekey, a long conversation with bursts, reordering and late delivery,
// replays, tampered messages, identity changes, bad bundles, simultaneous
// initiation, safety numbers, and the peer protocol itself.
//
// Run with
//
//	(cd interop/node && npm ci) && go test ./interop/ -count=1
//
// Pairs can be selected by subtest name, e.g. -run '/node-go'. The -seed
// flag replays the pseudo-random schedules of a failed run (each test logs
// its seed).
package interop
