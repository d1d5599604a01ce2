package relay

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

const (
	// pageLimit is the most messages one page of GET /v1/messages (or one
	// query of a WebSocket push) holds, and pageBytes the bodies it holds
	// at most beyond its first message.
	pageLimit = 100
	pageBytes = 4 << 20
	// maxIDSize bounds a message id in a request.
	maxIDSize = 64
)

type sendRequest struct {
	To   Address `json:"to"`
	Type uint8   `json:"type"`
	Body []byte  `json:"body"`
}

type sendResponse struct {
	ID string `json:"id"`
}

// sendLimit bounds the body of a send request: the message base64-encoded,
// and an address (whose name JSON escaping may grow sixfold).
func (s *Server) sendLimit() int64 {
	return int64(4*((s.opts.MaxMessageSize+2)/3)) + maxAnonRequest
}

// handleSend puts a message in its recipient's mailbox and wakes the
// recipient's WebSockets: POST /v1/messages.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, self Address) {
	var req sendRequest
	if err := readJSON(w, r, s.sendLimit(), &req); err != nil {
		s.fail(w, err)
		return
	}
	switch {
	case !req.To.valid():
		s.fail(w, badRequest("invalid recipient address"))
		return
	case len(req.Body) == 0:
		s.fail(w, badRequest("empty message body"))
		return
	case len(req.Body) > s.opts.MaxMessageSize:
		s.fail(w, ErrMessageTooLarge)
		return
	}
	e := &Envelope{
		ID:       newMessageID(),
		From:     self,
		Type:     req.Type,
		Body:     req.Body,
		Received: s.opts.now().UTC().Truncate(time.Millisecond),
	}
	if _, err := s.st.PutMessage(r.Context(), req.To, e, s.opts.MaxMailbox); err != nil {
		s.fail(w, err)
		return
	}
	s.hub.notify(req.To)
	writeJSON(w, http.StatusCreated, &sendResponse{ID: e.ID})
}

// newMessageID returns 128 random bits in hex: unique without coordination,
// and revealing nothing of how many messages the relay carries.
func newMessageID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type messagesResponse struct {
	Messages []Envelope `json:"messages"`
	Cursor   string     `json:"cursor"`
	More     bool       `json:"more"`
}

// handleFetch returns a page of the caller's mailbox, oldest first: GET
// /v1/messages?after=CURSOR&limit=N.
func (s *Server) handleFetch(w http.ResponseWriter, r *http.Request, self Address) {
	q := r.URL.Query()
	var after int64
	if c := q.Get("after"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			s.fail(w, badRequest("invalid cursor"))
			return
		}
		after = n
	}
	limit := pageLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			s.fail(w, badRequest("invalid limit"))
			return
		}
		limit = min(n, pageLimit)
	}
	msgs, more, err := s.st.Messages(r.Context(), self, after, limit, pageBytes)
	if err != nil {
		s.fail(w, err)
		return
	}
	resp := messagesResponse{Messages: make([]Envelope, len(msgs)), More: more}
	for i, m := range msgs {
		resp.Messages[i] = m.Envelope
		after = m.Seq
	}
	resp.Cursor = strconv.FormatInt(after, 10)
	writeJSON(w, http.StatusOK, &resp)
}

// handleAck deletes a message from the caller's mailbox: DELETE
// /v1/messages/{id}. A message of another mailbox is as unknown as one
// that never existed.
func (s *Server) handleAck(w http.ResponseWriter, r *http.Request, self Address) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxIDSize {
		s.fail(w, ErrUnknownMessage)
		return
	}
	if err := s.st.DeleteMessage(r.Context(), self, id); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
