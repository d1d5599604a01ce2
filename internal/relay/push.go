package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Push: GET /v1/ws upgrades to a WebSocket on which the server sends each
// message of the caller's mailbox as a text frame, oldest first: first
// those pending, then new ones as they arrive. The handler keeps a cursor,
// the sequence number of the last message sent, and reads the mailbox past
// it whenever Send wakes it; since sequence numbers follow the order in
// which messages were stored, that delivers every message once per
// connection, in order, whatever the timing. Messages stay in the mailbox
// until acknowledged over HTTP, so a message sent on a connection that then
// fails comes again on the next one.

// hub wakes the WebSocket handlers of an address when a message arrives for
// it.
type hub struct {
	mu   sync.Mutex
	subs map[Address]map[*subscriber]struct{}
}

// subscriber is one WebSocket handler. wake has room for one signal, so
// notify never blocks and signals arriving while the handler is busy merge
// into one.
type subscriber struct {
	wake chan struct{}
}

func newHub() *hub { return &hub{subs: map[Address]map[*subscriber]struct{}{}} }

// subscribe registers a handler for a, unless a has max already.
func (h *hub) subscribe(a Address, max int) (*subscriber, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[a]
	if len(set) >= max {
		return nil, false
	}
	if set == nil {
		set = map[*subscriber]struct{}{}
		h.subs[a] = set
	}
	sub := &subscriber{wake: make(chan struct{}, 1)}
	set[sub] = struct{}{}
	return sub, true
}

func (h *hub) unsubscribe(a Address, sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[a], sub)
	if len(h.subs[a]) == 0 {
		delete(h.subs, a)
	}
}

// notify wakes a's handlers.
func (h *hub) notify(a Address) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs[a] {
		select {
		case sub.wake <- struct{}{}:
		default: // already signalled
		}
	}
}

// pingIntervalHeader, in the response to the upgrade, gives the server's
// ping interval in milliseconds.
const pingIntervalHeader = "Sotto-Ping-Interval-Ms"

// pushFrame is one frame the server sends. Further kinds of frame may be
// added as other fields; clients ignore frames they do not know.
type pushFrame struct {
	Envelope *Envelope `json:"envelope,omitempty"`
}

// handleWebSocket serves GET /v1/ws.
func (s *Server) handleWebSocket(w http.ResponseWriter, r *http.Request, self Address) {
	// Register with Close's WaitGroup, unless Close has begun.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.fail(w, ErrUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	// Subscribe before the first read of the mailbox, so that a message
	// stored after that read still wakes the loop.
	sub, ok := s.hub.subscribe(self, s.opts.MaxSubscriptions)
	if !ok {
		s.fail(w, ErrRateLimited)
		return
	}
	defer s.hub.unsubscribe(self, sub)

	// Tell the client how often to expect a ping, so it can tell a dead
	// connection from a quiet one.
	w.Header().Set(pingIntervalHeader, strconv.FormatInt(s.opts.PingInterval.Milliseconds(), 10))
	// Lift the deadlines ServeHTTP set: the connection lives on, its
	// reads and writes bounded by the ping and write timeouts instead.
	// (net/http clears them on hijacking too; other servers may not.)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the request
	}
	defer c.CloseNow()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Server.Close
	defer stop()
	// The client sends nothing but control frames; CloseRead handles them
	// and ends ctx when the connection closes or a data frame arrives.
	ctx = c.CloseRead(ctx)

	err = s.push(ctx, c, self, sub)
	switch {
	case s.ctx.Err() != nil:
		_ = c.Close(websocket.StatusGoingAway, "server shutting down")
	case err != nil && ctx.Err() == nil:
		// A storage failure: tell the client to come back later.
		if s.opts.OnError != nil {
			s.opts.OnError(err)
		}
		_ = c.Close(websocket.StatusTryAgainLater, "internal error")
	}
}

// push sends self's messages on c until ctx ends or a write fails.
func (s *Server) push(ctx context.Context, c *websocket.Conn, self Address, sub *subscriber) error {
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	var cursor int64
	for {
		msgs, _, err := s.st.Messages(ctx, self, cursor, pageLimit, pageBytes)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			frame, err := json.Marshal(&pushFrame{Envelope: &m.Envelope})
			if err != nil {
				return err
			}
			if err := s.write(ctx, c, frame); err != nil {
				return nil // the connection failed: nothing to report
			}
			cursor = m.Seq
		}
		if len(msgs) > 0 {
			continue // read on until the mailbox is drained
		}
		select {
		case <-sub.wake:
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// write sends one text frame within the write timeout.
func (s *Server) write(ctx context.Context, c *websocket.Conn, frame []byte) error {
	wctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	defer cancel()
	return c.Write(wctx, websocket.MessageText, frame)
}
