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
	"github.com/mirframework/mir/pkg/net/nettest"
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

// maxFuzzFrames bounds the frames FuzzNodeFrames feeds a node per input.
const maxFuzzFrames = 64

// FuzzNodeFrames decodes arbitrary bytes as frames from member 2, as a
// connection's reader does, and has a transport stand-in emit them into a
// running node with the standard modules (a timer, crypto, threshold
// crypto, a router, a factory, null modules) and a protocol module. Whatever
// the frames' destinations, the node keeps running, and each message for a
// module that takes none, or for no module, is dropped and counted.
func FuzzNodeFrames(f *testing.F) {
	var fa frameArena
	seed := func(dests ...stdtypes.ModuleID) []byte {
		var out []byte
		for i, dest := range dests {
			fr, err := fa.frame(dest, &nettest.Request{Seq: uint64(i)}, 1<<10)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, fr.b...)
		}
		return out
	}
	f.Add(seed("timer"))
	f.Add(seed("net", "timer", "crypto", "cryptopool", "threshcrypto", "null", "nullactive"))
	f.Add(seed("router", "router/null", "router/null/deep", "router/gone", "factory", "factory/null", "factory/gone"))
	f.Add(seed("app", "ghost", "timer/sub", "app/sub"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := testReader(t, data, 64, 1<<12)
		var evs []stdtypes.Event
		for range maxFuzzFrames {
			dest, msg, _, err := r.next()
			if err != nil {
				break
			}
			evs = append(evs, stdevents.NewMessageReceived(dest, "2", msg))
		}
		runFrames(t, evs)
	})
}

// runFrames runs a node that gets evs from its transport stand-in, then a
// marker, and checks that it keeps running and counts every drop.
func runFrames(t *testing.T, evs []stdtypes.Event) {
	got := make(chan struct{}, 1)
	net := modules.NewMockActive(2, nil)
	mods := modules.Modules{
		"net":   net,
		"timer": stdmodules.NewTimer("timer", nil),
		"app":   nettest.Marker{Got: got},
	}
	nettest.AddStrays(t, mods, true)
	node, err := mir.NewNode("0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger), mods, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What the node must count: per module that takes no messages, and
	// for no module.
	refused := make(map[stdtypes.ModuleID]uint64)
	var unknown uint64
	for _, ev := range evs {
		switch m, ok := mods[ev.Dest().Top()]; {
		case !ok:
			unknown++
		case !modules.ReceivesMessages(m):
			refused[ev.Dest().Top()]++
		}
	}
	ran := make(chan error, 1)
	go func() { ran <- node.Run(context.Background()) }()
	net.Emit(context.Background(), stdtypes.ListOf(evs...))
	net.Emit(context.Background(), stdtypes.ListOf(stdevents.NewMessageReceived("app", "2", &nettest.Request{Seq: nettest.MarkerSeq})))
	select {
	case <-got:
	case err := <-ran:
		t.Fatalf("the node stopped: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("the marker did not arrive")
	}
	waitUntil(t, "the node is idle", func() bool { return node.Stats().BufferedEvents == 0 })
	stats := node.Stats().Modules
	for id := range mods {
		if got := stats[id].DroppedMessages; got != refused[id] {
			t.Errorf("module %s: DroppedMessages = %d, want %d", id, got, refused[id])
		}
	}
	if got := stats["net"].DroppedUnknown; got != unknown {
		t.Errorf("DroppedUnknown = %d, want %d", got, unknown)
	}
	node.Stop()
	if err := <-ran; !errors.Is(err, mir.ErrStopped) {
		t.Fatalf("Run returned %v, want ErrStopped", err)
	}
}
