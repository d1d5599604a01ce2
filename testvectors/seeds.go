package testvectors

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"

	"github.com/sotto-im/sotto/franking"
	"github.com/sotto-im/sotto/internal/ratchetcore"
	"github.com/sotto-im/sotto/internal/wire"
)

// Seed kinds, the arguments of Seeds.
const (
	// SeedSignalMessage is every SignalMessage in the vectors (whisper
	// messages, the messages wrapped in PreKey messages, crafted ones).
	SeedSignalMessage = "signal-message"
	// SeedPreKeyMessage is every PreKeySignalMessage.
	SeedPreKeyMessage = "prekey-message"
	// SeedSPQRMessage is every SPQR message (SignalMessage field 5).
	SeedSPQRMessage = "spqr-message"
	// SeedPublicKey is every serialized X25519 public key (33 bytes or
	// malformed ones).
	SeedPublicKey = "public-key"
	// SeedKyberCiphertext is every Kyber1024 ciphertext.
	SeedKyberCiphertext = "kyber-ciphertext"
	// SeedFingerprint is every scannable fingerprint.
	SeedFingerprint = "fingerprint"
	// SeedBundle is every prekey bundle in session.Bundle's MarshalBinary
	// encoding.
	SeedBundle = "bundle"
	// SeedFrankingContent is every franking content encoding (valid and
	// malformed, and those inside reports).
	SeedFrankingContent = "franking-content"
	// SeedFrankingReport is every franking report encoding.
	SeedFrankingReport = "franking-report"
	// SeedAttachmentPointer is every attachment pointer encoding.
	SeedAttachmentPointer = "attachment-pointer"
	// SeedAttachmentBlob is every attachment blob (sealed, tampered and
	// crafted).
	SeedAttachmentBlob = "attachment-blob"
)

// Seeds returns the inputs of the given kind found in the embedded vectors,
// without duplicates and in a stable order, for seeding fuzz targets:
//
//	for _, s := range testvectors.Seeds(testvectors.SeedSignalMessage) {
//		f.Add(s)
//	}
//
// It panics if there are none (an unknown kind, or lost vectors), so that a
// fuzz target cannot silently run unseeded.
func Seeds(kind string) [][]byte {
	seeds, err := SeedsFrom(FS, kind)
	if err != nil {
		panic(err)
	}
	return seeds
}

// SeedsFrom is Seeds over the vector files of fsys. It returns an error if
// the files cannot be read or hold no input of the kind.
func SeedsFrom(fsys fs.FS, kind string) ([][]byte, error) {
	fsys, names, err := vectorRoot(fsys)
	if err != nil {
		return nil, err
	}
	c := &seedCollector{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("testvectors: %w", err)
		}
		var h fileHeader
		if err := json.Unmarshal(data, &h); err != nil {
			return nil, fmt.Errorf("testvectors: %s: %w", name, err)
		}
		if err := c.collect(h.Algorithm, data); err != nil {
			return nil, fmt.Errorf("testvectors: %s: %w", name, err)
		}
	}
	out := c.seeds[kind]
	if len(out) == 0 {
		return nil, fmt.Errorf("testvectors: no seeds of kind %q in the vectors", kind)
	}
	return out, nil
}

// seedCollector gathers inputs by kind.
type seedCollector struct {
	seeds map[string][][]byte
	seen  map[string]bool // kind + "\x00" + input
}

func (c *seedCollector) add(kind string, b []byte) {
	if b == nil {
		return
	}
	if c.seeds == nil {
		c.seeds, c.seen = map[string][][]byte{}, map[string]bool{}
	}
	key := kind + "\x00" + string(b)
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.seeds[kind] = append(c.seeds[kind], slices.Clone(b))
}

// signalMessage adds a SignalMessage and, if it parses, its SPQR message.
func (c *seedCollector) signalMessage(b []byte) {
	c.add(SeedSignalMessage, b)
	if m, err := ratchetcore.ParseMessage(b); err == nil {
		c.add(SeedSPQRMessage, m.PQRatchet)
	}
}

// preKeyMessage adds a PreKey message and what it carries.
func (c *seedCollector) preKeyMessage(b []byte) {
	c.add(SeedPreKeyMessage, b)
	if pm, err := wire.ParsePreKeySignalMessage(b); err == nil {
		c.signalMessage(pm.Message)
		c.add(SeedKyberCiphertext, pm.KyberCiphertext)
		c.add(SeedPublicKey, pm.BaseKey)
	}
}

func (c *seedCollector) bundle(b *bundle) {
	enc, err := sessionBundle(b).MarshalBinary()
	if err == nil {
		c.add(SeedBundle, enc)
	}
}

func (c *seedCollector) collect(algorithm string, data []byte) error {
	switch algorithm {
	case algX25519:
		f, err := decodeFile[x25519Group](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			for _, t := range g.Tests {
				c.add(SeedPublicKey, t.Public)
				c.add(SeedPublicKey, t.Peer)
			}
		}
	case algKyber:
		f, err := decodeFile[kyberGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			for _, t := range g.Tests {
				c.add(SeedKyberCiphertext, t.Ciphertext)
			}
		}
	case algPQXDH:
		f, err := decodeFile[pqxdhGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			c.bundle(&g.Bundle)
			for _, t := range g.Tests {
				c.preKeyMessage(t.PreKeyMessage)
			}
		}
	case algRatchet:
		f, err := decodeFile[ratchetGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			for _, t := range g.Tests {
				if g.Type == typeSignalMessage {
					c.signalMessage(t.Message)
					c.add(SeedSPQRMessage, t.PQRatchet)
				}
				c.add(SeedPublicKey, t.TheirPublic)
			}
		}
	case algConversation:
		f, err := decodeFile[conversationGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			c.bundle(&g.Bundle)
			for _, ev := range g.Tests {
				if ev.Type == msgPreKey {
					c.preKeyMessage(ev.Message)
				} else {
					c.signalMessage(ev.Message)
				}
			}
		}
	case algFranking:
		f, err := decodeFile[frankingGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			for _, t := range g.Tests {
				c.add(SeedFrankingContent, t.Content)
				c.add(SeedFrankingReport, t.Report)
				if r, err := franking.ParseReport(t.Report); err == nil {
					c.add(SeedFrankingContent, orNil(r.Content.MarshalBinary()))
				}
			}
		}
	case algAttachment:
		f, err := decodeFile[attachmentGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			for _, t := range g.Tests {
				c.add(SeedAttachmentPointer, t.Pointer)
				c.add(SeedAttachmentBlob, t.Blob)
			}
		}
	case algFingerprint:
		f, err := decodeFile[fingerprintGroup](data)
		if err != nil {
			return err
		}
		for _, g := range f.TestGroups {
			for _, t := range g.Tests {
				c.add(SeedFingerprint, t.LocalScannable)
				c.add(SeedFingerprint, t.RemoteScannable)
				c.add(SeedFingerprint, t.Scanned)
			}
		}
	}
	return nil
}

// orNil returns v, or nil when err is set (a seed that cannot be made is
// simply not added).
func orNil(v []byte, err error) []byte {
	if err != nil {
		return nil
	}
	return v
}
