package testvectors

// Shared by the PQXDH, ratchet and conversation generators: parties drawn
// from seeded streams, the PQXDH agreement between them, and a sender that
// encrypts Double Ratchet messages with the independent implementation of
// spec.go (to cross-check Sotto's messages and to craft malformed ones).

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/kem"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
)

// genAddress returns a service-id address with a UUID drawn from the label.
func genAddress(label string, device uint32) address {
	u := randBytes(label+" aci", 16)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(u)
	return address{Name: h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], DeviceID: device}
}

// genRegistrationID returns a registration id in libsignal's 1..16380.
func genRegistrationID(label string) uint32 {
	return uint32(binary.BigEndian.Uint16(randBytes(label+" registration id", 2)))%16380 + 1
}

// genRatchetKeys fills the party's ratchet key list with n keys.
func genRatchetKeys(p *party, label string, n int) {
	p.RatchetPrivates, p.RatchetKeys = nil, nil
	for i := range n {
		raw := randBytes(fmt.Sprintf("%s ratchet key %d", label, i), 32)
		p.RatchetPrivates = append(p.RatchetPrivates, raw)
		p.RatchetKeys = append(p.RatchetKeys, must(curve.NewPrivateKey(raw)).PublicKey().Bytes())
	}
}

// trimRatchetKeys keeps the first n ratchet keys (those the party used).
func trimRatchetKeys(p *party, n int) {
	p.RatchetPrivates, p.RatchetKeys = p.RatchetPrivates[:n], p.RatchetKeys[:n]
}

// genInitiator draws an initiator: identity, base key, encapsulation seed.
func genInitiator(label string, device uint32) party {
	p := party{Address: genAddress(label, device), RegistrationID: genRegistrationID(label)}
	p.IdentityPrivate = randBytes(label+" identity", 32)
	p.IdentityKey = must(curve.NewPrivateKey(p.IdentityPrivate)).PublicKey().Bytes()
	p.BasePrivate = randBytes(label+" base key", 32)
	p.BaseKey = must(curve.NewPrivateKey(p.BasePrivate)).PublicKey().Bytes()
	p.EncapsulationSeed = randBytes(label+" encapsulation seed", kem.EncapsulationSeedSize)
	return p
}

// genResponder draws a responder with its prekeys, signed with fixed Z.
// The prekey ids are those of libsignal's example PreKey message.
func genResponder(label string, device uint32, withOneTimePreKey bool) party {
	p := party{Address: genAddress(label, device), RegistrationID: genRegistrationID(label)}
	p.IdentityPrivate = randBytes(label+" identity", 32)
	id := must(curve.NewPrivateKey(p.IdentityPrivate))
	p.IdentityKey = id.PublicKey().Bytes()

	p.SignedPreKeyID = 42
	p.SignedPreKeyPrivate = randBytes(label+" signed prekey", 32)
	p.SignedPreKey = must(curve.NewPrivateKey(p.SignedPreKeyPrivate)).PublicKey().Bytes()
	p.SignedPreKeySignatureRandom = randBytes(label+" signed prekey Z", 64)
	p.SignedPreKeySignature = id.SignWithRandom(p.SignedPreKey, (*[64]byte)(p.SignedPreKeySignatureRandom))

	p.KyberPreKeyID = 777
	p.KyberPreKeySeed = randBytes(label+" Kyber prekey seed", kem.KeySeedSize)
	k := must(kem.GenerateKeyDeterministic(p.KyberPreKeySeed))
	p.KyberPreKey, p.KyberPreKeySecret = k.PublicKey().Bytes(), k.Bytes()
	p.KyberPreKeySignatureRandom = randBytes(label+" Kyber prekey Z", 64)
	p.KyberPreKeySignature = id.SignWithRandom(p.KyberPreKey, (*[64]byte)(p.KyberPreKeySignatureRandom))

	if withOneTimePreKey {
		p.OneTimePreKeyID = 31337
		p.OneTimePreKeyPrivate = randBytes(label+" one-time prekey", 32)
		p.OneTimePreKey = must(curve.NewPrivateKey(p.OneTimePreKeyPrivate)).PublicKey().Bytes()
	}
	return p
}

