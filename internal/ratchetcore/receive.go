package ratchetcore

import (
	"crypto/subtle"
	"io"

	"github.com/sotto-im/sotto/internal/curve"
)

// Decryption (RatchetDecrypt, Double Ratchet section 3.5) is transactional:
// rather than copying the whole State, Decrypt first computes a recvPlan —
// which chain, which key, what would be stored — from the State without
// changing it, then verifies the MAC and decrypts, and only then applies
// the plan.

// recvPlan is everything a successful decryption changes.
type recvPlan struct {
	chain int // index of the receiver chain, or -1 for a new chain (DH step)

	// DH ratchet step (chain == -1).
	newRoot     rootKey
	newReceiver receiverChain
	newSender   senderChain

	seed    messageKeySeed // the message's key seed
	usedAt  int            // index of a consumed skipped key, or -1
	advance bool
	key     chainKey     // the chain key after the message
	index   uint32       // the chain index after the message
	skipped []skippedKey // seeds of skipped messages to store
}

// Decrypt authenticates and decrypts a serialized SignalMessage.
//
// expectedAddresses is what the message's addresses field must equal if it
// has one (AddressesSize bytes: sender then recipient); a message without
// the field is accepted, as by libsignal. Pass nil if the addresses are not
// service ids, in which case a message carrying the field is rejected.
//
// A DH ratchet step draws its new key pair from r (nil: crypto/rand).
//
// On any error the State is unchanged. Errors: ErrMalformedMessage,
// ErrUnsupportedVersion, ErrAddressMismatch, ErrDuplicateMessage,
// ErrTooFarAhead, ErrSPQR (with its reason), ErrAuthentication,
// ErrBadPadding, ErrInvalidKey; or r's error.
func (s *State) Decrypt(message, expectedAddresses []byte, r io.Reader) ([]byte, error) {
	var m Message
	if err := m.Parse(message); err != nil {
		return nil, err
	}
	return s.DecryptMessage(&m, expectedAddresses, r)
}

// DecryptMessage is Decrypt for an already parsed message.
func (s *State) DecryptMessage(m *Message, expectedAddresses []byte, r io.Reader) ([]byte, error) {
	o, err := s.Open(m, expectedAddresses, r)
	if err != nil {
		return nil, err
	}
	o.Commit()
	return o.Plaintext, nil
}

// Opened is a message that authenticated and decrypted but whose changes to
// its State are not applied yet: Commit applies them, Discard drops them. A
// session layer that must check more before it accepts a message (the
// sender's identity, say) opens it, checks, and commits only then, so that a
// refusal leaves the State untouched without copying it. Nothing else may
// change the State between Open and Commit.
type Opened struct {
	// Plaintext is the decrypted message.
	Plaintext []byte

	s    *State
	plan recvPlan
	pq   pqRecvPlan
}

// Open authenticates and decrypts m as Decrypt does, without changing s.
func (s *State) Open(m *Message, expectedAddresses []byte, r io.Reader) (*Opened, error) {
	if !m.valid() {
		return nil, ErrMalformedMessage
	}
	if m.Addresses != nil {
		if len(expectedAddresses) != AddressesSize ||
			subtle.ConstantTimeCompare(m.Addresses, expectedAddresses) != 1 {
			return nil, ErrAddressMismatch
		}
	}
	o := &Opened{s: s}
	var err error
	if o.plan, err = s.planReceive(m, r); err != nil {
		o.plan.wipe()
		return nil, err
	}
	// SPQR is processed before the MAC, as libsignal does; its plan is
	// applied only with the rest.
	if o.pq, err = s.pq.planRecv(m.PQRatchet); err != nil {
		o.Discard()
		return nil, err
	}
	var salt []byte
	if o.pq.hasKey {
		salt = o.pq.key[:]
	}
	mk := deriveMessageKeys(&o.plan.seed, salt)
	defer mk.wipe()
	if !verifyMAC(&mk.macKey, &s.remoteIdentity, &s.localIdentity, m.Serialized) {
		o.Discard()
		return nil, ErrAuthentication
	}
	if o.Plaintext, err = decryptCBC(&mk, m.Ciphertext); err != nil {
		o.Discard()
		return nil, err
	}
	return o, nil
}

// Commit applies the opened message's changes to its State.
func (o *Opened) Commit() {
	if o.s == nil {
		return
	}
	o.s.applyReceive(&o.plan)
	o.s.pq.applyRecv(&o.pq)
	o.Discard()
}

// Discard wipes what Open computed without applying it. The plaintext stays.
func (o *Opened) Discard() {
	o.plan.wipe()
	o.pq.wipe()
	o.s = nil
}

