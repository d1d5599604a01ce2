//go:build !amd64

package kem

// avxCleanup is only needed on amd64 (see avx_amd64.go).
func avxCleanup() {}
