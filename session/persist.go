package session

// Every record session writes opens with a four-byte magic naming its kind
// and a version byte, then the fields of that version:
//
//	"SOTS" 1  session record (record.go)         "SOTs" 1  one session (record.go)
//	"SOTm" 1  stored Message (cipher.go)         "SOTa" 1  account identity key pair
//	"SOTe" 1  one-time EC prekey                 "SOTg" 1  signed EC prekey
//	"SOTk" 1  Kyber prekey                       "SOTc" 1  prekey id counters
//	"SOTi" 1  trusted identity of a contact
//
// Integers are uvarints (varints for times). Records written before the
// magic existed (the previous format of the last five) still load: their
// first byte can never be 'S' (clamped private keys, 0x05 keys, 0 or 1
// flags), and counters, the one record that could start with 'S', are tried
// in the new format first.

const (
	formatV1 = 1

	accountMagic      = "SOTa"
	preKeyMagic       = "SOTe"
	signedPreKeyMagic = "SOTg"
	kyberPreKeyMagic  = "SOTk"
	countersMagic     = "SOTc"
	identityMagic     = "SOTi"
)

// withMagic prefixes body with magic and the format version.
func withMagic(magic string, size int) []byte {
	b := make([]byte, 0, len(magic)+1+size)
	b = append(b, magic...)
	return append(b, formatV1)
}

// cutMagic returns the body of a record of the given kind, or ok false when
// v does not start with magic and the format version.
func cutMagic(magic string, v []byte) (body []byte, ok bool) {
	if len(v) < len(magic)+1 || string(v[:len(magic)]) != magic || v[len(magic)] != formatV1 {
		return nil, false
	}
	return v[len(magic)+1:], true
}
