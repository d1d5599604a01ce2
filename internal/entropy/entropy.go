// Package entropy lets the module's own tests and vector verifier replace the
// randomness of a session.Account: a context made by WithReader, passed to
// session.CreateAccount or session.OpenAccount, makes that Account draw every
// random choice (identity and prekeys, base keys, Kyber encapsulations,
// ratchet keys, signatures) from the given reader instead of crypto/rand.
//
// The Account reads the context once, when it is created or opened; nothing
// on the per-message path looks anything up. Code outside this module cannot
// import this package, so it cannot make such a context: applications always
// get crypto/rand.
package entropy

import (
	"context"
	"crypto/rand"
	"io"
)

type readerKey struct{}

// WithReader returns a copy of ctx that carries r as the randomness source
// for accounts created or opened with it.
func WithReader(ctx context.Context, r io.Reader) context.Context {
	return context.WithValue(ctx, readerKey{}, r)
}

// Reader returns the randomness source ctx carries, or crypto/rand's reader.
func Reader(ctx context.Context) io.Reader {
	if r, ok := ctx.Value(readerKey{}).(io.Reader); ok && r != nil {
		return r
	}
	return rand.Reader
}
