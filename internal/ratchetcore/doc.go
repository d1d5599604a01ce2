// Package ratchetcore is the implementation behind package ratchet: the
// Double Ratchet (Double Ratchet revision 3, sections 2-3) with libsignal's
// KDFs and SignalMessage framing, and the SPQR symmetric chain (section 5)
// mixed into every message key as the Triple Ratchet does (section 6).
//
// It differs from package ratchet only in what it exposes: its functions
// take their randomness as an explicit io.Reader (nil meaning crypto/rand),
// which package session and the vector generator and verifier use to make
// runs reproducible. Being internal, these derandomized entry points are out
// of reach of applications, which use package ratchet.
package ratchetcore

import "fmt"

// String redacts the state: it holds secrets.
func (s State) String() string { return "ratchet.State{REDACTED}" }

// GoString redacts the state.
func (s State) GoString() string { return s.String() }

// Format redacts the state under every verb.
func (s State) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }
