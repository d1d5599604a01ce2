package testvectors

// Building blocks of the PQXDH and conversation checks: the parties' keys
// parsed from a vector, ratchet states seeded with listed keys, and the
// responder's and initiator's processing step by step, as a reviewer's own
// implementation would run it around Sotto's parsers and ratchet.

import (
	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
	"github.com/sotto-im/sotto/session"
)

// responderKeys are the responder's parsed private keys.
type responderKeys struct {
	identity, signedPreKey, oneTimePreKey *curve.PrivateKey
	kyber                                 *kem.PrivateKey
}

func parseResponder(p *party) (*responderKeys, error) {
	var k responderKeys
	var err error
	if k.identity, err = curve.NewPrivateKey(p.IdentityPrivate); err != nil {
		return nil, errorf("responder identity: %v", err)
	}
	if k.signedPreKey, err = curve.NewPrivateKey(p.SignedPreKeyPrivate); err != nil {
		return nil, errorf("responder signed prekey: %v", err)
	}
	if p.OneTimePreKeyPrivate != nil {
		if k.oneTimePreKey, err = curve.NewPrivateKey(p.OneTimePreKeyPrivate); err != nil {
			return nil, errorf("responder one-time prekey: %v", err)
		}
	}
	if k.kyber, err = kem.ParsePrivateKey(p.KyberPreKeySecret); err != nil {
		return nil, errorf("responder Kyber prekey: %v", err)
	}
	return &k, nil
}

// checkResponderParty checks that the responder's listed public values and
// signatures follow from its secrets, and that the bundle publishes them.
func checkResponderParty(p *party, b *bundle) error {
	k, err := parseResponder(p)
	if err != nil {
		return err
	}
	gen, err := kem.GenerateKeyDeterministic(p.KyberPreKeySeed)
	if err != nil {
		return errorf("Kyber prekey seed: %v", err)
	}
	var opk []byte
	if k.oneTimePreKey != nil {
		opk = k.oneTimePreKey.PublicKey().Bytes()
	}
	return first(
		equal("responder identity key", k.identity.PublicKey().Bytes(), p.IdentityKey),
		equal("signed prekey", k.signedPreKey.PublicKey().Bytes(), p.SignedPreKey),
		equal("one-time prekey", opk, p.OneTimePreKey),
		equal("Kyber prekey secret from seed", gen.Bytes(), p.KyberPreKeySecret),
		equal("Kyber prekey", k.kyber.PublicKey().Bytes(), p.KyberPreKey),
		equal("signed prekey signature",
			k.identity.SignWithRandom(p.SignedPreKey, (*[64]byte)(p.SignedPreKeySignatureRandom)), p.SignedPreKeySignature),
		equal("Kyber prekey signature",
			k.identity.SignWithRandom(p.KyberPreKey, (*[64]byte)(p.KyberPreKeySignatureRandom)), p.KyberPreKeySignature),
		equal("bundle identity key", b.IdentityKey, p.IdentityKey),
		equal("bundle signed prekey", b.SignedPreKey, p.SignedPreKey),
		equal("bundle signed prekey signature", b.SignedPreKeySignature, p.SignedPreKeySignature),
		equal("bundle one-time prekey", b.PreKey, p.OneTimePreKey),
		equal("bundle Kyber prekey", b.KyberPreKey, p.KyberPreKey),
		equal("bundle Kyber prekey signature", b.KyberPreKeySignature, p.KyberPreKeySignature),
	)
}

// initiatorKeys are the initiator's parsed private keys.
type initiatorKeys struct {
	identity, base *curve.PrivateKey
}

func parseInitiator(p *party) (*initiatorKeys, error) {
	var k initiatorKeys
	var err error
	if k.identity, err = curve.NewPrivateKey(p.IdentityPrivate); err != nil {
		return nil, errorf("initiator identity: %v", err)
	}
	if k.base, err = curve.NewPrivateKey(p.BasePrivate); err != nil {
		return nil, errorf("initiator base key: %v", err)
	}
	if err := first(
		equal("initiator identity key", k.identity.PublicKey().Bytes(), p.IdentityKey),
		equal("initiator base key", k.base.PublicKey().Bytes(), p.BaseKey),
	); err != nil {
		return nil, err
	}
	return &k, nil
}

// initialKeys converts listed PQXDH output.
func initialKeys(root, chain, spqr []byte) (ratchetcore.InitialKeys, error) {
	var k ratchetcore.InitialKeys
	if len(root) != 32 || len(chain) != 32 || len(spqr) != 32 {
		return k, errorf("PQXDH output keys must be 32 bytes each")
	}
	copy(k.Root[:], root)
	copy(k.Chain[:], chain)
	copy(k.SPQR[:], spqr)
	return k, nil
}

// newRatchetInitiator builds the initiator's ratchetcore.State, its sending
// ratchet key drawn from f as ratchetPrivate.
func newRatchetInitiator(keys ratchetcore.InitialKeys, theirRatchetKey, local, remote []byte, ratchetPrivate []byte, f *feed) (*ratchetcore.State, error) {
	var err error
	p := &ratchetcore.InitiatorParams{Keys: keys}
	if p.TheirRatchetKey, err = curve.ParsePublicKey(theirRatchetKey); err != nil {
		return nil, err
	}
	if p.LocalIdentity, err = curve.ParsePublicKey(local); err != nil {
		return nil, err
	}
	if p.RemoteIdentity, err = curve.ParsePublicKey(remote); err != nil {
		return nil, err
	}
	f.load(ratchetPrivate)
	st, err := ratchetcore.NewInitiator(p, f)
	f.load()
	if err != nil {
		return nil, err
	}
	return st, nil
}

