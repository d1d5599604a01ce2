package incmlkem

import (
	"crypto/mlkem"
	"crypto/mlkem/mlkemtest"
	"testing"
)

// BenchmarkEncaps1And2 is one whole incremental encapsulation; its floor,
// BenchmarkEncapsulateFloor, is crypto/mlkem's (assembly-accelerated SHA-3,
// one pass) on the same key, so the ratio is the cost of the split and of
// this package's plainer arithmetic.
func BenchmarkEncaps1And2(b *testing.B) {
	dk, _ := mlkem.GenerateKey768()
	h, v, _ := SplitEncapsulationKey(dk.EncapsulationKey().Bytes())
	m := [32]byte{1}
	b.ReportAllocs()
	for b.Loop() {
		_, st, _ := Encaps1(&h, &m)
		if _, err := Encaps2(&st, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncaps1(b *testing.B) {
	dk, _ := mlkem.GenerateKey768()
	h, _, _ := SplitEncapsulationKey(dk.EncapsulationKey().Bytes())
	m := [32]byte{1}
	b.ReportAllocs()
	for b.Loop() {
		Encaps1(&h, &m)
	}
}

func BenchmarkEncaps2(b *testing.B) {
	dk, _ := mlkem.GenerateKey768()
	h, v, _ := SplitEncapsulationKey(dk.EncapsulationKey().Bytes())
	m := [32]byte{1}
	_, st, _ := Encaps1(&h, &m)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encaps2(&st, &v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncapsulateFloor(b *testing.B) {
	dk, _ := mlkem.GenerateKey768()
	ek := dk.EncapsulationKey()
	m := [32]byte{1}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := mlkemtest.Encapsulate768(ek, m[:]); err != nil {
			b.Fatal(err)
		}
	}
}
