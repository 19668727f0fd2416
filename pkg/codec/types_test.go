package codec_test

import (
	"math/big"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Types used only by the tests. The standard events come from stdevents,
// registered by its register.go.

// testPing is a small message, as protocols send them.
type testPing struct {
	stdtypes.MessageBase
	Seq     uint64
	Payload []byte
}

// testRich is a message with a field of every kind the codec must carry.
type testRich struct {
	stdtypes.MessageBase
	S       string
	I       int
	I8      int8
	I16     int16
	I32     int32
	I64     int64
	U       uint
	U8      uint8
	U16     uint16
	U32     uint32
	U64     uint64
	B       bool
	F32     float32
	F64     float64
	D       time.Duration
	T       time.Time
	Big     *big.Int
	Bytes   []byte
	Arr     [4]byte
	Strs    []string
	Nodes   []stdtypes.NodeID
	Map     map[string]uint64
	NodeMap map[stdtypes.NodeID][]byte
	Ptr     *testInner
	Inner   testInner
	Inners  []testInner
	Msg     stdtypes.Message // A message inside a message.
	Msgs    []stdtypes.Message
	Evs     []stdtypes.Event // Events inside a message.
	Params  any
	RetIdx  stdtypes.RetentionIndex
	Skipped string `cbor:"-"` // Not encoded; the filler leaves it empty.
	hidden  int    // Not encoded; the filler leaves it zero.
}

// testInner is a plain struct nested in messages; it is not registered.
type testInner struct {
	A string
	B []uint32
	C *testInner
}

// testEvent is an event type defined outside stdevents.
type testEvent struct {
	stdtypes.Header
	Msg   stdtypes.Message
	Count int
}

// testParams is a registered type that is neither event nor message, the
// kind of value NewSubmodule.Params and other `any` fields hold.
type testParams struct {
	N     int
	Names []string
}

// testEnvelope is what a transport might put on the wire: not registered,
// encoded with Marshal.
type testEnvelope struct {
	From stdtypes.NodeID
	Msg  stdtypes.Message
}

// testPanicky makes the CBOR library panic, through its own MarshalBinary
// (when Boom is set) and UnmarshalBinary (always), to test that a panic in
// the library becomes an error.
type testPanicky struct {
	stdtypes.MessageBase
	Boom bool
}

// panickyName is excluded from the round-trip tests: it never decodes.
const panickyName = "codectest.Panicky"

func (p testPanicky) MarshalBinary() ([]byte, error) {
	if p.Boom {
		panic("testPanicky: boom")
	}
	return []byte("calm"), nil
}

func (p *testPanicky) UnmarshalBinary([]byte) error {
	panic("testPanicky: boom")
}

var (
	_ = codec.Register[testPing]("codectest.Ping")
	_ = codec.Register[testRich]("codectest.Rich")
	_ = codec.Register[testEvent]("codectest.Event")
	_ = codec.Register[testParams]("codectest.Params")
	_ = codec.Register[testPanicky](panickyName)
)
