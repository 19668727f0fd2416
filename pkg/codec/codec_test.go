package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// roundTripSeeds is how many filled values each registered type is tested
// with.
const roundTripSeeds = 64

// encode encodes v, a pointer to a registered type, with the function for
// its kind.
func encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case stdtypes.Event:
		return codec.EncodeEvent(v)
	case stdtypes.Message:
		return codec.EncodeMessage(v)
	}
	return codec.Marshal(v)
}

// decode decodes data as the kind of value like is (a pointer to a
// registered type) and returns a pointer to the result.
func decode(data []byte, like any) (any, error) {
	switch like.(type) {
	case stdtypes.Event:
		return codec.DecodeEvent(data)
	case stdtypes.Message:
		return codec.DecodeMessage(data)
	}
	out := reflect.New(reflect.TypeOf(like).Elem()).Interface()
	err := codec.Unmarshal(data, out)
	return out, err
}

func TestRoundTripEveryRegisteredType(t *testing.T) {
	names := codec.Registered()
	for _, want := range []string{"mir.Init", "mir.SendMessage", "mir.MessageReceived", "mir.TimerDelay",
		"mir.TimerRepeat", "mir.TimerGarbageCollect", "mir.NewSubmodule", "mir.GarbageCollect"} {
		if !slices.Contains(names, want) {
			t.Errorf("standard event %s not registered", want)
		}
	}
	for _, name := range names {
		if name == panickyName {
			continue
		}
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(roundTripSeeds) {
				v := newFiller(seed).sample(name)
				data, err := encode(v)
				if err != nil {
					t.Fatalf("seed %d: encode: %v\nvalue: %+v", seed, err, v)
				}
				got, err := decode(data, v)
				if err != nil {
					t.Fatalf("seed %d: decode: %v\nvalue: %+v\nencoding: %x", seed, err, v, data)
				}
				if !reflect.DeepEqual(got, v) {
					t.Fatalf("seed %d: round trip changed the value\nbefore: %+v\nafter:  %+v", seed, v, got)
				}
				again, err := encode(got)
				if err != nil || !bytes.Equal(again, data) {
					t.Fatalf("seed %d: encoding the decoded value gave %x, %v; want %x", seed, again, err, data)
				}
			}
		})
	}
}

func TestRoundTripStandardEvents(t *testing.T) {
	ping := &testPing{Seq: 7, Payload: []byte("hello")}
	params := testParams{N: 3, Names: []string{"a", "b"}}
	events := []stdtypes.Event{
		stdevents.NewInit("app"),
		stdtypes.WithFollowUps(
			stdevents.NewSendMessage("net", ping, stdevents.To("app", "1", "2")),
			stdevents.NewGarbageCollect("app", 3), stdevents.NewInit("other")),
		stdevents.NewMessageReceived("app", "2", ping),
		stdevents.NewTimerDelay("timer", 1500, stdevents.NewInit("app")),
		stdevents.NewTimerRepeat("timer", 2500, 4, stdevents.NewSendMessage("net", ping, stdevents.To("app", "3"))),
		stdevents.NewTimerGarbageCollect("timer", 5),
		stdevents.NewNewSubmodule("factory/1", 6, params),
		stdevents.NewNewSubmodule("factory/2", 7, nil),
		stdevents.NewGarbageCollect("factory", 8),
	}
	for _, ev := range events {
		data, err := codec.EncodeEvent(ev)
		if err != nil {
			t.Fatalf("encode %T: %v", ev, err)
		}
		got, err := codec.DecodeEvent(data)
		if err != nil {
			t.Fatalf("decode %T: %v", ev, err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("round trip of %T: got %+v, want %+v", ev, got, ev)
		}
	}
}

func TestAppendEvent(t *testing.T) {
	ev := stdevents.NewSendMessage("net", &testPing{Seq: 1}, stdevents.To("app", "1"))
	want, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("prefix")
	got, err := codec.AppendEvent(slices.Clone(prefix), ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(slices.Clone(prefix), want...)) {
		t.Errorf("AppendEvent = %x, want prefix then %x", got, want)
	}

	// With room in dst, appending allocates nothing for the bytes.
	buf := make([]byte, 0, 1024)
	out, err := codec.AppendEvent(buf, ev)
	if err != nil || &out[0] != &buf[:1][0] {
		t.Errorf("AppendEvent did not use the room in dst (err %v)", err)
	}

	// On error, dst comes back unchanged.
	out, err = codec.AppendEvent(prefix, stdevents.NewSendMessage("net", &unregisteredMsg{}, stdevents.To("app")))
	if !errors.Is(err, codec.ErrUnknownType) || !bytes.Equal(out, prefix) {
		t.Errorf("AppendEvent of an unregistered message = %q, %v; want dst unchanged and ErrUnknownType", out, err)
	}
}

func TestAppendMessage(t *testing.T) {
	msg := &testPing{Seq: 9, Payload: []byte{1, 2}}
	want, err := codec.EncodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := codec.AppendMessage([]byte{0xff}, msg)
	if err != nil || !bytes.Equal(got, append([]byte{0xff}, want...)) {
		t.Errorf("AppendMessage = %x, %v; want ff then %x", got, err, want)
	}
}

func TestMarshalEnvelope(t *testing.T) {
	env := testEnvelope{From: "3", Msg: &testPing{Seq: 4, Payload: []byte("x")}}
	data, err := codec.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	var got testEnvelope
	if err := codec.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, env) {
		t.Errorf("got %+v, want %+v", got, env)
	}
	if err := codec.Unmarshal(data, got); err == nil {
		t.Error("Unmarshal into a non-pointer succeeded")
	}
}

