package relay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequests sends arbitrary bodies to every endpoint, authenticated:
// the server must answer every one with a success or a JSON error of the
// protocol, never a panic or a 500.
func FuzzRequests(f *testing.F) {
	seeds := []struct{ method, path, body string }{
		{"POST", "/v1/challenge", `{"address":{"name":"alice","device_id":1}}`},
		{"POST", "/v1/register", `{"address":{"name":"x","device_id":1},"identity_key":"BQ==","challenge":"","signature":""}`},
		{"POST", "/v1/session", `{"address":{"name":"alice","device_id":1},"challenge":"AAAA","signature":"AAAA"}`},
		{"PUT", "/v1/keys", `{"registration_id":1,"prekeys":[{"id":1,"public_key":"BQ=="}]}`},
		{"PUT", "/v1/keys", `{"signed_prekey":{"id":1,"public_key":"","signature":""},"kyber_prekeys":[{}]}`},
		{"GET", "/v1/keys/count", ``},
		{"POST", "/v1/bundle", `{"address":{"name":"alice","device_id":1}}`},
		{"POST", "/v1/messages", `{"to":{"name":"alice","device_id":1},"type":3,"body":"aGk="}`},
		{"POST", "/v1/messages", `{"to":{"name":"alice","device_id":1},"type":300,"body":"!"}`},
		{"GET", "/v1/messages?after=0&limit=2", ``},
		{"DELETE", "/v1/messages/abc", ``},
		{"POST", "/v1/messages", `[]`},
		{"PUT", "/v1/keys", `null`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, []byte(s.body))
	}
	e := newEnv(f, nil)
	alice, _ := e.newClient("alice")
	tok := tokenOf(f, alice)
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://relay"+path, bytes.NewReader(body))
		if err != nil || strings.HasPrefix(path, "/v1/ws") {
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.RemoteAddr = "127.0.0.1:1"
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: status %d: %s", method, path, w.Code, w.Body)
		}
		if w.Code/100 == 2 || w.Code/100 == 3 { // 3xx: ServeMux cleaning a path
			return
		}
		var eb errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" {
			t.Fatalf("%s %s: status %d, body %q is not a protocol error", method, path, w.Code, w.Body)
		}
	})
}
