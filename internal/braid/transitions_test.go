package braid

import (
	"crypto/sha3"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
)

// alternateUntil runs a sim on pattern, delivering every message at once,
// until stop holds for a message about to be delivered; it returns the sim,
// the receiving party and that undelivered message.
func alternateUntil(t *testing.T, pattern string, stop func(dst *party, m Message) bool) (*sim, *party, Message) {
	t.Helper()
	s := newSim(t, 7)
	for i := range 2000 {
		fromA := pattern[i%len(pattern)] == 'A'
		src, dst := s.a, s.b
		if !fromA {
			src, dst = s.b, s.a
		}
		s.msgNo++
		m := src.send(s.msgNo)
		if stop(dst, m) {
			return s, dst, m
		}
		dst.recv(m)
	}
	t.Fatal("condition never met")
	return nil, nil, Message{}
}

func encoded(t *testing.T, s *State) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	return b
}

// requireRejected checks that Recv fails with target and leaves the state
// byte-identical; then the genuine message still goes through.
func requireRejected(t *testing.T, dst *party, bad, good Message, target error) error {
	t.Helper()
	before := encoded(t, dst.st)
	next, out, err := dst.st.Recv(bad)
	require.ErrorIs(t, err, target)
	require.Nil(t, next)
	require.Nil(t, out)
	require.Equal(t, before, encoded(t, dst.st), "a rejected message changed the state")
	dst.recv(good)
	return err
}

func TestForgedHeaderMAC(t *testing.T) {
	_, dst, m := alternateUntil(t, "AB", func(dst *party, m Message) bool {
		return dst.st.Kind() == NoHeaderReceived && m.Type == Hdr && dst.st.dec.Received() == 2
	})
	bad := m
	bad.Chunk[5] ^= 1
	requireRejected(t, dst, bad, m, ErrAuthentication)
	require.Equal(t, HeaderReceived, dst.st.Kind())
}

func TestForgedCiphertext(t *testing.T) {
	for _, flip := range []int{0, 31} { // in ct2 (implicit rejection), in the MAC
		s, dst, m := alternateUntil(t, "AB", func(dst *party, m Message) bool {
			return dst.st.Kind() == EkSentCt1Received && m.Type == Ct2 && dst.st.dec.Received() == 4
		})
		bad := m
		if flip == 31 {
			bad.ChunkIndex = 4 // the last data chunk holds the MAC's end
			bad.Chunk = erasure.NewEncoder(make([]byte, ct2StreamSize)).Chunk(4)
		} else {
			bad.Chunk[0] ^= 0x80
		}
		requireRejected(t, dst, bad, m, ErrAuthentication)
		require.Equal(t, NoHeaderReceived, dst.st.Kind())
		require.Equal(t, uint64(2), dst.st.Epoch())
		s.run("BA", 100)
		require.GreaterOrEqual(t, s.checkSecrets(t), 1)
	}
}

func TestForgedEkVector(t *testing.T) {
	for pattern, kind := range map[string]Kind{"AB": Ct1Acknowledged, "AAB": Ct1Sampled} {
		_, dst, m := alternateUntil(t, pattern, func(dst *party, m Message) bool {
			k := dst.st.Kind()
			return (k == Ct1Sampled || k == Ct1Acknowledged) && (m.Type == Ek || m.Type == EkCt1Ack) &&
				dst.st.dec.Received() == 35
		})
		require.Equal(t, kind, dst.st.Kind(), pattern)
		bad := m
		bad.Chunk[1] ^= 0x01 // bit 8 of the first coefficient
		x := uint16(bad.Chunk[0]) | uint16(bad.Chunk[1]&0x0f)<<8
		require.Less(t, x, uint16(3329), "the flip must keep the coefficient reduced")
		err := requireRejected(t, dst, bad, m, ErrErroneousData)
		require.ErrorIs(t, err, incmlkem.ErrKeyHash)
	}
}

// TestEkModulusCheck plays a malicious ek sender whose ek vector has a
// coefficient equal to q, with a header that hashes it correctly and a
// valid header MAC: only the modulus check can stop it.
func TestEkModulusCheck(t *testing.T) {
	key := [32]byte{9}
	b := New(&key, B2A)
	var ekv [incmlkem.EKVectorSize]byte
	ekv[0], ekv[1] = 0x01, 0x0d // coefficient 0 = 0xd01 = 3329 = q
	var h incmlkem.Header
	h[0] = 7 // ρ
	sum := sha3.New256()
	sum.Write(ekv[:])
	sum.Write(h[:32])
	copy(h[32:], sum.Sum(nil))
	auth := newAuthenticator(&key)
	mac := auth.headerMAC(1, &h)
	hdr := erasure.NewEncoder(append(h[:], mac[:]...))
	for c := range uint16(3) {
		var err error
		b, _, err = b.Recv(Message{Epoch: 1, Type: Hdr, ChunkIndex: c, Chunk: hdr.Chunk(c)})
		require.NoError(t, err)
	}
	require.Equal(t, HeaderReceived, b.Kind())
	b, _, _, err := b.Send(detRand("modulus"))
	require.NoError(t, err)
	ek := erasure.NewEncoder(ekv[:])
	for c := range uint16(36) {
		next, _, err := b.Recv(Message{Epoch: 1, Type: EkCt1Ack, ChunkIndex: c, Chunk: ek.Chunk(c)})
		if c < 35 {
			require.NoError(t, err)
			b = next
			continue
		}
		require.ErrorIs(t, err, ErrErroneousData)
		require.ErrorIs(t, err, incmlkem.ErrKeyModulus)
	}
}

