package bcb_test

import (
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var (
	mc  = bcb.DefaultModuleConfig()
	rmc = reliablenet.DefaultModuleConfig(mc.Self)
)

// keySeed is the seed of every test's keys.
var keySeed = []byte("bcb tests")

// testKeys returns the private keys of n nodes and their public keys.
func testKeys(t testing.TB, n int) ([]crypto.PrivateKey, map[stdtypes.NodeID]crypto.PublicKey) {
	t.Helper()
	keys, pubs, err := nodeKeys(stdtypes.NumberedNodeIDs(n))
	if err != nil {
		t.Fatal(err)
	}
	return keys, pubs
}

// nodeKeys returns the private keys of nodes, in order, and their public
// keys, the same for a node's place in any test.
func nodeKeys(nodes []stdtypes.NodeID) ([]crypto.PrivateKey, map[stdtypes.NodeID]crypto.PublicKey, error) {
	return crypto.NodeKeysFromSeed(crypto.Ed25519, keySeed, nodes)
}

// nodeCrypto returns the Crypto of node i of n.
func nodeCrypto(t testing.TB, n, i int) *crypto.NodeCrypto {
	t.Helper()
	keys, pubs := testKeys(t, n)
	c, err := crypto.New(keys[i], pubs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sign returns node i's signature of the digest of instance id.
func sign(t testing.TB, n, i int, id bcb.InstanceID, payload []byte) []byte {
	t.Helper()
	sig, err := nodeCrypto(t, n, i).Sign(bcb.Digest(id, payload))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// certificate returns a FINAL for instance id with signatures of the given
// nodes.
func certificate(t testing.TB, n int, id bcb.InstanceID, payload []byte, signers ...int) *bcb.FinalMsg {
	t.Helper()
	msg := &bcb.FinalMsg{Incarnation: id.Incarnation, Seq: id.Seq, Payload: payload}
	for _, i := range signers {
		msg.Signers = append(msg.Signers, stdtypes.NewNodeIDFromInt(i))
		msg.Sigs = append(msg.Sigs, sign(t, n, i, id, payload))
	}
	return msg
}

// testNode is one node of a cluster: its bcb module, its reliablenet
// module and its synchronous crypto module.
type testNode struct {
	id        stdtypes.NodeID
	bcb       *bcb.Module
	rnet      *reliablenet.Module
	crypto    *runner.Sync
	delivered []*bcb.Deliver
	// maxOwn is the most instances the node led at once.
	maxOwn int
}

// envelope is an event on its way to a node.
type envelope struct {
	to stdtypes.NodeID
	ev stdtypes.Event
}

// cluster runs n nodes' bcb and reliablenet modules by hand, in one
// goroutine, without a simulation: events go one at a time, in FIFO order,
// and tests may drop or rewrite messages in flight (filter, which sees the
// bcb messages, and the reliablenet module's acknowledgments).
type cluster struct {
	t      testing.TB
	ids    []stdtypes.NodeID
	nodes  map[stdtypes.NodeID]*testNode
	queue  []envelope
	filter func(from, to stdtypes.NodeID, msg stdtypes.Message) stdtypes.Message
	// sent counts the bcb module's messages by type, once each, however
	// often the reliablenet module sends them.
	sent map[string]int
}

func newCluster(t testing.TB, n int, tweak func(*bcb.ModuleParams)) *cluster {
	t.Helper()
	c := &cluster{t: t, ids: stdtypes.NumberedNodeIDs(n), nodes: map[stdtypes.NodeID]*testNode{}, sent: map[string]int{}}
	for i, id := range c.ids {
		params := bcb.DefaultModuleParams(c.ids)
		if tweak != nil {
			tweak(&params)
		}
		m, err := bcb.NewModule(id, mc, params, nil)
		if err != nil {
			t.Fatal(err)
		}
		rp := bcb.ReliableNetParams(params)
		rp.MinBackoffTicks, rp.MaxBackoffTicks = 1, 4
		rn, err := reliablenet.NewModule(id, rmc, rp, nil)
		if err != nil {
			t.Fatal(err)
		}
		cm, err := crypto.NewModule(nodeCrypto(t, n, i))
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[id] = &testNode{id: id, bcb: m, rnet: rn, crypto: cm}
		c.push(id, stdevents.NewInit(mc.Self), stdevents.NewInit(rmc.Self))
	}
	c.run()
	return c
}

func (c *cluster) push(to stdtypes.NodeID, evs ...stdtypes.Event) {
	for _, ev := range evs {
		c.queue = append(c.queue, envelope{to, ev})
	}
}

// run processes events until none is left.
func (c *cluster) run() {
	c.t.Helper()
	for steps := 0; len(c.queue) > 0; steps++ {
		if steps > 1_000_000 {
			c.t.Fatal("cluster: no end to the events")
		}
		e := c.queue[0]
		c.queue = c.queue[1:]
		c.apply(e.to, e.ev)
	}
}

// apply hands ev to the module of node to it is for, and routes its
// output.
func (c *cluster) apply(to stdtypes.NodeID, ev stdtypes.Event) {
	c.t.Helper()
	node := c.nodes[to]
	var m modules.PassiveModule = node.bcb
	if ev.Dest() == rmc.Self {
		m = node.rnet
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(ev))
	if err != nil {
		c.t.Fatalf("node %s: %v", to, err)
	}
	if own, _, _, _ := node.bcb.Sizes(); own > node.maxOwn {
		node.maxOwn = own
	}
	c.route(node, out)
}

func (c *cluster) route(node *testNode, out *stdtypes.EventList) {
	c.t.Helper()
	for _, ev := range out.Slice() {
		switch ev := ev.(type) {
		case *stdevents.SendMessage:
			c.transmit(node, ev)
		case *reliablenet.SendMessage:
			c.sent[fmt.Sprintf("%T", ev.Msg)]++
			c.push(node.id, ev)
		case *reliablenet.Cancel, *reliablenet.CancelPrefix, *stdevents.MessageReceived:
			c.push(node.id, ev)
		case *crypto.SignRequest, *crypto.VerifyRequest:
			res, err := node.crypto.ApplyEvents(stdtypes.ListOf(ev))
			if err != nil {
				c.t.Fatalf("node %s: crypto: %v", node.id, err)
			}
			c.push(node.id, res.Slice()...)
		case *bcb.Deliver:
			node.delivered = append(node.delivered, ev)
		case *stdevents.TimerRepeat:
		default:
			c.t.Fatalf("node %s emitted unexpected %T", node.id, ev)
		}
	}
}

// transmit hands a message of a reliablenet module to the destinations,
// through the filter.
func (c *cluster) transmit(node *testNode, ev *stdevents.SendMessage) {
	for _, dest := range ev.Destinations {
		msg := ev.Msg
		if c.filter != nil {
			data, isData := msg.(*reliablenet.DataMsg)
			if isData {
				msg = data.Msg
			}
			if msg = c.filter(node.id, dest, msg); msg == nil {
				continue
			}
			if isData {
				copied := *data
				copied.Msg = msg
				msg = &copied
			}
		}
		c.push(dest, stdevents.NewMessageReceived(ev.MsgDest, node.id, msg))
	}
}

// tick hands every node's modules a tick.
func (c *cluster) tick() {
	for _, id := range c.ids {
		c.push(id, bcb.NewTick(mc.Self), reliablenet.NewTick(rmc.Self))
	}
	c.run()
}

// broadcast has node leader broadcast payload as its instance seq.
func (c *cluster) broadcast(leader stdtypes.NodeID, seq uint64, payload string) {
	c.push(leader, bcb.NewBroadcast(mc.Self, seq, []byte(payload)))
}

// deliveredBy returns what node id delivered, as "instance=payload".
func (c *cluster) deliveredBy(id stdtypes.NodeID) []string {
	var out []string
	for _, d := range c.nodes[id].delivered {
		out = append(out, d.ID.String()+"="+string(d.Payload))
	}
	return out
}
