package bcb_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// Example runs four nodes in a simulation: node 0 broadcasts two
// payloads, and every node delivers both. Each node has the bcb module,
// the reliablenet module that carries its messages, the synchronous
// crypto module and an application module (a null one here) to receive
// the Deliver events.
func Example() {
	ids := []stdtypes.NodeID{"0", "1", "2", "3"}
	pubs := map[stdtypes.NodeID]crypto.PublicKey{}
	keys := map[stdtypes.NodeID]crypto.PrivateKey{}
	for i, id := range ids {
		k, err := crypto.KeyPairFromSeed(crypto.Ed25519, []byte("example"), i)
		if err != nil {
			panic(err)
		}
		keys[id], pubs[id] = k, k.Public()
	}
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: ids,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mc := bcb.ModuleConfig{Self: "bcb", ReliableNet: "reliablenet", Crypto: "crypto", Timer: info.Timer, App: "app"}
			params := bcb.DefaultModuleParams(info.Nodes)
			// Higher at every start of the node: the simulation counts
			// them; a real deployment may take the start time.
			params.Incarnation = uint64(info.Incarnation)
			m, err := bcb.NewModule(info.ID, mc, params, nil)
			if err != nil {
				return nil, err
			}
			rmc := reliablenet.ModuleConfig{Self: "reliablenet", Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{"bcb"}}
			rn, err := reliablenet.NewModule(info.ID, rmc, bcb.ReliableNetParams(params), nil)
			if err != nil {
				return nil, err
			}
			c, err := crypto.New(keys[info.ID], pubs)
			if err != nil {
				return nil, err
			}
			cm, err := crypto.NewModule(c) // crypto.NewPool in production.
			if err != nil {
				return nil, err
			}
			return modules.Modules{"bcb": m, "reliablenet": rn, "crypto": cm, "app": modules.NullPassive{}}, nil
		},
	}, deploytest.SimOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	delivered := deploytest.Collect[*bcb.Deliver](d)
	if err := d.Start(); err != nil {
		panic(err)
	}
	for seq, text := range []string{"hello", "world"} {
		if err := d.Submit("0", bcb.NewBroadcast("bcb", uint64(seq), []byte(text))); err != nil {
			panic(err)
		}
	}
	if err := d.WaitFor(func() bool { return delivered.Len() == 8 }, time.Second); err != nil {
		panic(err)
	}
	for _, id := range ids {
		var got []string
		for _, dv := range delivered.Of(id) {
			got = append(got, fmt.Sprintf("%v=%s", dv.ID, dv.Payload))
		}
		slices.Sort(got)
		fmt.Println("node", id, "delivered", got)
	}
	// Output:
	// node 0 delivered [0/1/0=hello 0/1/1=world]
	// node 1 delivered [0/1/0=hello 0/1/1=world]
	// node 2 delivered [0/1/0=hello 0/1/1=world]
	// node 3 delivered [0/1/0=hello 0/1/1=world]
}
