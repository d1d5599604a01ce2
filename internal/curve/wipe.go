package curve

// Wipe drops the key: k must not be used afterwards. crypto/ecdh keeps its
// own copy of the scalar, which it offers no way to clear; that copy is left
// to the garbage collector (SECURITY.md says what Go cannot guarantee).
func (k *PrivateKey) Wipe() { k.k = nil }

// Wiped reports whether Wipe was called on k.
func (k *PrivateKey) Wiped() bool { return k.k == nil }
