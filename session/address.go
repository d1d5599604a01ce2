package session

import (
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/sotto-im/sotto/internal/wire"
)

// Address names one device of one user: libsignal's ProtocolAddress. Name is
// the user's identifier; with Signal's service ids (an ACI UUID string, or
// "PNI:" and a UUID) PreKey messages also bind both addresses into their MAC.
type Address struct {
	Name     string
	DeviceID uint32
}

// String returns "name.device", the form libsignal prints and Sotto uses as
// a storage key.
func (a Address) String() string { return a.Name + "." + strconv.FormatUint(uint64(a.DeviceID), 10) }

// ErrInvalidAddress is returned for an address with an empty name or a zero
// device id.
var ErrInvalidAddress = errors.New("session: invalid address")

func (a Address) validate() error {
	if a.Name == "" || a.DeviceID == 0 || len(a.Name) > 1024 {
		return ErrInvalidAddress
	}
	return nil
}

// serviceIDFixedWidth returns the 17-byte fixed-width binary form of a
// service id string: kind (0x00 ACI, 0x01 PNI) then the UUID. ok is false if
// name is not a service id.
func serviceIDFixedWidth(name string) (out [17]byte, ok bool) {
	kind := byte(0x00)
	if rest, found := strings.CutPrefix(name, "PNI:"); found {
		kind, name = 0x01, rest
	}
	u, ok := parseUUID(name)
	if !ok {
		return out, false
	}
	out[0] = kind
	copy(out[1:], u[:])
	return out, true
}

// parseUUID parses the canonical 8-4-4-4-12 hex form of a UUID.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}

// addressesField returns the 36-byte value of SignalMessage's addresses
// field for a message from sender to recipient, or nil when either is not a
// service id or has a device id that does not fit in a byte.
func addressesField(sender, recipient Address) []byte {
	s, ok1 := serviceIDFixedWidth(sender.Name)
	r, ok2 := serviceIDFixedWidth(recipient.Name)
	if !ok1 || !ok2 || sender.DeviceID > 0xFF || recipient.DeviceID > 0xFF {
		return nil
	}
	b := make([]byte, 0, wire.AddressesSize)
	b = append(b, s[:]...)
	b = append(b, byte(sender.DeviceID))
	b = append(b, r[:]...)
	b = append(b, byte(recipient.DeviceID))
	return b
}
