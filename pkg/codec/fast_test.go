package codec_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Differential tests of the fast encoder: whatever it encodes must be,
// byte for byte, what the CBOR library encodes, and whatever it leaves to
// the library must still encode (or fail) as before.

// Types covering every kind and struct tag option the fast encoder
// supports. They are registered, so the round-trip and fuzz tests of
// codec_test.go fill and use them too.
type (
	// fastKinds has a field of every supported kind.
	fastKinds struct {
		stdtypes.MessageBase
		B        bool
		I        int
		I8       int8
		I16      int16
		I32      int32
		I64      int64
		U        uint
		U8       uint8
		U16      uint16
		U32      uint32
		U64      uint64
		F32      float32
		F64      float64
		S        string
		Bytes    []byte
		Arr      [3]byte
		Arr0     [0]byte
		Ints     [2]int16
		D        time.Duration
		Node     stdtypes.NodeID
		Nodes    []stdtypes.NodeID
		Mod      stdtypes.ModuleID
		Ret      stdtypes.RetentionIndex
		Named    fastBytes
		NamedArr fastArr
		P        *int
		PP       **string
		PS       *fastInner
		Inner    fastInner
		Inners   []fastInner
		PInners  []*fastInner
		Nested   [][]uint32
		Strs     [2][]string
		Msg      stdtypes.Message
		Msgs     []stdtypes.Message
		Ev       stdtypes.Event
		Evs      []stdtypes.Event
		Any      any
		Anys     []any
		Num      fastNum     // Registered: a tagged number.
		Str      fastStr     // Registered: a tagged string.
		Reg      fastReg     // Registered struct held directly: tagged.
		PReg     *fastReg    // The same through a pointer.
		Regs     []fastReg   // And in a list.
		Direct   fastDirect  // Registered and pointer-shaped.
		Embedded fastEmbeds  // Embedded structs, exported and not.
		Tags     fastTags    // Renamed and skipped fields.
		Omit     fastOmit    // omitempty on every kind.
		POmit    *fastOmit   // nil, or a pointer to an (often empty) struct.
		IntKeys  fastIntKeys // keyasint.
		Array    fastArray   // toarray.
		Wide     fastWide    // More than 23 fields: a two-byte map head.
		skipped  int
	}

	// fastIfaceArrays has arrays of interfaces, whose elements must not be
	// nil (so the zero value does not encode).
	fastIfaceArrays struct {
		stdtypes.MessageBase
		Evs  [2]stdtypes.Event
		Anys [1]any
	}

	fastInner struct {
		A string
		B []uint32
		C *fastInner
	}
	fastBytes []byte
	fastArr   [2]uint8
	fastNum   uint16
	fastStr   string
	// fastList is registered, so it is tagged. A nil one is a bare null,
	// which does not decode as a fastList: it appears only in `any`
	// fields, which the filler sets to non-nil lists.
	fastList []int8
	fastReg  struct {
		X int
		Y string
	}
	fastDirect struct{ P *uint64 }

	FastEmbedded struct {
		E1 int
		E2 string
	}
	FastDeeper  struct{ D1 bool }
	fastHidden  struct{ H1, h2 int }
	FastWithSub struct {
		FastDeeper
		W int
	}
	fastEmbeds struct {
		FastEmbedded
		fastHidden
		FastWithSub
		Own int
	}

	fastTags struct {
		Renamed   int    `cbor:"r"`
		JSON      string `json:"j"`
		Both      uint   `cbor:"c" json:"ignored"`
		Skip      int    `cbor:"-"`
		JSONSkip  int    `json:"-"`
		LongName  string `cbor:"a_field_name_longer_than_23_bytes"`
		EmptyName bool   `cbor:",omitempty"`
		Dash      int    `cbor:"-,"` // A field named "-".
		Z         int    `cbor:"0"`  // A text key that sorts first.
	}

	fastOmit struct {
		B     bool              `cbor:",omitempty"`
		I     int               `cbor:",omitempty"`
		I8    int8              `cbor:",omitempty"`
		U16   uint16            `cbor:",omitempty"`
		U32   uint32            `cbor:",omitempty"`
		F32   float32           `cbor:",omitempty"`
		F64   float64           `cbor:",omitempty"`
		S     string            `cbor:",omitempty"`
		Bytes []byte            `cbor:",omitempty"`
		Arr0  [0]int            `cbor:",omitempty"`
		Arr   [1]int            `cbor:",omitempty"`
		Slice []int             `cbor:",omitempty"`
		P     *int              `cbor:",omitempty"`
		Msg   stdtypes.Message  `cbor:",omitempty"`
		Any   any               `cbor:",omitempty"`
		Inner fastOmitInner     `cbor:",omitempty"`
		Full  fastReg           `cbor:",omitempty"` // Never empty: its fields lack omitempty.
		Evs   []stdtypes.Event  `json:",omitempty"`
		Node  stdtypes.NodeID   `cbor:",omitempty"`
		Nodes []stdtypes.NodeID `cbor:",omitempty"`
	}
	fastOmitInner struct {
		A int    `cbor:",omitempty"`
		B string `cbor:",omitempty"`
	}

	fastIntKeys struct {
		A int    `cbor:"1,keyasint"`
		B string `cbor:"-2,keyasint"`
		C bool   `cbor:"24,keyasint"`
		D uint   `cbor:"-300,keyasint,omitempty"`
		E int    `cbor:"007,keyasint"` // The library reads 7.
		F string `cbor:"a"`            // Text keys sort after integers.
	}

	// fastWide has 25 fields, so its map head takes two bytes unless
	// omitempty leaves out two or more.
	fastWide struct {
		A, B, C, D, E, F, G, H, I, J, K, L, M int8 `cbor:",omitempty"`
		N, O, P, Q, R, S, T, U, V, W, X, Y    bool `cbor:",omitempty"`
	}

	fastArray struct {
		_ struct{} `cbor:",toarray"`
		FastEmbedded
		A int    `cbor:",omitempty"` // Ignored in an array.
		B []byte `cbor:"renamed"`
		C *fastArray
	}
)

var (
	_ = codec.Register[fastKinds]("codectest.FastKinds")
	_ = codec.Register[fastIfaceArrays]("codectest.FastIfaceArrays")
	_ = codec.Register[fastNum]("codectest.FastNum")
	_ = codec.Register[fastStr]("codectest.FastStr")
	_ = codec.Register[fastList]("codectest.FastList")

	_ = codec.Register[fastReg]("codectest.FastReg")
	_ = codec.Register[fastDirect]("codectest.FastDirect")
)

// Types the fast encoder leaves to the library, each for one reason.
type (
	fastMap struct {
		stdtypes.MessageBase
		M map[string]int
	}
	fastTime struct {
		stdtypes.MessageBase
		T time.Time
	}
	fastEmbeddedPtr struct {
		stdtypes.MessageBase
		*FastEmbedded
	}
	fastConflict struct { // Two fields named H1: the library keeps the shallower.
		stdtypes.MessageBase
		fastHidden
		H1 string
	}
	fastOmitZero struct {
		stdtypes.MessageBase
		X int `cbor:",omitzero"`
	}
	fastBinary struct {
		stdtypes.MessageBase
		X fastBinaryField
	}
	fastBinaryField struct{ A int }
)

func (f fastBinaryField) MarshalBinary() ([]byte, error) {
	return binary.AppendVarint(nil, int64(f.A)), nil
}

func (f *fastBinaryField) UnmarshalBinary(data []byte) error {
	a, n := binary.Varint(data)
	if n != len(data) {
		return fmt.Errorf("fastBinaryField: bad encoding %x", data)
	}
	f.A = int(a)
	return nil
}

var (
	_ = codec.Register[fastMap]("codectest.FastMap")
	_ = codec.Register[fastTime]("codectest.FastTime")
	_ = codec.Register[fastEmbeddedPtr]("codectest.FastEmbeddedPtr")
	_ = codec.Register[fastConflict]("codectest.FastConflict")
	_ = codec.Register[fastOmitZero]("codectest.FastOmitZero")
	_ = codec.Register[fastBinary]("codectest.FastBinary")
)

// fastSupported are the registered types the fast encoder must support:
// if one stops compiling, events of that type silently get slow.
var fastSupported = []string{
	"mir.Init", "mir.SendMessage", "mir.MessageReceived", "mir.TimerDelay", "mir.TimerRepeat",
	"mir.TimerGarbageCollect", "mir.NewSubmodule", "mir.GarbageCollect",
	"codectest.Ping", "codectest.Event", "codectest.Params", "codectest.BenchHop",
	"codectest.FastKinds", "codectest.FastIfaceArrays", "codectest.FastNum", "codectest.FastStr", "codectest.FastList",
	"codectest.FastReg", "codectest.FastDirect", "example.Ping",
}

// fastUnsupported are the registered types it must leave to the library.
var fastUnsupported = []string{
	"codectest.Rich", "codectest.Panicky", "codectest.Node", "codectest.FastMap", "codectest.FastTime",
	"codectest.FastEmbeddedPtr", "codectest.FastConflict", "codectest.FastOmitZero",
	"codectest.FastBinary",
}

// encodeLibrary encodes v, a pointer to a registered event or message
// type, without the fast encoder.
func encodeLibrary(v any) ([]byte, error) {
	switch v := v.(type) {
	case stdtypes.Event:
		return codec.EncodeEventLibrary(v)
	case stdtypes.Message:
		return codec.EncodeMessageLibrary(v)
	}
	panic(fmt.Sprintf("%T is neither an event nor a message", v))
}

// eventOrMessage reports whether v can be given to the Encode functions,
// which the fast encoder serves; other registered types are only held.
func eventOrMessage(v any) bool {
	switch v.(type) {
	case stdtypes.Event, stdtypes.Message:
		return true
	}
	return false
}

// checkSame fails t unless the fast encoder, where it encodes v, gives the
// library's bytes, and the public functions give them too (whichever path
// they take). It returns whether the fast encoder encoded v.
func checkSame(t *testing.T, v any) bool {
	t.Helper()
	want, err := encodeLibrary(v)
	if err != nil {
		t.Fatalf("library: %v\nvalue: %+v", err, v)
	}
	fast, ok := codec.EncodeFast(v)
	if n := codec.FastPanics(); n != 0 {
		t.Fatalf("the fast encoder panicked (%d times so far)\nvalue: %+v", n, v)
	}
	if ok && !bytes.Equal(fast, want) {
		t.Fatalf("fast encoder and library differ\nfast:    %x\nlibrary: %x\nvalue: %+v", fast, want, v)
	}
	got, err := encode(v)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode gave %x, %v; want %x", got, err, want)
	}
	var appended []byte
	switch v := v.(type) {
	case stdtypes.Event:
		appended, err = codec.AppendEvent([]byte("prefix"), v)
	case stdtypes.Message:
		appended, err = codec.AppendMessage([]byte("prefix"), v)
	}
	if err != nil || !bytes.Equal(appended, append([]byte("prefix"), want...)) {
		t.Fatalf("Append gave %x, %v; want prefix and %x", appended, err, want)
	}
	return ok
}

func TestFastSupportedTypes(t *testing.T) {
	for _, name := range fastSupported {
		v, err := codec.New(name)
		if err != nil {
			t.Fatal(err)
		}
		if !codec.FastCompiles(v) {
			t.Errorf("%s: the fast encoder does not support it", name)
		}
	}
	for _, name := range fastUnsupported {
		v, err := codec.New(name)
		if err != nil {
			t.Fatal(err)
		}
		if codec.FastCompiles(v) {
			t.Errorf("%s: the fast encoder supports it; it should leave it to the library", name)
		}
	}
}

// TestFastMatchesLibrary compares the two encoders on filled values of
// every registered type.
func TestFastMatchesLibrary(t *testing.T) {
	for _, name := range codec.Registered() {
		if name == panickyName {
			continue
		}
		t.Run(name, func(t *testing.T) {
			fast := 0
			for seed := range uint64(256) {
				v := newFiller(seed).sample(name)
				if !eventOrMessage(v) {
					return
				}
				if checkSame(t, v) {
					fast++
				}
			}
			// A supported type may still hold an unsupported one in an
			// interface, so not every value of it is fast.
			if slices.Contains(fastSupported, name) && fast == 0 {
				t.Errorf("no value was encoded by the fast encoder")
			}
		})
	}
}

