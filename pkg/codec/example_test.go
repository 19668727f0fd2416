package codec_test

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Ping is a message of a ping-pong protocol.
type Ping struct {
	stdtypes.MessageBase
	Seq uint64
}

// One line per type, next to its declaration.
var _ = codec.Register[Ping]("example.Ping")

// A transport encodes the SendMessage events it is handed (or just their
// messages) and decodes what arrives from other nodes.
func Example() {
	ev := stdevents.NewSendMessage("transport", &Ping{Seq: 1}, stdevents.To("pingpong", "1", "2"))
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		panic(err) // Only an unregistered type or a misused interface field fails.
	}

	got, err := codec.DecodeEvent(data)
	if err != nil {
		fmt.Println("dropping bad input:", err)
		return
	}
	send := got.(*stdevents.SendMessage)
	fmt.Println(send.Msg.(*Ping).Seq, send.Destinations)

	name, _ := codec.Name(send.Msg)
	fmt.Println(name)
	// Output:
	// 1 [1 2]
	// example.Ping
}

// A decoder with its own limits, here for a transport that accepts
// messages of at most 1 KiB.
func ExampleNewDecoder() {
	dec, err := codec.NewDecoder(codec.Limits{MaxBytes: 1 << 10})
	if err != nil {
		panic(err)
	}
	_, err = dec.DecodeMessage(make([]byte, 2<<10))
	fmt.Println(errors.Is(err, codec.ErrTooLarge))

	data, _ := codec.EncodeMessage(&Ping{Seq: 7})
	_, err = dec.DecodeEvent(data)
	fmt.Println(errors.Is(err, codec.ErrWrongKind))
	// Output:
	// true
	// true
}
