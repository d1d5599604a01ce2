package ratchet

import (
	"crypto/subtle"

	"github.com/sotto-im/sotto/internal/curve"
)

// Decryption is transactional (house style: "work on a copy; commit only
// after authentication"). Rather than copying the whole State, Decrypt first
// computes a recvPlan — which chain, which key, what would be stored — from
// the State without changing it, then verifies the MAC and decrypts, and
// only then applies the plan.

// recvPlan is everything a successful decryption changes.
type recvPlan struct {
	chain int // index of the receiver chain, or -1 for a new chain (DH step)

	// DH ratchet step (chain == -1).
	newRoot     [keySize]byte
	newReceiver receiverChain
	newSender   senderChain

	seed    [keySize]byte // the message's key seed
	usedAt  int           // index of a consumed skipped key, or -1
	advance bool
	key     [keySize]byte // the chain key after the message
	index   uint32        // the chain index after the message
	skipped []skippedKey  // seeds of skipped messages to store
}

// Decrypt authenticates and decrypts a serialized SignalMessage.
//
// expectedAddresses is what the message's addresses field must equal if it
// has one (AddressesSize bytes: sender then recipient); a message without
// the field is accepted, as by libsignal. Pass nil if the addresses are not
// service ids, in which case a message carrying the field is rejected.
//
// On any error the State is unchanged. Errors: ErrMalformedMessage,
// ErrUnsupportedVersion, ErrAddressMismatch, ErrDuplicateMessage,
// ErrTooFarAhead, *SPQRError, ErrAuthentication, ErrBadPadding.
func (s *State) Decrypt(message, expectedAddresses []byte) ([]byte, error) {
	m, err := ParseSignalMessage(message)
	if err != nil {
		return nil, err
	}
	return s.DecryptMessage(m, expectedAddresses)
}

// DecryptMessage is Decrypt for an already parsed message.
func (s *State) DecryptMessage(m *SignalMessage, expectedAddresses []byte) ([]byte, error) {
	return s.DecryptMessageWithin(m, expectedAddresses, nil)
}

// WorkBudget bounds the chain steps that one incoming message may cost
// across every State it is tried against. A session layer that tries a
// message against several sessions (Sesame's trial decryption over archived
// sessions) passes one budget to each try, so a forged message costs at most
// MaxForwardJump Double Ratchet steps and as many SPQR steps in all — not
// that much per session tried. A try that would exceed what is left fails
// with ErrTooFarAhead (or an *SPQRError for the SPQR chain).
type WorkBudget struct {
	dr, pq int
}

// NewWorkBudget returns a budget of MaxForwardJump steps for each chain.
func NewWorkBudget() *WorkBudget { return &WorkBudget{dr: MaxForwardJump, pq: MaxForwardJump} }

// DecryptMessageWithin is DecryptMessage drawing its chain steps from
// budget (nil: no budget beyond the per-message limits).
func (s *State) DecryptMessageWithin(m *SignalMessage, expectedAddresses []byte, budget *WorkBudget) ([]byte, error) {
	if m.Addresses != nil {
		if len(expectedAddresses) != AddressesSize ||
			subtle.ConstantTimeCompare(m.Addresses, expectedAddresses) != 1 {
			return nil, ErrAddressMismatch
		}
	}
	plan, err := s.planReceive(m, budget)
	if err != nil {
		return nil, err
	}
	defer plan.wipe()
	var pqBudget *int
	if budget != nil {
		pqBudget = &budget.pq
	}
	pqPlan, err := s.pq.planRecv(m.PQRatchet, pqBudget)
	if err != nil {
		return nil, err
	}
	var salt []byte
	if pqPlan.hasKey {
		salt = pqPlan.key[:]
	}
	mk := deriveMessageKeys(&plan.seed, salt)
	defer mk.wipe()
	clear(pqPlan.key[:])
	if !verifyMAC(&mk.macKey, &s.remoteIdentity, &s.localIdentity, m.serialized) {
		return nil, ErrAuthentication
	}
	plaintext, err := decryptCBC(&mk, m.Ciphertext)
	if err != nil {
		return nil, err
	}
	s.applyReceive(&plan)
	s.pq.applyRecv(&pqPlan)
	return plaintext, nil
}

// planReceive finds or derives the message's key seed without changing s.
func (s *State) planReceive(m *SignalMessage, budget *WorkBudget) (recvPlan, error) {
	p := recvPlan{chain: -1, usedAt: -1}
	var chain *receiverChain
	for i := range s.receivers {
		if s.receivers[i].ratchetKey.Equal(m.RatchetKey) {
			p.chain, chain = i, &s.receivers[i]
			break
		}
	}
	if chain == nil {
		if err := s.planDHStep(&p, m.RatchetKey); err != nil {
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
	if budget != nil {
		if int(counter-chain.index) > budget.dr {
			return p, ErrTooFarAhead
		}
		budget.dr -= int(counter - chain.index)
	}
	ck := chain.key
	for i := chain.index; i < counter; i++ {
		var seed [keySize]byte
		seed, ck = kdfCK(&ck)
		if counter-i <= MaxSkippedKeys {
			p.skipped = append(p.skipped, skippedKey{index: i, seed: seed})
		}
	}
	p.seed, p.key = kdfCK(&ck)
	clear(ck[:])
	p.index = counter + 1
	p.advance = true
	return p, nil
}

// planDHStep performs the Double Ratchet DH step (§3.5) for a new peer
// ratchet key into p: a receiving chain from DH(our key, theirs), then a new
// key pair and a sending chain from DH(new key, theirs).
func (s *State) planDHStep(p *recvPlan, theirs *curve.PublicKey) error {
	priv, err := s.sender.privateKey()
	if err != nil {
		return err
	}
	dh, err := priv.ECDH(theirs)
	if err != nil {
		return ErrMalformedMessage
	}
	root, recvKey := kdfRK(&s.rootKey, dh)
	clear(dh)
	ours, err := curve.GenerateKey(s.rng())
	if err != nil {
		return err
	}
	dh, err = ours.ECDH(theirs)
	if err != nil {
		return ErrMalformedMessage
	}
	p.newRoot, p.newSender.key = kdfRK(&root, dh)
	clear(dh)
	clear(root[:])
	p.newSender = newSenderChain(ours, p.newSender.key)
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
		p.skipped = nil
	}
}

func (p *recvPlan) wipe() {
	clear(p.seed[:])
	clear(p.key[:])
	clear(p.newRoot[:])
	clear(p.newSender.key[:])
	clear(p.newReceiver.key[:])
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