// newRatchetResponder builds the responder's ratchetcore.State on its signed
// prekey; its DH ratchet steps draw from f.
func newRatchetResponder(keys ratchetcore.InitialKeys, ourRatchetKey *curve.PrivateKey, local, remote []byte) (*ratchetcore.State, error) {
	var err error
	p := &ratchetcore.ResponderParams{Keys: keys, OurRatchetKey: ourRatchetKey}
	if p.LocalIdentity, err = curve.ParsePublicKey(local); err != nil {
		return nil, err
	}
	if p.RemoteIdentity, err = curve.ParsePublicKey(remote); err != nil {
		return nil, err
	}
	return ratchetcore.NewResponder(p)
}

// preKeyWrapper returns the PreKey message fields the initiator sends,
// around inner.
func preKeyWrapper(initiator *party, b *bundle, ct, inner []byte) *wire.PreKeySignalMessage {
	return &wire.PreKeySignalMessage{
		Version:         wire.CurrentVersion,
		RegistrationID:  initiator.RegistrationID,
		PreKeyID:        b.PreKeyID,
		HasPreKeyID:     b.PreKey != nil,
		SignedPreKeyID:  b.SignedPreKeyID,
		KyberPreKeyID:   b.KyberPreKeyID,
		KyberCiphertext: ct,
		BaseKey:         initiator.BaseKey,
		IdentityKey:     initiator.IdentityKey,
		Message:         inner,
	}
}

// respondPipeline is the responder's processing of a PreKey message, step
// by step as the PQXDH specification and libsignal order it, on Sotto's
// parsers and ratchet: parse, check the identity and base key, find the
// prekeys, decapsulate, agree, and decrypt the wrapped message with a new
// ratchetcore.NewResponder state.
func respondPipeline(resp *party, body []byte, from address) ([]byte, error) {
	pm, err := wire.ParsePreKeySignalMessage(body)
	if err != nil {
		return nil, err
	}
	identity, err := curve.ParsePublicKey(pm.IdentityKey)
	if err != nil {
		return nil, err
	}
	base, err := curve.ParsePublicKey(pm.BaseKey)
	if err != nil {
		return nil, err
	}
	if !base.IsCanonical() {
		return nil, curve.ErrInvalidPublicKey // libsignal: base keys must be canonical
	}
	inner, err := ratchetcore.ParseMessage(pm.Message)
	if err != nil {
		return nil, err
	}
	k, err := parseResponder(resp)
	if err != nil {
		return nil, err
	}
	if pm.SignedPreKeyID != resp.SignedPreKeyID || pm.KyberPreKeyID != resp.KyberPreKeyID ||
		pm.HasPreKeyID && (k.oneTimePreKey == nil || pm.PreKeyID != resp.OneTimePreKeyID) {
		return nil, session.ErrUnknownPreKey
	}
	opk := k.oneTimePreKey
	if !pm.HasPreKeyID {
		opk = nil
	}
	ss, err := k.kyber.Decapsulate(pm.KyberCiphertext)
	if err != nil {
		return nil, err
	}
	out, err := specPQXDHResponder(k.identity, k.signedPreKey, opk, identity, base, ss)
	if err != nil {
		return nil, err
	}
	keys, err := initialKeys(out.Root, out.Chain, out.SPQR)
	if err != nil {
		return nil, err
	}
	f := &feed{}
	st, err := newRatchetResponder(keys, k.signedPreKey, resp.IdentityKey, pm.IdentityKey)
	if err != nil {
		return nil, err
	}
	f.load(nextKey(resp, 0))
	return st.DecryptMessage(inner, specAddresses(from, resp.Address), f)
}

// initiatePipeline is the initiator's processing of a bundle, step by step:
// parse the keys, verify both prekey signatures, encapsulate and agree.
func initiatePipeline(b *bundle, p *party) error {
	identity, err := curve.ParsePublicKey(b.IdentityKey)
	if err != nil {
		return err
	}
	spk, err := curve.ParsePublicKey(b.SignedPreKey)
	if err != nil {
		return err
	}
	var opk *curve.PublicKey
	if b.PreKey != nil {
		if opk, err = curve.ParsePublicKey(b.PreKey); err != nil {
			return err
		}
	}
	kyber, err := kem.ParsePublicKey(b.KyberPreKey)
	if err != nil {
		return err
	}
	if !identity.Verify(b.SignedPreKey, b.SignedPreKeySignature) || !identity.Verify(b.KyberPreKey, b.KyberPreKeySignature) {
		return session.ErrInvalidSignature
	}
	ik, err := parseInitiator(p)
	if err != nil {
		return err
	}
	_, ss, err := kyber.EncapsulateDeterministic(p.EncapsulationSeed)
	if err != nil {
		return err
	}
	_, err = specPQXDHInitiator(ik.identity, ik.base, identity, spk, opk, ss)
	return err
}

// nextKey returns the party's ratchet private key number i, or filler.
func nextKey(p *party, i int) []byte {
	if i < len(p.RatchetPrivates) {
		return p.RatchetPrivates[i]
	}
	return filler
}
