// Command gopeer is Sotto's peer for the cross-implementation tests: it
// speaks the line-delimited JSON protocol of interop/PROTOCOL.md on standard
// input and output, using only Sotto's public API (session over an
// in-memory keystore).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/session"
)

type address struct {
	Name     string `json:"name"`
	DeviceID uint32 `json:"deviceId"`
}

func (a *address) addr() (session.Address, error) {
	if a == nil {
		return session.Address{}, errors.New("missing address")
	}
	return session.Address{Name: a.Name, DeviceID: a.DeviceID}, nil
}

type bundle struct {
	RegistrationID        uint32  `json:"registrationId"`
	DeviceID              uint32  `json:"deviceId"`
	PreKeyID              *uint32 `json:"preKeyId,omitempty"`
	PreKeyPublic          []byte  `json:"preKeyPublic,omitempty"`
	SignedPreKeyID        uint32  `json:"signedPreKeyId"`
	SignedPreKeyPublic    []byte  `json:"signedPreKeyPublic"`
	SignedPreKeySignature []byte  `json:"signedPreKeySignature"`
	IdentityKey           []byte  `json:"identityKey"`
	KyberPreKeyID         uint32  `json:"kyberPreKeyId"`
	KyberPreKeyPublic     []byte  `json:"kyberPreKeyPublic"`
	KyberPreKeySignature  []byte  `json:"kyberPreKeySignature"`
}

// request holds the union of every op's arguments; []byte fields are
// standard base64 in JSON.
type request struct {
	ID             *int64   `json:"id"`
	Op             string   `json:"op"`
	Address        *address `json:"address"`
	Remote         *address `json:"remote"`
	PreKeyID       *uint32  `json:"preKeyId"`
	SignedPreKeyID uint32   `json:"signedPreKeyId"`
	KyberPreKeyID  uint32   `json:"kyberPreKeyId"`
	Bundle         *bundle  `json:"bundle"`
	Plaintext      []byte   `json:"plaintext"`
	Type           int      `json:"type"`
	Ciphertext     []byte   `json:"ciphertext"`
	Iterations     int      `json:"iterations"`
	Version        int      `json:"version"`
	LocalID        []byte   `json:"localId"`
	RemoteID       []byte   `json:"remoteId"`
	RemoteKey      []byte   `json:"remoteKey"`
}

type peer struct {
	acct *session.Account
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	p := &peer{}
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 && !isBlank(line) {
			resp, quit := p.handle(line)
			b, _ := json.Marshal(resp)
			out.Write(append(b, '\n'))
			out.Flush()
			if quit {
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gopeer: read:", err)
			os.Exit(1)
		}
	}
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

func (p *peer) handle(line []byte) (resp map[string]any, quit bool) {
	var head struct {
		ID *int64 `json:"id"`
	}
	if err := json.Unmarshal(line, &head); err != nil || head.ID == nil {
		return map[string]any{"id": nil, "ok": false, "error": "bad request line"}, false
	}
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return map[string]any{"id": *head.ID, "ok": false, "error": "bad request: " + err.Error()}, false
	}
	result, err := p.do(&req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gopeer: %s: %v\n", req.Op, err)
		return map[string]any{"id": *req.ID, "ok": false, "error": err.Error()}, false
	}
	if result == nil {
		result = map[string]any{}
	}
	result["id"], result["ok"] = *req.ID, true
	return result, req.Op == "quit"
}

