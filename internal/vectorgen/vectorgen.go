// Package vectorgen is a registry of deterministic entry points that the
// module's public packages expose, at init time, to the test-vector generator
// and verifier in package testvectors — and to nothing else: being internal,
// it is unreachable from applications.
//
// Some inputs of a known-answer vector can only be chosen from inside a
// public package (an account's identity key, the PQXDH key schedule, which
// are unexported). Such a package registers the unexported function under a
// name; testvectors looks it up with the exact function type it expects and
// falls back to a slower or more indirect check when the entry point is
// missing. Like internal/detrand, whose SetReader covers the randomness of
// values that already exist, this must only be used for tests and vectors.
//
// Names in use (registrant: type):
//
//	"session.createAccount" (session):
//	    func(context.Context, keystore.Store, session.Address, io.Reader) (*session.Account, error)
//	"session.pqxdhInitiate" (session):
//	    func(ourIdentity, ourBase *curve.PrivateKey, theirIdentity, theirSignedPreKey,
//	        theirOneTimePreKey *curve.PublicKey, theirKyberPreKey *kem.PublicKey,
//	        encapsulationSeed []byte) (ratchet.InitialKeys, []byte, error)
//	"session.pqxdhRespond" (session):
//	    func(ourIdentity, ourSignedPreKey, ourOneTimePreKey *curve.PrivateKey,
//	        ourKyberPreKey *kem.PrivateKey, theirIdentity, theirBase *curve.PublicKey,
//	        kyberCiphertext []byte) (ratchet.InitialKeys, error)
//
// A nil *curve.PublicKey or *curve.PrivateKey stands for "no one-time prekey".
package vectorgen

import (
	"fmt"
	"sync"
)

var (
	mu    sync.RWMutex
	funcs = map[string]any{}
)

// Register records fn as the entry point called name. Public packages call it
// from init; registering a name twice panics (a programming error).
func Register(name string, fn any) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := funcs[name]; dup {
		panic(fmt.Sprintf("vectorgen: %q registered twice", name))
	}
	funcs[name] = fn
}

// Lookup returns the entry point registered as name if there is one and it
// has type F. A registered function of another type is reported as an error,
// so that a signature drift is noticed rather than silently skipped.
func Lookup[F any](name string) (fn F, ok bool, err error) {
	mu.RLock()
	v, found := funcs[name]
	mu.RUnlock()
	if !found {
		return fn, false, nil
	}
	fn, ok = v.(F)
	if !ok {
		return fn, false, fmt.Errorf("vectorgen: %q is a %T, not a %T", name, v, fn)
	}
	return fn, true, nil
}

// Unregister removes name; tests that register stand-ins use it to clean up.
func Unregister(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(funcs, name)
}
