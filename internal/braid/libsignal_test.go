package braid

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
	"github.com/sotto-im/sotto/internal/kdf"
)

// Black-box checks against SPQR bytes two libsignal-client 0.103.0 peers
// exchanged (testdata/libsignal/trace.json, written by capture.mjs beside
// it): the braid's payload sequence, the header MAC under the session's
// SPQR key, the erasure code's parity, and the ek stream against its
// header's hash.

type libsignalRun struct {
	Pattern   string `json:"pattern"`
	AuthKey   string `json:"authKey"`
	BobRecord string `json:"bobRecord"`
	Messages  []struct {
		From string `json:"from"`
		PQ   string `json:"pq"`
	} `json:"messages"`
}

func loadLibsignal(t *testing.T) map[string]*libsignalRun {
	t.Helper()
	b, err := os.ReadFile("testdata/libsignal/trace.json")
	require.NoError(t, err)
	var f struct {
		Libsignal string          `json:"libsignal"`
		Runs      []*libsignalRun `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	require.Equal(t, "0.103.0", f.Libsignal)
	out := map[string]*libsignalRun{}
	for _, r := range f.Runs {
		out[r.Pattern] = r
	}
	require.Len(t, out, 4)
	return out
}

func (r *libsignalRun) key(t *testing.T) *[32]byte {
	k, err := hex.DecodeString(r.AuthKey)
	require.NoError(t, err)
	return (*[32]byte)(k)
}

// parseWire is a test-only reader of the SPQR V1 wire message
// (0x01 || varint epoch || varint index || type || [varint chunk index ||
// chunk]); the real parser belongs to package ratchet.
func parseWire(t *testing.T, h string) (Message, uint64) {
	t.Helper()
	b, err := hex.DecodeString(h)
	require.NoError(t, err)
	require.Equal(t, byte(1), b[0])
	b = b[1:]
	var m Message
	var n int
	m.Epoch, n = protowire.ConsumeVarint(b)
	require.Positive(t, n)
	b = b[n:]
	index, n := protowire.ConsumeVarint(b)
	require.Positive(t, n)
	b = b[n:]
	m.Type = PayloadType(b[0])
	b = b[1:]
	if m.Type.HasChunk() {
		ci, n := protowire.ConsumeVarint(b)
		require.Positive(t, n)
		m.ChunkIndex = uint16(ci)
		copy(m.Chunk[:], b[n:n+ChunkSize])
		require.Len(t, b[n:], ChunkSize)
	} else {
		require.Empty(t, b)
	}
	return m, index
}

func describe(from string, m Message) string {
	if m.Type.HasChunk() {
		return fmt.Sprintf("%s e%d %v %d", from, m.Epoch, m.Type, m.ChunkIndex)
	}
	return fmt.Sprintf("%s e%d %v", from, m.Epoch, m.Type)
}

// TestLibsignalPayloadSequence: under the same schedule the braid sends,
// message for message, the epoch, payload type and chunk index libsignal
// sent (400 messages each strictly alternating, at 2:1 and at 1:2; 12 one way). The
// sequence depends on the schedule only, not on the keys. It also checks
// libsignal's chain index against the rule package ratchet must follow.
func TestLibsignalPayloadSequence(t *testing.T) {
	for pattern, r := range loadLibsignal(t) {
		s := newSim(t, 50)
		s.run(pattern, len(r.Messages))
		ai, bi := 0, 0
		sent := map[string]uint64{} // messages per sender and epoch
		for i, lm := range r.Messages {
			m, index := parseWire(t, lm.PQ)
			// The chain rule the ratchet must follow: a message at braid
			// epoch E takes the next key of chain epoch E-1, and the index
			// counts from 1 in each chain epoch.
			k := fmt.Sprint(lm.From, m.Epoch)
			sent[k]++
			require.Equal(t, sent[k], index, "%s, message %d: chain index", pattern, i+1)
			var ours Message
			if lm.From == "A" {
				ours, ai = s.a.trace[ai], ai+1
			} else {
				ours, bi = s.b.trace[bi], bi+1
			}
			require.Equal(t, describe(lm.From, m), describe(lm.From, ours), "%s, message %d", pattern, i+1)
		}
	}
}

// TestLibsignalHeaderAndEk: a braid in libsignal Bob's place, given the
// session's SPQR key, verifies libsignal Alice's epoch-1 header MAC and
// accepts her ek vector against the header's hash (which also fixes
// H(ek) = SHA3-256(t̂ || ρ) and the erasure code over 36 chunks); Alice's
// first epoch-2 message then moves it to KeysUnsampled(2).
func TestLibsignalHeaderAndEk(t *testing.T) {
	r := loadLibsignal(t)["AB"]
	bob := New(r.key(t), B2A)
	rnd := detRand("libsignal bob")
	var kinds []Kind
	for _, lm := range r.Messages {
		if lm.From == "B" {
			next, _, _, err := bob.Send(rnd)
			require.NoError(t, err)
			bob = next
			continue
		}
		m, _ := parseWire(t, lm.PQ)
		next, _, err := bob.Recv(m)
		require.NoError(t, err, describe("A", m))
		bob = next
		if len(kinds) == 0 || kinds[len(kinds)-1] != bob.Kind() {
			kinds = append(kinds, bob.Kind())
		}
		if bob.Epoch() == 2 {
			break
		}
	}
	require.Equal(t, []Kind{NoHeaderReceived, HeaderReceived, Ct1Sampled, Ct1Acknowledged, Ct2Sampled, KeysUnsampled}, kinds)
}

// TestLibsignalParity: libsignal Alice, unanswered, sends header chunks
// 0..11; 3..11 are parity. Any three rebuild the header stream, whose MAC
// verifies, and the encoder reproduces all twelve chunks.
func TestLibsignalParity(t *testing.T) {
	r := loadLibsignal(t)["A"]
	var chunks []Message
	for _, lm := range r.Messages {
		m, _ := parseWire(t, lm.PQ)
		require.Equal(t, Hdr, m.Type)
		require.Equal(t, uint16(len(chunks)), m.ChunkIndex)
		chunks = append(chunks, m)
	}
	d := erasure.NewDecoder(hdrStreamSize)
	for _, c := range []int{5, 7, 9} {
		d.Add(chunks[c].ChunkIndex, &chunks[c].Chunk)
	}
	stream, ok := d.Message()
	require.True(t, ok)
	enc := erasure.NewEncoder(stream)
	for _, m := range chunks {
		require.Equal(t, m.Chunk, enc.Chunk(m.ChunkIndex), "chunk %d", m.ChunkIndex)
	}
	a := newAuthenticator(r.key(t))
	h := incmlkem.Header(stream[:64])
	require.True(t, a.verifyHeader(1, &h, stream[64:]))
}

// pbFields returns the length-delimited fields numbered num of a protobuf
// message, in order.
func pbFields(t *testing.T, b []byte, num protowire.Number) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		require.Positive(t, l)
		b = b[l:]
		l = protowire.ConsumeFieldValue(n, typ, b)
		require.Positive(t, l)
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			out = append(out, v)
		}
		b = b[l:]
	}
	return out
}

// pbPath follows single length-delimited fields down a message.
func pbPath(t *testing.T, b []byte, path ...protowire.Number) []byte {
	t.Helper()
	for _, n := range path {
		f := pbFields(t, b, n)
		require.Len(t, f, 1, "field %d of path %v", n, path)
		b = f[0]
	}
	return b
}

// stream decodes the chunks of one payload stream (types, epoch) a sender
// sent.
func (r *libsignalRun) stream(t *testing.T, from string, epoch uint64, size int, types ...PayloadType) []byte {
	t.Helper()
	d := erasure.NewDecoder(size)
	for _, lm := range r.Messages {
		m, _ := parseWire(t, lm.PQ)
		if lm.From == from && m.Epoch == epoch && slices.Contains(types, m.Type) {
			d.Add(m.ChunkIndex, &m.Chunk)
		}
	}
	b, ok := d.Message()
	require.True(t, ok, "stream %v of %s incomplete", types, from)
	return b
}

// TestLibsignalCiphertextSide checks the ct sender's side against libsignal
// Bob's session record, taken right after he sent his first ct1 chunk
// (his braid in Ct1Sampled, the 8th state of the record's V1 oneof), read
// by the field numbers it shows: SPQR state = record 1 -> session 15; its
// chain = 2 (links 3, oldest first, each send 1 / receive 2 with the chain
// key in 2; next root 4); its V1 state = 3 -> Ct1Sampled 8 -> 1 holding the
// authenticator 2 (root 1, MAC key 2), the header 3, libcrux's 2080-byte
// encapsulation state 4 (m is its last 32 bytes) and ct1 5.
//
// From m and Alice's header alone, Encaps1 must give Bob's ct1, and the
// epoch secret the authenticator and the chain's new epoch that Bob holds;
// Encaps2 on Alice's ek vector must give Bob's ct2, and the ciphertext MAC
// the one he sent.
func TestLibsignalCiphertextSide(t *testing.T) {
	for _, pattern := range []string{"AB", "AAB", "ABB"} {
		r := loadLibsignal(t)[pattern]
		authKey := r.key(t)
		rec, err := hex.DecodeString(r.BobRecord)
		require.NoError(t, err)
		pq := pbPath(t, rec, 1, 15)
		inner := pbPath(t, pq, 3, 8, 1)
		es := pbPath(t, inner, 4)
		require.Len(t, es, 2080)
		m := [32]byte(es[2048:])

		hdrStream := r.stream(t, "A", 1, hdrStreamSize, Hdr)
		hdr := incmlkem.Header(hdrStream[:64])
		require.Equal(t, hdr[:], pbPath(t, inner, 3), pattern)

		ct1, st, key := incmlkem.Encaps1(&hdr, &m)
		require.Equal(t, pbPath(t, inner, 5), ct1[:], "%s: ct1 from Encaps1", pattern)
		require.Equal(t, r.stream(t, "B", 1, ct1StreamSize, Ct1), ct1[:], "%s: ct1 on the wire", pattern)

		ss := epochSecret(1, &key)
		auth := newAuthenticator(authKey)
		auth.update(1, &ss)
		require.Equal(t, pbPath(t, inner, 2, 1), auth.root[:], "%s: authenticator root key", pattern)
		require.Equal(t, pbPath(t, inner, 2, 2), auth.mac[:], "%s: authenticator MAC key", pattern)

		ek := [incmlkem.EKVectorSize]byte(r.stream(t, "A", 1, ekStreamSize, Ek, EkCt1Ack))
		ct2, err := incmlkem.Encaps2(&st, &ek)
		require.NoError(t, err)
		ct2Stream := r.stream(t, "B", 1, ct2StreamSize, Ct2)
		require.Equal(t, ct2Stream[:128], ct2[:], "%s: ct2", pattern)
		mac := auth.ciphertextMAC(1, &ct1, &ct2)
		require.Equal(t, ct2Stream[128:], mac[:], "%s: ciphertext MAC", pattern)

		// The chain: Start from the SPQR key, then Add Epoch 1.
		var start [96]byte
		require.NoError(t, kdf.Key(start[:], nil, authKey[:], []byte("Signal PQ Ratchet V1 Chain  Start")))
		root, a2b, b2a := AddEpoch((*[32]byte)(start[:32]), &EpochSecret{Epoch: 1, Key: ss})
		chain := pbPath(t, pq, 2)
		require.Equal(t, root[:], pbPath(t, chain, 4), "%s: next root", pattern)
		links := pbFields(t, chain, 3)
		require.Len(t, links, 2, "chain epochs 0 and 1")
		require.Equal(t, b2a[:], pbPath(t, links[1], 1, 2), "%s: Bob's send chain of epoch 1", pattern)
		require.Equal(t, a2b[:], pbPath(t, links[1], 2, 2), "%s: Bob's receive chain of epoch 1", pattern)
	}
}
