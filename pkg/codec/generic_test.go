package codec_test

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
)

func TestDecodeGeneric(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	rich := &testRich{
		S: "s", I: -3, U64: 7, B: true, F64: 0.5, T: at, Big: new(big.Int).Lsh(big.NewInt(-1), 70), Bytes: []byte{1, 2},
		Map: map[string]uint64{"k": 1}, Inner: testInner{A: "a"}, Msg: &testPing{Seq: 1},
		Params: testParams{N: 2},
	}
	got, err := codec.DecodeGeneric(mustEncodeMessage(t, rich))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := got.(*codec.Generic)
	if !ok || g.Name != "codectest.Rich" || g.Tag != tagNumOf(t, "codectest.Rich") || g.Tag != codec.TagOf(g.Name) {
		t.Fatalf("decoded %#v", got)
	}
	fields := g.Value.(map[string]any)
	want := map[string]any{
		"S": "s", "I": int64(-3), "U64": uint64(7), "B": true, "F64": 0.5, "T": at,
		"Bytes": []byte{1, 2}, "Map": map[string]any{"k": uint64(1)},
		"Inner": map[string]any{"A": "a", "B": nil, "C": nil},
		"Msg":   &codec.Generic{Name: "codectest.Ping", Tag: tagNumOf(t, "codectest.Ping"), Value: map[string]any{"Seq": uint64(1), "Payload": nil}},
		"Params": &codec.Generic{Name: "codectest.Params", Tag: tagNumOf(t, "codectest.Params"),
			Value: map[string]any{"N": uint64(2), "Names": nil}},
	}
	if b, ok := fields["Big"].(*big.Int); !ok || b.Cmp(rich.Big) != 0 {
		t.Errorf("field Big = %#v", fields["Big"])
	}
	for k, w := range want {
		if !reflect.DeepEqual(fields[k], w) {
			t.Errorf("field %s = %#v, want %#v", k, fields[k], w)
		}
	}
}

func TestDecodeGenericUnregistered(t *testing.T) {
	// A MessageReceived holding a message of a type this binary does not
	// register: the typed decoding refuses it, the generic one shows it,
	// named if the caller knows the name.
	send := mustEncodeEvent(t, stdevents.NewMessageReceived("app", "1", &testPing{Seq: 4}))
	alien := codec.TagOf("alien.Ping")
	data := bytes.Replace(send, tagHead(tagNumOf(t, "codectest.Ping")), tagHead(alien), 1)
	if _, err := codec.DecodeEvent(data); !errors.Is(err, codec.ErrUnknownType) {
		t.Fatalf("DecodeEvent: %v, want ErrUnknownType", err)
	}
	for _, names := range [][]string{nil, {"other.Name", "alien.Ping"}} {
		got, err := codec.DecodeGeneric(data, names...)
		if err != nil {
			t.Fatal(err)
		}
		g := got.(*codec.Generic)
		msg := g.Value.(map[string]any)["Msg"].(*codec.Generic)
		wantName := ""
		if names != nil {
			wantName = "alien.Ping"
		}
		if g.Name != "mir.MessageReceived" || msg.Name != wantName || msg.Tag != alien ||
			!reflect.DeepEqual(msg.Value, map[string]any{"Seq": uint64(4), "Payload": nil}) {
			t.Errorf("names %q: decoded %+v, message %+v", names, g, msg)
		}
	}
}

func TestDecodeGenericMapKeys(t *testing.T) {
	got, err := codec.DecodeGeneric(raw(t, map[any]any{uint64(1): "a", int64(-2): "b", "c": "c", cbor.ByteString([]byte{0xab}): "d", true: "e"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"1": "a", "-2": "b", "c": "c", "0xab": "d", "cbor:f5": "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %#v, want %#v", got, want)
	}
	// A key Go cannot hash (a struct used as a map key encodes as a map).
	got, err = codec.DecodeGeneric([]byte{0xa1, 0xa1, 0x61, 'k', 0x01, 0x02})
	if want := map[string]any{"cbor:a1616b01": uint64(2)}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %#v (%v), want %#v", got, err, want)
	}
}

