package codec_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
)

// sentinels are the errors every decoding failure must wrap.
var sentinels = []error{
	codec.ErrTooLarge, codec.ErrTooDeep, codec.ErrTooManyElements, codec.ErrTooManyPairs,
	codec.ErrDuplicateKey, codec.ErrTrailingData, codec.ErrUnknownType, codec.ErrWrongKind,
	codec.ErrNil, codec.ErrMalformed,
}

// checkDecodeError fails t unless err wraps one of the sentinels.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %q wraps none of the package's sentinels", err)
}

// addSeeds adds to f the encoding of a filled value of every registered
// type, for a few seeds, with truncations of each, plus the envelope
// Unmarshal decodes.
func addSeeds(f *testing.F) {
	for _, name := range codec.Registered() {
		if name == panickyName {
			continue
		}
		for seed := range uint64(3) {
			data, err := encode(newFiller(seed).sample(name))
			if err != nil {
				f.Fatalf("%s: %v", name, err)
			}
			f.Add(data)
			f.Add(data[:len(data)/2])
			f.Add(data[:len(data)-1])
		}
	}
	env, err := codec.Marshal(testEnvelope{From: "1", Msg: &testPing{Seq: 2, Payload: []byte{3}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add([]byte{})
	f.Add([]byte{0xf6})
}

// FuzzDecodeEvent decodes arbitrary input as an event. Decoding must not
// panic, must fail only with a sentinel, and what it accepts must encode
// again, to an encoding that decodes and encodes to the same bytes.
func FuzzDecodeEvent(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := codec.DecodeEvent(data)
		if err != nil {
			if ev != nil {
				t.Fatalf("DecodeEvent returned %T along with error %v", ev, err)
			}
			checkDecodeError(t, err)
			return
		}
		if ev == nil {
			t.Fatal("DecodeEvent returned nil without an error")
		}
		checkStable(t, ev, encode, func(b []byte) (any, error) { return codec.DecodeEvent(b) })
	})
}

// FuzzDecodeMessage is FuzzDecodeEvent for messages.
func FuzzDecodeMessage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := codec.DecodeMessage(data)
		if err != nil {
			if msg != nil {
				t.Fatalf("DecodeMessage returned %T along with error %v", msg, err)
			}
			checkDecodeError(t, err)
			return
		}
		if msg == nil {
			t.Fatal("DecodeMessage returned nil without an error")
		}
		checkStable(t, msg, encode, func(b []byte) (any, error) { return codec.DecodeMessage(b) })
	})
}

// FuzzUnmarshal decodes arbitrary input into a transport-like envelope and
// into an `any`, with the checks of FuzzDecodeEvent.
func FuzzUnmarshal(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var env testEnvelope
		if err := codec.Unmarshal(data, &env); err != nil {
			checkDecodeError(t, err)
		} else {
			checkStable(t, env, codec.Marshal, func(b []byte) (any, error) {
				var again testEnvelope
				err := codec.Unmarshal(b, &again)
				return again, err
			})
		}
		var v any
		if err := codec.Unmarshal(data, &v); err != nil {
			checkDecodeError(t, err)
		} else {
			if _, ok := codec.Name(v); !ok && v != nil {
				t.Fatalf("Unmarshal into any gave %T, not a registered type", v)
			}
			checkStable(t, v, codec.Marshal, func(b []byte) (any, error) {
				var again any
				err := codec.Unmarshal(b, &again)
				return again, err
			})
		}
	})
}

// checkStable checks that v, just decoded, encodes; that its encoding
// decodes; and that this encodes to the same bytes. (Comparing bytes rather
// than values lets NaN, which is not equal to itself, through.)
func checkStable(t *testing.T, v any, encode func(any) ([]byte, error), decode func([]byte) (any, error)) {
	t.Helper()
	first, err := encode(v)
	if err != nil {
		t.Fatalf("decoded %#v does not encode: %v", v, err)
	}
	w, err := decode(first)
	if err != nil {
		t.Fatalf("encoding %x of a decoded value does not decode: %v", first, err)
	}
	second, err := encode(w)
	if err != nil {
		t.Fatalf("second encoding: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Fatalf("encoding is not stable:\n%x\n%x", first, second)
	}
}