func TestEncodingIsDeterministic(t *testing.T) {
	msg := &testRich{Map: map[string]uint64{}, NodeMap: map[stdtypes.NodeID][]byte{}}
	for i := range 50 {
		msg.Map[fmt.Sprint("k", i)] = uint64(i)
		msg.NodeMap[stdtypes.NewNodeIDFromInt(i)] = []byte{byte(i)}
	}
	first, err := codec.EncodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := codec.EncodeMessage(msg)
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("encoding differs between calls (err %v)", err)
		}
	}
}

func TestDecodedValueDoesNotShareInput(t *testing.T) {
	data, err := codec.EncodeMessage(&testPing{Seq: 1, Payload: []byte("payload")})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := codec.DecodeMessage(data)
	if err != nil {
		t.Fatal(err)
	}
	clear(data)
	if got := string(msg.(*testPing).Payload); got != "payload" {
		t.Errorf("payload changed with the input buffer: %q", got)
	}
}

// unregisteredMsg and unregisteredEvent are never registered.
type unregisteredMsg struct {
	stdtypes.MessageBase
	X int
}

type unregisteredEvent struct {
	stdtypes.Header
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		encode func() ([]byte, error)
		want   error
	}{
		{"nil event", func() ([]byte, error) { return codec.EncodeEvent(nil) }, codec.ErrNil},
		{"typed nil event", func() ([]byte, error) { return codec.EncodeEvent((*stdevents.Init)(nil)) }, codec.ErrNil},
		{"nil message", func() ([]byte, error) { return codec.EncodeMessage(nil) }, codec.ErrNil},
		{"typed nil message", func() ([]byte, error) { return codec.EncodeMessage((*testPing)(nil)) }, codec.ErrNil},
		{"message by value", func() ([]byte, error) { return codec.EncodeMessage(testPing{}) }, codec.ErrWrongKind},
		{"unregistered event", func() ([]byte, error) { return codec.EncodeEvent(&unregisteredEvent{}) }, codec.ErrUnknownType},
		{"unregistered message", func() ([]byte, error) { return codec.EncodeMessage(&unregisteredMsg{}) }, codec.ErrUnknownType},
		{"unregistered message inside", func() ([]byte, error) {
			return codec.EncodeEvent(stdevents.NewSendMessage("net", &unregisteredMsg{}, stdevents.To("app", "1")))
		}, codec.ErrUnknownType},
		{"unregistered follow-up", func() ([]byte, error) {
			return codec.EncodeEvent(stdtypes.WithFollowUps(stdevents.NewInit("a"), stdtypes.Event(&unregisteredEvent{})))
		}, codec.ErrUnknownType},
		{"unregistered event deep inside", func() ([]byte, error) {
			inner := stdevents.NewTimerDelay("t", 1, &unregisteredEvent{})
			return codec.EncodeEvent(stdevents.NewTimerRepeat("t", 1, 0, inner))
		}, codec.ErrUnknownType},
		{"nil follow-up", func() ([]byte, error) {
			return codec.EncodeEvent(stdtypes.WithFollowUps(stdevents.NewInit("a"), nil))
		}, codec.ErrNil},
		{"typed nil message inside", func() ([]byte, error) {
			return codec.EncodeEvent(stdevents.NewSendMessage("net", (*testPing)(nil), stdevents.To("app", "1")))
		}, codec.ErrNil},
		{"message by value inside", func() ([]byte, error) {
			return codec.EncodeEvent(stdevents.NewSendMessage("net", testPing{}, stdevents.To("app", "1")))
		}, codec.ErrWrongKind},
		{"pointer in any", func() ([]byte, error) {
			return codec.EncodeEvent(stdevents.NewNewSubmodule("f/1", 0, &testParams{}))
		}, codec.ErrWrongKind},
		{"unregistered type in any", func() ([]byte, error) {
			return codec.EncodeEvent(stdevents.NewNewSubmodule("f/1", 0, "params"))
		}, codec.ErrUnknownType},
		{"unregistered message in envelope", func() ([]byte, error) {
			return codec.Marshal(testEnvelope{Msg: &unregisteredMsg{}})
		}, codec.ErrUnknownType},
		{"library panic", func() ([]byte, error) { return codec.EncodeMessage(&testPanicky{Boom: true}) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := tt.encode()
			if err == nil {
				t.Fatalf("encoded to %x, want an error", data)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %q does not wrap %q", err, tt.want)
			}
			if data != nil {
				t.Errorf("got data %x along with the error", data)
			}
		})
	}
}