// TestFastStandardEvents compares the encoders on hand-made standard
// events, the ones every node dispatches.
func TestFastStandardEvents(t *testing.T) {
	ping := &testPing{Seq: 7, Payload: []byte("p")}
	events := []stdtypes.Event{
		stdevents.NewInit("a"),
		stdevents.NewInit(""),
		stdevents.NewSendMessage("net", ping, stdevents.To("app", "1", "2")),
		stdevents.NewSendMessage("net", ping, stdevents.To("app")),
		stdevents.NewMessageReceived("app", "3", ping),
		stdevents.NewTimerDelay("timer", time.Second, stdevents.NewInit("x"), stdevents.NewSendMessage("net", ping, stdevents.To("app", "1"))),
		stdevents.NewTimerDelay("timer", -1),
		stdevents.NewTimerRepeat("timer", time.Hour, 1<<40, stdevents.NewGarbageCollect("x", 3)),
		stdevents.NewTimerGarbageCollect("timer", math.MaxUint64),
		stdevents.NewNewSubmodule("f/1", 2, testParams{N: -5, Names: []string{"a", ""}}),
		stdevents.NewNewSubmodule("f/1", 2, nil),
		stdevents.NewGarbageCollect("x", 0),
		stdtypes.WithFollowUps(stdevents.NewInit("a"), stdevents.NewInit("b"),
			stdtypes.WithFollowUps(stdevents.NewInit("c"), stdevents.NewInit("d"))),
		&stdevents.SendMessage{Header: stdtypes.Header{Next: []stdtypes.Event{}}, Destinations: []stdtypes.NodeID{}, Msg: ping},
		&benchHop{Header: stdtypes.NewHeader("pingpong"), Hops: -1},
	}
	for i, ev := range events {
		t.Run(fmt.Sprintf("%d-%s", i, stdtypes.TypeName(ev)), func(t *testing.T) {
			if !checkSame(t, ev) {
				t.Error("left to the library")
			}
		})
	}
}

// TestFastEdgeValues compares the encoders on values at the boundaries of
// every CBOR head size and on special floats.
func TestFastEdgeValues(t *testing.T) {
	lengths := []int{0, 1, 23, 24, 255, 256, 65535, 65536}
	ints := []int64{0, 1, -1, 23, 24, -24, -25, 255, 256, -256, -257, 65535, 65536, -65536, -65537,
		math.MaxUint32, math.MaxUint32 + 1, -math.MaxUint32 - 1, -math.MaxUint32 - 2, math.MaxInt64, math.MinInt64}
	floats := []float64{0, math.Copysign(0, -1), 1.5, -2, math.NaN(), math.Inf(1), math.Inf(-1),
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxFloat32, math.SmallestNonzeroFloat32, 1e300,
		math.Float64frombits(0x7ff0000000000001), // A signaling NaN.
		math.Float64frombits(0xfff8000000000000), // A negative quiet NaN.
	}
	for _, i := range ints {
		v := &fastKinds{I: int(i), I8: int8(i), I16: int16(i), I32: int32(i), I64: i,
			U: uint(i), U8: uint8(i), U16: uint16(i), U32: uint32(i), U64: uint64(i),
			D: time.Duration(i), Num: fastNum(i), Ret: stdtypes.RetentionIndex(i)}
		v.Omit.I, v.Omit.I8, v.Omit.U16, v.Omit.U32 = int(i), int8(i), uint16(i), uint32(i)
		v.IntKeys.A, v.IntKeys.D = int(i), uint(i)
		checkSame(t, v)
	}
	for _, f := range floats {
		v := &fastKinds{F32: float32(f), F64: f}
		v.Omit.F32, v.Omit.F64 = float32(f), f
		checkSame(t, v)
	}
	for _, n := range lengths {
		s := strings.Repeat("x", n)
		v := &fastKinds{S: s, Bytes: []byte(s), Named: fastBytes(s), Nodes: make([]stdtypes.NodeID, n),
			Str: fastStr(s), Anys: make([]any, n)}
		for i := range v.Anys {
			v.Anys[i] = fastNum(i)
		}
		v.Any = make(fastList, n)
		v.Omit.S, v.Omit.Bytes, v.Omit.Slice = s, []byte(s), make([]int, n)
		checkSame(t, v)
	}
	// nil and empty stay apart; omitempty leaves out both.
	checkSame(t, &fastKinds{Bytes: []byte{}, Named: fastBytes{}, Nodes: []stdtypes.NodeID{}, Any: fastList{},
		Inners: []fastInner{}, Nested: [][]uint32{nil, {}}, Msgs: []stdtypes.Message{}, Anys: []any{}})
	checkSame(t, &fastKinds{Omit: fastOmit{Bytes: []byte{}, Slice: []int{}, Evs: []stdtypes.Event{}}})
	// Pointers at every level, nil and not.
	s, ps := "s", new(string)
	*ps = "t"
	for _, pp := range []**string{nil, new(*string), &ps} {
		checkSame(t, &fastKinds{PP: pp, P: new(int), PS: &fastInner{C: &fastInner{A: "c"}}, PReg: &fastReg{Y: s}})
	}
	// Interfaces holding each kind of registered type.
	x := uint64(9)
	for _, a := range []any{nil, fastNum(3), fastStr("s"), fastList(nil), fastList{1}, fastReg{X: 1},
		fastDirect{}, fastDirect{P: &x}, testParams{N: 1}} {
		v := &fastKinds{Any: a, Anys: []any{fastNum(1)}, Omit: fastOmit{Any: a}}
		if a != nil {
			v.Anys = append(v.Anys, a)
		}
		checkSame(t, v)
	}
	// The struct of an omitempty pointer is written even when empty.
	checkSame(t, &fastKinds{POmit: &fastOmit{}})
	checkSame(t, &fastKinds{Omit: fastOmit{Inner: fastOmitInner{B: "b"}}})
	// Leaving out fields shrinks the map head of a wide struct, or not.
	for _, w := range []fastWide{{}, {A: 1}, {A: 1, Y: true}, {A: 1, B: 2, C: 3, Y: true},
		{A: 1, B: 1, C: 1, D: 1, E: 1, F: 1, G: 1, H: 1, I: 1, J: 1, K: 1, L: 1, M: 1,
			N: true, O: true, P: true, Q: true, R: true, S: true, T: true, U: true, V: true, W: true, X: true}} {
		checkSame(t, &fastKinds{Wide: w})
	}
	// Recursive toarray structs.
	checkSame(t, &fastKinds{Array: fastArray{A: 1, B: []byte{}, C: &fastArray{FastEmbedded: FastEmbedded{E1: 2}}}})
}

// TestFastDeepValue checks that a value nested deeper than the fast
// encoder follows is encoded by the library, identically.
func TestFastDeepValue(t *testing.T) {
	inner := &fastInner{A: "leaf"}
	for range 2000 {
		inner = &fastInner{C: inner}
	}
	v := &fastKinds{PS: inner}
	if _, ok := codec.EncodeFast(v); ok {
		t.Error("the fast encoder encoded a value nested 2000 deep")
	}
	checkSame(t, v)

	ev := stdevents.NewInit("a")
	for range 1000 {
		ev = stdtypes.WithFollowUps(stdevents.NewInit("a"), ev)
	}
	checkSame(t, ev)
}

// TestFastRefusesLikeCheck checks that what the interface rule refuses is
// refused with the same error whichever path a type takes.
func TestFastRefusesLikeCheck(t *testing.T) {
	ping := &testPing{}
	values := []any{
		&fastKinds{Msg: &unregisteredMsg{}},
		&fastKinds{Msg: testPing{}},
		&fastKinds{Msg: (*testPing)(nil)},
		&fastKinds{Msgs: []stdtypes.Message{ping, nil}},
		&fastIfaceArrays{Evs: [2]stdtypes.Event{stdevents.NewInit("a")}, Anys: [1]any{fastNum(1)}},
		&fastIfaceArrays{Evs: [2]stdtypes.Event{stdevents.NewInit("a"), stdevents.NewInit("b")}},
		&fastIfaceArrays{Evs: [2]stdtypes.Event{stdevents.NewInit("a"), stdevents.NewInit("b")}, Anys: [1]any{fastNum(1)}},
		&fastKinds{Ev: stdtypes.WithFollowUps(stdevents.NewInit("a"), &unregisteredEvent{})},
		&fastKinds{Any: &testParams{}},
		&fastKinds{Any: "string"},
		&fastKinds{Anys: []any{nil}},
		&fastKinds{Omit: fastOmit{Msg: &unregisteredMsg{}}},
		&fastKinds{PS: &fastInner{}, Reg: fastReg{}, Anys: []any{fastKinds{}}}, // A message by value in `any`.
		stdevents.NewSendMessage("net", &unregisteredMsg{}, stdevents.To("app", "1")),
		stdevents.NewNewSubmodule("f/1", 0, &testParams{}),
		stdtypes.WithFollowUps(stdevents.NewInit("a"), nil),
		&unregisteredEvent{},
		(*stdevents.Init)(nil),
		&fastMap{},
	}
	for i, v := range values {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			_, libErr := encodeLibrary(v)
			data, err := encode(v)
			if libErr == nil {
				if err != nil {
					t.Fatalf("library encodes, Encode fails: %v", err)
				}
				checkSame(t, v)
				return
			}
			if err == nil || err.Error() != libErr.Error() {
				t.Fatalf("Encode gave %x, %v; the library gave error %v", data, err, libErr)
			}
			if _, ok := codec.EncodeFast(v); ok {
				t.Fatal("the fast encoder encoded what the library refuses")
			}
		})
	}
	for _, v := range []any{nil, stdtypes.Event(nil)} {
		if _, ok := codec.EncodeFast(v); ok {
			t.Errorf("the fast encoder encoded %v", v)
		}
	}
}

