// Package codec is the one serialization of Mir events and messages. Inside
// a node, events and messages travel as Go values; they are encoded only at
// the edges (network transport, event log, write-ahead log), by this
// package, and decoded there from input that may come from a faulty or
// malicious node.
//
// # Registering types
//
// An event or message type needs one line, next to its declaration, and no
// generated code:
//
//	type Ping struct {
//		stdtypes.MessageBase
//		Seq uint64
//	}
//
//	var _ = codec.Register[Ping]("pingpong.Ping")
//
// The encoding is CBOR (RFC 8949), written and read by
// github.com/fxamacker/cbor/v2. A struct is a map from field names to
// values. A registered type's value is preceded by a tag whose number is
// derived from the registered name (2^32 plus the name's 32-bit FNV-1a
// hash), which is how decoding knows the concrete type of an event in
// Header.Next or of the message in a SendMessage. Deriving the number from
// the name needs no central numbering and gives the same number in every
// build, so recorded logs stay readable as long as names do not change. If
// two names ever hash to the same number, Register panics at program start
// and one of them must be renamed.
//
// # Interface-typed fields
//
// So that decoding gives back exactly what was encoded, a field or element
// of interface type holds nil or:
//
//   - for stdtypes.Event, stdtypes.Message or another non-empty interface:
//     a non-nil pointer to a registered type (decoding makes a pointer);
//   - for `any` (such as stdevents.NewSubmodule.Params): a value, not a
//     pointer, of a registered type (decoding makes a value).
//
// Elements of slices, arrays and maps of interface type must not be nil:
// there is no such thing as a nil follow-up event. Encoding checks this
// rule, so a type someone forgot to register fails at the sender with its
// name (ErrUnknownType); decoding checks it too.
//
// # Decoding untrusted input
//
// Decoding refuses, with an error that wraps a sentinel (see the Err
// variables): input longer than Limits.MaxBytes before parsing it; nesting,
// arrays and maps beyond the limits; duplicate map keys; indefinite
// lengths; bytes after the value; tags of no registered type, anywhere in
// the input; a registered type where another kind is expected (a message
// given to DecodeEvent); and a nil event or message. A panic inside the
// CBOR library becomes an error too. The package-level functions use
// DefaultLimits; a Decoder carries its own.
//
// # Values of types a binary does not register
//
// DecodeGeneric decodes any encoding, whatever types its tags stand for,
// as plain data (maps, arrays, strings, numbers) with each tagged value a
// *Generic naming its type where it can: for tools such as mircat that show
// recorded events of protocols they were not built with. It keeps the
// limits of the typed decoding.
//
// Nested values of the wrong kind (an event where a SendMessage has its
// message) are refused with ErrMalformed rather than ErrWrongKind: the
// library does not say which it was.
//
// # Other properties
//
//   - Deterministic: map keys and struct fields are written in a fixed
//     order, so equal values give equal bytes.
//   - nil and empty slices and maps stay apart (null and empty), except
//     Header.Next, which is left out when empty and so decodes as nil.
//   - Strings carry any bytes, valid UTF-8 or not.
//   - time.Time is an RFC 3339 string with nanoseconds (years 0 to 9999).
//     A time in UTC decodes in UTC; one in another zone decodes in a fixed
//     zone with the same offset (equal by Time.Equal, not by ==).
//   - A decoded value shares no memory with the input.
//   - Unknown struct fields in the input are ignored, so a field can be
//     added to a type without breaking the reading of older recordings.
//   - Encoding and decoding are safe for concurrent use and take no lock;
//     Register may be called at any time.
//   - Encoding events and messages is fast (tens of nanoseconds for a
//     small event, enough to record every event a node dispatches) for
//     types made of booleans, numbers, strings, byte slices, structs,
//     pointers, slices, arrays and interface fields. A type holding a map,
//     a time.Time, a big.Int or a type with a marshaling method is encoded
//     by the general path of the CBOR library, several times slower, to
//     the same bytes.
package codec
