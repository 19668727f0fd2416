package stdmodules_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// Retransmit is a protocol's own event: "time to resend what is not yet
// acknowledged".
type Retransmit struct {
	stdtypes.Header
	Epoch uint64
}

// A protocol module asks the timer for a Retransmit every period of its
// epoch, and stops the repetition when the epoch is over. Here the test
// plays the node: it hands the requests to the timer and reads what the
// timer emits.
func ExampleTimer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // ends the timer's goroutine

	timer := stdmodules.NewTimer("timer", logging.NilLogger)

	// What the protocol module "proto" returns from ApplyEvents in epoch 1.
	request := stdevents.NewTimerRepeat("timer", 10*time.Millisecond, 1,
		&Retransmit{Header: stdtypes.NewHeader("proto"), Epoch: 1})
	if err := timer.ApplyEvents(ctx, stdtypes.ListOf(request)); err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		emitted := <-timer.EventsOut()
		ev := emitted.Get(0).(*Retransmit)
		fmt.Printf("%s gets a retransmit for epoch %d\n", ev.Dest(), ev.Epoch)
	}

	// Epoch 2 begins: repetitions tied to epochs below 2 stop.
	if err := timer.ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewTimerGarbageCollect("timer", 2))); err != nil {
		fmt.Println(err)
	}
	// Output:
	// proto gets a retransmit for epoch 1
	// proto gets a retransmit for epoch 1
}

// Propose is an event for one instance of an ordering protocol.
type Propose struct {
	stdtypes.Header
	Value string
}

// instance stands for one orderer instance; it reports what it receives.
type instance struct {
	id    stdtypes.ModuleID
	epoch uint64
}

func (in *instance) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for ev := range evs.All() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			fmt.Printf("%s: started for epoch %d\n", in.id, in.epoch)
		case *Propose:
			fmt.Printf("%s: proposal %q\n", in.id, ev.Value)
		}
	}
	return nil, nil
}

// A protocol that runs one orderer instance per epoch asks a factory for
// each new instance, sends it events by its path, and garbage-collects the
// instances of past epochs.
func ExampleFactory() {
	// The generator turns a NewSubmodule's Params into a module.
	generator := func(id stdtypes.ModuleID, params any) (modules.PassiveModule, error) {
		epoch, ok := params.(uint64)
		if !ok {
			return nil, fmt.Errorf("params %T, want an epoch number", params)
		}
		return &instance{id: id, epoch: epoch}, nil
	}
	ord := stdmodules.NewFactory("ord", generator, logging.NilLogger)

	// What the protocol returns when epoch 5 begins: create the
	// instance, then use it. The instance gets its Init first.
	_, err := ord.ApplyEvents(stdtypes.ListOf(
		stdevents.NewNewSubmodule("ord/5", 5, uint64(5)),
		&Propose{Header: stdtypes.NewHeader("ord/5"), Value: "tx1"},
	))
	if err != nil {
		fmt.Println(err)
		return
	}

	// Epoch 6 begins and epoch 5 is over.
	_, err = ord.ApplyEvents(stdtypes.ListOf(
		stdevents.NewNewSubmodule("ord/6", 6, uint64(6)),
		stdevents.NewGarbageCollect("ord", 6),
		// A late event for the old instance is dropped, not an error.
		&Propose{Header: stdtypes.NewHeader("ord/5"), Value: "late"},
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("instances:", ord.Submodules(), "dropped:", ord.Dropped())
	// Output:
	// ord/5: started for epoch 5
	// ord/5: proposal "tx1"
	// ord/6: started for epoch 6
	// instances: [ord/6] dropped: 1
}