func TestEpochRules(t *testing.T) {
	for _, st := range statesOfEveryKind(t) {
		e := st.Epoch()
		// Stale: ignored, whatever the payload.
		if e > 1 {
			for typ := None; typ <= Ct2; typ++ {
				next, out, err := st.Recv(Message{Epoch: e - 1, Type: typ, ChunkIndex: 900})
				require.NoError(t, err)
				require.Nil(t, out)
				require.Equal(t, encoded(t, st), encoded(t, next), "%v: stale %v changed the state", st, typ)
			}
		}
		// Future: refused, but for e+1 in Ct2Sampled.
		for _, fe := range []uint64{e + 1, e + 2, 1 << 40} {
			next, _, err := st.Recv(Message{Epoch: fe, Type: None})
			if st.Kind() == Ct2Sampled && fe == e+1 {
				require.NoError(t, err)
				require.Equal(t, KeysUnsampled, next.Kind())
				require.Equal(t, e+1, next.Epoch())
				require.Equal(t, st.auth, next.auth, "the authenticator carries over")
				continue
			}
			var ee *EpochError
			require.ErrorAs(t, err, &ee, "%v, epoch %d", st, fe)
			require.ErrorIs(t, err, ErrFutureEpoch)
			require.Equal(t, EpochError{Epoch: fe, Current: e}, *ee)
		}
		// Malformed.
		for _, m := range []Message{{Epoch: 0, Type: None}, {Epoch: e, Type: 7}, {Epoch: e, Type: 255}} {
			_, _, err := st.Recv(m)
			require.ErrorIs(t, err, ErrMalformedMessage)
		}
	}
}

// TestPayloadsEachStateIgnores feeds every payload type, at the state's own
// epoch and with a fresh chunk index, to a state of every kind, and checks
// which ones change it: exactly the transitions of the ML-KEM Braid.
func TestPayloadsEachStateIgnores(t *testing.T) {
	accepts := map[Kind][]PayloadType{
		KeysUnsampled:        nil,
		KeysSampled:          {Ct1},
		HeaderSent:           {Ct1},
		Ct1Received:          {Ct2},
		EkSentCt1Received:    {Ct2},
		NoHeaderReceived:     {Hdr},
		HeaderReceived:       nil, // ek chunks included: they cannot precede ct1
		Ct1Sampled:           {Ek, EkCt1Ack},
		EkReceivedCt1Sampled: {Ct1Ack, EkCt1Ack},
		Ct1Acknowledged:      {Ek, EkCt1Ack},
		Ct2Sampled:           nil,
	}
	for _, st := range statesOfEveryKind(t) {
		for typ := None; typ <= Ct2; typ++ {
			m := Message{Epoch: st.Epoch(), Type: typ, ChunkIndex: 777}
			if typ.HasChunk() {
				m.Chunk[0] = 1
			}
			next, _, err := st.Recv(m)
			changed := err != nil || string(encoded(t, st)) != string(encoded(t, next))
			want := false
			for _, a := range accepts[st.Kind()] {
				want = want || a == typ
			}
			require.Equal(t, want, changed, "%v on %v (err %v)", st.Kind(), typ, err)
		}
	}
}

// statesOfEveryKind collects a state of each of the eleven kinds from
// simulations (EkReceivedCt1Sampled needs the ek sender to run ahead: 2:1).
func statesOfEveryKind(t testing.TB) []*State {
	t.Helper()
	found := map[Kind]*State{}
	for _, pattern := range []string{"AB", "AAB"} {
		s := newSim(t, 8)
		for i := range 300 {
			s.step(pattern[i%len(pattern)] == 'A')
			for _, p := range []*party{s.a, s.b} {
				if _, ok := found[p.st.Kind()]; !ok {
					found[p.st.Kind()] = p.st.clone()
				}
			}
		}
	}
	var out []*State
	for k := KeysUnsampled; k <= Ct2Sampled; k++ {
		st, ok := found[k]
		require.True(t, ok, "no state of kind %v", k)
		out = append(out, st)
	}
	return out
}

func TestSendLeavesStateUnchanged(t *testing.T) {
	for _, st := range statesOfEveryKind(t) {
		before := encoded(t, st)
		next, m, out, err := st.Send(detRand("send"))
		require.NoError(t, err)
		require.NotSame(t, st, next)
		require.Equal(t, before, encoded(t, st), "%v", st)
		require.Equal(t, st.Epoch(), m.Epoch)
		require.Equal(t, st.Kind() == HeaderReceived, out != nil, "only HeaderReceived outputs on send")
		if !m.Type.HasChunk() {
			require.Zero(t, m.ChunkIndex)
			require.Equal(t, [ChunkSize]byte{}, m.Chunk)
		}
	}
}

func TestSendRandomnessFailure(t *testing.T) {
	for _, st := range statesOfEveryKind(t) {
		needs := st.Kind() == KeysUnsampled || st.Kind() == HeaderReceived
		before := encoded(t, st)
		_, _, _, err := st.Send(failingReader{})
		if needs {
			require.ErrorIs(t, err, errNoRandom)
		} else {
			require.NoError(t, err)
		}
		require.Equal(t, before, encoded(t, st))
	}
}

var errNoRandom = errors.New("no randomness")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errNoRandom }

func TestChunkIndexWraps(t *testing.T) {
	// A peer that never answers makes the header index wrap: the chunk
	// after 65535 is 0 again, and still decodes.
	a := New(&[32]byte{}, A2B)
	a, first, _, err := a.Send(detRand("wrap"))
	require.NoError(t, err)
	a.next = 65535
	a, m, _, err := a.Send(nil)
	require.NoError(t, err)
	require.Equal(t, uint16(65535), m.ChunkIndex)
	_, m, _, err = a.Send(nil)
	require.NoError(t, err)
	require.Equal(t, uint16(0), m.ChunkIndex)
	require.Equal(t, first.Chunk, m.Chunk)
}
