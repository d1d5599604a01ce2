package braid

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sotto-im/sotto/internal/erasure"
	"github.com/sotto-im/sotto/internal/incmlkem"
)

// Black-box checks against SPQR bytes two libsignal-client 0.103.0 peers
// exchanged (testdata/libsignal/trace.json, written by capture.mjs beside
// it): the braid's payload sequence, the header MAC under the session's
// SPQR key, the erasure code's parity, and the ek stream against its
// header's hash.

type libsignalRun struct {
	Pattern  string `json:"pattern"`
	AuthKey  string `json:"authKey"`
	Messages []struct {
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
