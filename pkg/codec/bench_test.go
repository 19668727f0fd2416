package codec_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// benchEvent is the event a protocol hands its transport most often: a
// SendMessage carrying a small message to a few nodes.
func benchEvent() stdtypes.Event {
	msg := &testPing{Seq: 42, Payload: make([]byte, 32)}
	return stdevents.NewSendMessage("transport", msg, stdevents.To("pingpong", "1", "2", "3"))
}

func BenchmarkEncodeEvent(b *testing.B) {
	ev := benchEvent()
	data := mustEncodeEvent(b, ev)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.EncodeEvent(ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	ev := benchEvent()
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(mustEncodeEvent(b, ev))))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = codec.AppendEvent(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	data := mustEncodeEvent(b, benchEvent())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.DecodeEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMessage(b *testing.B) {
	msg := &testPing{Seq: 42, Payload: make([]byte, 32)}
	b.SetBytes(int64(len(mustEncodeMessage(b, msg))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.EncodeMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	data := mustEncodeMessage(b, &testPing{Seq: 42, Payload: make([]byte, 32)})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := codec.DecodeMessage(data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchHop is the tiny event a recorder sees most: a header and one number.
type benchHop struct {
	stdtypes.Header
	Hops int
}

var _ = codec.Register[benchHop]("codectest.BenchHop")

func BenchmarkAppendEventSmall(b *testing.B) {
	ev := &benchHop{Header: stdtypes.NewHeader("pingpong"), Hops: 3}
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(mustEncodeEvent(b, ev))))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = codec.AppendEvent(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
	}
}
