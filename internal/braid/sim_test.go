package braid

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/detrand"
)

// The two-party simulation: a test-only driver that moves messages between
// two braid states sharing an auth key, over a network that can delay,
// drop and reorder, and records what each side outputs.

// party is one side of the simulation.
type party struct {
	t       testing.TB
	st      *State
	rand    io.Reader
	secrets map[uint64][32]byte // epoch secrets output, by epoch
	// epochAt[e] is the global message number of the party's first message
	// carrying epoch e.
	epochAt map[uint64]int
	trace   []Message // everything sent
}

func newParty(t testing.TB, key *[32]byte, dir Direction, seed string) *party {
	return &party{t: t, st: New(key, dir), rand: detrand.New(seed),
		secrets: map[uint64][32]byte{}, epochAt: map[uint64]int{}}
}

func (p *party) record(out *EpochSecret) {
	if out == nil {
		return
	}
	_, dup := p.secrets[out.Epoch]
	require.False(p.t, dup, "epoch %d output twice", out.Epoch)
	// Secrets come out in order, 1, 2, 3, ...: the chain requires it.
	require.Len(p.t, p.secrets, int(out.Epoch-1), "epoch %d output out of order", out.Epoch)
	p.secrets[out.Epoch] = out.Key
}

// send is one Send, committed; msgNo is the global message number.
func (p *party) send(msgNo int) Message {
	next, m, out, err := p.st.Send(p.rand)
	require.NoError(p.t, err)
	require.Equal(p.t, p.st.Epoch(), m.Epoch, "a message carries its state's epoch")
	p.commit(next)
	p.record(out)
	if _, seen := p.epochAt[m.Epoch]; !seen {
		p.epochAt[m.Epoch] = msgNo
	}
	p.trace = append(p.trace, m)
	return m
}

func (p *party) recv(m Message) {
	next, out, err := p.st.Recv(m)
	require.NoError(p.t, err)
	p.commit(next)
	p.record(out)
}

// commit replaces the party's state and wipes the old one, as the ratchet
// will: that the run goes on proves the states share no secret memory.
func (p *party) commit(next *State) {
	require.NotSame(p.t, p.st, next)
	old := p.st
	p.st = next
	old.Wipe()
}

// sim is two parties and the messages in flight to each.
type sim struct {
	a, b     *party
	toA, toB []Message
	msgNo    int
	net      *rand.Rand
	loss     float64 // probability that a message is dropped
	reorder  bool    // deliver a random in-flight message instead of the oldest
	delay    int     // messages kept in flight before delivery
}

func newSim(t testing.TB, seed uint64) *sim {
	key := [32]byte{byte(seed), 0x5a}
	return &sim{
		a:   newParty(t, &key, A2B, "sim A"),
		b:   newParty(t, &key, B2A, "sim B"),
		net: rand.New(rand.NewPCG(seed, 99)),
	}
}

// step makes A (fromA) or B send one message, then delivers what the
// network lets through to its peer.
func (s *sim) step(fromA bool) {
	s.msgNo++
	src, dst, q := s.a, s.b, &s.toB
	if !fromA {
		src, dst, q = s.b, s.a, &s.toA
	}
	m := src.send(s.msgNo)
	if s.loss > 0 && s.net.Float64() < s.loss {
		return
	}
	*q = append(*q, m)
	for len(*q) > s.delay {
		i := 0
		if s.reorder {
			i = s.net.IntN(len(*q))
		}
		d := (*q)[i]
		*q = append((*q)[:i], (*q)[i+1:]...)
		dst.recv(d)
	}
}

// run follows a pattern such as "AB" (strict alternation) or "AAB" (2:1)
// for total messages.
func (s *sim) run(pattern string, total int) {
	for i := range total {
		s.step(pattern[i%len(pattern)] == 'A')
	}
}

// checkSecrets requires both parties to hold the same secret for every
// epoch either completed, and returns how many epochs both completed.
func (s *sim) checkSecrets(t testing.TB) int {
	both := 0
	for e, ka := range s.a.secrets {
		if kb, ok := s.b.secrets[e]; ok {
			require.Equal(t, ka, kb, "epoch %d secrets differ", e)
			both++
		}
	}
	return both
}

// firstCarrying returns, for epochs 2..last, the global number of the
// first message (from either side) carrying it.
func (s *sim) firstCarrying(t testing.TB, last uint64) []int {
	var out []int
	for e := uint64(2); e <= last; e++ {
		at, ok := s.a.epochAt[e]
		if bt, bok := s.b.epochAt[e]; bok && (!ok || bt < at) {
			at, ok = bt, true
		}
		require.True(t, ok, "epoch %d never reached", e)
		out = append(out, at)
	}
	return out
}

// TestCadenceStrictAlternation is libsignal 0.103's observed cadence
// between two libsignal peers: with A and B strictly alternating, A first,
// every message delivered at once, epoch 2 is first carried by message 87
// (A's 44th) and every later epoch takes 87 more. The cadence is a property
// of the braid alone: the chain only decides which key each message uses.
func TestCadenceStrictAlternation(t *testing.T) {
	s := newSim(t, 1)
	s.run("AB", 87*5+2)
	require.Equal(t, []int{87, 174, 261, 348, 435}, s.firstCarrying(t, 6))
	require.Equal(t, 44, (87+1)/2, "message 87 is A's 44th")
	require.Equal(t, 5, s.checkSecrets(t))
}

