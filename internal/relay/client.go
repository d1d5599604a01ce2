package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client talks to a relay as one device: self, proving it holds signer's
// identity key. It obtains a bearer token on first use and again whenever
// the token expires or the server forgets it (after a restart, say), so
// callers never handle tokens. A Client is safe for concurrent use; it
// runs at most 8 requests at once (the relay's default bound per address),
// and more wait their turn.
type Client struct {
	base   string
	self   Address
	signer Signer
	hc     *http.Client
	// slots holds a token for each authenticated request in progress, so
	// that a Client shared by many goroutines stays within the server's
	// default bound on requests in flight per address.
	slots chan struct{}

	authMu  sync.Mutex // held while obtaining a token, so only one is sought at once
	mu      sync.Mutex // guards token and renewAt
	token   string
	renewAt time.Time // when to obtain a new token, a little before it expires
}

// maxResponse bounds what the client reads of one response or WebSocket
// frame. A page of messages is at most about 4 MiB of bodies plus one
// message, base64-encoded.
const maxResponse = 64 << 20

// tokenMargin is how long before its expiry a token is renewed (at most a
// quarter of its lifetime), so that a request does not set out with a token
// about to lapse.
const tokenMargin = 30 * time.Second

// NewClient returns a client of the relay at baseURL (such as
// "https://relay.example"; the protocol's paths are under /v1/) for the
// device self. hc nil means http.DefaultClient.
func NewClient(baseURL string, self Address, signer Signer, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), self: self, signer: signer, hc: hc,
		slots: make(chan struct{}, defaultMaxInFlight)}
}

// Register binds self to the signer's identity key on the relay. It is
// idempotent for the same key; if another key holds the address it fails
// with ErrAddressTaken.
func (c *Client) Register(ctx context.Context) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	ch, sig, err := c.answerChallenge(ctx)
	if err != nil {
		return err
	}
	var resp tokenResponse
	req := &registerRequest{Address: c.self, IdentityKey: c.signer.IdentityKey(), Challenge: ch, Signature: sig}
	if err := c.roundTrip(ctx, http.MethodPost, "/v1/register", "", req, &resp); err != nil {
		return err
	}
	c.setToken(&resp)
	return nil
}

// UploadKeys publishes keys, as Keys documents: the signed prekey and
// last-resort Kyber key replace the current ones when given, and one-time
// keys are added. More than MaxUploadBatch one-time keys of a kind go in
// several requests, the signed keys with the first; if one fails, those
// before it have been stored.
func (c *Client) UploadKeys(ctx context.Context, k *Keys) error {
	if k == nil {
		return errors.New("relay: UploadKeys of nil keys")
	}
	first := true
	pre, kyber := k.PreKeys, k.KyberPreKeys
	for first || len(pre) > 0 || len(kyber) > 0 {
		batch := &Keys{PreKeys: pre[:min(len(pre), MaxUploadBatch)], KyberPreKeys: kyber[:min(len(kyber), MaxUploadBatch)]}
		pre, kyber = pre[len(batch.PreKeys):], kyber[len(batch.KyberPreKeys):]
		if first {
			batch.RegistrationID, batch.SignedPreKey, batch.LastResortKyber = k.RegistrationID, k.SignedPreKey, k.LastResortKyber
			first = false
		}
		if err := c.do(ctx, http.MethodPut, "/v1/keys", batch, nil); err != nil {
			return err
		}
	}
	return nil
}