func TestName(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
		ok   bool
	}{
		{&stdevents.Init{}, "mir.Init", true},
		{stdevents.Init{}, "mir.Init", true},
		{&testPing{}, "codectest.Ping", true},
		{testParams{}, "codectest.Params", true},
		{&unregisteredMsg{}, "", false},
		{nil, "", false},
		{42, "", false},
	} {
		if got, ok := codec.Name(tt.v); got != tt.want || ok != tt.ok {
			t.Errorf("Name(%T) = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewAndRegistered(t *testing.T) {
	names := codec.Registered()
	if !slices.IsSorted(names) {
		t.Errorf("Registered() not sorted: %v", names)
	}
	for _, name := range names {
		v, err := codec.New(name)
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if got, ok := codec.Name(v); !ok || got != name {
			t.Errorf("Name(New(%q)) = %q, %v", name, got, ok)
		}
		if reflect.TypeOf(v).Kind() != reflect.Pointer {
			t.Errorf("New(%q) returned %T, want a pointer", name, v)
		}
	}
	if _, err := codec.New("no.such.Type"); !errors.Is(err, codec.ErrUnknownType) {
		t.Errorf("New of an unknown name: %v, want ErrUnknownType", err)
	}
	// Registered returns a copy.
	names[0] = "changed"
	if codec.Registered()[0] == "changed" {
		t.Error("Registered() shares its slice with the registry")
	}
}

// ranOnce holds the tests that change the process-wide registry.
var ranOnce sync.Map

// onceOnly skips a test that registers types on its second run in one
// process (go test -count=2): registration cannot be undone, so the test's
// starting point is gone.
func onceOnly(t *testing.T) {
	t.Helper()
	if _, ran := ranOnce.LoadOrStore(t.Name(), true); ran {
		t.Skip("registers types in the process-wide registry; runs once per process")
	}
}

// Types registered by the tests below.
type (
	collideA struct{ X int }
	collideB struct{ X int }
	notNamed = struct{ X int }
	dupType  struct{ X int }
	lateMsg  struct {
		stdtypes.MessageBase
		Text string
	}
	concurrent0   struct{ stdtypes.MessageBase }
	concurrent1   struct{ stdtypes.MessageBase }
	concurrent2   struct{ stdtypes.MessageBase }
	concurrent3   struct{ stdtypes.MessageBase }
	cborMarshaler struct{}
)

func (cborMarshaler) MarshalCBOR() ([]byte, error) { return []byte{0xa0}, nil }

func TestRegisterPanics(t *testing.T) {
	onceOnly(t)
	// These two names have the same 32-bit FNV-1a hash, found by search.
	codec.Register[collideA]("codectest.Collide59095")
	codec.Register[dupType]("codectest.Dup")
	before := codec.Registered()

	tests := []struct {
		name     string
		register func()
	}{
		{"empty name", func() { codec.Register[collideB]("") }},
		{"name taken", func() { codec.Register[collideB]("mir.Init") }},
		{"type registered twice", func() { codec.Register[dupType]("codectest.Dup2") }},
		{"tag collision", func() { codec.Register[collideB]("codectest.Collide457020") }},
		{"pointer type", func() { codec.Register[*collideB]("codectest.Ptr") }},
		{"interface type", func() { codec.Register[stdtypes.Message]("codectest.Iface") }},
		{"unnamed type", func() { codec.Register[notNamed]("codectest.Unnamed") }},
		{"builtin type", func() { codec.Register[int]("codectest.Int") }},
		{"cbor.Marshaler", func() { codec.Register[cborMarshaler]("codectest.Marshaler") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			tt.register()
		})
	}
	if after := codec.Registered(); !slices.Equal(after, before) {
		t.Errorf("failed registrations changed the registry:\nbefore %v\nafter  %v", before, after)
	}
}

func TestRegisterAfterUse(t *testing.T) {
	onceOnly(t)
	dec, err := codec.NewDecoder(codec.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.DecodeEvent(mustEncodeEvent(t, stdevents.NewInit("a"))); err != nil {
		t.Fatal(err)
	}
	ev := stdevents.NewSendMessage("net", &lateMsg{Text: "late"}, stdevents.To("app", "1"))
	if _, err := codec.EncodeEvent(ev); !errors.Is(err, codec.ErrUnknownType) {
		t.Fatalf("encoding before registration: %v, want ErrUnknownType", err)
	}

	codec.Register[lateMsg]("codectest.Late")

	data := mustEncodeEvent(t, ev)
	for _, decodeEvent := range []func([]byte) (stdtypes.Event, error){codec.DecodeEvent, dec.DecodeEvent} {
		got, err := decodeEvent(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("got %+v, want %+v", got, ev)
		}
	}
}

func TestConcurrentRegisterAndUse(t *testing.T) {
	onceOnly(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			ev := stdevents.NewSendMessage("net", &testPing{Seq: 3}, stdevents.To("app", "1", "2"))
			for {
				select {
				case <-stop:
					return
				default:
				}
				data, err := codec.EncodeEvent(ev)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := codec.DecodeEvent(data); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	codec.Register[concurrent0]("codectest.Concurrent0")
	codec.Register[concurrent1]("codectest.Concurrent1")
	codec.Register[concurrent2]("codectest.Concurrent2")
	codec.Register[concurrent3]("codectest.Concurrent3")
	close(stop)
	wg.Wait()
	for _, msg := range []stdtypes.Message{&concurrent0{}, &concurrent1{}, &concurrent2{}, &concurrent3{}} {
		data, err := codec.EncodeMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := codec.DecodeMessage(data); err != nil || reflect.TypeOf(got) != reflect.TypeOf(msg) {
			t.Errorf("decoded %T, %v; want %T", got, err, msg)
		}
	}
}

func TestTagsAreStable(t *testing.T) {
	// The tag of a name is part of every recorded encoding: it must never
	// change. These values are FNV-1a-32 of the name plus 2^32.
	for name, want := range map[string]uint64{
		"mir.Init":        0x1_cf33_78c1,
		"mir.SendMessage": 0x1_d736_ceb8,
	} {
		v, err := codec.New(name)
		if err != nil {
			t.Fatal(err)
		}
		data := mustEncodeEvent(t, v.(stdtypes.Event))
		if got := tagOf(t, data); got != want {
			t.Errorf("tag of %s = %#x, want %#x", name, got, want)
		}
	}
}

// tagOf returns the tag number an encoding starts with; the codec writes
// tags as 0xdb followed by 8 bytes.
func tagOf(t *testing.T, data []byte) uint64 {
	t.Helper()
	if len(data) < 9 || data[0] != 0xdb {
		t.Fatalf("encoding %x does not start with a 64-bit tag", data)
	}
	return binary.BigEndian.Uint64(data[1:9])
}

func mustEncodeEvent(t testing.TB, ev stdtypes.Event) []byte {
	t.Helper()
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustEncodeMessage(t testing.TB, msg stdtypes.Message) []byte {
	t.Helper()
	data, err := codec.EncodeMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// testNode is a recursive type holding interfaces at several depths.
type testNode struct {
	Kids []*testNode
	Ev   stdtypes.Event
	Tags map[string]any
}

var _ = codec.Register[testNode]("codectest.Node")

func TestRecursiveTypes(t *testing.T) {
	deep := &testNode{Ev: stdevents.NewInit("leaf"), Tags: map[string]any{"p": testParams{N: 1}}}
	root := testNode{Kids: []*testNode{{Kids: []*testNode{deep}}}}
	data, err := codec.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	var got testNode
	if err := codec.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, root) {
		t.Errorf("got %+v, want %+v", got, root)
	}

	// What the rule forbids is found at any depth.
	for _, tt := range []struct {
		name   string
		change func()
		want   error
	}{
		{"unregistered event", func() { deep.Ev = &unregisteredEvent{} }, codec.ErrUnknownType},
		{"pointer in map of any", func() { deep.Tags["p"] = &testParams{} }, codec.ErrWrongKind},
		{"nil in map of any", func() { deep.Tags["p"] = nil }, codec.ErrNil},
	} {
		deep.Ev, deep.Tags = nil, map[string]any{}
		tt.change()
		if _, err := codec.Marshal(root); !errors.Is(err, tt.want) {
			t.Errorf("%s: Marshal error %v, want %v", tt.name, err, tt.want)
		}
	}
}
