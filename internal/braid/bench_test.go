package braid

import (
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"testing"
)

// The benchmarks replay one whole epoch of strict alternation (87 messages
// per epoch; two epochs so that each party plays both roles). States are
// immutable, so every recorded (state, message) pair can be replayed: the
// costs below are averages per message over complete epochs, including the
// rare expensive steps (key generation, Encaps1, Encaps2, decapsulation).
// BenchmarkEpochFloor is the ML-KEM work of one epoch alone, run in the
// same process: report the ratio of 87 × (Send + Recv) to it.

type recorded struct {
	sends []*State  // every state a Send was called on
	recvs []*State  // every state a Recv was called on ...
	msgs  []Message // ... with its message
}

func recordEpochs(b *testing.B, epochs int) *recorded {
	s := newSim(b, 40)
	r := &recorded{}
	for i := range 87 * epochs {
		src, dst := s.a, s.b
		if i%2 == 1 {
			src, dst = s.b, s.a
		}
		r.sends = append(r.sends, src.st.clone())
		s.msgNo++
		m := src.send(s.msgNo)
		r.recvs = append(r.recvs, dst.st.clone())
		r.msgs = append(r.msgs, m)
		dst.recv(m)
	}
	if s.checkSecrets(b) != epochs {
		b.Fatal("the recorded run did not complete its epochs")
	}
	return r
}

func BenchmarkSendPerMessage(b *testing.B) {
	r := recordEpochs(b, 2)
	rnd := detRand("bench")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, _, err := r.sends[i].Send(rnd); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(r.sends)
	}
}

func BenchmarkRecvPerMessage(b *testing.B) {
	r := recordEpochs(b, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := r.recvs[i].Recv(r.msgs[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(r.recvs)
	}
}

// BenchmarkEpoch is one whole epoch, both parties: 87 Sends and 87 Recvs.
func BenchmarkEpoch(b *testing.B) {
	r := recordEpochs(b, 1)
	rnd := detRand("bench")
	b.ReportAllocs()
	for b.Loop() {
		for i := range r.sends {
			if _, _, _, err := r.sends[i].Send(rnd); err != nil {
				b.Fatal(err)
			}
			if _, _, err := r.recvs[i].Recv(r.msgs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEpochFloor is an epoch's ML-KEM work done in one piece with
// crypto/mlkem: key generation, encapsulation, decapsulation.
func BenchmarkEpochFloor(b *testing.B) {
	seed, m := make([]byte, 64), make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		dk, err := mlkem.NewDecapsulationKey768(seed)
		if err != nil {
			b.Fatal(err)
		}
		_, ct, err := mlkemtest.Encapsulate768(dk.EncapsulationKey(), m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dk.Decapsulate(ct); err != nil {
			b.Fatal(err)
		}
	}
}

// stateSizes encodes the states a party goes through in two epochs (each
// role once); the function it returns reports their mean and largest size
// in bytes, after the loop (b.Loop's first call drops metrics reported
// before it).
func stateSizes(b *testing.B) ([]*State, [][]byte, func()) {
	r := recordEpochs(b, 2)
	total, largest := 0, 0
	var encs [][]byte
	for _, st := range r.sends {
		e, err := st.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		total += len(e)
		largest = max(largest, len(e))
		encs = append(encs, e)
	}
	return r.sends, encs, func() {
		b.ReportMetric(float64(total)/float64(len(encs)), "mean-bytes")
		b.ReportMetric(float64(largest), "max-bytes")
	}
}

// BenchmarkStateMarshal is MarshalBinary averaged over the states of two
// epochs; it also reports their sizes.
func BenchmarkStateMarshal(b *testing.B) {
	states, _, report := stateSizes(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := states[i].MarshalBinary(); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(states)
	}
	report()
}

// BenchmarkStateUnmarshal is ParseState over the same states.
func BenchmarkStateUnmarshal(b *testing.B) {
	_, encs, report := stateSizes(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := ParseState(encs[i]); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(encs)
	}
	report()
}
