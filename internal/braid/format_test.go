package braid

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// secretsOf lists the secret byte strings a state holds.
func secretsOf(s *State) [][]byte {
	es := s.es.Bytes()
	out := [][]byte{s.auth.root[:], s.auth.mac[:]}
	if s.seed != [seedSize]byte{} {
		out = append(out, s.seed[:])
	}
	if es != [96]byte{} {
		out = append(out, es[:32])
	}
	return out
}

func requireRedacted(t *testing.T, v any, secrets [][]byte) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		out := fmt.Sprintf(verb, v)
		for _, sec := range secrets {
			for _, enc := range []string{hex.EncodeToString(sec[:8]), strings.ToUpper(hex.EncodeToString(sec[:8])),
				fmt.Sprint(sec[:4])[1:], string(sec[:8])} {
				require.NotContains(t, out, enc, "%s leaks a secret: %s", verb, out)
			}
		}
		require.Contains(t, out, "REDACTED", verb)
	}
}

func TestStateRedacted(t *testing.T) {
	for _, st := range statesOfEveryKind(t) {
		requireRedacted(t, st, secretsOf(st))
		require.Contains(t, fmt.Sprint(st), st.Kind().String())
	}
	require.Equal(t, "braid.State(nil)", fmt.Sprint((*State)(nil)))
}

func TestEpochSecretRedacted(t *testing.T) {
	s := EpochSecret{Epoch: 5, Key: [32]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4}}
	requireRedacted(t, s, [][]byte{s.Key[:]})
	requireRedacted(t, &s, [][]byte{s.Key[:]})
	require.Contains(t, fmt.Sprint(s), "Epoch: 5")
	s.Wipe()
	require.Equal(t, [32]byte{}, s.Key)
}

func TestWipe(t *testing.T) {
	for _, st := range statesOfEveryKind(t) {
		c := st.clone()
		c.Wipe()
		require.Equal(t, authenticator{}, c.auth)
		require.Equal(t, [seedSize]byte{}, c.seed)
		require.Equal(t, [96]byte{}, c.es.Bytes())
		require.Panics(t, func() { c.Send(detRand("wiped")) })
		// The original is untouched: clones share no secret memory.
		require.NotEqual(t, authenticator{}, st.auth)
	}
}
