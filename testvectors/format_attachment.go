package testvectors

// ---- attachment.json ----

// Group types of attachment.json.
const (
	typeAttachmentPadding = "AttachmentPadding"
	typeAttachmentEncrypt = "AttachmentEncrypt"
	typeAttachmentDecrypt = "AttachmentDecrypt"
	typeAttachmentPointer = "AttachmentPointer"
)

type attachmentGroup struct {
	Type    string           `json:"type"`
	Comment string           `json:"comment"`
	Tests   []attachmentTest `json:"tests"`
}

type attachmentTest struct {
	caseID

	// Sizes in bytes: plaintext, padded plaintext, blob.
	Size       *int64 `json:"size,omitempty"`
	PaddedSize *int64 `json:"paddedSize,omitempty"`
	BlobSize   *int64 `json:"blobSize,omitempty"`

	// AttachmentEncrypt: the 64-byte key (AES key || MAC key), the IV and
	// the plaintext in; the blob and its SHA-256 digest out.
	Key       hexBytes `json:"key,omitzero"`
	IV        hexBytes `json:"iv,omitzero"`
	Plaintext hexBytes `json:"plaintext,omitzero"`
	Blob      hexBytes `json:"blob,omitzero"`
	Digest    hexBytes `json:"digest,omitzero"`

	// The pointer's other fields and its encoding.
	BlobID      *string  `json:"blobId,omitempty"`
	ContentType *string  `json:"contentType,omitempty"`
	FileName    *string  `json:"fileName,omitempty"`
	Pointer     hexBytes `json:"pointer,omitzero"`

	caseResult
}