// TestFastTypeWords checks what the fast encoder assumes about the memory
// layout of interfaces: the type words of T and *T are those of interfaces
// holding them, and a pointer-shaped T is held in the data word.
func TestFastTypeWords(t *testing.T) {
	type eface struct{ typ, data unsafe.Pointer }
	words := func(v any) eface { return *(*eface)(unsafe.Pointer(&v)) }
	x := uint64(5)
	for _, tt := range []struct {
		v      any // A value of a registered type.
		p      any // A pointer to it.
		direct bool
	}{
		{fastDirect{P: &x}, &fastDirect{}, true},
		{fastReg{X: 1}, &fastReg{}, false},
		{fastNum(1), new(fastNum), false},
		{fastList{1}, &fastList{}, false},
		{testParams{}, &testParams{}, false},
	} {
		val, ptr, direct := codec.TypeWords(tt.v)
		if w := words(tt.v); w.typ != val {
			t.Errorf("%T: type word %p, want %p", tt.v, val, w.typ)
		}
		if w := words(tt.p); w.typ != ptr {
			t.Errorf("*%T: type word %p, want %p", tt.v, ptr, w.typ)
		}
		if direct != tt.direct {
			t.Errorf("%T: direct %v, want %v", tt.v, direct, tt.direct)
		}
	}
	// A pointer-shaped value's data word is the value itself.
	if w := words(fastDirect{P: &x}); w.data != unsafe.Pointer(&x) {
		t.Errorf("fastDirect's data word %p, want %p", w.data, &x)
	}
	// Every non-empty interface converts to `any` the same way, whatever
	// its method set: the fast encoder reads them all as one.
	var msg stdtypes.Message = &testPing{}
	var ev stdtypes.Event = stdevents.NewInit("a")
	if words(msg).typ != words(any(&testPing{})).typ || words(ev).typ != words(any(&stdevents.Init{})).typ {
		t.Error("an interface's dynamic type word differs from that of the value")
	}
}

// lateOuter holds lateInner directly; lateInner is registered only by
// TestFastLateRegistration, which adds a tag to lateOuter's encoding.
type (
	lateOuter struct {
		stdtypes.MessageBase
		In lateInner
	}
	lateInner struct{ X int }
)

var _ = codec.Register[lateOuter]("codectest.LateOuter")

func TestFastLateRegistration(t *testing.T) {
	onceOnly(t)
	v := &lateOuter{In: lateInner{X: 1}}
	before := mustEncodeMessage(t, v)
	checkSame(t, v)
	codec.Register[lateInner]("codectest.LateInner")
	after := mustEncodeMessage(t, v)
	checkSame(t, v)
	if len(after) != len(before)+9 {
		t.Errorf("registering lateInner changed the encoding from %x to %x; want a 9-byte tag added", before, after)
	}
}