// FetchBundle returns a prekey bundle for of, using up one of its one-time
// EC prekeys and one of its one-time Kyber prekeys: each is handed out
// once. When of has no one-time Kyber prekey left, the bundle carries its
// last-resort Kyber key; when it has no one-time EC prekey left, the bundle
// has none (PreKey nil). ErrUnknownAddress for an address nobody
// registered, ErrNoKeys for one that has not uploaded its keys.
func (c *Client) FetchBundle(ctx context.Context, of Address) (*Bundle, error) {
	if err := checkAddress(of); err != nil {
		return nil, err
	}
	var b Bundle
	if err := c.do(ctx, http.MethodPost, "/v1/bundle", &bundleRequest{Address: of}, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// KeyCounts returns how many one-time EC and Kyber prekeys self has left on
// the relay (the last-resort key is not counted), to know when to upload
// more.
func (c *Client) KeyCounts(ctx context.Context) (ec, kyber int, err error) {
	var resp keyCountsResponse
	if err := c.do(ctx, http.MethodGet, "/v1/keys/count", nil, &resp); err != nil {
		return 0, 0, err
	}
	return resp.EC, resp.Kyber, nil
}

// Send puts a message of type typ with ciphertext body in to's mailbox and
// returns the id the relay gave it. ErrMessageTooLarge, ErrMailboxFull and
// ErrUnknownAddress are the refusals a caller may want to show.
func (c *Client) Send(ctx context.Context, to Address, typ uint8, body []byte) (id string, err error) {
	if err := checkAddress(to); err != nil {
		return "", err
	}
	var resp sendResponse
	if err := c.do(ctx, http.MethodPost, "/v1/messages", &sendRequest{To: to, Type: typ, Body: body}, &resp); err != nil {
		return "", err
	}
	return resp.ID, nil
}

// Fetch returns the messages waiting in self's mailbox, oldest first,
// reading it page by page. Messages stay there until acknowledged: Fetch
// again returns them again.
//
// Fetch holds at most maxFetchMessages messages (DefaultMaxMailbox) or
// maxFetchBytes of bodies (64 MiB, plus one page) at once: past either it
// returns what it has, and the rest comes on a later Fetch once those are
// acknowledged. It also stops, returning what it has, when the relay's
// cursor does not advance, so that a faulty or hostile relay cannot keep
// it reading for ever.
func (c *Client) Fetch(ctx context.Context) ([]Envelope, error) {
	var out []Envelope
	var size int
	cursor := "0"
	for {
		var page messagesResponse
		if err := c.do(ctx, http.MethodGet, "/v1/messages?after="+url.QueryEscape(cursor), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Messages...)
		for _, m := range page.Messages {
			size += len(m.Body)
		}
		if !page.More || len(page.Messages) == 0 || page.Cursor == cursor ||
			len(out) >= maxFetchMessages || size >= maxFetchBytes {
			return out, nil
		}
		cursor = page.Cursor
	}
}

// The bounds of what one Fetch holds.
const (
	maxFetchMessages = DefaultMaxMailbox
	maxFetchBytes    = 64 << 20
)

// Ack deletes the message with the given id from self's mailbox, once it
// has been handled: decrypted and stored, or found undecryptable. Only the
// recipient can: any other id, including one already acknowledged, is
// ErrUnknownMessage.
func (c *Client) Ack(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/messages/"+url.PathEscape(id), nil, nil)
}

// checkAddress refuses an address the relay would refuse, or that JSON
// would not carry unchanged (a name that is not UTF-8).
func checkAddress(a Address) error {
	if !a.valid() {
		return fmt.Errorf("%w: invalid address %q", ErrBadRequest, a.String())
	}
	return nil
}

// answerChallenge obtains a challenge for self and signs it.
func (c *Client) answerChallenge(ctx context.Context) (challenge, sig []byte, err error) {
	if err := checkAddress(c.self); err != nil {
		return nil, nil, err
	}
	var ch challengeResponse
	if err := c.roundTrip(ctx, http.MethodPost, "/v1/challenge", "", &challengeRequest{Address: c.self}, &ch); err != nil {
		return nil, nil, err
	}
	sig, err = c.signer.SignChallenge(ch.Challenge)
	if err != nil {
		return nil, nil, fmt.Errorf("relay: signing the challenge: %w", err)
	}
	return ch.Challenge, sig, nil
}

// bearer returns a live token, obtaining one if there is none, or if stale
// is the current one (the server refused it).
func (c *Client) bearer(ctx context.Context, stale string) (string, error) {
	if tok := c.currentToken(stale); tok != "" {
		return tok, nil
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if tok := c.currentToken(stale); tok != "" {
		return tok, nil // another goroutine obtained one meanwhile
	}
	ch, sig, err := c.answerChallenge(ctx)
	if err != nil {
		return "", err
	}
	var resp tokenResponse
	req := &sessionRequest{Address: c.self, Challenge: ch, Signature: sig}
	if err := c.roundTrip(ctx, http.MethodPost, "/v1/session", "", req, &resp); err != nil {
		return "", err
	}
	c.setToken(&resp)
	return resp.Token, nil
}

// currentToken returns the token unless it is stale, about to expire, or
// absent.
func (c *Client) currentToken(stale string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == "" || c.token == stale || !time.Now().Before(c.renewAt) {
		return ""
	}
	return c.token
}

// setToken keeps a new token, with its expiry by the local clock.
func (c *Client) setToken(t *tokenResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	life := time.Duration(t.ExpiresIn) * time.Second
	c.token, c.renewAt = t.Token, time.Now().Add(life-min(tokenMargin, life/4))
}

// do runs an authenticated request, authenticating first if needed. A 401
// means the token lapsed or the server forgot it: do authenticates again
// and retries once.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	tok, err := c.bearer(ctx, "")
	if err != nil {
		return err
	}
	err = c.roundTrip(ctx, method, path, tok, in, out)
	if !errors.Is(err, ErrUnauthorized) {
		return err
	}
	if tok, err = c.bearer(ctx, tok); err != nil {
		return err
	}
	return c.roundTrip(ctx, method, path, tok, in, out)
}

// roundTrip sends in (if not nil) as JSON, and decodes a successful
// response into out (if not nil) or an error response into *Error.
func (c *Client) roundTrip(ctx context.Context, method, path, tok string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	lr := io.LimitReader(resp.Body, maxResponse)
	if resp.StatusCode/100 != 2 {
		return responseError(resp, lr)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, lr)
		return nil
	}
	if err := json.NewDecoder(lr).Decode(out); err != nil {
		return fmt.Errorf("relay: decoding the response to %s %s: %w", method, path, err)
	}
	return nil
}

// responseError turns an error response into *Error.
func responseError(resp *http.Response, body io.Reader) error {
	e := &Error{Status: resp.StatusCode}
	var eb errorBody
	if err := json.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&eb); err == nil {
		e.Code, e.Message = eb.Error.Code, eb.Error.Message
	}
	if e.Code == "" {
		e.Code = http.StatusText(resp.StatusCode) // not the relay's: a proxy, say
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}
