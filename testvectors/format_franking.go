package testvectors

// ---- franking.json ----

// Group types of franking.json.
const (
	typeFrankingCommitment = "FrankingCommitment"
	typeFrankingContent    = "FrankingContent"
	typeFrankingCheck      = "FrankingCheck"
	typeFrankingTag        = "FrankingTag"
	typeFrankingReport     = "FrankingReport"
)

// relayKey is one franking relay key: its id and its 32 secret bytes.
type relayKey struct {
	ID  uint32   `json:"id"`
	Key hexBytes `json:"key"`
}

type frankingGroup struct {
	Type    string `json:"type"`
	Comment string `json:"comment"`

	// FrankingTag: the relay key that tags.
	RelayKey *relayKey `json:"relayKey,omitempty"`
	// FrankingReport: the keys the relay holds, the current one first.
	RelayKeys []relayKey `json:"relayKeys,omitzero"`

	Tests []frankingTest `json:"tests"`
}

type frankingTest struct {
	caseID

	// The content fields (FrankingCommitment, FrankingContent's valid
	// cases); Sent in Unix milliseconds, Attachments absent for none.
	Sender      *string    `json:"sender,omitempty"`
	Recipient   *string    `json:"recipient,omitempty"`
	Sent        *int64     `json:"sent,omitempty"`
	Body        hexBytes   `json:"body,omitzero"`
	Attachments []hexBytes `json:"attachments,omitzero"`

	// Content is the content encoding; Opening the franking key.
	Content    hexBytes `json:"content,omitzero"`
	Opening    hexBytes `json:"opening,omitzero"`
	Commitment hexBytes `json:"commitment,omitzero"`

	// FrankingCheck: the commitment beside the ciphertext and the one in
	// the payload.
	Outer hexBytes `json:"outer,omitzero"`
	Inner hexBytes `json:"inner,omitzero"`

	// FrankingTag: Received in Unix milliseconds, Tag the 36-byte tag.
	Received *int64   `json:"received,omitempty"`
	Tag      hexBytes `json:"tag,omitzero"`

	// FrankingReport: the report encoding.
	Report hexBytes `json:"report,omitzero"`

	caseResult
}
