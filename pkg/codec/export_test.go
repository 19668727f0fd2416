package codec

import (
	"fmt"
	"unsafe"

	"github.com/mirframework/mir/stdtypes"
)

// Hooks for the differential tests of the fast encoder (fast_test.go).

// EncodeEventLibrary is EncodeEvent without the fast encoder: check.go and
// the CBOR library, as before the fast encoder existed.
func EncodeEventLibrary(ev stdtypes.Event) ([]byte, error) {
	r := load()
	if err := checkTop(r, ev); err != nil {
		return nil, fmt.Errorf("codec: encode event: %w", err)
	}
	return marshal(r, ev)
}

// EncodeMessageLibrary is EncodeMessage without the fast encoder.
func EncodeMessageLibrary(msg stdtypes.Message) ([]byte, error) {
	r := load()
	if err := checkTop(r, msg); err != nil {
		return nil, fmt.Errorf("codec: encode message: %w", err)
	}
	return marshal(r, msg)
}

// EncodeFast is the fast encoder alone: ok is false where the Encode
// functions would use the library.
func EncodeFast(v any) (data []byte, ok bool) {
	data, ok = appendFast(load(), nil, v)
	if !ok {
		return nil, false
	}
	return data, true
}

// FastCompiles reports whether the fast encoder supports the registered
// type of v (a pointer to it).
func FastCompiles(v any) bool {
	fe := load().fast.byPtr.get(typeWord(v))
	return fe != nil && fe.node() != nil
}

// TypeWords exposes typeWords for TestFastTypeWords.
func TypeWords(v any) (val, ptr unsafe.Pointer, direct bool) {
	e, ok := load().lookup(v)
	if !ok {
		panic(fmt.Sprintf("%T not registered", v))
	}
	return typeWords(e.typ)
}

// FastPanics returns how many panics the fast encoder has recovered from.
func FastPanics() int64 { return fastPanics.Load() }