// planReceive finds or derives the message's key seed without changing s
// (the receiving half of RatchetDecrypt: TrySkippedMessageKeys,
// SkipMessageKeys and DHRatchet).
func (s *State) planReceive(m *Message, r io.Reader) (recvPlan, error) {
	p := recvPlan{chain: -1, usedAt: -1}
	var chain *receiverChain
	for i := range s.receivers {
		if s.receivers[i].ratchetKey.Equal(m.ratchetKey) {
			p.chain, chain = i, &s.receivers[i]
			break
		}
	}
	if chain == nil {
		if err := s.planDHStep(&p, m.ratchetKey, r); err != nil {
			return p, err
		}
		chain = &p.newReceiver
	}

	counter := m.Counter
	if counter < chain.index {
		for i := range chain.skipped {
			if chain.skipped[i].index == counter {
				p.usedAt, p.seed = i, chain.skipped[i].seed
				return p, nil
			}
		}
		return p, ErrDuplicateMessage
	}
	if counter-chain.index > MaxForwardJump {
		return p, ErrTooFarAhead
	}
	ck := chain.key
	for i := chain.index; i < counter; i++ {
		var seed messageKeySeed
		seed, ck = kdfCK(&ck)
		if counter-i <= MaxSkippedKeys {
			p.skipped = append(p.skipped, skippedKey{index: i, seed: seed})
		}
		clear(seed[:])
	}
	p.seed, p.key = kdfCK(&ck)
	clear(ck[:])
	p.index = counter + 1
	p.advance = true
	return p, nil
}

// planDHStep performs the Double Ratchet DH step (DHRatchet, section 3.5)
// for a new peer ratchet key into p: a receiving chain from DH(our key,
// theirs), then a new key pair drawn from r and a sending chain from DH(new
// key, theirs).
func (s *State) planDHStep(p *recvPlan, theirs *curve.PublicKey, r io.Reader) error {
	priv, err := s.sender.privateKey()
	if err != nil {
		return ErrMalformedState
	}
	dh, err := priv.ECDH(theirs)
	if err != nil {
		return ErrInvalidKey
	}
	root, recvKey := kdfRK(&s.rootKey, dh)
	clear(dh)
	ours, err := curve.GenerateKey(orRand(r))
	if err != nil {
		return err
	}
	dh, err = ours.ECDH(theirs)
	if err != nil {
		return ErrInvalidKey
	}
	var sendKey chainKey
	p.newRoot, sendKey = kdfRK(&root, dh)
	clear(dh)
	clear(root[:])
	p.newSender = newSenderChain(ours, sendKey)
	p.newReceiver = receiverChain{ratchetKey: theirs, key: recvKey}
	return nil
}

// applyReceive commits a plan made by planReceive.
func (s *State) applyReceive(p *recvPlan) {
	var chain *receiverChain
	if p.chain < 0 {
		s.rootKey = p.newRoot
		if s.sender.index > 0 {
			s.previousCounter = s.sender.index - 1
		} else {
			s.previousCounter = 0
		}
		s.sender.wipe()
		s.sender = p.newSender
		s.receivers = append(s.receivers, p.newReceiver)
		if len(s.receivers) > MaxReceiverChains {
			s.receivers[0].wipe()
			s.receivers = append(s.receivers[:0], s.receivers[1:]...)
		}
		chain = &s.receivers[len(s.receivers)-1]
		p.newSender, p.newReceiver = senderChain{}, receiverChain{}
	} else {
		chain = &s.receivers[p.chain]
	}
	if p.usedAt >= 0 {
		clear(chain.skipped[p.usedAt].seed[:])
		chain.skipped = append(chain.skipped[:p.usedAt], chain.skipped[p.usedAt+1:]...)
	}
	if p.advance {
		chain.skipped = append(chain.skipped, p.skipped...)
		if n := len(chain.skipped) - MaxSkippedKeys; n > 0 {
			clearSkipped(chain.skipped[:n])
			chain.skipped = append(chain.skipped[:0], chain.skipped[n:]...)
		}
		chain.key, chain.index = p.key, p.index
		clearSkipped(p.skipped)
		p.skipped = nil
	}
}

// wipe clears the plan's secrets; after applyReceive they live in the State.
func (p *recvPlan) wipe() {
	clear(p.seed[:])
	clear(p.key[:])
	clear(p.newRoot[:])
	p.newSender.wipe()
	p.newReceiver.wipe()
	clearSkipped(p.skipped)
}

func (c *senderChain) wipe() {
	clear(c.key[:])
	clear(c.raw[:])
}

func (c *receiverChain) wipe() {
	clear(c.key[:])
	clearSkipped(c.skipped)
}

func clearSkipped(ks []skippedKey) {
	for i := range ks {
		clear(ks[i].seed[:])
	}
}
