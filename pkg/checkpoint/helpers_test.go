package checkpoint_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var mc = checkpoint.DefaultModuleConfig()

// replyTo is where the tests' Starts ask for their Stables, apart from
// mc.ISS, so that a test tells the two kinds of Stable apart.
const replyTo stdtypes.ModuleID = "ownstable"

// keySeed is the seed of every test's keys.
var keySeed = []byte("checkpoint tests")

// nodeKeys returns the private keys of nodes, in order, and their public
// keys: node i's are the same in every test.
func nodeKeys(nodes []stdtypes.NodeID) ([]crypto.PrivateKey, map[stdtypes.NodeID]crypto.PublicKey, error) {
	return crypto.NodeKeysFromSeed(crypto.Ed25519, keySeed, nodes)
}

// nodeCrypto returns the Crypto of node i of n (numbered nodes).
func nodeCrypto(t testing.TB, n, i int) *crypto.NodeCrypto {
	t.Helper()
	keys, pubs, err := nodeKeys(stdtypes.NumberedNodeIDs(n))
	if err != nil {
		t.Fatal(err)
	}
	c, err := crypto.New(keys[i], pubs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testState is the State of the checkpoint of epoch e in the tests: the
// same on every node.
func testState(e stdtypes.EpochNr, voters membership.Voters) checkpoint.State {
	return checkpoint.State{
		Epoch:    e,
		SeqNr:    stdtypes.SeqNr(16 * (e + 1)),
		AppData:  fmt.Appendf(nil, "application state after epoch %d", e),
		Voters:   []membership.Voters{voters, voters, voters},
		Protocol: []byte{byte(e)},
	}
}

func hashOf(st checkpoint.State) []byte { return checkpoint.StateHash(crypto.SHA256, st) }

// sigOf returns node i's (of n) signature of the checkpoint of st.
func sigOf(t testing.TB, n, i int, st checkpoint.State) []byte {
	t.Helper()
	sig, err := nodeCrypto(t, n, i).Sign(checkpoint.SignedBytes(st.Epoch, st.SeqNr, hashOf(st)))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// checkpointMsg returns node i's CHECKPOINT of st.
func checkpointMsg(t testing.TB, n, i int, st checkpoint.State) *checkpoint.CheckpointMsg {
	return &checkpoint.CheckpointMsg{Epoch: st.Epoch, SeqNr: st.SeqNr, StateHash: hashOf(st), Sig: sigOf(t, n, i, st)}
}

// certOf returns a certificate of st signed by the given nodes of n, in
// the order given.
func certOf(t testing.TB, n int, st checkpoint.State, signers ...int) checkpoint.Certificate {
	t.Helper()
	cert := checkpoint.Certificate{Epoch: st.Epoch, SeqNr: st.SeqNr, StateHash: hashOf(st)}
	for _, i := range signers {
		cert.Signatures = append(cert.Signatures, checkpoint.Signature{Signer: stdtypes.NewNodeIDFromInt(i), Sig: sigOf(t, n, i, st)})
	}
	return cert
}

// testNode is a checkpoint module with its synchronous crypto module and
// hasher: apply hands it events and answers its requests to those at
// once, and returns the rest of its output.
type testNode struct {
	id     stdtypes.NodeID
	n      int
	voters membership.Voters
	m      *checkpoint.Module
	crypto *runner.Sync
	hasher *runner.Sync
}

// newTestNode returns node i of n numbered nodes of equal weight, with the
// parameters tweak changes, initialized.
func newTestNode(t testing.TB, n, i int, tweak func(*checkpoint.ModuleParams)) *testNode {
	t.Helper()
	voters := membership.EqualVoters(stdtypes.NumberedNodeIDs(n)...)
	p := checkpoint.DefaultModuleParams(voters)
	if tweak != nil {
		tweak(&p)
	}
	id := stdtypes.NewNodeIDFromInt(i)
	m, err := checkpoint.NewModule(id, mc, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := crypto.NewModule(nodeCrypto(t, n, i))
	if err != nil {
		t.Fatal(err)
	}
	h, err := crypto.NewHasher(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	tn := &testNode{id: id, n: n, voters: p.Voters, m: m, crypto: cm, hasher: h}
	out := tn.apply(t, stdevents.NewInit(mc.Self))
	if len(out) != 1 {
		t.Fatalf("Init: %d events out, want a TimerRepeat", len(out))
	}
	if tr, ok := out[0].(*stdevents.TimerRepeat); !ok || tr.Period != p.ResendPeriod {
		t.Fatalf("Init: %#v, want a TimerRepeat of ResendPeriod", out[0])
	}
	return tn
}

// apply hands evs to the module, and returns its output but the crypto
// requests, which it answers, in order.
func (tn *testNode) apply(t testing.TB, evs ...stdtypes.Event) []stdtypes.Event {
	t.Helper()
	out, err := tn.try(evs...)
	if err != nil {
		t.Fatalf("node %s: %v", tn.id, err)
	}
	return out
}

// try is apply that returns the module's error.
func (tn *testNode) try(evs ...stdtypes.Event) ([]stdtypes.Event, error) {
	var out []stdtypes.Event
	queue := evs
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 10_000 {
			return out, fmt.Errorf("no end to the events")
		}
		res, err := tn.m.ApplyEvents(stdtypes.ListOf(queue...))
		if err != nil {
			return out, err
		}
		queue = nil
		for _, ev := range res.Slice() {
			var answer *stdtypes.EventList
			switch ev.Dest() {
			case mc.Crypto:
				answer, err = tn.crypto.ApplyEvents(stdtypes.ListOf(ev))
			case mc.Hasher:
				answer, err = tn.hasher.ApplyEvents(stdtypes.ListOf(ev))
			default:
				out = append(out, ev)
				continue
			}
			if err != nil {
				return out, err
			}
			queue = append(queue, answer.Slice()...)
		}
	}
	return out, nil
}

// start returns the Start of st with the test's voters.
func (tn *testNode) start(st checkpoint.State) *checkpoint.Start {
	return &checkpoint.Start{Header: stdtypes.NewHeader(mc.Self), ReplyTo: replyTo, State: st, Voters: tn.voters}
}

func received(from int, msg stdtypes.Message) *stdevents.MessageReceived {
	return stdevents.NewMessageReceived(mc.Self, stdtypes.NewNodeIDFromInt(from), msg)
}

// only returns the events of type E among out.
func only[E stdtypes.Event](out []stdtypes.Event) []E {
	var es []E
	for _, ev := range out {
		if e, ok := ev.(E); ok {
			es = append(es, e)
		}
	}
	return es
}

// sent returns the messages of type M that out sends through the
// transport, with their destinations.
func sent[M stdtypes.Message](out []stdtypes.Event) (msgs []M, to [][]stdtypes.NodeID) {
	for _, s := range only[*stdevents.SendMessage](out) {
		if m, ok := s.Msg.(M); ok {
			msgs = append(msgs, m)
			to = append(to, slices.Clone(s.Destinations))
		}
	}
	return msgs, to
}

// stables returns the Stables in out to dest.
func stables(out []stdtypes.Event, dest stdtypes.ModuleID) []*checkpoint.Stable {
	var s []*checkpoint.Stable
	for _, st := range only[*checkpoint.Stable](out) {
		if st.Dest() == dest {
			s = append(s, st)
		}
	}
	return s
}
