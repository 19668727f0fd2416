package codec

import (
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Every decoding error wraps one of these sentinels, so callers can tell the
// cases apart with errors.Is: a transport, for instance, drops input that
// fails and counts the reasons. Encoding errors wrap ErrNil, ErrUnknownType
// or ErrWrongKind when the value breaks the rule on interface-typed fields
// (see the package documentation); other encoding errors come from the CBOR
// library (a channel or function field, say) and are programmer errors.
var (
	// ErrTooLarge: the input is longer than Limits.MaxBytes. It is refused
	// before any parsing.
	ErrTooLarge = errors.New("input too large")
	// ErrTooDeep: arrays, maps and tags are nested deeper than
	// Limits.MaxNestingDepth.
	ErrTooDeep = errors.New("nesting too deep")
	// ErrTooManyElements: an array has more than Limits.MaxArrayElements
	// elements.
	ErrTooManyElements = errors.New("too many array elements")
	// ErrTooManyPairs: a map (or struct) has more than Limits.MaxMapPairs
	// key-value pairs.
	ErrTooManyPairs = errors.New("too many map pairs")
	// ErrDuplicateKey: a map (or struct) has the same key twice.
	ErrDuplicateKey = errors.New("duplicate map key")
	// ErrTrailingData: bytes follow the encoded value.
	ErrTrailingData = errors.New("trailing data")
	// ErrUnknownType: a type that is not registered. Decoding: the input has
	// a tag no registered type has, or a value without a type tag where one
	// is needed. Encoding: an event, a message, or a value in an
	// interface-typed field is of a type that is not registered.
	ErrUnknownType = errors.New("unknown type")
	// ErrWrongKind: a registered type where it does not belong, such as a
	// message where an event is expected; or, when encoding, an event or
	// message held by value in an interface field (they are used as
	// pointers) or a pointer held in an `any` field (it would decode as a
	// value, so the round trip would change its type).
	ErrWrongKind = errors.New("wrong kind of value")
	// ErrNil: a nil event or message, at the top level or as an element of
	// a slice, array or map (such as a nil follow-up event).
	ErrNil = errors.New("nil value")
	// ErrMalformed: any other input that is not a valid encoding of the
	// expected type: not well-formed CBOR, truncated, an indefinite length,
	// a string where a number is expected, a panic inside the decoder.
	ErrMalformed = errors.New("malformed input")
)

// classify maps an error of the CBOR library to the sentinel that says what
// went wrong, keeping the library's error for its message.
func classify(err error) error {
	var (
		nested   *cbor.MaxNestedLevelError
		elements *cbor.MaxArrayElementsError
		pairs    *cbor.MaxMapPairsError
		dup      *cbor.DupMapKeyError
		extra    *cbor.ExtraneousDataError
		wrongTag *cbor.WrongTagError
	)
	sentinel := ErrMalformed
	switch {
	case errors.As(err, &nested):
		sentinel = ErrTooDeep
	case errors.As(err, &elements):
		sentinel = ErrTooManyElements
	case errors.As(err, &pairs):
		sentinel = ErrTooManyPairs
	case errors.As(err, &dup):
		sentinel = ErrDuplicateKey
	case errors.As(err, &extra):
		sentinel = ErrTrailingData
	case errors.As(err, &wrongTag):
		sentinel = ErrWrongKind
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// panicError turns a recovered panic into an error wrapping sentinel.
func panicError(sentinel error, p any) error {
	return fmt.Errorf("%w: panic in CBOR library: %v", sentinel, p)
}
