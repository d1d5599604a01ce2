package testvectors

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"

	"github.com/sotto-im/sotto/internal/entropy"
	"github.com/sotto-im/sotto/keystore/memory"
	"github.com/sotto-im/sotto/session"
)

// Session-level replay: accounts whose every random choice is a value the
// vector lists, so that Sotto's public session API (ProcessBundle, Encrypt,
// Decrypt) must reproduce the listed messages byte for byte.

// feed is the randomness source of a replayed party: before each operation
// the verifier loads exactly the bytes the vector says the operation draws
// (a ratchet private key, a base key and encapsulation seed, ...). A draw
// past them is an error, so an implementation that starts drawing more, or
// in another order, fails loudly instead of silently diverging.
type feed struct{ b []byte }

var errUnexpectedDraw = errors.New("testvectors: randomness drawn beyond what the vector lists")

// Read hands out the loaded bytes.
func (f *feed) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, errUnexpectedDraw
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// load replaces the pending bytes with the concatenation of parts.
func (f *feed) load(parts ...[]byte) { f.b = slices.Concat(parts...) }

// filler is what a party draws when the vector lists no key for the draw:
// a failed decryption may plan a DH ratchet step (and draw its key pair)
// before the MAC check rejects the message, and the draw is then discarded.
var filler = bytes.Repeat([]byte{0x5a}, 32)

// newAccount returns an account for p in a fresh memory store, with p's
// identity key and registration id, drawing its randomness from f.
func newAccount(ctx context.Context, p *party, f *feed) (*session.Account, error) {
	if p.RegistrationID < 1 || p.RegistrationID > 16380 {
		return nil, errorf("registration id %d is not in 1..16380", p.RegistrationID)
	}
	addr := session.Address{Name: p.Address.Name, DeviceID: p.Address.DeviceID}
	st := memory.New()
	// session.CreateAccount, given f through internal/entropy, draws the
	// identity private key (32 bytes), then two bytes b that make the
	// registration id BE16(b) % 16380 + 1, and keeps f as the account's
	// randomness.
	f.load(p.IdentityPrivate, binary.BigEndian.AppendUint16(nil, uint16(p.RegistrationID-1)))
	a, err := session.CreateAccount(entropy.WithReader(ctx, f), st, addr)
	if err != nil {
		return nil, errorf("creating the account: %v", err)
	}
	if !bytes.Equal(a.IdentityKey(), p.IdentityKey) {
		return nil, errorf("account identity key = %x, want %x", a.IdentityKey(), []byte(p.IdentityKey))
	}
	if a.RegistrationID() != p.RegistrationID {
		return nil, errorf("account registration id = %d, want %d", a.RegistrationID(), p.RegistrationID)
	}
	return a, nil
}

// newResponderAccount creates the responder's account and its prekeys from
// the listed secrets, and checks that session publishes exactly the listed
// public keys and signatures.
func newResponderAccount(ctx context.Context, p *party, f *feed) (*session.Account, error) {
	a, err := newAccount(ctx, p, f)
	if err != nil {
		return nil, err
	}
	// GenerateSignedPreKey draws the key, then XEdDSA's Z.
	f.load(p.SignedPreKeyPrivate, p.SignedPreKeySignatureRandom)
	spk, err := a.GenerateSignedPreKey(ctx, p.SignedPreKeyID)
	if err != nil {
		return nil, errorf("GenerateSignedPreKey: %v", err)
	}
	if err := first(
		equal("signed prekey", spk.PublicKey, p.SignedPreKey),
		equal("signed prekey signature", spk.Signature, p.SignedPreKeySignature),
	); err != nil {
		return nil, err
	}
	// GenerateKyberPreKeys draws the 64-byte key seed, then Z.
	f.load(p.KyberPreKeySeed, p.KyberPreKeySignatureRandom)
	kyber, err := a.GenerateKyberPreKeys(ctx, p.KyberPreKeyID, 1, false)
	if err != nil {
		return nil, errorf("GenerateKyberPreKeys: %v", err)
	}
	if err := first(
		equal("Kyber prekey", kyber[0].PublicKey, p.KyberPreKey),
		equal("Kyber prekey signature", kyber[0].Signature, p.KyberPreKeySignature),
	); err != nil {
		return nil, err
	}
	if p.OneTimePreKeyPrivate != nil {
		f.load(p.OneTimePreKeyPrivate)
		pks, err := a.GeneratePreKeys(ctx, p.OneTimePreKeyID, 1)
		if err != nil {
			return nil, errorf("GeneratePreKeys: %v", err)
		}
		if err := equal("one-time prekey", pks[0].PublicKey, p.OneTimePreKey); err != nil {
			return nil, err
		}
	}
	f.load()
	return a, nil
}

// sessionBundle converts a listed bundle.
func sessionBundle(b *bundle) *session.Bundle {
	return &session.Bundle{
		RegistrationID:        b.RegistrationID,
		DeviceID:              b.DeviceID,
		PreKeyID:              b.PreKeyID,
		PreKey:                b.PreKey,
		SignedPreKeyID:        b.SignedPreKeyID,
		SignedPreKey:          b.SignedPreKey,
		SignedPreKeySignature: b.SignedPreKeySignature,
		IdentityKey:           b.IdentityKey,
		KyberPreKeyID:         b.KyberPreKeyID,
		KyberPreKey:           b.KyberPreKey,
		KyberPreKeySignature:  b.KyberPreKeySignature,
	}
}

// processBundle runs the initiator's ProcessBundle, which draws the base
// key, the Kyber encapsulation seed and the first ratchet key, in this order.
func processBundle(ctx context.Context, a *session.Account, p *party, to address, b *bundle, f *feed) error {
	var ratchet0 []byte
	if len(p.RatchetPrivates) > 0 {
		ratchet0 = p.RatchetPrivates[0]
	}
	f.load(p.BasePrivate, p.EncapsulationSeed, ratchet0)
	err := a.ProcessBundle(ctx, session.Address{Name: to.Name, DeviceID: to.DeviceID}, sessionBundle(b))
	f.load()
	return err
}

func sessionAddress(a address) session.Address {
	return session.Address{Name: a.Name, DeviceID: a.DeviceID}
}
