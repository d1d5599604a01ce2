// Package wire implements every wire message of Signal Protocol v4 as
// libsignal 0.103 frames them: SignalMessage, PreKeySignalMessage, the SPQR
// framing, the prekey bundle's publishing form and the scannable
// fingerprint. WIRE.md, beside this file, documents them (sections 1, 2, 10
// and 13), with every label and limit the module uses.
//
// Messages are encoded by hand with
// [google.golang.org/protobuf/encoding/protowire]: there is no generated code.
// Encoders emit fields in tag-number order, as libsignal's prost encoder does,
// so a message built here is byte-identical to libsignal's for the same
// content. Decoders are strict where strictness costs no interoperability:
//
//   - the input is bounded ([MaxMessageSize] for a PreKeySignalMessage);
//   - known fields must have their declared wire type, uint32 fields must fit
//     in 32 bits, and every varint must be minimally encoded (no encoder in
//     the Signal ecosystem emits padded varints);
//   - unknown fields are skipped, except deprecated groups, which no Signal
//     message uses and which are rejected;
//   - a field that appears twice takes its last value, as protobuf specifies.
//
// Every decoding failure wraps one of the exported sentinel errors, and no
// error carries message or key bytes.
//
// Most callers want [ParsePreKeySignalMessage] and
// [PreKeySignalMessage.Marshal].
package wire
