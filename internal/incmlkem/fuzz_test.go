package incmlkem

import (
	"bytes"
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/sotto-im/sotto/internal/detrand"
)

// FuzzEncaps builds a key from a 64-byte seed, then sets coefficients of
// t̂ to arbitrary 12-bit values (pairs of big-endian position and value
// follow the seed and the 32 bytes of m), so small inputs reach every
// coefficient value, valid or not. A key crypto/mlkem accepts must give
// mlkemtest.Encapsulate768's ciphertext and key exactly; a key it rejects
// must fail the modulus check here too.
func FuzzEncaps(f *testing.F) {
	r := detrand.New("incmlkem fuzz seeds")
	for i := range 4 {
		in := make([]byte, 96)
		r.Read(in)
		switch i {
		case 1:
			in = append(in, 0, 0, 0x0c, 0xff, 0x02, 0xff, 0x0d, 0x00) // 3327 at 0, q-1 at 767
		case 2:
			in = append(in, 0, 0, 0x0f, 0xff) // coefficient 0 = 4095
		case 3:
			in = append(in, 0x01, 0x00, 0x0d, 0x01) // coefficient 256 = q
		}
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 96 || len(in) > 96+4*64 {
			return
		}
		dk, err := mlkem.NewDecapsulationKey768(in[:64])
		if err != nil {
			t.Fatal(err)
		}
		m := [32]byte(in[64:96])
		ek := dk.EncapsulationKey().Bytes()
		for e := in[96:]; len(e) >= 4; e = e[4:] {
			pos := int(binary.BigEndian.Uint16(e)) % (3 * 256)
			val := binary.BigEndian.Uint16(e[2:]) & 0x0fff
			v := modulusKey([EKVectorSize]byte(ek[:EKVectorSize]), pos/256, pos%256, val)
			copy(ek, v[:])
		}
		h, v, err := SplitEncapsulationKey(ek)
		if err != nil {
			t.Fatal(err)
		}
		ct1, st, key := Encaps1(&h, &m)
		ct2, err := Encaps2(&st, &v)
		std, stdErr := mlkem.NewEncapsulationKey768(ek)
		if stdErr != nil {
			if !errors.Is(err, ErrKeyModulus) || !errors.Is(CheckKey(&h, &v), ErrKeyModulus) {
				t.Fatalf("crypto/mlkem rejects the key, incmlkem says %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid key rejected: %v", err)
		}
		wantKey, wantCt, err := mlkemtest.Encapsulate768(std, m[:])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(append(ct1[:], ct2[:]...), wantCt) || !bytes.Equal(key[:], wantKey) {
			t.Fatal("incremental encapsulation differs from Encapsulate768")
		}
	})
}

// FuzzParseEncapsState checks that decoding never panics and round-trips.
func FuzzParseEncapsState(f *testing.F) {
	f.Add(make([]byte, EncapsStateSize))
	f.Add(make([]byte, EncapsStateSize-1))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseEncapsState(b)
		if err != nil {
			return
		}
		if got := st.Bytes(); !bytes.Equal(got[:], b) {
			t.Fatal("state does not round-trip")
		}
	})
}
