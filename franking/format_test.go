package franking_test

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sotto-im/sotto/franking"
)

// TestSecretsDoNotPrint: openings, relay keys, relays and reports print no
// secret bytes under any verb, as values, pointers or struct fields.
func TestSecretsDoNotPrint(t *testing.T) {
	o := franking.NewOpening()
	k := franking.GenerateRelayKey(5)
	relay := newRelay(t, k)
	rep := &franking.Report{Content: newContent("x"), Opening: o, Received: t0}
	secrets := [][]byte{o.Bytes(), k.Bytes()}
	for _, v := range []any{o, &o, k, &k, relay, *relay, rep, *rep, struct{ O franking.Opening }{o},
		struct{ K franking.RelayKey }{k}, struct{ R *franking.Report }{rep}, struct{ R *franking.Relay }{relay}, []franking.Opening{o}, map[string]franking.RelayKey{"k": k}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				for _, enc := range []string{hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)),
					fmt.Sprint(s), fmt.Sprintf("%q", s), string(s)} {
					require.NotContains(t, out, enc, "%s of %T prints a secret", verb, v)
				}
			}
		}
	}
	require.Equal(t, "franking.Opening(REDACTED)", o.String())
	require.Contains(t, k.String(), "id 5")
}
