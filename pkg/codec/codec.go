package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"

	"github.com/fxamacker/cbor/v2"

	"github.com/mirframework/mir/stdtypes"
)

// encOptions are the encoding options, the same for every registry snapshot.
func encOptions() cbor.EncOptions {
	return cbor.EncOptions{
		// Map keys and struct fields in one fixed order: equal values give
		// equal bytes, which hashing, signing and comparing logs rely on.
		Sort: cbor.SortCoreDeterministic,
		// A time.Time is an RFC 3339 string with nanoseconds and the zone
		// offset, under tag 0; the default (Unix seconds, untagged) would
		// silently drop the fraction. The decoder takes only this form, so
		// every time it accepts can be encoded again (years 0 to 9999).
		Time:    cbor.TimeRFC3339Nano,
		TimeTag: cbor.EncTagRequired,
		// Never written, and refused when decoding (see decOptions).
		IndefLength: cbor.IndefLengthForbidden,
		// A nil slice or map is encoded as null and an empty one as an
		// empty array or map, so each decodes to what it was.
		NilContainers: cbor.NilContainerAsNull,
	}
}

// EncodeEvent returns the encoding of ev, which must be a non-nil pointer to
// a registered event type. Every event and message ev holds (follow-ups,
// messages, events to be emitted by timers) and every value in an `any`
// field must be registered too; see the package documentation for the rule
// on interface-typed fields. The encoding is deterministic: equal events
// give equal bytes.
func EncodeEvent(ev stdtypes.Event) ([]byte, error) {
	r := load()
	if data, ok := encodeFast(r, ev); ok {
		return data, nil
	}
	if err := checkTop(r, ev); err != nil {
		return nil, fmt.Errorf("codec: encode event: %w", err)
	}
	return marshal(r, ev)
}

// AppendEvent appends the encoding of ev to dst and returns the extended
// slice, like EncodeEvent. It allocates nothing when dst has room, so a
// transport can reuse one buffer. On error it returns dst unchanged. It may
// write scratch bytes into dst's capacity past the returned slice (at most 15
// past its end), so that capacity must not hold data the caller keeps.
func AppendEvent(dst []byte, ev stdtypes.Event) ([]byte, error) {
	r := load()
	if out, ok := appendFast(r, dst, ev); ok {
		return out, nil
	}
	if err := checkTop(r, ev); err != nil {
		return dst, fmt.Errorf("codec: encode event: %w", err)
	}
	return appendTo(r, dst, ev)
}

// EncodeMessage returns the encoding of msg, which must be a non-nil pointer
// to a registered message type; see EncodeEvent.
func EncodeMessage(msg stdtypes.Message) ([]byte, error) {
	r := load()
	if data, ok := encodeFast(r, msg); ok {
		return data, nil
	}
	if err := checkTop(r, msg); err != nil {
		return nil, fmt.Errorf("codec: encode message: %w", err)
	}
	return marshal(r, msg)
}

// AppendMessage appends the encoding of msg to dst and returns the extended
// slice; see AppendEvent.
func AppendMessage(dst []byte, msg stdtypes.Message) ([]byte, error) {
	r := load()
	if out, ok := appendFast(r, dst, msg); ok {
		return out, nil
	}
	if err := checkTop(r, msg); err != nil {
		return dst, fmt.Errorf("codec: encode message: %w", err)
	}
	return appendTo(r, dst, msg)
}

// Marshal returns the encoding of v, any value the CBOR library can encode,
// with the same options and registry as EncodeEvent. It is for the other
// structures at the edges, such as a transport's envelope holding a message;
// the rule on interface-typed fields applies to everything v holds. Decode
// the result with Unmarshal.
func Marshal(v any) ([]byte, error) {
	r := load()
	if v != nil {
		if err := check(r, reflect.ValueOf(v)); err != nil {
			return nil, fmt.Errorf("codec: marshal %T: %w", v, err)
		}
	}
	return marshal(r, v)
}

// checkTop checks an event or message given to an Encode or Append
// function: a non-nil pointer to a registered type, holding only what the
// interface rule allows.
func checkTop(r *registry, v any) error {
	if v == nil {
		return ErrNil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		return fmt.Errorf("%w: %T held by value; use a pointer", ErrWrongKind, v)
	}
	if rv.IsNil() {
		return fmt.Errorf("%w: nil %T", ErrNil, v)
	}
	e, ok := r.byType[rv.Type().Elem()]
	if !ok {
		return fmt.Errorf("%w: %T", ErrUnknownType, v)
	}
	if err := checkValue(r, rv.Elem(), e.plan, false, 0); err != nil {
		return fmt.Errorf("%T: %w", v, err)
	}
	return nil
}

// marshal encodes v with r's mode, turning a panic in the library into an
// error.
func marshal(r *registry, v any) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, err = nil, fmt.Errorf("codec: encode %T: panic in CBOR library: %v", v, p)
		}
	}()
	data, err = r.enc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("codec: encode %T: %w", v, err)
	}
	return data, nil
}

// appendTo appends the encoding of v to dst with r's mode, turning a panic
// in the library into an error.
func appendTo(r *registry, dst []byte, v any) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = dst, fmt.Errorf("codec: encode %T: panic in CBOR library: %v", v, p)
		}
	}()
	buf := bufferPool.Get().(*bytes.Buffer)
	defer func() {
		*buf = bytes.Buffer{} // Keep no reference to the caller's memory.
		bufferPool.Put(buf)
	}()
	*buf = *bytes.NewBuffer(dst)
	if err := r.enc.MarshalToBuffer(v, buf); err != nil {
		return dst, fmt.Errorf("codec: encode %T: %w", v, err)
	}
	return buf.Bytes(), nil
}

// bufferPool holds the bytes.Buffer headers appendTo wraps around its
// callers' slices, so that appending allocates nothing when dst has room.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// DecodeEvent decodes an event encoded by EncodeEvent, with the default
// limits. The input is untrusted: anything other than a valid encoding of a
// registered event gives an error wrapping one of the package's sentinels,
// never a panic. The event does not share memory with data.
func DecodeEvent(data []byte) (stdtypes.Event, error) {
	return defaultDecoder.DecodeEvent(data)
}

// DecodeMessage decodes a message encoded by EncodeMessage, with the default
// limits; see DecodeEvent.
func DecodeMessage(data []byte) (stdtypes.Message, error) {
	return defaultDecoder.DecodeMessage(data)
}

// Unmarshal decodes data, encoded by Marshal, into the value v points to,
// with the default limits. v should point to a zero value: an interface
// field that already holds a pointer is decoded into what it points to.
// The checks are those of DecodeEvent, except that the top-level value may
// be of any type.
func Unmarshal(data []byte, v any) error {
	return defaultDecoder.Unmarshal(data, v)
}