// TestCadencePayloads is libsignal's per-epoch payload pattern under strict
// alternation. The ek sender of epoch 1 (A): Hdr 0-2, Ek 0-28, EkCt1Ack
// 29-35, Ct1Ack x4. The ct sender (B): None x2, Ct1 0-29, None x6, Ct2 0-4.
// The same pattern repeats with the roles swapped, the new ct sender's
// None run starting with the message that first carries the new epoch.
func TestCadencePayloads(t *testing.T) {
	s := newSim(t, 2)
	s.run("AB", 87*3)
	pattern := func(tr []Message, epoch uint64) []string {
		var out []string
		for _, m := range tr {
			if m.Epoch != epoch {
				continue
			}
			if m.Type.HasChunk() {
				out = append(out, fmt.Sprintf("%v%d", m.Type, m.ChunkIndex))
			} else {
				out = append(out, m.Type.String())
			}
		}
		return out
	}
	run := func(prefix string, from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("%s%d", prefix, i))
		}
		return out
	}
	rep := func(v string, k int) []string { return slices.Repeat([]string{v}, k) }
	ek := slices.Concat(run("Hdr", 0, 2), run("Ek", 0, 28), run("EkCt1Ack", 29, 35), rep("Ct1Ack", 4))
	require.Equal(t, ek, pattern(s.a.trace, 1), "ek sender, epoch 1")
	require.Equal(t, slices.Concat(rep("None", 2), run("Ct1", 0, 29), rep("None", 6), run("Ct2", 0, 4)),
		pattern(s.b.trace, 1), "ct sender, epoch 1")
	require.Equal(t, ek, pattern(s.b.trace, 2), "ek sender, epoch 2")
	require.Equal(t, slices.Concat(rep("None", 3), run("Ct1", 0, 29), rep("None", 6), run("Ct2", 0, 4)),
		pattern(s.a.trace, 2), "ct sender, epoch 2")
}

// TestCadenceRatios: with A sending two messages for each of B's (AAB),
// libsignal peers change epoch at messages 109, 234 and 343, and so does
// the braid; at 1:2 (ABB), at 124, 233 and 358. Both schedules are in the
// libsignal capture that TestLibsignalPayloadSequence replays.
func TestCadenceRatios(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []int
	}{
		{"AAB", []int{109, 234, 343}},
		{"ABB", []int{124, 233, 358}},
	} {
		s := newSim(t, 3)
		s.run(c.pattern, 400)
		require.Equal(t, c.want, s.firstCarrying(t, 4), c.pattern)
		require.GreaterOrEqual(t, s.checkSecrets(t), 3, c.pattern)
	}
}

// TestOneWayCannotAdvance: the braid needs both sides to speak. A alone
// sends header chunks forever (parity far beyond the 3 data chunks), B
// alone sends None; no epoch completes. One reply from each side is enough
// to get going again.
func TestOneWayCannotAdvance(t *testing.T) {
	s := newSim(t, 4)
	s.run("A", 1500)
	require.Equal(t, KeysSampled, s.a.st.Kind())
	require.Equal(t, HeaderReceived, s.b.st.Kind(), "B verified the header but never sent")
	last := s.a.trace[len(s.a.trace)-1]
	require.Equal(t, Hdr, last.Type)
	require.Equal(t, uint16(1499), last.ChunkIndex)
	s.run("B", 1500)
	require.Equal(t, Ct1Sampled, s.b.st.Kind(), "B has no ek chunk: A never sent one")
	require.Equal(t, Ct1Received, s.a.st.Kind(), "A has all of ct1, from parity")
	require.Len(t, s.b.secrets, 1, "B's first send after the header outputs its secret")
	require.Empty(t, s.a.secrets)
	for _, p := range []*party{s.a, s.b} {
		require.Equal(t, uint64(1), p.st.Epoch())
	}
	s.run("AB", 200)
	require.Equal(t, 2, s.checkSecrets(t))
	// B silent from the start: A's KeysUnsampled never runs, B stays put.
	q := newSim(t, 5)
	q.run("B", 500)
	require.Equal(t, KeysUnsampled, q.a.st.Kind())
	require.Equal(t, NoHeaderReceived, q.b.st.Kind())
}

// TestLossAndReordering: 20% of messages lost, the rest delivered in random
// order within a window of 8, for 2500 messages with random senders. Epochs
// must keep advancing and both sides agree on every secret.
func TestLossAndReordering(t *testing.T) {
	for seed := uint64(10); seed < 12; seed++ {
		s := newSim(t, seed)
		s.loss, s.reorder, s.delay = 0.2, true, 8
		for range 2500 {
			s.step(s.net.IntN(2) == 0)
		}
		both := s.checkSecrets(t)
		require.GreaterOrEqual(t, both, 10, "seed %d: epochs stalled", seed)
		t.Logf("seed %d: %d epochs completed on both sides", seed, both)
	}
}
