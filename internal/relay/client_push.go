package relay

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// defaultPingInterval is the server ping interval a client assumes when the
// server does not state one.
const defaultPingInterval = 30 * time.Second

// Subscribe opens a WebSocket to the relay and returns a channel of self's
// messages: first every message waiting in the mailbox, oldest first, then
// each new one as it arrives. Messages stay in the mailbox until
// acknowledged with Ack, so a message received here and not acknowledged
// comes again on the next Subscribe or Fetch (deduplicate by ID).
//
// The channel is closed when ctx ends or the connection fails: the server
// closing it or restarting, or three of its ping intervals passing with
// neither a ping nor a message (a dead network path). Subscribe again to
// resume. Receive promptly: the relay drops a connection that does not take
// a message within its write timeout. Subscribe itself returns an error if
// the connection cannot be opened, such as ErrRateLimited when self has too
// many open already.
func (c *Client) Subscribe(ctx context.Context) (<-chan Envelope, error) {
	// The watchdog ends rctx when the server goes quiet for too long; each
	// ping and each frame winds it up again.
	rctx, cancel := context.WithCancel(ctx)
	var idle atomic.Int64 // nanoseconds; set once connected
	watchdog := time.AfterFunc(time.Hour, cancel)
	watchdog.Stop()
	alive := func() {
		if d := idle.Load(); d > 0 {
			watchdog.Reset(time.Duration(d))
		}
	}

	conn, pingEvery, err := c.dial(ctx, func(context.Context, []byte) bool { alive(); return true })
	if err != nil {
		cancel()
		return nil, err
	}
	idle.Store(int64(3 * pingEvery))
	alive()
	conn.SetReadLimit(maxResponse)

	ch := make(chan Envelope)
	go func() {
		defer close(ch)
		defer cancel()
		defer watchdog.Stop()
		defer conn.CloseNow()
		for {
			typ, data, err := conn.Read(rctx)
			if err != nil {
				return
			}
			alive()
			if typ != websocket.MessageText {
				continue
			}
			var f pushFrame
			if err := json.Unmarshal(data, &f); err != nil {
				return // not the relay's protocol: give up on this connection
			}
			if f.Envelope == nil {
				continue // a kind of frame this client does not know
			}
			select {
			case ch <- *f.Envelope:
			case <-rctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// dial opens the WebSocket, authenticating first, and again once if the
// server refuses the token. It returns the server's ping interval.
func (c *Client) dial(ctx context.Context, onPing func(context.Context, []byte) bool) (*websocket.Conn, time.Duration, error) {
	var stale string
	for attempt := 0; ; attempt++ {
		tok, err := c.bearer(ctx, stale)
		if err != nil {
			return nil, 0, err
		}
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tok)
		conn, resp, err := websocket.Dial(ctx, c.base+"/v1/ws", &websocket.DialOptions{
			HTTPClient:     c.hc,
			HTTPHeader:     h,
			OnPingReceived: onPing,
		})
		if err == nil {
			every := defaultPingInterval
			if ms, err := strconv.ParseInt(resp.Header.Get(pingIntervalHeader), 10, 64); err == nil && ms > 0 {
				every = time.Duration(ms) * time.Millisecond
			}
			return conn, every, nil
		}
		if resp == nil || resp.StatusCode == http.StatusSwitchingProtocols {
			return nil, 0, err
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			stale = tok
			continue
		}
		return nil, 0, responseError(resp, resp.Body)
	}
}
