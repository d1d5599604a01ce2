package testvectors

import (
	"bytes"

	"github.com/sotto-im/sotto/internal/curve"
	"github.com/sotto-im/sotto/internal/ratchetcore"
)

// ratchet.json: the Double Ratchet key schedule and the SignalMessage
// encoding.
//
// The ratchet package exposes no KDF, so the key-schedule groups (RootKDF,
// ChainKDF, MessageKeys, SPQRChain) are recomputed with the independent
// implementation of spec.go: the bytes any implementation must reproduce.
// Each RootKDF and ChainKDF case is also tied to Sotto: a ratchetcore.State
// seeded with the case's inputs must send a first message that opens, under
// the independent implementation, with exactly the keys the case lists. The
// SignalMessage group runs through ratchet's public API end to end: the
// initiator regenerates each message byte for byte, ParseSignalMessage reads
// back every field, and a responder decrypts it (or rejects a crafted one
// with the error class, leaving its state byte-identical).

func verifyRatchet(data []byte, r *fileReport) error {
	f, err := decodeFile[ratchetGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		groupErr := safely(func() error { return checkRatchetGroup(g) })
		for i := range g.Tests {
			t := &g.Tests[i]
			err := groupErr
			if err == nil {
				err = safely(func() error { return checkRatchetCase(g, t) })
			}
			r.record(&t.caseID, &t.caseResult, err)
		}
	}
	return nil
}

// checkRatchetGroup checks the values a group derives from its inputs.
func checkRatchetGroup(g *ratchetGroup) error {
	switch g.Type {
	case typeSPQRChain:
		nextRoot, a2b, b2a := specSPQRStart(g.SPQRKey)
		return first(
			equal("SPQR next root", nextRoot, g.NextRoot),
			equal("SPQR A2B chain start", a2b, g.A2BChainKey),
			equal("SPQR B2A chain start", b2a, g.B2AChainKey),
		)
	case typeSignalMessage:
		priv, err := curve.NewPrivateKey(g.SenderRatchetPrivate)
		if err != nil {
			return errorf("sender ratchet key: %v", err)
		}
		recv, err := curve.NewPrivateKey(g.ReceiverRatchetPrivate)
		if err != nil {
			return errorf("receiver ratchet key: %v", err)
		}
		dh, err := specDH(priv, recv.PublicKey())
		if err != nil {
			return err
		}
		root, ck := specKDFRK(g.RootKey, dh)
		return first(
			equal("sender ratchet key", priv.PublicKey().Bytes(), g.SenderRatchetKey),
			equal("receiver ratchet key", recv.PublicKey().Bytes(), g.ReceiverRatchetKey),
			equal("sending root key", root, g.SendingRootKey),
			equal("sending chain key", ck, g.SendingChainKey),
		)
	}
	return nil
}

func checkRatchetCase(g *ratchetGroup, t *ratchetTest) error {
	switch g.Type {
	case typeRootKDF:
		return checkRootKDF(t)
	case typeChainKDF:
		return checkChainKDF(g, t)
	case typeMessageKeys:
		ck, mk, iv := specMessageKeys(t.MessageKeySeed, t.Salt)
		return first(
			equal("cipher key", ck, t.CipherKey),
			equal("MAC key", mk, t.MacKey),
			equal("IV", iv, t.IV),
			expect(&t.caseResult, nil),
		)
	case typeSPQRChain:
		if t.Index == nil || *t.Index == 0 {
			return errorf("SPQR chain case without an index >= 1")
		}
		start := g.A2BChainKey
		switch t.Direction {
		case "A2B":
		case "B2A":
			start = g.B2AChainKey
		default:
			return errorf("direction %q is neither A2B nor B2A", t.Direction)
		}
		key, next := specSPQRKeyAt(start, *t.Index)
		return first(equal("SPQR key", key, t.Key), equal("SPQR next", next, t.Next), expect(&t.caseResult, nil))
	case typeSignalMessage:
		if t.Counter != nil {
			return checkSignalMessage(g, t)
		}
		return checkCraftedMessage(g, t)
	}
	return errorf("unknown group type %q", g.Type)
}

// tieIdentity is the identity key of the throwaway sessions that tie KDF
// cases to Sotto: the MAC covers identities, any valid key does.
var tieIdentity = func() []byte {
	k, _ := curve.NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	return k.PublicKey().Bytes()
}()

// tieSPQRKey is the SPQR key of those sessions.
var tieSPQRKey = make([]byte, 32)

