package testvectors

import (
	"github.com/sotto-im/sotto/session"
)

// fingerprint.json runs against session's public safety-number API.

func verifyFingerprint(data []byte, r *fileReport) error {
	f, err := decodeFile[fingerprintGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkFingerprint(g, t) }))
		}
	}
	return nil
}

func checkFingerprint(g *fingerprintGroup, t *fingerprintTest) error {
	local, err := session.NewFingerprint(g.Iterations, g.Version, t.LocalID, t.LocalKey, t.RemoteID, t.RemoteKey)
	switch g.Type {
	case typeFingerprint:
		if err != nil || t.Result == resultInvalid {
			return expect(&t.caseResult, err)
		}
		// The remote party's view: same digits, mirrored scannable form,
		// and each side accepts the other's.
		remote, err := session.NewFingerprint(g.Iterations, g.Version, t.RemoteID, t.RemoteKey, t.LocalID, t.LocalKey)
		if err != nil {
			return errorf("remote view: %v", err)
		}
		if local.Displayable() != t.Displayable {
			return errorf("displayable = %s, want %s", local.Displayable(), t.Displayable)
		}
		if remote.Displayable() != t.Displayable {
			return errorf("remote displayable = %s, want %s", remote.Displayable(), t.Displayable)
		}
		if err := first(
			equal("local scannable", local.Scannable(), t.LocalScannable),
			equal("remote scannable", remote.Scannable(), t.RemoteScannable),
		); err != nil {
			return err
		}
		for _, c := range []struct {
			f    *session.Fingerprint
			scan []byte
		}{{local, t.RemoteScannable}, {remote, t.LocalScannable}} {
			if ok, err := c.f.Compare(c.scan); !ok || err != nil {
				return errorf("Compare(peer's scannable) = %v, %v; want true, nil", ok, err)
			}
		}
		return nil

	case typeFingerprintCompare:
		if err != nil {
			return errorf("NewFingerprint: %v", err)
		}
		ok, err := local.Compare(t.Scanned)
		if err := expect(&t.caseResult, err); err != nil {
			return err
		}
		if t.Result == resultValid {
			if t.Match == nil {
				return errorf("valid comparison case without match")
			}
			if ok != *t.Match {
				return errorf("Compare = %v, want %v", ok, *t.Match)
			}
		}
		return nil
	}
	return errorf("unknown group type %q", g.Type)
}