// bundleOf is the bundle the responder publishes.
func bundleOf(p *party, deviceID uint32) bundle {
	return bundle{
		RegistrationID: p.RegistrationID, DeviceID: deviceID,
		PreKeyID: p.OneTimePreKeyID, PreKey: p.OneTimePreKey,
		SignedPreKeyID: p.SignedPreKeyID, SignedPreKey: p.SignedPreKey, SignedPreKeySignature: p.SignedPreKeySignature,
		IdentityKey:   p.IdentityKey,
		KyberPreKeyID: p.KyberPreKeyID, KyberPreKey: p.KyberPreKey, KyberPreKeySignature: p.KyberPreKeySignature,
	}
}

// agreement is PQXDH between an initiator and a responder, computed from
// both sides with the independent implementation and checked to agree.
type agreement struct {
	ct, ss []byte
	out    *specPQXDH
	keys   ratchetcore.InitialKeys
}

func agree(alice, bob *party) *agreement {
	rk := must(parseResponder(bob))
	ik := must(parseInitiator(alice))
	ct, ss := must2(rk.kyber.PublicKey().EncapsulateDeterministic(alice.EncapsulationSeed))
	var opk *curve.PublicKey
	if rk.oneTimePreKey != nil {
		opk = rk.oneTimePreKey.PublicKey()
	}
	a := must(specPQXDHInitiator(ik.identity, ik.base, rk.identity.PublicKey(), rk.signedPreKey.PublicKey(), opk, ss))
	b := must(specPQXDHResponder(rk.identity, rk.signedPreKey, rk.oneTimePreKey, ik.identity.PublicKey(), ik.base.PublicKey(),
		must(rk.kyber.Decapsulate(ct))))
	if string(a.SecretInput) != string(b.SecretInput) {
		panic("generator: PQXDH sides disagree")
	}
	return &agreement{ct: ct, ss: ss, out: a, keys: must(initialKeys(a.Root, a.Chain, a.SPQR))}
}

// specSender is one party's sending side of a session, with the
// independent implementation: the root key, the sending chain, the SPQR
// send chain. It follows the party's DH ratchet steps (dhStep) but keeps no
// receiving chains: Sotto decrypts.
type specSender struct {
	root, ck      []byte
	priv          *curve.PrivateKey
	index, prev   uint32
	spqrStart     []byte
	spqrCtr       uint32
	local, remote []byte // identity keys, sender first
}

// newInitiatorSender is Alice's sender right after PQXDH: KDF_RK over DH of
// her first ratchet key and Bob's signed prekey.
func newInitiatorSender(keys ratchetcore.InitialKeys, ratchet0 *curve.PrivateKey, spk *curve.PublicKey, local, remote []byte) *specSender {
	root, ck := specKDFRK(keys.Root[:], must(specDH(ratchet0, spk)))
	_, a2b, _ := specSPQRStart(keys.SPQR[:])
	return &specSender{root: root, ck: ck, priv: ratchet0, spqrStart: a2b, local: local, remote: remote}
}

// newResponderSender is Bob's sender: the PQXDH chain key on his signed
// prekey.
func newResponderSender(keys ratchetcore.InitialKeys, spk *curve.PrivateKey, local, remote []byte) *specSender {
	_, _, b2a := specSPQRStart(keys.SPQR[:])
	return &specSender{root: keys.Root[:], ck: keys.Chain[:], priv: spk, spqrStart: b2a, local: local, remote: remote}
}

