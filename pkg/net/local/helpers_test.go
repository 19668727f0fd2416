package local_test

import (
	"context"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// text is the message the tests send.
type text struct {
	stdtypes.MessageBase
	S string
}

// unregistered is a message type the codec does not know.
type unregistered struct {
	stdtypes.MessageBase
	S string
}

// otherEvent is an event a transport does not handle.
type otherEvent struct {
	stdtypes.Header
}

var _ = codec.Register[text]("local_test.text")

func newText(s string) *text { return &text{S: s} }

// startedNetwork returns a network of n nodes with every transport
// started, and its transports by index. The network is stopped when the
// test ends.
func startedNetwork(t *testing.T, n int, opts local.Options) (*local.Network, []*local.Transport) {
	t.Helper()
	network, err := local.NewNetwork(stdtypes.NumberedNodeIDs(n), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(network.Stop)
	ts := make([]*local.Transport, n)
	for i, id := range stdtypes.NumberedNodeIDs(n) {
		if ts[i], err = network.Transport(id); err != nil {
			t.Fatal(err)
		}
		if err := ts[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	return network, ts
}

// send makes tr handle one SendMessage of msg to module "app" of dests.
func send(t *testing.T, tr *local.Transport, msg stdtypes.Message, dests ...stdtypes.NodeID) {
	t.Helper()
	ev := stdevents.NewSendMessage("net", msg, stdevents.To("app", dests...))
	if err := tr.ApplyEvents(context.Background(), stdtypes.ListOf(ev)); err != nil {
		t.Fatalf("ApplyEvents: %v", err)
	}
}

// received returns, without waiting, every message in tr's queue.
func received(tr *local.Transport) []*stdevents.MessageReceived {
	var out []*stdevents.MessageReceived
	for {
		select {
		case list := <-tr.EventsOut():
			for _, ev := range list.Slice() {
				out = append(out, ev.(*stdevents.MessageReceived))
			}
		default:
			return out
		}
	}
}