func (p *peer) do(req *request) (map[string]any, error) {
	ctx := context.Background()
	if req.Op == "quit" {
		return nil, nil
	}
	if req.Op == "init" {
		a, err := req.Address.addr()
		if err != nil {
			return nil, err
		}
		acct, err := session.CreateAccount(ctx, memory.New(), a)
		if err != nil {
			return nil, err
		}
		p.acct = acct
		return map[string]any{"identityPublic": acct.IdentityKey(), "registrationId": acct.RegistrationID()}, nil
	}
	if p.acct == nil {
		return nil, errors.New("not initialised")
	}
	switch req.Op {
	case "generatePreKeys":
		return p.generatePreKeys(ctx, req)
	case "processBundle":
		remote, err := req.Remote.addr()
		if err != nil {
			return nil, err
		}
		if req.Bundle == nil {
			return nil, errors.New("missing bundle")
		}
		b := req.Bundle
		sb := &session.Bundle{
			RegistrationID:        b.RegistrationID,
			DeviceID:              b.DeviceID,
			SignedPreKeyID:        b.SignedPreKeyID,
			SignedPreKey:          b.SignedPreKeyPublic,
			SignedPreKeySignature: b.SignedPreKeySignature,
			IdentityKey:           b.IdentityKey,
			KyberPreKeyID:         b.KyberPreKeyID,
			KyberPreKey:           b.KyberPreKeyPublic,
			KyberPreKeySignature:  b.KyberPreKeySignature,
		}
		if (b.PreKeyID == nil) != (b.PreKeyPublic == nil) {
			return nil, errors.New("preKeyId and preKeyPublic must come together")
		}
		if b.PreKeyID != nil {
			sb.PreKeyID, sb.PreKey = *b.PreKeyID, b.PreKeyPublic
		}
		return nil, p.acct.ProcessBundle(ctx, remote, sb)
	case "encrypt":
		remote, err := req.Remote.addr()
		if err != nil {
			return nil, err
		}
		m, err := p.acct.Encrypt(ctx, remote, req.Plaintext)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": int(m.Type), "ciphertext": m.Body}, nil
	case "decrypt":
		remote, err := req.Remote.addr()
		if err != nil {
			return nil, err
		}
		if req.Type != 2 && req.Type != 3 {
			return nil, fmt.Errorf("unknown message type %d", req.Type)
		}
		pt, err := p.acct.Decrypt(ctx, remote, &session.Message{Type: session.MessageType(req.Type), Body: req.Ciphertext})
		if err != nil {
			return nil, err
		}
		if pt == nil {
			pt = []byte{}
		}
		return map[string]any{"plaintext": pt}, nil
	case "fingerprint":
		f, err := session.NewFingerprint(req.Iterations, req.Version, req.LocalID, p.acct.IdentityKey(), req.RemoteID, req.RemoteKey)
		if err != nil {
			return nil, err
		}
		return map[string]any{"displayable": f.Displayable(), "scannable": f.Scannable()}, nil
	default:
		return nil, fmt.Errorf("unknown op %q", req.Op)
	}
}

func (p *peer) generatePreKeys(ctx context.Context, req *request) (map[string]any, error) {
	if req.SignedPreKeyID == 0 || req.KyberPreKeyID == 0 {
		return nil, errors.New("signedPreKeyId and kyberPreKeyId are required")
	}
	var preKeyID uint32
	if req.PreKeyID != nil {
		if *req.PreKeyID == 0 {
			return nil, errors.New("preKeyId 0 is reserved")
		}
		if _, err := p.acct.GeneratePreKeys(ctx, *req.PreKeyID, 1); err != nil {
			return nil, err
		}
		preKeyID = *req.PreKeyID
	}
	if _, err := p.acct.GenerateSignedPreKey(ctx, req.SignedPreKeyID); err != nil {
		return nil, err
	}
	// The protocol's Kyber prekeys are reusable: last-resort keys.
	if _, err := p.acct.GenerateKyberPreKeys(ctx, req.KyberPreKeyID, 1, true); err != nil {
		return nil, err
	}
	b, err := p.acct.Bundle(ctx, preKeyID, req.SignedPreKeyID, req.KyberPreKeyID)
	if err != nil {
		return nil, err
	}
	out := bundle{
		RegistrationID:        b.RegistrationID,
		DeviceID:              b.DeviceID,
		SignedPreKeyID:        b.SignedPreKeyID,
		SignedPreKeyPublic:    b.SignedPreKey,
		SignedPreKeySignature: b.SignedPreKeySignature,
		IdentityKey:           b.IdentityKey,
		KyberPreKeyID:         b.KyberPreKeyID,
		KyberPreKeyPublic:     b.KyberPreKey,
		KyberPreKeySignature:  b.KyberPreKeySignature,
	}
	if b.PreKey != nil {
		id := b.PreKeyID
		out.PreKeyID, out.PreKeyPublic = &id, b.PreKey
	}
	return map[string]any{"bundle": out}, nil
}