// craftOpts alter a crafted message. The zero value is the sender's next
// regular message of an empty plaintext.
type craftOpts struct {
	plaintext  []byte
	blocks     []byte  // raw CBC blocks encrypted without padding, instead of plaintext
	version    byte    // version byte; 0 means 0x44
	pq         []byte  // SPQR message instead of the regular one
	noPQ       bool    // no SPQR message (and no salt)
	pqIndex    *uint32 // SPQR key index instead of the regular one (0: no salt)
	unsalted   bool    // message keys without the SPQR salt, whatever the SPQR message says
	addresses  []byte  // addresses field
	ratchetKey []byte  // serialized ratchet key instead of the sender's
	swapIDs    bool    // MAC over the identities in the wrong order
	rewrite    func(body []byte) []byte
}

// craft builds the message ahead positions after the next one, without
// advancing the sender.
func (s *specSender) craft(ahead uint32, o craftOpts) []byte {
	ck := specChainKeyAt(s.ck, ahead)
	seed, _ := specKDFCK(ck)
	idx := s.spqrCtr + 1 + ahead
	if o.pqIndex != nil {
		idx = *o.pqIndex
	}
	var salt []byte
	if idx > 0 && !o.noPQ && !o.unsalted {
		salt, _ = specSPQRKeyAt(s.spqrStart, idx)
	}
	pq := o.pq
	if pq == nil && !o.noPQ {
		pq = specSPQRMessage(1, idx, 0, 0, nil)
	}
	cipherKey, macKey, iv := specMessageKeys(seed, salt)
	var ct []byte
	if o.blocks != nil {
		ct = specEncryptBlocks(cipherKey, iv, o.blocks)
	} else {
		ct = specEncryptCBC(cipherKey, iv, o.plaintext)
	}
	version := o.version
	if version == 0 {
		version = specVersionByte
	}
	rk := o.ratchetKey
	if rk == nil {
		rk = s.priv.PublicKey().Bytes()
	}
	body := specSignalMessageBody(version, rk, s.index+ahead, s.prev, ct, pq, o.addresses)
	if o.rewrite != nil {
		body = o.rewrite(body)
	}
	local, remote := s.local, s.remote
	if o.swapIDs {
		local, remote = remote, local
	}
	return append(body, specMAC(macKey, local, remote, body)...)
}

// send encrypts the next regular message and advances the sender.
func (s *specSender) send(plaintext, addresses []byte) []byte {
	m := s.craft(0, craftOpts{plaintext: plaintext, addresses: addresses})
	_, s.ck = specKDFCK(s.ck)
	s.index++
	s.spqrCtr++
	return m
}

// dhStep follows the party's DH ratchet step on receiving their new
// ratchet key, with next as its new key pair.
func (s *specSender) dhStep(their *curve.PublicKey, next *curve.PrivateKey) {
	s.root, _ = specKDFRK(s.root, must(specDH(s.priv, their)))
	s.priv = next
	s.root, s.ck = specKDFRK(s.root, must(specDH(next, their)))
	s.prev = max(s.index, 1) - 1
	s.index = 0
}

// wrap puts a SignalMessage in the initiator's PreKey message, checking
// Sotto's encoding (internal/wire) against the independent one.
func wrap(alice *party, b *bundle, ct, inner []byte) []byte {
	w := preKeyWrapper(alice, b, ct, inner)
	got := w.Marshal()
	spec := specPreKeyMessage(specVersionByte, &specPreKeyFields{
		HasPreKeyID: w.HasPreKeyID, PreKeyID: w.PreKeyID, BaseKey: w.BaseKey, IdentityKey: w.IdentityKey,
		Message: inner, RegistrationID: w.RegistrationID, SignedPreKeyID: w.SignedPreKeyID,
		KyberPreKeyID: w.KyberPreKeyID, KyberCiphertext: w.KyberCiphertext,
	})
	if string(got) != string(spec) {
		panic("generator: PreKey message encodings disagree")
	}
	return got
}

// rewrapped replaces the message inside a PreKey message.
func rewrapped(body, inner []byte) []byte {
	pm := must(wire.ParsePreKeySignalMessage(body))
	pm.Message = inner
	return pm.Marshal()
}

// innerOf returns the SignalMessage inside a PreKey message.
func innerOf(body []byte) []byte { return must(wire.ParsePreKeySignalMessage(body)).Message }