// TestFastConcurrent encodes from several goroutines while types compile,
// for the race detector.
func TestFastConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for _, name := range codec.Registered() {
				if name == panickyName {
					continue
				}
				v := newFiller(uint64(g)).sample(name)
				if !eventOrMessage(v) {
					continue
				}
				if _, err := encode(v); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// FuzzFastEncode builds a value of a registered type from a seed, sets some
// of its numbers, strings and slices to values chosen by the fuzzer (head
// size boundaries, special floats), and compares the two encoders.
func FuzzFastEncode(f *testing.F) {
	for seed := range uint64(8) {
		f.Add(seed, uint16(seed), []byte{byte(seed), 0xff, 0x17, 0x18, 0x80})
	}
	names := slices.DeleteFunc(codec.Registered(), func(n string) bool { return n == panickyName })
	f.Fuzz(func(t *testing.T, seed uint64, which uint16, edits []byte) {
		v := newFiller(seed).sample(names[int(which)%len(names)])
		if !eventOrMessage(v) {
			return
		}
		e := editor{data: edits}
		e.edit(reflect.ValueOf(v).Elem(), 0)
		checkSame(t, v)
	})
}

// editor overwrites parts of a value with edge values chosen by bytes.
type editor struct {
	data []byte
}

// next returns the next byte, 0 when there are none left.
func (e *editor) next() byte {
	if len(e.data) == 0 {
		return 0
	}
	b := e.data[0]
	e.data = e.data[1:]
	return b
}

// edgeUints are the arguments at which CBOR heads change size.
var edgeUints = []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64}

// edgeFloats are the floats the library treats specially.
var edgeFloats = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, math.MaxFloat32 * 2}

// edit walks v, changing what the bytes say: for each number, string or
// slice met, one byte picks to keep it or to set one of the edge values.
func (e *editor) edit(v reflect.Value, depth int) {
	if len(e.data) == 0 || depth > 8 || !v.CanSet() {
		return
	}
	b := e.next()
	keep := b&1 == 0
	pick := int(b >> 1)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !keep {
			u := edgeUints[pick%len(edgeUints)]
			if pick&0x40 != 0 {
				v.SetInt(^int64(u)) // Negative edge values.
			} else {
				v.SetInt(int64(u))
			}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !keep {
			v.SetUint(edgeUints[pick%len(edgeUints)])
		}
	case reflect.Float32, reflect.Float64:
		if !keep {
			v.SetFloat(edgeFloats[pick%len(edgeFloats)])
		}
	case reflect.Bool:
		if !keep {
			v.SetBool(pick&1 == 1)
		}
	case reflect.String:
		if !keep {
			v.SetString(strings.Repeat("é", int(edgeUints[pick%7]/2)))
		}
	case reflect.Slice:
		if !keep && v.Type().Elem().Kind() == reflect.Uint8 {
			n := int(edgeUints[pick%7])
			v.SetBytes(binary.BigEndian.AppendUint64(make([]byte, 0, n+8), uint64(n))[:n:n])
			return
		}
		if !keep && pick&1 == 0 {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // Empty, not nil.
			return
		}
		for i := range v.Len() {
			e.edit(v.Index(i), depth+1)
		}
	case reflect.Array:
		for i := range v.Len() {
			e.edit(v.Index(i), depth+1)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			e.edit(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if !v.IsNil() && v.Elem().Kind() == reflect.Pointer {
			e.edit(v.Elem().Elem(), depth+1)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				e.edit(v.Field(i), depth+1)
			}
		}
	}
}

// TestUnexportedFieldsNotEncoded sets the unexported fields of the test
// types, which the reflection-based filler cannot reach, and checks that
// they change nothing in the encoding, on the fast path and the library's.
func TestUnexportedFieldsNotEncoded(t *testing.T) {
	tests := []struct {
		name       string
		with, zero stdtypes.Message
	}{
		{"fastKinds.skipped", &fastKinds{I: 1, skipped: 7}, &fastKinds{I: 1}},
		{"fastHidden.h2", &fastKinds{Embedded: fastEmbeds{fastHidden: fastHidden{H1: 1, h2: 2}}},
			&fastKinds{Embedded: fastEmbeds{fastHidden: fastHidden{H1: 1}}}},
		{"testRich.hidden", &testRich{S: "s", hidden: 3}, &testRich{S: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSame(t, tt.with)
			with := mustEncodeMessage(t, tt.with)
			zero := mustEncodeMessage(t, tt.zero)
			if !bytes.Equal(with, zero) {
				t.Errorf("an unexported field changed the encoding:\nwith:    %x\nwithout: %x", with, zero)
			}
		})
	}
}
