package trantortest_test

import (
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/stdtypes"
)

// A test of an App: four nodes over lossy links, one of which crashes and
// restarts from its WAL while a client submits; every operation is
// answered by f+1 nodes, and the nodes end with the same state.
func ExampleNewSystem() {
	sys, err := trantortest.NewSystem(trantortest.Config{
		N: 4, Seed: 1, Network: sim.Options{Link: isstest.LossyLinks()},
		NewApp: func(stdtypes.NodeID) trantor.App { return &echoApp{} },
	})
	if err != nil {
		panic(err)
	}
	defer sys.Stop()
	sys.Node("3").CrashAt(5 * time.Millisecond)
	sys.Node("3").RestartAt(200 * time.Millisecond)

	clients, err := sys.NewClients(trantortest.ClientOptions{})
	if err != nil {
		panic(err)
	}
	for _, data := range []string{"a", "b", "c"} {
		clients.Submit("alice", []byte(data), nil)
	}
	if err := clients.Wait(); err != nil {
		panic(err)
	}
	if err := clients.Settle(); err != nil {
		panic(err)
	}
	// The transactions fall in different buckets, so their order in the
	// log is not the order of their submission: each result says where
	// its transaction was executed.
	for _, op := range clients.History() {
		fmt.Printf("%s/%d %s: answered %v, after %v\n", op.ClientID, op.TxNo, op.Data, op.Done, op.Return > op.Call)
	}
	// Output:
	// alice/0 a: answered true, after true
	// alice/1 b: answered true, after true
	// alice/2 c: answered true, after true
}
