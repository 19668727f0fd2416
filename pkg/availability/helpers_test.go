package availability_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var mc = availability.DefaultModuleConfig()

// keySeed is the seed of every test's keys.
var keySeed = []byte("availability tests")

// nodeCrypto returns the Crypto of node i of ids.
func nodeCrypto(t testing.TB, ids []stdtypes.NodeID, i int) *crypto.NodeCrypto {
	t.Helper()
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey, len(ids))
	var own crypto.PrivateKey
	for j, id := range ids {
		k, err := crypto.KeyPairFromSeed(crypto.Ed25519, keySeed, j)
		if err != nil {
			t.Fatal(err)
		}
		pubs[id] = k.Public()
		if j == i {
			own = k
		}
	}
	c, err := crypto.New(own, pubs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// envelope is a message on its way.
type envelope struct {
	from, to stdtypes.NodeID
	msg      stdtypes.Message
}

// testNode is one node: its availability module, its synchronous crypto
// module, and what the module sent to the other modules.
type testNode struct {
	id     stdtypes.NodeID
	m      *availability.Module
	crypto *runner.Sync
	// wal holds the events persisted, in order; truncated the Truncates.
	wal       []stdtypes.Event
	truncates []*wal.Truncate
	// out holds the events for the mempool, ISS, the batch fetcher, the
	// timer and the reliablenet module's cancellations, in order.
	out []stdtypes.Event
	// signedBeforePersisted is set if the module asked to sign something
	// other than the digest of a batch in its WAL.
	signedBeforePersisted bool
}

// persisted reports whether msgs are the signed bytes of batches in n's
// WAL.
func (n *testNode) persisted(msgs [][]byte) bool {
	for _, msg := range msgs {
		found := false
		for _, r := range n.wal {
			if b, ok := r.(*availability.BatchRecord); ok &&
				string(availability.SignedBytes(availability.BatchDigest(b.Epoch, b.Leader, b.Buckets, b.Txs))) == string(msg) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// cluster runs n nodes' availability modules by hand, with real crypto,
// in one goroutine: messages go one at a time, in FIFO order; a test may
// drop or rewrite them (filter).
type cluster struct {
	t      testing.TB
	ids    []stdtypes.NodeID
	voters membership.Voters
	params availability.ModuleParams
	nodes  map[stdtypes.NodeID]*testNode
	queue  []envelope
	filter func(e envelope) stdtypes.Message
}

func newCluster(t testing.TB, voters membership.Voters, tweak func(*availability.ModuleParams)) *cluster {
	t.Helper()
	c := &cluster{t: t, ids: voters.IDs(), voters: voters, nodes: map[stdtypes.NodeID]*testNode{}}
	c.params = availability.DefaultModuleParams(voters)
	c.params.MaxBuckets = 64
	if tweak != nil {
		tweak(&c.params)
	}
	for i, id := range c.ids {
		cr, err := crypto.NewModule(nodeCrypto(t, c.ids, i))
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[id] = &testNode{id: id, crypto: cr}
		c.restart(id)
	}
	return c
}

// restart gives node id a new availability module, which gets back what
// the node persisted (as the WAL module hands it back at a start).
func (c *cluster) restart(id stdtypes.NodeID) {
	c.t.Helper()
	n := c.nodes[id]
	m, err := availability.NewModule(id, mc, c.params, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	n.m = m
	for _, ev := range n.wal {
		c.apply(id, ev)
	}
}

// apply hands ev to node id's module and handles what comes out.
func (c *cluster) apply(id stdtypes.NodeID, ev stdtypes.Event) {
	c.t.Helper()
	out, err := c.nodes[id].m.ApplyEvents(stdtypes.ListOf(ev))
	if err != nil {
		c.t.Fatalf("node %s: %v", id, err)
	}
	for _, o := range out.Slice() {
		c.route(id, o)
	}
}

// applyErr hands ev to node id's module and returns its error.
func (c *cluster) applyErr(id stdtypes.NodeID, ev stdtypes.Event) error {
	_, err := c.nodes[id].m.ApplyEvents(stdtypes.ListOf(ev))
	return err
}

// route handles an event node id's module emitted; an Append's
// follow-ups come once it is in the (simulated) WAL.
func (c *cluster) route(id stdtypes.NodeID, ev stdtypes.Event) {
	c.t.Helper()
	n := c.nodes[id]
	switch ev := ev.(type) {
	case *wal.Append:
		if ev.Dest() != mc.WAL || ev.Event.Dest() != mc.Self {
			c.t.Fatalf("node %s: Append %v", id, ev)
		}
		n.wal = append(n.wal, ev.Event)
		for _, f := range ev.FollowUps() {
			c.route(id, f)
		}
		return
	case *wal.Truncate:
		n.truncates = append(n.truncates, ev)
		kept := n.wal[:0]
		for _, r := range n.wal {
			if retention(r) >= ev.RetentionIndex {
				kept = append(kept, r)
			}
		}
		n.wal = kept
	case *crypto.SignRequest, *crypto.VerifyRequest:
		if sr, ok := ev.(*crypto.SignRequest); ok && !n.persisted(sr.Msgs) {
			n.signedBeforePersisted = true
		}
		res, err := n.crypto.ApplyEvents(stdtypes.ListOf(ev))
		if err != nil {
			c.t.Fatal(err)
		}
		for _, r := range res.Slice() {
			c.apply(id, r)
		}
	case *reliablenet.SendMessage:
		for _, to := range ev.Destinations {
			c.queue = append(c.queue, envelope{id, to, ev.Msg})
		}
	case *stdevents.SendMessage:
		for _, to := range ev.Destinations {
			c.queue = append(c.queue, envelope{id, to, ev.Msg})
		}
	default:
		n.out = append(n.out, ev)
	}
	if len(ev.FollowUps()) > 0 {
		c.t.Fatalf("node %s: follow-ups of %T", id, ev)
	}
}

// retention returns the retention index a test record was appended with:
// its epoch.
func retention(ev stdtypes.Event) stdtypes.RetentionIndex {
	switch ev := ev.(type) {
	case *availability.BatchRecord:
		return stdtypes.RetentionIndex(ev.Epoch)
	case *availability.CollectedRecord:
		return stdtypes.RetentionIndex(ev.Low)
	}
	panic("unknown record")
}

// deliver delivers the queued messages, and those they cause, until none
// is left.
func (c *cluster) deliver() {
	c.t.Helper()
	for len(c.queue) > 0 {
		e := c.queue[0]
		c.queue = c.queue[1:]
		msg := e.msg
		if c.filter != nil {
			if msg = c.filter(e); msg == nil {
				continue
			}
		}
		c.apply(e.to, stdevents.NewMessageReceived(mc.Self, e.from, msg))
	}
}

// take returns and removes node id's output events of type E.
func take[E stdtypes.Event](c *cluster, id stdtypes.NodeID) []E {
	n := c.nodes[id]
	var got []E
	n.out = slices.DeleteFunc(n.out, func(ev stdtypes.Event) bool {
		e, ok := ev.(E)
		if ok {
			got = append(got, e)
		}
		return ok
	})
	return got
}

// takeOne returns node id's only output event of type E.
func takeOne[E stdtypes.Event](c *cluster, id stdtypes.NodeID) E {
	c.t.Helper()
	got := take[E](c, id)
	if len(got) != 1 {
		var zero E
		c.t.Fatalf("node %s: %d events %T, want 1", id, len(got), zero)
	}
	return got[0]
}

// txs returns k transactions of client, numbered from first.
func txs(client string, first, k int) []mempool.Tx {
	out := make([]mempool.Tx, k)
	for i := range out {
		out[i] = mempool.Tx{TxID: mempool.TxID{ClientID: client, TxNo: uint64(first + i)}, Data: []byte{byte(first + i)}}
	}
	return out
}

var buckets = []int{0, 3, 7}

// orderer is the ID of the orderer of epoch e's segment 0.
func orderer(e stdtypes.EpochNr) stdtypes.ModuleID { return iss.OrdererID("ordering", e, 0) }

func requestProposal(c *cluster, e stdtypes.EpochNr, sn stdtypes.SeqNr) *iss.RequestProposal {
	rp := iss.NewRequestProposal(mc.Self, orderer(e), e, sn, slices.Clone(buckets))
	rp.Voters = c.voters
	return rp
}

// propose has node leader propose batch in slot sn of epoch e, delivers
// every message, and returns the leader's Proposal, if there is one.
func (c *cluster) propose(leader stdtypes.NodeID, e stdtypes.EpochNr, sn stdtypes.SeqNr, batch []mempool.Tx) *iss.Proposal {
	c.t.Helper()
	c.apply(leader, requestProposal(c, e, sn))
	rb := takeOne[*mempool.RequestBatch](c, leader)
	if rb.Epoch != e || !slices.Equal(rb.Buckets, buckets) {
		// The mempool gives out nothing of an epoch before the
		// earlier ones are executed: it must know the proposal's.
		c.t.Fatalf("RequestBatch of epoch %d, buckets %v for a proposal of epoch %d, buckets %v", rb.Epoch, rb.Buckets, e, buckets)
	}
	c.apply(leader, &mempool.NewBatch{Header: stdtypes.NewHeader(mc.Self), Ref: rb.Ref, Txs: batch})
	c.deliver()
	ps := take[*iss.Proposal](c, leader)
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}

// verify asks node id to verify value as proposed by leader in epoch e,
// and returns the answer's Err.
func (c *cluster) verify(id stdtypes.NodeID, e stdtypes.EpochNr, leader stdtypes.NodeID, bs []int, voters membership.Voters, value []byte) string {
	c.t.Helper()
	c.apply(id, &iss.VerifyProposal{
		Header: stdtypes.NewHeader(mc.Self), ReplyTo: "ordering/x", Ref: 42, Epoch: e,
		Leader: leader, Buckets: bs, Voters: voters, Value: value,
	})
	v := takeOne[*iss.ProposalVerified](c, id)
	if v.Ref != 42 {
		c.t.Fatalf("ProposalVerified with Ref %d", v.Ref)
	}
	return v.Err
}

// sign returns node i's signature of digest.
func sign(t testing.TB, ids []stdtypes.NodeID, i int, digest []byte) []byte {
	t.Helper()
	sig, err := nodeCrypto(t, ids, i).Sign(availability.SignedBytes(digest))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// makeCert returns a certificate of batch with signatures of the nodes at
// the given positions of ids.
func makeCert(t testing.TB, ids []stdtypes.NodeID, e stdtypes.EpochNr, leader stdtypes.NodeID, batch []mempool.Tx, signers ...int) availability.Certificate {
	t.Helper()
	c := availability.Certificate{Epoch: e, Leader: leader, Buckets: slices.Clone(buckets),
		Digest: availability.BatchDigest(e, leader, buckets, batch)}
	for _, i := range signers {
		c.Signers = append(c.Signers, ids[i])
		c.Sigs = append(c.Sigs, sign(t, ids, i, c.Digest))
	}
	return c
}
