package relay

import (
	"fmt"
	"net/http"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
)

const (
	// MaxUploadBatch bounds the one-time prekeys of each kind in one
	// upload request; Client.UploadKeys splits larger sets.
	MaxUploadBatch = 100
	// maxKeysRequest bounds an upload's body: MaxUploadBatch Kyber keys
	// and as many EC keys, base64-encoded, with room to spare.
	maxKeysRequest = 1 << 20
)

// handlePutKeys stores an upload of keys after checking every key's form
// and every signature against the caller's identity key: PUT /v1/keys.
func (s *Server) handlePutKeys(w http.ResponseWriter, r *http.Request, self Address) {
	var k Keys
	if err := readJSON(w, r, maxKeysRequest, &k); err != nil {
		s.fail(w, err)
		return
	}
	if len(k.PreKeys) > MaxUploadBatch || len(k.KyberPreKeys) > MaxUploadBatch {
		s.fail(w, badRequest(fmt.Sprintf("at most %d one-time prekeys of each kind per request", MaxUploadBatch)))
		return
	}
	idKey, err := s.st.IdentityKey(r.Context(), self)
	if err != nil {
		s.fail(w, err)
		return
	}
	if err := checkKeys(&k, idKey); err != nil {
		s.fail(w, err)
		return
	}
	if err := s.st.PutKeys(r.Context(), self, &k, s.opts.MaxPreKeys); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkKeys checks the form of every key in k and the signatures of the
// signed ones under identityKey, so that the relay never hands out a bundle
// that the peer's session.ProcessBundle would refuse.
func checkKeys(k *Keys, identityKey []byte) error {
	id, err := curve.ParsePublicKey(identityKey)
	if err != nil {
		return err // cannot happen: the key was checked at registration
	}
	if sp := k.SignedPreKey; sp != nil {
		if _, err := curve.ParsePublicKey(sp.PublicKey); err != nil {
			return badRequest("invalid signed prekey")
		}
		if !id.Verify(sp.PublicKey, sp.Signature) {
			return badRequest("invalid signed prekey signature")
		}
	}
	checkKyber := func(what string, kp *KyberPreKey) error {
		if _, err := kem.ParsePublicKey(kp.PublicKey); err != nil {
			return badRequest("invalid " + what)
		}
		if !id.Verify(kp.PublicKey, kp.Signature) {
			return badRequest("invalid " + what + " signature")
		}
		return nil
	}
	if lr := k.LastResortKyber; lr != nil {
		if err := checkKyber("last-resort Kyber prekey", lr); err != nil {
			return err
		}
	}
	for i := range k.KyberPreKeys {
		if err := checkKyber("Kyber prekey", &k.KyberPreKeys[i]); err != nil {
			return err
		}
	}
	for _, p := range k.PreKeys {
		if _, err := curve.ParsePublicKey(p.PublicKey); err != nil {
			return badRequest("invalid one-time prekey")
		}
	}
	return nil
}

type keyCountsResponse struct {
	EC    int `json:"ec"`
	Kyber int `json:"kyber"`
}

// handleKeyCounts reports the caller's one-time prekeys left: GET
// /v1/keys/count.
func (s *Server) handleKeyCounts(w http.ResponseWriter, r *http.Request, self Address) {
	ec, kyber, err := s.st.KeyCounts(r.Context(), self)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, &keyCountsResponse{EC: ec, Kyber: kyber})
}

type bundleRequest struct {
	Address Address `json:"address"`
}

// handleBundle hands out a bundle for an address, using up its one-time
// prekeys: POST /v1/bundle.
func (s *Server) handleBundle(w http.ResponseWriter, r *http.Request, _ Address) {
	var req bundleRequest
	if err := readJSON(w, r, maxAnonRequest, &req); err != nil {
		s.fail(w, err)
		return
	}
	if !req.Address.valid() {
		s.fail(w, badRequest("invalid address"))
		return
	}
	b, err := s.st.TakeBundle(r.Context(), req.Address)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
