package testsim_test

import (
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// pinger sends msg 1, 2, ... to node "1" every 10ms, from its timer.
type pinger struct{ seq uint64 }

func (p *pinger) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev.(type) {
		case *stdevents.Init:
			out.PushBack(stdevents.NewTimerRepeat("timer", 10*time.Millisecond, 0, &tick{Header: stdtypes.NewHeader("app")}))
		case *tick:
			p.seq++
			out.PushBack(stdevents.NewSendMessage("net", &msg{Seq: p.seq}, stdevents.To("app", "1")))
		}
	}
	return out, nil
}

// sink takes messages from other nodes (modules.MessageReceiver) and does
// nothing with them: the observer below watches them arrive.
type sink struct{ modules.NullPassive }

func (sink) ReceivesMessages() {}

// Two nodes over a lossy link: node 0 pings node 1 every 10ms; node 1
// crashes at 25ms and comes back at 45ms. The output is the same for the
// same seed, every time.
func Example() {
	s := testsim.New(testsim.Options{Seed: 1})
	network, err := sim.New(s, []stdtypes.NodeID{"0", "1"}, sim.Options{
		Link: sim.LinkConfig{Latency: testsim.Uniform(time.Millisecond, 3*time.Millisecond), Loss: 0.2},
	})
	if err != nil {
		panic(err)
	}
	for _, id := range []stdtypes.NodeID{"0", "1"} {
		transport, _ := network.Transport(id)
		var app modules.PassiveModule = sink{}
		if id == "0" {
			app = &pinger{}
		}
		if _, err := s.AddNode(id, testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
			return modules.Modules{"app": app, "net": transport, "timer": testsim.NewTimer()}, nil
		}}); err != nil {
			panic(err)
		}
	}
	s.Observe(func(o *testsim.Observation) {
		if mr, ok := o.Event.(*stdevents.MessageReceived); ok {
			fmt.Printf("%v: node %s got message %d\n", o.Time.Round(time.Microsecond), o.Node, mr.Msg.(*msg).Seq)
		}
	})
	s.Node("1").CrashAt(25 * time.Millisecond)
	s.Node("1").RestartAt(45 * time.Millisecond)
	if err := s.Run(70 * time.Millisecond); err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", network.Stats())
	// Output:
	// 12.875ms: node 1 got message 1
	// 21.864ms: node 1 got message 2
	// 51.554ms: node 1 got message 5
	// 62.021ms: node 1 got message 6
	// {Sent:7 Delivered:4 Lost:2 Cut:0 Down:1 Duplicated:0 Reordered:0}
}

// client is a twin of an active module that submits requests: from Init
// on, it emits a note for module "app" every 5ms, plus a random jitter of
// up to 1ms from the node's seeded source. It starts no goroutine and
// reads no clock: the Env does the timing.
type client struct{ sent int }

func (c *client) ApplyEvents(env *testsim.Env, evs *stdtypes.EventList) error {
	for _, ev := range evs.Slice() {
		if _, ok := ev.(*stdevents.Init); ok {
			c.next(env)
		}
	}
	return nil
}

func (c *client) next(env *testsim.Env) {
	if c.sent == 3 {
		return
	}
	c.sent++
	delay := 5*time.Millisecond + time.Duration(env.Rand().Int64N(int64(time.Millisecond)))
	env.Emit(delay, newNote("app", fmt.Sprintf("request %d", c.sent)))
	env.After(delay, func() { c.next(env) })
}

// A twin written by the user, for an active module of their own.
func ExampleModule() {
	s := testsim.New(testsim.Options{Seed: 1})
	s.Observe(func(o *testsim.Observation) {
		if n, ok := o.Event.(*note); ok {
			fmt.Printf("%v: %s\n", o.Time, n.Tag)
		}
	})
	if _, err := s.AddNode("0", testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
		return modules.Modules{"app": modules.NullPassive{}, "client": &client{}}, nil
	}}); err != nil {
		panic(err)
	}
	if err := s.Run(time.Second); err != nil {
		panic(err)
	}
	// Output:
	// 5.479155ms: request 1
	// 10.979869ms: request 2
	// 16.446114ms: request 3
}
