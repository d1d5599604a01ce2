//go:build amd64

package kem

import "golang.org/x/sys/cpu"

// circl's AVX2 Kyber code returns without VZEROUPPER, leaving the upper
// halves of the YMM registers dirty; SSE code that runs next (Go's SHA-NI
// SHA-256, so every HMAC and HKDF after a KEM operation) then pays a large
// state-transition penalty on many x86 CPUs — measured at about 0.5 ms per
// session setup. avxCleanup clears that state after each circl call.

//go:noescape
func vzeroupper()

var hasAVX = cpu.X86.HasAVX

func avxCleanup() {
	if hasAVX {
		vzeroupper()
	}
}
