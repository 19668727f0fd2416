package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// tagHead returns the CBOR head of tag num as the codec writes it.
func tagHead(num uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{0xdb}, num)
}

// tagNumOf returns the tag number of the registered type name.
func tagNumOf(t *testing.T, name string) uint64 {
	t.Helper()
	v, err := codec.New(name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	return tagOf(t, data)
}

// raw returns the plain CBOR encoding of v (maps, strings, numbers), for
// building inputs by hand.
func raw(t *testing.T, v any) []byte {
	t.Helper()
	data, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// decoderWith returns a decoder with the default limits changed by change.
func decoderWith(t *testing.T, change func(*codec.Limits)) *codec.Decoder {
	t.Helper()
	lim := codec.DefaultLimits()
	change(&lim)
	d, err := codec.NewDecoder(lim)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// deepInner returns a testInner chain n levels deep.
func deepInner(n int) *testInner {
	var in *testInner
	for range n {
		in = &testInner{A: "x", C: in}
	}
	return in
}

func TestDecodeRejects(t *testing.T) {
	ping := mustEncodeMessage(t, &testPing{Seq: 1, Payload: []byte("ping")})
	pingTag := tagHead(tagNumOf(t, "codectest.Ping"))
	initTag := tagHead(tagNumOf(t, "mir.Init"))
	unknownTag := tagHead(1<<32 + 12345)
	send := mustEncodeEvent(t, stdevents.NewSendMessage("net", &testPing{Seq: 1}, stdevents.To("app", "1")))

	dflt := decoderWith(t, func(*codec.Limits) {})
	small := decoderWith(t, func(l *codec.Limits) {
		l.MaxBytes = 16
	})
	shallow := decoderWith(t, func(l *codec.Limits) {
		l.MaxNestingDepth = 8
	})
	fewElements := decoderWith(t, func(l *codec.Limits) {
		l.MaxArrayElements = 16
	})
	fewPairs := decoderWith(t, func(l *codec.Limits) {
		l.MaxMapPairs = 16
	})

	event := func(d *codec.Decoder) func([]byte) error {
		return func(b []byte) error { _, err := d.DecodeEvent(b); return err }
	}
	message := func(d *codec.Decoder) func([]byte) error {
		return func(b []byte) error { _, err := d.DecodeMessage(b); return err }
	}
	into := func(d *codec.Decoder, newV func() any) func([]byte) error {
		return func(b []byte) error { return d.Unmarshal(b, newV()) }
	}

	manyInts := make([]int, 1<<20+1)
	pairs17 := map[string]int{}
	for i := range 17 {
		pairs17[strings.Repeat("k", i+1)] = i
	}

	tests := []struct {
		name   string
		decode func([]byte) error
		input  []byte
		want   error
	}{
		// Size, before any parsing.
		{"too large", message(small), ping, codec.ErrTooLarge},
		{"too large garbage", message(small), bytes.Repeat([]byte{0xff}, 17), codec.ErrTooLarge},

		// Nesting.
		{"too deep structs", message(dflt), mustEncodeMessage(t, &testRich{Ptr: deepInner(40)}), codec.ErrTooDeep},
		{"too deep for a small limit", message(shallow), mustEncodeMessage(t, &testRich{Ptr: deepInner(8)}), codec.ErrTooDeep},
		{"too deep arrays", message(dflt), cat(pingTag, raw(t, map[string]any{"Payload": nestArrays(40)})), codec.ErrTooDeep},

		// Counts.
		{"too many elements", message(fewElements), mustEncodeMessage(t, &testRich{Strs: make([]string, 17)}), codec.ErrTooManyElements},
		{"too many elements, default limit", into(dflt, func() any { return new([]int) }), raw(t, manyInts), codec.ErrTooManyElements},
		{"too many pairs", into(fewPairs, func() any { return new(map[string]int) }), raw(t, pairs17), codec.ErrTooManyPairs},
		{"too many fields", message(fewPairs), mustEncodeMessage(t, &testRich{}), codec.ErrTooManyPairs},

		// Duplicates and trailing data.
		{"duplicate field", message(dflt), cat(pingTag, []byte{0xa2}, raw(t, "Seq"), []byte{0x01}, raw(t, "Seq"), []byte{0x02}), codec.ErrDuplicateKey},
		{"duplicate map key", into(dflt, func() any { return new(map[string]int) }), cat([]byte{0xa2}, raw(t, "k"), []byte{0x01}, raw(t, "k"), []byte{0x02}), codec.ErrDuplicateKey},
		{"trailing byte", message(dflt), cat(ping, []byte{0x00}), codec.ErrTrailingData},
		{"second value", event(dflt), cat(send, send), codec.ErrTrailingData},

		// Tags.
		{"unknown tag", message(dflt), cat(unknownTag, []byte{0xa0}), codec.ErrUnknownType},
		{"unknown tag inside", event(dflt), bytes.Replace(send, pingTag, unknownTag, 1), codec.ErrUnknownType},
		{"unknown tag around a number", message(dflt), cat(pingTag, []byte{0xa1}, raw(t, "Seq"), []byte{0xd9, 0x99, 0x99, 0x01}), codec.ErrUnknownType},
		{"epoch time", message(dflt), cat(tagHead(tagNumOf(t, "codectest.Rich")), []byte{0xa1}, raw(t, "T"), []byte{0xc1, 0x01}), codec.ErrUnknownType},
		{"no tag", event(dflt), raw(t, map[string]any{"DestModule": "a"}), codec.ErrUnknownType},
		{"plain string in any", event(dflt), cat(tagHead(tagNumOf(t, "mir.NewSubmodule")), raw(t, map[string]any{"Params": "x"})), codec.ErrUnknownType},

		// Kinds.
		{"message as event", event(dflt), ping, codec.ErrWrongKind},
		{"event as message", message(dflt), mustEncodeEvent(t, stdevents.NewInit("a")), codec.ErrWrongKind},
		{"params as event", event(dflt), mustMarshal(t, testParams{N: 1}), codec.ErrWrongKind},
		{"event where a message is", event(dflt), bytes.Replace(send, pingTag, initTag, 1), codec.ErrMalformed},

		// Nil.
		{"null event", event(dflt), []byte{0xf6}, codec.ErrNil},
		{"undefined message", message(dflt), []byte{0xf7}, codec.ErrNil},
		{"null follow-up", event(dflt), cat(initTag, raw(t, map[string]any{"DestModule": "a", "Next": []any{nil}})), codec.ErrNil},

		// Malformed.
		{"empty", event(dflt), nil, codec.ErrMalformed},
		{"truncated", message(dflt), ping[:len(ping)-1], codec.ErrMalformed},
		{"truncated tag", message(dflt), ping[:5], codec.ErrMalformed},
		{"indefinite map", message(dflt), cat(pingTag, []byte{0xbf}, raw(t, "Seq"), []byte{0x01, 0xff}), codec.ErrMalformed},
		{"indefinite string", message(dflt), cat(pingTag, []byte{0xa1}, raw(t, "Payload"), []byte{0x5f, 0x41, 0x00, 0xff}), codec.ErrMalformed},
		{"array longer than input", message(dflt), cat(pingTag, []byte{0xa1}, raw(t, "Payload"), []byte{0x99, 0x03, 0xe8}), codec.ErrMalformed},
		{"string longer than input", message(dflt), cat(pingTag, []byte{0xa1}, raw(t, "Payload"), []byte{0x5a, 0xff, 0xff, 0xff, 0xff}), codec.ErrMalformed},
		{"reserved additional information", message(dflt), cat(pingTag, []byte{0xa1}, raw(t, "Seq"), []byte{0x1c}), codec.ErrMalformed},
		{"text for a number", message(dflt), cat(pingTag, raw(t, map[string]any{"Seq": "one"})), codec.ErrMalformed},
		{"panic in the library", message(dflt), cat(tagHead(tagNumOf(t, panickyName)), raw(t, []byte("calm"))), codec.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode(tt.input)
			if !errors.Is(err, tt.want) {
				t.Fatalf("decoding %x: error %v, want %v", tt.input, err, tt.want)
			}
			t.Log(err)
			if !strings.HasPrefix(err.Error(), "codec: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// nestArrays returns n arrays nested in one another.
func nestArrays(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := codec.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeWithinLimits(t *testing.T) {
	// Values right at a limit decode.
	d := decoderWith(t, func(l *codec.Limits) {
		l.MaxArrayElements = 16
	})
	msg := &testRich{Strs: make([]string, 16)}
	got, err := d.DecodeMessage(mustEncodeMessage(t, msg))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.(*testRich).Strs, msg.Strs) {
		t.Errorf("got %v", got.(*testRich).Strs)
	}
	data := mustEncodeMessage(t, &testPing{Seq: 1})
	exact := decoderWith(t, func(l *codec.Limits) { l.MaxBytes = len(data) })
	if _, err := exact.DecodeMessage(data); err != nil {
		t.Errorf("input of exactly MaxBytes: %v", err)
	}
}

func TestNewDecoder(t *testing.T) {
	d, err := codec.NewDecoder(codec.Limits{MaxBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := codec.DefaultLimits()
	want.MaxBytes = 100
	if d.Limits() != want {
		t.Errorf("Limits() = %+v, want %+v (zero fields take defaults)", d.Limits(), want)
	}
	for _, lim := range []codec.Limits{
		{MaxBytes: -1},
		{MaxNestingDepth: 3},
		{MaxNestingDepth: 1 << 20},
		{MaxArrayElements: 15},
		{MaxMapPairs: 15},
		{MaxMapPairs: -5},
	} {
		if _, err := codec.NewDecoder(lim); err == nil {
			t.Errorf("NewDecoder(%+v) succeeded, want an error", lim)
		}
	}
}

func TestDecodeEventResultIsUsable(t *testing.T) {
	// A decoded event's follow-ups and message come back as pointers of
	// the registered types, ready for a type switch.
	ev := stdtypes.WithFollowUps(stdevents.NewMessageReceived("app", "1", &testPing{Seq: 5}), stdevents.NewInit("x"))
	got, err := codec.DecodeEvent(mustEncodeEvent(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	mr, ok := got.(*stdevents.MessageReceived)
	if !ok {
		t.Fatalf("decoded %T", got)
	}
	if p, ok := mr.Msg.(*testPing); !ok || p.Seq != 5 {
		t.Errorf("Msg = %#v", mr.Msg)
	}
	if next := mr.FollowUps(); len(next) != 1 || next[0].Dest() != "x" {
		t.Errorf("FollowUps() = %v", next)
	}
}