// openFirst checks, with the independent implementation, that msg is the
// message number counter of a chain whose key at that counter is ck, salted
// with the SPQR key of the given direction and index counter+1, and that it
// carries plaintext.
func openFirst(msg, ck []byte, counter uint32, spqrStart []byte, plaintext []byte) error {
	m, err := ratchetcore.ParseMessage(msg)
	if err != nil {
		return errorf("Sotto's message does not parse: %v", err)
	}
	seed, _ := specKDFCK(ck)
	salt, _ := specSPQRKeyAt(spqrStart, counter+1)
	cipherKey, macKey, iv := specMessageKeys(seed, salt)
	if m.Counter != counter {
		return errorf("Sotto's message has counter %d, want %d", m.Counter, counter)
	}
	if err := equal("MAC of Sotto's message under the listed keys",
		specMAC(macKey, tieIdentity, tieIdentity, msg[:len(msg)-8]), msg[len(msg)-8:]); err != nil {
		return err
	}
	return equal("ciphertext of Sotto's message under the listed keys", specEncryptCBC(cipherKey, iv, plaintext), m.Ciphertext)
}

// checkRootKDF: X25519 and KDF_RK, then Sotto's NewInitiator, which applies
// KDF_RK to the same inputs, must send a first message under the listed
// chain key.
func checkRootKDF(t *ratchetTest) error {
	priv, err := curve.NewPrivateKey(t.OurPrivate)
	if err != nil {
		return errorf("our private key: %v", err)
	}
	pub, err := curve.ParsePublicKey(t.TheirPublic)
	if err != nil {
		return expect(&t.caseResult, err)
	}
	dh, err := specDH(priv, pub)
	if err == nil {
		root, ck := specKDFRK(t.RootKey, dh)
		if err := first(
			equal("DH output", dh, t.DHOutput),
			equal("new root key", root, t.NewRootKey),
			equal("chain key", ck, t.ChainKey),
		); err != nil {
			return err
		}
	}
	if err := expect(&t.caseResult, err); err != nil {
		return err
	}

	var keys ratchetcore.InitialKeys
	copy(keys.Root[:], t.RootKey)
	copy(keys.SPQR[:], tieSPQRKey)
	st, err := newRatchetInitiator(keys, t.TheirPublic, tieIdentity, tieIdentity, t.OurPrivate, &feed{})
	if err := expect(&t.caseResult, err); err != nil {
		return errorf("ratchetcore.NewInitiator: %v", err)
	}
	if t.Result == resultInvalid {
		return nil
	}
	msg, err := st.Encrypt(nil, nil)
	if err != nil {
		return errorf("Encrypt: %v", err)
	}
	_, a2b, _ := specSPQRStart(tieSPQRKey)
	return openFirst(msg, t.ChainKey, 0, a2b, nil)
}

// checkChainKDF: KDF_CK steps, then a responder State whose sending chain
// starts at the group's chain key must send its message number index under
// the listed message-key seed.
func checkChainKDF(g *ratchetGroup, t *ratchetTest) error {
	if t.Index == nil {
		return errorf("chain case without an index")
	}
	ck := specChainKeyAt(g.ChainKey, *t.Index)
	seed, next := specKDFCK(ck)
	cipherKey, macKey, iv := specMessageKeys(seed, nil)
	if err := first(
		equal("chain key", ck, t.ChainKey),
		equal("message key seed", seed, t.MessageKeySeed),
		equal("next chain key", next, t.NextChainKey),
		equal("unsalted cipher key", cipherKey, t.CipherKey),
		equal("unsalted MAC key", macKey, t.MacKey),
		equal("unsalted IV", iv, t.IV),
		expect(&t.caseResult, nil),
	); err != nil {
		return err
	}
	var keys ratchetcore.InitialKeys
	copy(keys.Chain[:], g.ChainKey)
	copy(keys.SPQR[:], tieSPQRKey)
	ours, _ := curve.NewPrivateKey(bytes.Repeat([]byte{0x22}, 32))
	st, err := newRatchetResponder(keys, ours, tieIdentity, tieIdentity)
	if err != nil {
		return errorf("ratchetcore.NewResponder: %v", err)
	}
	var msg []byte
	for range *t.Index + 1 {
		if msg, err = st.Encrypt(nil, nil); err != nil {
			return errorf("Encrypt: %v", err)
		}
	}
	_, _, b2a := specSPQRStart(tieSPQRKey)
	return openFirst(msg, t.ChainKey, *t.Index, b2a, nil)
}

// sessionKeys returns the group's PQXDH output.
func (g *ratchetGroup) sessionKeys() (ratchetcore.InitialKeys, error) {
	return initialKeys(g.RootKey, g.ChainKey, g.SPQRKey)
}

// newReceiver returns a fresh responder State for the group and its feed.
func (g *ratchetGroup) newReceiver() (*ratchetcore.State, *feed, error) {
	keys, err := g.sessionKeys()
	if err != nil {
		return nil, nil, err
	}
	spk, err := curve.NewPrivateKey(g.ReceiverRatchetPrivate)
	if err != nil {
		return nil, nil, err
	}
	f := &feed{}
	st, err := newRatchetResponder(keys, spk, g.ReceiverIdentity, g.SenderIdentity)
	if err != nil {
		return nil, nil, err
	}
	return st, f, nil
}

