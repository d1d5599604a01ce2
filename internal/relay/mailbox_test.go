package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSendFetchAck(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")

	var ids []string
	for i := range 3 {
		id, err := alice.Send(ctx, bob.self, uint8(2+i%2), []byte(fmt.Sprintf("ciphertext %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] || len(ids[0]) != 32 {
		t.Fatalf("ids %q", ids)
	}

	msgs, err := bob.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("bob has %d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if m.ID != ids[i] || m.From != alice.self || m.Type != uint8(2+i%2) ||
			string(m.Body) != fmt.Sprintf("ciphertext %d", i) || !m.Received.Equal(e.clock.now().Truncate(time.Millisecond)) {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	// Fetch does not remove anything.
	if again, _ := bob.Fetch(ctx); len(again) != 3 {
		t.Fatalf("second fetch: %d messages", len(again))
	}
	// Alice's own mailbox is empty.
	if mine, _ := alice.Fetch(ctx); len(mine) != 0 {
		t.Fatalf("alice has %d messages", len(mine))
	}

	// Only the recipient can acknowledge.
	wantErr(t, alice.Ack(ctx, ids[1]), ErrUnknownMessage, http.StatusNotFound)
	if err := bob.Ack(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	wantErr(t, bob.Ack(ctx, ids[1]), ErrUnknownMessage, http.StatusNotFound)
	wantErr(t, bob.Ack(ctx, "no such id"), ErrUnknownMessage, http.StatusNotFound)
	wantErr(t, bob.Ack(ctx, strings.Repeat("x", 100)), ErrUnknownMessage, http.StatusNotFound)
	msgs, _ = bob.Fetch(ctx)
	if len(msgs) != 2 || msgs[0].ID != ids[0] || msgs[1].ID != ids[2] {
		t.Fatalf("after ack: %+v", msgs)
	}

	_, err = alice.Send(ctx, Address{Name: "nobody", DeviceID: 1}, 2, []byte("x"))
	wantErr(t, err, ErrUnknownAddress, http.StatusNotFound)
	_, err = alice.Send(ctx, bob.self, 2, nil)
	wantErr(t, err, ErrBadRequest, http.StatusBadRequest)
}

func TestFetchPages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	const n = 2*pageLimit + 17
	for i := range n {
		if _, err := alice.Send(ctx, bob.self, 2, []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := bob.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if string(m.Body) != fmt.Sprint(i) {
			t.Fatalf("message %d is %q", i, m.Body)
		}
	}

	// A page by hand: limit and cursor.
	tok := tokenOf(t, bob)
	req, _ := http.NewRequest("GET", e.hs.URL+"/v1/messages?after=0&limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page messagesResponse
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page.Messages) != 5 || !page.More || page.Cursor != "5" {
		t.Fatalf("page: %d messages, more %v, cursor %q", len(page.Messages), page.More, page.Cursor)
	}
	for _, q := range []string{"after=-1", "after=x", "limit=0", "limit=x"} {
		if st, code := rawRequest(t, "GET", e.hs.URL+"/v1/messages?"+q, tok, nil); st != 400 {
			t.Errorf("%s: %d %s", q, st, code)
		}
	}
}

func TestMailboxLimit(t *testing.T) {
	e := newEnv(t, &Options{MaxMailbox: 3, RateLimit: -1, AnonRateLimit: -1})
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	carol, _ := e.newClient("carol")
	for range 3 {
		if _, err := alice.Send(ctx, bob.self, 2, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	_, err := alice.Send(ctx, bob.self, 2, []byte("x"))
	wantErr(t, err, ErrMailboxFull, http.StatusInsufficientStorage)
	_, err = carol.Send(ctx, bob.self, 2, []byte("x"))
	wantErr(t, err, ErrMailboxFull, http.StatusInsufficientStorage)
	// Other mailboxes are not affected.
	if _, err := bob.Send(ctx, carol.self, 2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	// An ack makes room for one.
	msgs, _ := bob.Fetch(ctx)
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	if err := bob.Ack(ctx, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Send(ctx, bob.self, 2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	_, err = alice.Send(ctx, bob.self, 2, []byte("x"))
	wantErr(t, err, ErrMailboxFull, http.StatusInsufficientStorage)
}

func TestMessageSizeLimit(t *testing.T) {
	const max = 1000
	e := newEnv(t, &Options{MaxMessageSize: max, RateLimit: -1, AnonRateLimit: -1})
	ctx := context.Background()
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	if _, err := alice.Send(ctx, bob.self, 2, make([]byte, max)); err != nil {
		t.Fatalf("a message of the maximum size: %v", err)
	}
	_, err := alice.Send(ctx, bob.self, 2, make([]byte, max+1))
	wantErr(t, err, ErrMessageTooLarge, http.StatusRequestEntityTooLarge)

	// A request body far past the limit is cut off while it is read.
	huge := []byte(`{"to":{"name":"bob","device_id":1},"type":2,"body":"` + strings.Repeat("A", 1<<20) + `"}`)
	if st, code := rawRequest(t, "POST", e.hs.URL+"/v1/messages", tokenOf(t, alice), huge); st != 413 || code != codeTooLarge {
		t.Fatalf("huge request: %d %s", st, code)
	}
	if msgs, _ := bob.Fetch(ctx); len(msgs) != 1 {
		t.Fatalf("bob has %d messages, want 1", len(msgs))
	}
}

func TestDefaultLimits(t *testing.T) {
	o := (*Options)(nil).withDefaults()
	if o.MaxMessageSize != 256<<10 || o.MaxMailbox != 10000 || o.RateLimit != 50 || o.RateBurst != 100 ||
		o.MaxPreKeys != 1000 || o.TokenLifetime != time.Hour || o.ChallengeLifetime != time.Minute {
		t.Fatalf("defaults: %+v", o)
	}
	// The default size is accepted end to end (base64 and JSON overhead).
	e := newEnv(t, nil)
	alice, _ := e.newClient("alice")
	bob, _ := e.newClient("bob")
	body := bytes.Repeat([]byte{0xff}, DefaultMaxMessageSize)
	if _, err := alice.Send(context.Background(), bob.self, 2, body); err != nil {
		t.Fatal(err)
	}
	msgs, err := bob.Fetch(context.Background())
	if err != nil || len(msgs) != 1 || !bytes.Equal(msgs[0].Body, body) {
		t.Fatalf("fetch: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, &Options{RateLimit: 2, RateBurst: 3, AnonRateLimit: 1, AnonRateBurst: 6})
	ctx := context.Background()
	alice, _ := e.newClient("alice") // 2 anonymous requests: challenge, register
	bob, _ := e.newClient("bob")     // 2 more

	for i := range 3 {
		if _, _, err := alice.KeyCounts(ctx); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	_, _, err := alice.KeyCounts(ctx)
	wantErr(t, err, ErrRateLimited, http.StatusTooManyRequests)
	var re *Error
	if errorsAs(err, &re); re.RetryAfter != time.Second {
		t.Errorf("Retry-After %v, want 1s", re.RetryAfter)
	}
	// Per address: bob is not limited by alice's use.
	if _, _, err := bob.KeyCounts(ctx); err != nil {
		t.Fatal(err)
	}
	// The bucket refills with time.
	e.clock.advance(time.Second)
	for range 2 {
		if _, _, err := alice.KeyCounts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = alice.KeyCounts(ctx)
	wantErr(t, err, ErrRateLimited, http.StatusTooManyRequests)

	// Anonymous requests are limited per IP: 4 of 6 are spent; carol's
	// registration takes the last two, dave's is refused.
	e.newClient("carol")
	dave := NewClient(e.hs.URL, Address{Name: "dave", DeviceID: 1}, newSigner(t), nil)
	wantErr(t, dave.Register(ctx), ErrRateLimited, http.StatusTooManyRequests)
}
