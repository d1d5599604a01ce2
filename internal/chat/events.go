package chat

import (
	"sync"
)

// EventKind says what an Event reports.
type EventKind uint8

// The events Run reports.
const (
	// EventMessage: a text message arrived; Message is it.
	EventMessage EventKind = iota + 1
	// EventState: a message this account sent changed delivery state
	// (sent, delivered); Message is it.
	EventState
	// EventIdentityChanged: Peer's identity key changed. Their messages
	// are held, unread, until TrustIdentity (or RejectIdentity); compare
	// safety numbers first (PendingSafetyNumber).
	EventIdentityChanged
	// EventFailed: a message from Peer (as the relay claims) could not be
	// decrypted — forged, tampered with, replayed, or its key evicted — or
	// its content was malformed, or it carried a second new identity key
	// (*IdentityConflictError) or another contact's key
	// (*SenderMismatchError). It was dropped; the session is intact.
	// Err says why.
	EventFailed
	// EventDuplicate: the relay delivered again a message already stored
	// (after a crash or a lost acknowledgement); it was acknowledged and
	// dropped.
	EventDuplicate
	// EventError: the relay connection failed (Err); Run retries.
	EventError
	// EventConnected: Run (re)connected to the relay.
	EventConnected
)

func (k EventKind) String() string {
	switch k {
	case EventMessage:
		return "message"
	case EventState:
		return "state"
	case EventIdentityChanged:
		return "identity-changed"
	case EventFailed:
		return "failed"
	case EventDuplicate:
		return "duplicate"
	case EventError:
		return "error"
	case EventConnected:
		return "connected"
	}
	return "unknown"
}

// Event is something Run reports to its handler.
type Event struct {
	Kind    EventKind
	Peer    string   // the contact concerned, if any
	Message *Message // EventMessage, EventState
	Err     error    // EventFailed, EventError
	RelayID string   // the relay's id of the envelope, for received ones
}

// eventQueue is an unbounded queue from the engine's goroutines to the
// one that calls the handler, so that emitting never blocks and handlers
// may call back into the Client.
type eventQueue struct {
	mu     sync.Mutex
	q      []Event
	on     bool // a handler is attached
	signal chan struct{}
}

func (e *eventQueue) init() { e.signal = make(chan struct{}, 1) }

func (e *eventQueue) push(ev Event) {
	e.mu.Lock()
	if e.on {
		e.q = append(e.q, ev)
	}
	e.mu.Unlock()
	select {
	case e.signal <- struct{}{}:
	default:
	}
}

func (e *eventQueue) attach(on bool) {
	e.mu.Lock()
	e.on = on
	if !on {
		e.q = nil
	}
	e.mu.Unlock()
}

func (e *eventQueue) take() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.q
	e.q = nil
	return q
}