// checkSignalMessage: every intermediate value from the listed inputs with
// the independent implementation; then Sotto regenerates, parses and
// decrypts the message.
func checkSignalMessage(g *ratchetGroup, t *ratchetTest) error {
	n := *t.Counter
	ck := specChainKeyAt(g.SendingChainKey, n)
	seed, _ := specKDFCK(ck)
	_, a2b, _ := specSPQRStart(g.SPQRKey)
	spqrKey, _ := specSPQRKeyAt(a2b, n+1)
	cipherKey, macKey, iv := specMessageKeys(seed, spqrKey)
	pq := specSPQRMessage(1, n+1, 0, 0, nil)
	ct := specEncryptCBC(cipherKey, iv, t.Plaintext)
	body := specSignalMessageBody(specVersionByte, g.SenderRatchetKey, n, 0, ct, pq, t.Addresses)
	mac := specMAC(macKey, g.SenderIdentity, g.ReceiverIdentity, body)
	if err := first(
		equal("chain key", ck, t.ChainKey),
		equal("message key seed", seed, t.MessageKeySeed),
		equal("SPQR key", spqrKey, t.Key),
		equal("cipher key", cipherKey, t.CipherKey),
		equal("MAC key", macKey, t.MacKey),
		equal("IV", iv, t.IV),
		equal("SPQR message", pq, t.PQRatchet),
		equal("ciphertext", ct, t.Ciphertext),
		equal("MAC", mac, t.MAC),
		equal("message", append(body, mac...), t.Message),
		expect(&t.caseResult, nil),
	); err != nil {
		return errorf("independent computation: %v", err)
	}

	// Sotto, sending side: the initiator's message number n.
	keys, err := g.sessionKeys()
	if err != nil {
		return err
	}
	alice, err := newRatchetInitiator(keys, g.ReceiverRatchetKey, g.SenderIdentity, g.ReceiverIdentity, g.SenderRatchetPrivate, &feed{})
	if err != nil {
		return errorf("NewInitiator: %v", err)
	}
	var msg []byte
	for i := uint32(0); i <= n; i++ {
		pt, addrs := []byte(nil), []byte(nil)
		if i == n {
			pt, addrs = t.Plaintext, t.Addresses
		}
		if msg, err = alice.Encrypt(pt, addrs); err != nil {
			return errorf("Encrypt: %v", err)
		}
	}
	if err := equal("Sotto's message", msg, t.Message); err != nil {
		return err
	}

	// Parsing reads back every field and keeps the bytes.
	m, err := ratchetcore.ParseMessage(t.Message)
	if err != nil {
		return errorf("ParseSignalMessage: %v", err)
	}
	if m.Version != 4 || m.Counter != n || m.PreviousCounter != 0 {
		return errorf("parsed version %d, counter %d, previous counter %d; want 4, %d, 0", m.Version, m.Counter, m.PreviousCounter, n)
	}
	if err := first(
		equal("parsed ratchet key", bytes.Clone(m.RatchetKey), g.SenderRatchetKey),
		equal("parsed ciphertext", m.Ciphertext, t.Ciphertext),
		equal("parsed SPQR message", m.PQRatchet, t.PQRatchet),
		equal("parsed addresses", m.Addresses, t.Addresses),
		equal("parsed message bytes", m.Serialized, t.Message),
	); err != nil {
		return err
	}

	// Sotto, receiving side.
	bob, f, err := g.newReceiver()
	if err != nil {
		return errorf("NewResponder: %v", err)
	}
	f.load(g.ReceiverNextRatchetPrivate)
	pt, err := bob.Decrypt(t.Message, t.Addresses, f)
	if err != nil {
		return errorf("Decrypt: %v", err)
	}
	return equal("decrypted plaintext", pt, t.Plaintext)
}

// checkCraftedMessage: a fresh responder decrypts the message (Addresses is
// what it expects); a rejected message must leave its state unchanged.
func checkCraftedMessage(g *ratchetGroup, t *ratchetTest) error {
	bob, f, err := g.newReceiver()
	if err != nil {
		return errorf("NewResponder: %v", err)
	}
	before, err := bob.MarshalBinary()
	if err != nil {
		return err
	}
	f.load(g.ReceiverNextRatchetPrivate)
	pt, err := bob.Decrypt(t.Message, t.Addresses, f)
	if err := expect(&t.caseResult, err); err != nil {
		return err
	}
	if t.Result == resultValid {
		return equal("decrypted plaintext", pt, t.Plaintext)
	}
	after, err := bob.MarshalBinary()
	if err != nil {
		return err
	}
	if !bytes.Equal(before, after) {
		return errorf("the rejected message changed the state")
	}
	return nil
}