func TestDecodeGenericRejects(t *testing.T) {
	shallow := decoderWith(t, func(l *codec.Limits) { l.MaxNestingDepth = 8 })
	small := decoderWith(t, func(l *codec.Limits) { l.MaxBytes = 16 })
	dflt := decoderWith(t, func(*codec.Limits) {})
	ping := mustEncodeMessage(t, &testPing{Seq: 1, Payload: []byte("ping")})
	for _, tt := range []struct {
		name  string
		d     *codec.Decoder
		input []byte
		want  error
	}{
		{"too large", small, ping, codec.ErrTooLarge},
		{"too deep", shallow, raw(t, nestArrays(9)), codec.ErrTooDeep},
		{"too many tags", shallow, append(bytes.Repeat(tagHead(codec.TagOf("x")), 10), 0), codec.ErrTooDeep},
		{"keys that read alike", dflt, cat([]byte{0xa2, 0x01, 0x00}, raw(t, "1"), []byte{0x00}), codec.ErrDuplicateKey},
		{"duplicate key", dflt, cat([]byte{0xa2}, raw(t, "k"), []byte{0x01}, raw(t, "k"), []byte{0x02}), codec.ErrDuplicateKey},
		{"trailing data", dflt, cat(ping, []byte{0}), codec.ErrTrailingData},
		{"indefinite array", dflt, []byte{0x9f, 0xff}, codec.ErrMalformed},
		{"array longer than input", dflt, []byte{0x99, 0x03, 0xe8}, codec.ErrMalformed},
		{"simple value", dflt, []byte{0xe0}, codec.ErrMalformed},
		{"truncated", dflt, ping[:len(ping)-1], codec.ErrMalformed},
		{"empty", dflt, nil, codec.ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.d.DecodeGeneric(tt.input)
			if !errors.Is(err, tt.want) || v != nil {
				t.Fatalf("decoding %x: %#v, error %v; want error %v", tt.input, v, err, tt.want)
			}
		})
	}
}

// FuzzDecodeGeneric decodes arbitrary input generically. Decoding must not
// panic, must fail only with a sentinel, must give only the plain types it
// promises, and must accept every event the typed
// decoding accepts, as the encoder writes it again.
func FuzzDecodeGeneric(f *testing.F) {
	addSeeds(f)
	f.Add(cat(tagHead(codec.TagOf("alien.Ping")), []byte{0xa1, 0x63, 'S', 'e', 'q', 0x01}))
	f.Add([]byte{0xa2, 0x01, 0x00, 0x21, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Input the typed decoding accepts may still hold what the encoder
		// never writes (an unassigned simple value in a field it ignores):
		// only what the encoder writes must decode.
		if ev, err := codec.DecodeEvent(data); err == nil {
			if _, err := codec.DecodeGeneric(mustEncodeEvent(t, ev)); err != nil {
				t.Fatalf("DecodeGeneric refuses the encoding of %#v: %v", ev, err)
			}
		}
		v, err := codec.DecodeGeneric(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		checkPlain(t, v, 0)
	})
}

// checkPlain fails t if v holds a type DecodeGeneric does not promise.
func checkPlain(t *testing.T, v any, depth int) {
	t.Helper()
	// The library counts a tag and its content as less than two levels.
	if depth > 2*codec.DefaultLimits().MaxNestingDepth {
		t.Fatalf("nested deeper than the limit allows")
	}
	switch v := v.(type) {
	case nil, bool, uint64, int64, float64, string, []byte, time.Time, *big.Int:
	case []any:
		for _, el := range v {
			checkPlain(t, el, depth+1)
		}
	case map[string]any:
		for _, el := range v {
			checkPlain(t, el, depth+1)
		}
	case *codec.Generic:
		checkPlain(t, v.Value, depth+1)
	default:
		t.Fatalf("decoded a %T", v)
	}
}

func TestDecodeGenericScalars(t *testing.T) {
	minus2To64 := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 64))
	for _, tt := range []struct {
		input []byte
		want  any
	}{
		{[]byte{0xf9, 0x7c, 0x00}, math.Inf(1)},
		{[]byte{0xf9, 0xc0, 0x00}, -2.0},
		{[]byte{0xf9, 0x00, 0x01}, math.Ldexp(1, -24)},
		{[]byte{0xfa, 0x3f, 0xc0, 0x00, 0x00}, 1.5},
		{[]byte{0x20}, int64(-1)},
		{[]byte{0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, minus2To64},
		{[]byte{0xf7}, nil},
		// A time tag around what is no time is shown as it is.
		{[]byte{0xc0, 0x63, 'a', 'b', 'c'}, &codec.Generic{Tag: 0, Value: "abc"}},
	} {
		got, err := codec.DecodeGeneric(tt.input)
		if b, ok := got.(*big.Int); ok && b.Cmp(minus2To64) == 0 {
			got = minus2To64
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decoding %x: %#v (%v), want %#v", tt.input, got, err, tt.want)
		}
	}
}
