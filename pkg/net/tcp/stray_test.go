package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// probe is a protocol module that takes notes from other nodes and
// reports each to got.
type probe struct {
	got chan<- int
}

func (probe) ReceivesMessages() {}

func (p probe) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range evs.Slice() {
		if rcv, ok := ev.(*stdevents.MessageReceived); ok {
			if n, ok := rcv.Msg.(*note); ok {
				p.got <- n.N
			}
		}
	}
	return nil, nil
}

// TestFrameForTimer: a member writes, on its authenticated connection, one
// frame addressed to the victim's timer. The node must not stop: the
// message is dropped and counted, and the next frame on the same
// connection is delivered.
func TestFrameForTimer(t *testing.T) {
	a := newArena(t, Options{})
	got := make(chan int, 16)
	node, err := mir.NewNode("0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger), modules.Modules{
		"net":   a.victim,
		"timer": stdmodules.NewTimer("timer", nil),
		"app":   probe{got: got},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- node.Run(context.Background()) }()

	member2 := certOf(t, a.keys[2])
	conn, err := dialVictim(t, a.addr, []tls.Certificate{member2}, &hello{Version: protocolVersion, From: "2", To: "0"})
	if err != nil {
		t.Fatal(err)
	}
	var fa frameArena
	for _, f := range []struct {
		dest stdtypes.ModuleID
		n    int
	}{{"timer", 1}, {"app", 2}} {
		fr, err := fa.frame(f.dest, &note{N: f.n}, 1<<10)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(fr.b); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case n := <-got:
		if n != 2 {
			t.Errorf("the app got note %d, want 2", n)
		}
	case err := <-ran:
		t.Fatalf("one frame for the timer stopped the node: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("the app got nothing")
	}
	// The gate dropped the message before the app's, which came later on
	// the same connection, was routed.
	if got := node.Stats().Modules["timer"].DroppedMessages; got != 1 {
		t.Errorf("timer: DroppedMessages = %d, want 1", got)
	}
	node.Stop()
	if err := <-ran; !errors.Is(err, mir.ErrStopped) {
		t.Errorf("Run returned %v, want ErrStopped", err)
	}
}
