package testvectors

import (
	"time"

	"github.com/sotto-im/sotto/franking"
)

// franking.json runs against package franking's public API: commitments,
// content encodings, the recipient's check, the relay's tags and report
// verification.

func verifyFranking(data []byte, r *fileReport) error {
	f, err := decodeFile[frankingGroup](data)
	if err != nil {
		return err
	}
	for gi := range f.TestGroups {
		g := &f.TestGroups[gi]
		for i := range g.Tests {
			t := &g.Tests[i]
			r.record(&t.caseID, &t.caseResult, safely(func() error { return checkFranking(g, t) }))
		}
	}
	return nil
}

func checkFranking(g *frankingGroup, t *frankingTest) error {
	switch g.Type {
	case typeFrankingCommitment:
		return checkFrankingCommitment(t)
	case typeFrankingContent:
		c, err := franking.ParseContent(t.Content)
		if err != nil || t.Result == resultInvalid {
			return expect(&t.caseResult, err)
		}
		return first(checkContentFields(c, t), checkReencoding(c, t.Content))
	case typeFrankingCheck:
		c, err := franking.ParseContent(t.Content)
		if err != nil {
			return errorf("the case's content does not parse: %v", err)
		}
		o, err := franking.ParseOpening(t.Opening)
		if err != nil {
			return expect(&t.caseResult, err)
		}
		outer, err1 := franking.ParseCommitment(t.Outer)
		inner, err2 := franking.ParseCommitment(t.Inner)
		if err := first(err1, err2); err != nil {
			return errorf("the case's commitments do not parse: %v", err)
		}
		return expect(&t.caseResult, franking.Check(outer, inner, o, c))
	case typeFrankingTag:
		k, err := franking.NewRelayKey(g.RelayKey.ID, g.RelayKey.Key)
		if err != nil {
			return errorf("group relay key: %v", err)
		}
		relay, err := franking.NewRelay(k)
		if err != nil {
			return errorf("NewRelay: %v", err)
		}
		com, err := franking.ParseCommitment(t.Commitment)
		if err != nil {
			return errorf("the case's commitment does not parse: %v", err)
		}
		tag, err := relay.Tag(com, franking.Context{Sender: *t.Sender, Recipient: *t.Recipient, Received: time.UnixMilli(*t.Received)})
		if err != nil || t.Result == resultInvalid {
			return expect(&t.caseResult, err)
		}
		parsed, err := franking.ParseTag(t.Tag)
		if err != nil {
			return errorf("ParseTag: %v", err)
		}
		return first(equal("tag", tag.Bytes(), t.Tag), equal("re-encoded tag", parsed.Bytes(), t.Tag))
	case typeFrankingReport:
		relay, err := frankingRelay(g.RelayKeys)
		if err != nil {
			return errorf("group relay keys: %v", err)
		}
		rep, err := franking.ParseReport(t.Report)
		if err != nil {
			return expect(&t.caseResult, err)
		}
		again, err := rep.MarshalBinary()
		if err != nil {
			return errorf("a parsed report does not re-encode: %v", err)
		}
		if err := equal("re-encoded report", again, t.Report); err != nil {
			return err
		}
		return expect(&t.caseResult, relay.Verify(rep))
	}
	return errorf("unknown group type %q", g.Type)
}

// checkFrankingCommitment: the listed fields encode to content, which
// commits to commitment under opening; the recipient's check accepts it.
func checkFrankingCommitment(t *frankingTest) error {
	c, err := frankingContent(t)
	if err != nil {
		return err
	}
	o, err := franking.ParseOpening(t.Opening)
	if err != nil {
		return expect(&t.caseResult, err)
	}
	enc, err := c.MarshalBinary()
	if err != nil {
		return expect(&t.caseResult, err)
	}
	com, err := o.Commit(c)
	if err != nil || t.Result == resultInvalid {
		return expect(&t.caseResult, err)
	}
	parsed, err := franking.ParseContent(enc)
	if err != nil {
		return errorf("ParseContent of the encoding: %v", err)
	}
	return first(
		equal("content", enc, t.Content),
		equal("commitment", com[:], t.Commitment),
		checkReencoding(parsed, t.Content),
		franking.Check(com, com, o, parsed),
	)
}

// frankingContent builds the Content a case's fields list.
func frankingContent(t *frankingTest) (*franking.Content, error) {
	if t.Sender == nil || t.Recipient == nil || t.Sent == nil {
		return nil, errorf("the case lists no sender, recipient or sent time")
	}
	c := &franking.Content{Sender: *t.Sender, Recipient: *t.Recipient, Sent: time.UnixMilli(*t.Sent), Body: t.Body}
	for _, d := range t.Attachments {
		if len(d) != franking.DigestSize {
			return nil, errorf("attachment digest of %d bytes", len(d))
		}
		c.Attachments = append(c.Attachments, [franking.DigestSize]byte(d))
	}
	return c, nil
}

// checkContentFields compares a parsed content with the case's fields.
func checkContentFields(c *franking.Content, t *frankingTest) error {
	want, err := frankingContent(t)
	if err != nil {
		return err
	}
	switch {
	case c.Sender != want.Sender:
		return errorf("sender = %q, want %q", c.Sender, want.Sender)
	case c.Recipient != want.Recipient:
		return errorf("recipient = %q, want %q", c.Recipient, want.Recipient)
	case !c.Sent.Equal(want.Sent):
		return errorf("sent = %d, want %d", c.Sent.UnixMilli(), want.Sent.UnixMilli())
	case len(c.Attachments) != len(want.Attachments):
		return errorf("%d attachments, want %d", len(c.Attachments), len(want.Attachments))
	}
	for i := range c.Attachments {
		if err := equal("attachment digest", c.Attachments[i][:], want.Attachments[i][:]); err != nil {
			return err
		}
	}
	return equal("body", c.Body, want.Body)
}

func checkReencoding(c *franking.Content, want []byte) error {
	b, err := c.MarshalBinary()
	if err != nil {
		return errorf("a parsed content does not re-encode: %v", err)
	}
	return equal("re-encoded content", b, want)
}

// frankingRelay builds the relay of a group: the first key is current.
func frankingRelay(keys []relayKey) (*franking.Relay, error) {
	var ks []franking.RelayKey
	for _, k := range keys {
		rk, err := franking.NewRelayKey(k.ID, k.Key)
		if err != nil {
			return nil, err
		}
		ks = append(ks, rk)
	}
	if len(ks) == 0 {
		return nil, errorf("no relay keys")
	}
	return franking.NewRelay(ks[0], ks[1:]...)
}
