package availability_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var four = membership.EqualVoters(stdtypes.NumberedNodeIDs(4)...)

// A leader's batch is stored and signed by the others, and the
// certificate it gets verifies at every node and resolves to the batch.
func TestCertificateOrdersAndResolves(t *testing.T) {
	c := newCluster(t, four, nil)
	batch := txs("alice", 0, 3)
	p := c.propose("0", 5, 17, batch)
	if p == nil || p.SeqNr != 17 || p.Dest() != orderer(5) {
		t.Fatalf("proposal %+v", p)
	}
	cert, err := availability.DecodeCertificate(p.Value, 64)
	if err != nil {
		t.Fatal(err)
	}
	// A weak quorum of 4 is 2: the leader's own signature and the first SIG.
	if len(cert.Signers) != 2 || cert.Leader != "0" || cert.Epoch != 5 {
		t.Fatalf("certificate %+v", cert)
	}
	for _, id := range c.ids {
		if err := c.verify(id, 5, "0", buckets, four, p.Value); err != "" {
			t.Errorf("node %s rejects the certificate: %s", id, err)
		}
		n := c.nodes[id]
		if n.signedBeforePersisted {
			t.Errorf("node %s signed before it persisted", id)
		}
		if len(n.wal) != 1 {
			t.Errorf("node %s persisted %d records, want 1", id, len(n.wal))
		}
		c.apply(id, &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "batchfetcher", Ref: 9, Cert: p.Value})
		got := takeOne[*availability.ProvideTxs](c, id)
		if got.Ref != 9 || !slices.EqualFunc(got.Txs, batch, txEqual) {
			t.Errorf("node %s provides %+v", id, got)
		}
	}
	// The SIGs of nodes 2 and 3 come after the certificate: stale.
	if s := c.nodes["0"].m.Stats(); s.Certificates != 1 || s.Stale != 2 || s.Dropped() != 2 {
		t.Errorf("leader's stats %+v", s)
	}
	if s := c.nodes["1"].m.Stats(); s.Signed != 1 || s.Verified != 1 {
		t.Errorf("node 1's stats %+v", s)
	}
}

func txEqual(a, b mempool.Tx) bool { return a.TxID == b.TxID && string(a.Data) == string(b.Data) }

// A node signs a batch only as a follow-up of the batch's WAL record: the
// module's answer to a REQUESTSIG is the Append alone.
func TestSignsOnlyAfterPersisting(t *testing.T) {
	c := newCluster(t, four, nil)
	msg := &availability.RequestSigMsg{Epoch: 0, Buckets: buckets, Txs: txs("a", 0, 2)}
	out, err := c.nodes["1"].m.ApplyEvents(stdtypes.ListOf(stdevents.NewMessageReceived(mc.Self, "0", msg)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1 {
		t.Fatalf("%d events out, want the Append alone", out.Len())
	}
	ev := out.Get(0)
	if stdtypes.TypeName(ev) != "wal.Append" || len(ev.FollowUps()) != 1 || stdtypes.TypeName(ev.FollowUps()[0]) != "crypto.SignRequest" {
		t.Fatalf("got %s with follow-ups %v", stdtypes.TypeName(ev), ev.FollowUps())
	}
}

// The validator accepts signers of weight just above a third of the
// total, and rejects those just below, with weighted voters.
func TestVerifyWeakQuorumBoundary(t *testing.T) {
	ids := stdtypes.NumberedNodeIDs(4)
	voters := membership.Voters{{ID: "0", Weight: 3}, {ID: "1", Weight: 1}, {ID: "2", Weight: 1}, {ID: "3", Weight: 1}}
	c := newCluster(t, voters, nil)
	batch := txs("a", 0, 1)
	for _, tc := range []struct {
		signers []int
		ok      bool
	}{
		{[]int{1, 2}, false},   // 2 of 6: 3·2 = 6, not more than 6.
		{[]int{1, 2, 3}, true}, // 3 of 6.
		{[]int{0}, true},       // 3 of 6, one heavy voter.
		{[]int{3}, false},      // 1 of 6.
		{[]int{0, 1, 2}, true}, // More than needed.
	} {
		value := makeCert(t, ids, 2, "1", batch, tc.signers...).Encode()
		err := c.verify("2", 2, "1", buckets, voters, value)
		if (err == "") != tc.ok {
			t.Errorf("signers %v: error %q, want ok=%v", tc.signers, err, tc.ok)
		}
	}
}

// Forged certificates are rejected, and none stops the node.
func TestVerifyRejectsForgedCertificates(t *testing.T) {
	ids := four.IDs()
	c := newCluster(t, four, nil)
	batch := txs("a", 0, 2)
	good := makeCert(t, ids, 1, "0", batch, 0, 2)
	if err := c.verify("1", 1, "0", buckets, four, good.Encode()); err != "" {
		t.Fatalf("good certificate rejected: %s", err)
	}
	outsider := membership.EqualVoters("0", "1", "2", "3", "4")
	forged := map[string]func() []byte{
		"signature of another digest": func() []byte {
			x := good
			x.Sigs = slices.Clone(x.Sigs)
			x.Sigs[1] = sign(t, ids, 2, availability.BatchDigest(1, "0", buckets, txs("a", 5, 1)))
			return x.Encode()
		},
		"signature of another signer": func() []byte {
			x := good
			x.Signers = []stdtypes.NodeID{"0", "3"}
			return x.Encode()
		},
		"repeated signer": func() []byte {
			x := good
			x.Signers = []stdtypes.NodeID{"0", "0"}
			x.Sigs = [][]byte{x.Sigs[0], x.Sigs[0]}
			return x.Encode()
		},
		"signer no voter": func() []byte {
			x := makeCert(t, outsider.IDs(), 1, "0", batch, 0, 4)
			return x.Encode()
		},
		"another epoch":   func() []byte { x := good; x.Epoch = 2; return x.Encode() },
		"another leader":  func() []byte { x := good; x.Leader = "1"; return x.Encode() },
		"another buckets": func() []byte { x := good; x.Buckets = []int{0, 3}; return x.Encode() },
		"trailing byte":   func() []byte { return append(good.Encode(), 0) },
		"truncated":       func() []byte { b := good.Encode(); return b[:len(b)-1] },
		"version":         func() []byte { b := good.Encode(); b[0] = 2; return b },
		"one signer":      func() []byte { return makeCert(t, ids, 1, "0", batch, 0).Encode() },
	}
	for _, name := range slices.Sorted(mapsKeys(forged)) {
		if err := c.verify("1", 1, "0", buckets, four, forged[name]()); err == "" {
			t.Errorf("%s: accepted", name)
		}
	}
	if s := c.nodes["1"].m.Stats(); s.Verified != 1 || s.Rejected != uint64(len(forged)) {
		t.Errorf("stats %+v", s)
	}
	// An empty value (a leader with nothing to propose) is valid.
	if err := c.verify("1", 1, "0", buckets, four, nil); err != "" {
		t.Errorf("empty value: %s", err)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// A batch fetched from a signer that does not match the certificate's
// digest is dropped; the next signer, asked after the timeout, provides.
func TestFetchChecksDigestAndMovesOn(t *testing.T) {
	c := newCluster(t, four, nil)
	batch := txs("a", 0, 4)
	// Node 3 never gets the REQUESTSIG: it must fetch.
	c.filter = func(e envelope) stdtypes.Message {
		if e.to == "3" {
			return nil
		}
		return e.msg
	}
	p := c.propose("0", 0, 0, batch)
	if p == nil {
		t.Fatal("no proposal")
	}
	cert, _ := availability.DecodeCertificate(p.Value, 64)
	// Node 0's answers are corrupted on the way.
	c.filter = func(e envelope) stdtypes.Message {
		if r, ok := e.msg.(*availability.FetchResponseMsg); ok && e.from == cert.Signers[0] {
			bad := *r
			bad.Txs = slices.Clone(r.Txs)
			bad.Txs[2].Data = []byte("forged")
			return &bad
		}
		return e.msg
	}
	c.apply("3", &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "bf", Ref: 1, Cert: p.Value})
	c.apply("3", &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "bf", Ref: 2, Cert: p.Value})
	c.deliver()
	if got := take[*availability.ProvideTxs](c, "3"); len(got) != 0 {
		t.Fatalf("provided %+v from a forged response", got)
	}
	if s := c.nodes["3"].m.Stats(); s.BadDigest != 1 {
		t.Fatalf("stats %+v", s)
	}
	timers := take[*stdevents.TimerDelay](c, "3")
	if len(timers) != 1 {
		t.Fatalf("%d timers, want 1 (the second request joins the first fetch)", len(timers))
	}
	c.apply("3", timers[0].Events[0])
	c.apply("3", timers[0].Events[0]) // A repeated timeout is ignored.
	c.deliver()
	got := take[*availability.ProvideTxs](c, "3")
	if len(got) != 2 || got[0].Ref != 1 || got[1].Ref != 2 || !slices.EqualFunc(got[0].Txs, batch, txEqual) {
		t.Fatalf("provided %+v", got)
	}
	// A late answer of a fetch that ended is stale.
	c.apply("3", stdevents.NewMessageReceived(mc.Self, "1", &availability.FetchResponseMsg{Digest: cert.Digest, Txs: batch}))
	if s := c.nodes["3"].m.Stats(); s.Fetched != 1 || s.Stale != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A Byzantine leader that floods REQUESTSIGs fills its own quota: the
// node stores at most MaxBatchesPerSender of its batches, until a stable
// checkpoint collects them; the other leaders are unaffected.
func TestFloodIsBoundedPerSender(t *testing.T) {
	const quota = 5
	c := newCluster(t, four, func(p *availability.ModuleParams) { p.MaxBatchesPerSender = quota; p.RetainedEpochs = 1 })
	for i := range quota + 3 {
		msg := &availability.RequestSigMsg{Epoch: 1, Buckets: buckets, Txs: txs("flood", i, 1)}
		c.apply("1", stdevents.NewMessageReceived(mc.Self, "3", msg))
	}
	n := c.nodes["1"]
	if len(n.wal) != quota {
		t.Fatalf("%d batches persisted, want %d", len(n.wal), quota)
	}
	if s := n.m.Stats(); s.Flood != 3 || s.Signed != quota {
		t.Fatalf("stats %+v", s)
	}
	if c.propose("0", 1, 0, txs("honest", 0, 1)) == nil {
		t.Fatal("an honest leader gets no certificate")
	}
	c.apply("1", &iss.StableCheckpoint{Header: stdtypes.NewHeader(mc.Self), Epoch: 2})
	msg := &availability.RequestSigMsg{Epoch: 2, Buckets: buckets, Txs: txs("flood", 100, 1)}
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "3", msg))
	if s := n.m.Stats(); s.Flood != 3 || s.Signed != quota+2 || s.Collected != quota+1 {
		t.Fatalf("after the checkpoint: stats %+v", s)
	}
}

// Every invalid REQUESTSIG is dropped and counted, by reason.
func TestRequestSigValidation(t *testing.T) {
	c := newCluster(t, four, func(p *availability.ModuleParams) {
		p.MaxBatchTxs, p.MaxTxBytes, p.MaxBatchBytes = 4, 10, 20
		p.BucketOf = func(tx mempool.Tx) int { return int(tx.TxNo % 8) }
	})
	big := txs("a", 0, 1)
	big[0].Data = make([]byte, 10)
	cases := []struct {
		name string
		from stdtypes.NodeID
		msg  *availability.RequestSigMsg
		want func(availability.Stats) uint64
	}{
		{"unknown sender", "9", &availability.RequestSigMsg{Buckets: buckets, Txs: txs("a", 0, 1)}, func(s availability.Stats) uint64 { return s.UnknownSender }},
		{"from itself", "1", &availability.RequestSigMsg{Buckets: buckets, Txs: txs("a", 0, 1)}, func(s availability.Stats) uint64 { return s.UnknownSender }},
		{"empty", "0", &availability.RequestSigMsg{Buckets: buckets}, func(s availability.Stats) uint64 { return s.Malformed }},
		{"no buckets", "0", &availability.RequestSigMsg{Txs: txs("a", 0, 1)}, func(s availability.Stats) uint64 { return s.Malformed }},
		{"buckets out of order", "0", &availability.RequestSigMsg{Buckets: []int{3, 0}, Txs: txs("a", 0, 1)}, func(s availability.Stats) uint64 { return s.Malformed }},
		{"bucket out of range", "0", &availability.RequestSigMsg{Buckets: []int{64}, Txs: txs("a", 0, 1)}, func(s availability.Stats) uint64 { return s.Malformed }},
		{"too many", "0", &availability.RequestSigMsg{Buckets: buckets, Txs: txs("a", 0, 5)}, func(s availability.Stats) uint64 { return s.Oversize }},
		{"tx too big", "0", &availability.RequestSigMsg{Buckets: buckets, Txs: big}, func(s availability.Stats) uint64 { return s.Oversize }},
		{"batch too big", "0", &availability.RequestSigMsg{Buckets: []int{0}, Txs: []mempool.Tx{
			{TxID: mempool.TxID{ClientID: "abcdef", TxNo: 0}}, {TxID: mempool.TxID{ClientID: "abcdef", TxNo: 8}},
			{TxID: mempool.TxID{ClientID: "abcdef", TxNo: 16}, Data: []byte("xyz")},
		}}, func(s availability.Stats) uint64 { return s.Oversize }},
		{"outside buckets", "0", &availability.RequestSigMsg{Buckets: buckets, Txs: txs("a", 1, 1)}, func(s availability.Stats) uint64 { return s.OutsideBuckets }},
	}
	for _, tc := range cases {
		before := tc.want(c.nodes["1"].m.Stats())
		c.apply("1", stdevents.NewMessageReceived(mc.Self, tc.from, tc.msg))
		if got := tc.want(c.nodes["1"].m.Stats()); got != before+1 {
			t.Errorf("%s: counter %d, want %d", tc.name, got, before+1)
		}
	}
	if n := c.nodes["1"]; len(n.wal) != 0 || len(c.queue) != 0 {
		t.Fatalf("persisted %d, sent %d", len(n.wal), len(c.queue))
	}
	// A valid one is signed once; its copy is a duplicate.
	ok := &availability.RequestSigMsg{Buckets: buckets, Txs: txs("a", 0, 1)}
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "0", ok))
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "0", ok))
	if s := c.nodes["1"].m.Stats(); s.Signed != 1 || s.Duplicate != 1 || len(c.queue) != 1 {
		t.Fatalf("stats %+v, %d sent", s, len(c.queue))
	}
}

// Invalid SIGs are dropped: from a node not asked, with a bad signature,
// twice from one node, for no open batch.
func TestSigValidation(t *testing.T) {
	ids := four.IDs()
	c := newCluster(t, four, nil)
	batch := txs("a", 0, 1)
	// Keep the REQUESTSIGs from arriving, to send SIGs by hand.
	c.filter = func(envelope) stdtypes.Message { return nil }
	if c.propose("0", 0, 3, batch) != nil {
		t.Fatal("a certificate without SIGs")
	}
	d := availability.BatchDigest(0, "0", buckets, batch)
	send := func(from stdtypes.NodeID, msg *availability.SigMsg) {
		c.apply("0", stdevents.NewMessageReceived(mc.Self, from, msg))
	}
	send("9", &availability.SigMsg{Digest: d, Sig: sign(t, ids, 1, d)})
	send("1", &availability.SigMsg{Digest: d, Sig: sign(t, ids, 2, d)})
	send("1", &availability.SigMsg{Digest: d[:5], Sig: sign(t, ids, 1, d)})
	send("1", &availability.SigMsg{Digest: make([]byte, 32), Sig: sign(t, ids, 1, d)})
	s := c.nodes["0"].m.Stats()
	if s.UnknownSender != 1 || s.BadSignature != 1 || s.Malformed != 1 || s.Stale != 1 || s.Certificates != 0 {
		t.Fatalf("stats %+v", s)
	}
	// After a bad one, a good SIG of the same node counts.
	send("1", &availability.SigMsg{Digest: d, Sig: sign(t, ids, 1, d)})
	p := takeOne[*iss.Proposal](c, "0")
	if p.SeqNr != 3 {
		t.Fatalf("proposal %+v", p)
	}
	// The node that did not answer needs the REQUESTSIG no more.
	if got := take[*reliablenet.Cancel](c, "0"); len(got) != 1 {
		t.Fatalf("%d Cancels", len(got))
	}
	send("2", &availability.SigMsg{Digest: d, Sig: sign(t, ids, 2, d)})
	if s := c.nodes["0"].m.Stats(); s.Stale != 2 {
		t.Fatalf("a SIG after the certificate: stats %+v", s)
	}
}

// newHeldCluster returns a cluster of four nodes whose messages are lost
// while *hold is true (it is at first).
func newHeldCluster(t *testing.T) (*cluster, *bool) {
	c := newCluster(t, four, nil)
	hold := true
	c.filter = func(e envelope) stdtypes.Message {
		if hold {
			return nil
		}
		return e.msg
	}
	return c, &hold
}

// An orderer that proposes its slot empty keeps its batch: its next
// RequestProposal gets the certificate at once; a RequestProposal of a
// later epoch gives the kept batch's transactions back to the mempool.
func TestCancelProposalKeepsTheBatch(t *testing.T) {
	c, hold := newHeldCluster(t)
	batch := txs("a", 0, 2)
	if c.propose("0", 1, 4, batch) != nil {
		t.Fatal("proposal without SIGs")
	}
	c.apply("0", iss.NewCancelProposal(mc.Self, 4))
	*hold = false
	c.queue = nil
	// The REQUESTSIGs arrive later (reliablenet retransmits them).
	for _, id := range []stdtypes.NodeID{"1", "2"} {
		c.apply(id, stdevents.NewMessageReceived(mc.Self, "0", &availability.RequestSigMsg{Epoch: 1, Buckets: buckets, Txs: batch}))
	}
	c.deliver()
	if got := take[*iss.Proposal](c, "0"); len(got) != 0 {
		t.Fatalf("a proposal for a cancelled slot: %+v", got)
	}
	c.apply("0", requestProposal(c, 1, 5))
	p := takeOne[*iss.Proposal](c, "0")
	if p.SeqNr != 5 {
		t.Fatalf("proposal %+v", p)
	}
	if got := take[*mempool.RequestBatch](c, "0"); len(got) != 0 {
		t.Fatal("asked the mempool while a batch was kept")
	}
	// Cancelled after it was answered (the Proposal crossed the Cancel).
	c.apply("0", iss.NewCancelProposal(mc.Self, 5))
	c.apply("0", requestProposal(c, 2, 9))
	ret := takeOne[*mempool.ReturnTxs](c, "0")
	if len(ret.Txs) != 2 || ret.Txs[0] != batch[0].TxID {
		t.Fatalf("returned %+v", ret)
	}
	takeOne[*mempool.RequestBatch](c, "0")
}

// The leader tells the orderer that a value is pending once it has a
// batch, and again when a cancelled batch still without its certificate
// answers the next request: so that the orderer waits for it rather than
// proposing empty. A value answered at once is not pending.
func TestProposalPending(t *testing.T) {
	c, hold := newHeldCluster(t)
	batch := txs("a", 0, 2)
	c.propose("0", 1, 4, batch)
	if pp := takeOne[*iss.ProposalPending](c, "0"); pp.SeqNr != 4 || pp.Dest() != orderer(1) {
		t.Fatalf("ProposalPending %+v; want slot 4 to the orderer", pp)
	}
	c.apply("0", iss.NewCancelProposal(mc.Self, 4))
	c.apply("0", requestProposal(c, 1, 5))
	if pp := takeOne[*iss.ProposalPending](c, "0"); pp.SeqNr != 5 {
		t.Fatalf("ProposalPending %+v; want slot 5, where the kept batch goes", pp)
	}
	c.apply("0", iss.NewCancelProposal(mc.Self, 5))
	*hold = false
	c.queue = nil
	for _, id := range []stdtypes.NodeID{"1", "2"} {
		c.apply(id, stdevents.NewMessageReceived(mc.Self, "0", &availability.RequestSigMsg{Epoch: 1, Buckets: buckets, Txs: batch}))
	}
	c.deliver()
	c.apply("0", requestProposal(c, 1, 6))
	takeOne[*iss.Proposal](c, "0")
	if got := take[*iss.ProposalPending](c, "0"); len(got) != 0 {
		t.Fatalf("ProposalPending %+v for a value answered at once", got)
	}
}

// A CancelProposal before the mempool answered takes the request back;
// a NewBatch that crossed it is handed back.
func TestCancelBeforeTheBatch(t *testing.T) {
	c := newCluster(t, four, nil)
	c.apply("0", requestProposal(c, 0, 0))
	rb := takeOne[*mempool.RequestBatch](c, "0")
	c.apply("0", iss.NewCancelProposal(mc.Self, 0))
	if cb := takeOne[*mempool.CancelBatch](c, "0"); cb.Ref != rb.Ref {
		t.Fatalf("CancelBatch %+v", cb)
	}
	c.apply("0", &mempool.NewBatch{Header: stdtypes.NewHeader(mc.Self), Ref: rb.Ref, Txs: txs("a", 0, 1)})
	takeOne[*mempool.ReturnTxs](c, "0")
	// The next slot is asked anew.
	c.apply("0", requestProposal(c, 0, 1))
	if rb2 := takeOne[*mempool.RequestBatch](c, "0"); rb2.Ref == rb.Ref {
		t.Fatal("Ref reused")
	}
}

// A restarted node gets its batches back from the WAL: it serves them,
// signs them again without persisting them again, and keeps its
// garbage-collection point.
func TestRestart(t *testing.T) {
	c := newCluster(t, four, func(p *availability.ModuleParams) { p.RetainedEpochs = 1 })
	p := c.propose("0", 3, 0, txs("a", 0, 2))
	c.apply("1", &iss.StableCheckpoint{Header: stdtypes.NewHeader(mc.Self), Epoch: 2})
	c.restart("1")
	n := c.nodes["1"]
	if len(n.wal) != 2 {
		t.Fatalf("WAL holds %d records, want the batch and the low", len(n.wal))
	}
	c.apply("1", &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "bf", Ref: 1, Cert: p.Value})
	takeOne[*availability.ProvideTxs](c, "1")
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "2", &availability.FetchMsg{Digest: availability.BatchDigest(3, "0", buckets, txs("a", 0, 2))}))
	if len(c.queue) != 1 {
		t.Fatal("a recovered batch is not served")
	}
	c.queue = nil
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "0", &availability.RequestSigMsg{Epoch: 3, Buckets: buckets, Txs: txs("a", 0, 2)}))
	if len(n.wal) != 2 || len(c.queue) != 1 || n.signedBeforePersisted {
		t.Fatalf("re-signing a recovered batch: %d records, %d sent", len(n.wal), len(c.queue))
	}
	// Epoch 1 was collected before the restart: the node does not take
	// batches of it.
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "0", &availability.RequestSigMsg{Epoch: 1, Buckets: buckets, Txs: txs("b", 0, 1)}))
	if s := n.m.Stats(); s.Stale != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A stable checkpoint drops the batches of the epochs it covers, less
// RetainedEpochs, truncates their WAL records, cancels their SIGs in
// flight, and the node serves fetches only for what it keeps.
func TestGarbageCollection(t *testing.T) {
	c := newCluster(t, four, func(p *availability.ModuleParams) { p.RetainedEpochs = 2 })
	for e := range stdtypes.EpochNr(4) {
		c.propose("0", e, stdtypes.SeqNr(e), txs("a", int(e), 1))
	}
	c.apply("1", &iss.StableCheckpoint{Header: stdtypes.NewHeader(mc.Self), Epoch: 1}) // Keeps all: 1+1-2 = 0.
	c.apply("1", &iss.StableCheckpoint{Header: stdtypes.NewHeader(mc.Self), Epoch: 2}) // Keeps 1 on.
	n := c.nodes["1"]
	if len(n.truncates) != 1 || n.truncates[0].RetentionIndex != 1 || n.truncates[0].Owner != mc.Self {
		t.Fatalf("truncates %+v", n.truncates)
	}
	cancels := take[*reliablenet.CancelPrefix](c, "1")
	if len(cancels) != 1 || cancels[0].Prefix != "0/" {
		t.Fatalf("cancels %+v", cancels)
	}
	for e, want := range []bool{false, true, true, true} {
		d := availability.BatchDigest(stdtypes.EpochNr(e), "0", buckets, txs("a", e, 1))
		c.apply("1", stdevents.NewMessageReceived(mc.Self, "2", &availability.FetchMsg{Digest: d}))
		if served := len(c.queue) == 1; served != want {
			t.Errorf("epoch %d: served %v", e, served)
		}
		c.queue = nil
	}
	if s := n.m.Stats(); s.Collected != 1 || s.NotStored != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Local misuse stops the node, with an error naming the event.
func TestLocalMisuse(t *testing.T) {
	c := newCluster(t, four, nil)
	c.apply("0", requestProposal(c, 0, 0))
	err := c.applyErr("0", requestProposal(c, 0, 1))
	if err == nil || !strings.Contains(err.Error(), "iss.RequestProposal") {
		t.Errorf("second open slot: %v", err)
	}
	err = c.applyErr("0", &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "bf", Cert: []byte{1, 2}})
	if !errors.Is(err, availability.ErrBadCertificate) {
		t.Errorf("invalid certificate: %v", err)
	}
	rp := requestProposal(c, 0, 0)
	rp.Voters = nil
	if err := c.applyErr("1", rp); err == nil {
		t.Error("RequestProposal without voters accepted")
	}
	if err := c.applyErr("1", &iss.Deliver{Header: stdtypes.NewHeader(mc.Self)}); err == nil {
		t.Error("unexpected event accepted")
	}
}

// A message of a type availability does not handle is dropped.
func TestUnknownMessage(t *testing.T) {
	c := newCluster(t, four, nil)
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "0", &reliablenet.AckMsg{}))
	if s := c.nodes["1"].m.Stats(); s.UnknownMessages != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// A node answers one node's FETCHes of one batch a bounded number of
// times: a Byzantine node cannot make it send a batch without end.
func TestFetchFloodIsBounded(t *testing.T) {
	c := newCluster(t, four, nil)
	batch := txs("a", 0, 1)
	c.propose("0", 0, 0, batch)
	d := availability.BatchDigest(0, "0", buckets, batch)
	for range 20 {
		c.apply("1", stdevents.NewMessageReceived(mc.Self, "3", &availability.FetchMsg{Digest: d}))
	}
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "2", &availability.FetchMsg{Digest: d}))
	if s := c.nodes["1"].m.Stats(); s.Served != 9 || s.Flood != 12 || len(c.queue) != 9 {
		t.Fatalf("stats %+v, %d sent", s, len(c.queue))
	}
}

// The leader makes its certificate once the signatures weigh more than a
// third of the total, and not before, with weighted voters.
func TestLeaderWaitsForAWeakQuorumOfWeight(t *testing.T) {
	// Total 6: a weak quorum weighs 3 or more. The leader (1) and node 1
	// (1) weigh 2; node 2 (1) makes 3.
	voters := membership.Voters{{ID: "0", Weight: 1}, {ID: "1", Weight: 1}, {ID: "2", Weight: 1}, {ID: "3", Weight: 3}}
	c := newCluster(t, voters, nil)
	c.filter = func(e envelope) stdtypes.Message {
		if e.from == "2" || e.from == "3" {
			return nil
		}
		return e.msg
	}
	batch := txs("a", 0, 1)
	if p := c.propose("0", 0, 0, batch); p != nil {
		t.Fatal("a certificate of weight 2 of 6")
	}
	ids := voters.IDs()
	d := availability.BatchDigest(0, "0", buckets, batch)
	c.apply("0", stdevents.NewMessageReceived(mc.Self, "2", &availability.SigMsg{Digest: d, Sig: sign(t, ids, 2, d)}))
	p := takeOne[*iss.Proposal](c, "0")
	cert, err := availability.DecodeCertificate(p.Value, 64)
	if err != nil || !slices.Equal(cert.Signers, []stdtypes.NodeID{"0", "1", "2"}) {
		t.Fatalf("certificate %+v, %v", cert, err)
	}
	if err := c.verify("3", 0, "0", buckets, voters, p.Value); err != "" {
		t.Fatal(err)
	}
}

// An orderer of a segment without buckets (more leaders than buckets)
// asks in vain: the mempool is not asked, and the cancellation ends it.
func TestSegmentWithoutBuckets(t *testing.T) {
	c := newCluster(t, four, nil)
	rp := requestProposal(c, 0, 0)
	rp.Buckets = nil
	c.apply("0", rp)
	c.apply("0", iss.NewCancelProposal(mc.Self, 0))
	rp = requestProposal(c, 0, 1)
	rp.Buckets = nil
	c.apply("0", rp)
	if n := len(c.nodes["0"].out); n != 0 {
		t.Fatalf("%d events out: %v", n, c.nodes["0"].out)
	}
}

func TestReliableNetNeeds(t *testing.T) {
	p := availability.DefaultModuleParams(four)
	msgs, bytes := p.ReliableNetNeeds()
	if msgs < p.MaxBatchesPerSender*4 || bytes < p.MaxOpenProposals*p.MaxBatchBytes {
		t.Fatalf("needs %d messages, %d bytes", msgs, bytes)
	}
}

// stable tells node id that the checkpoint of epoch e is stable, as the
// batch fetcher forwards it once it asked for every slot below it.
func stable(c *cluster, id stdtypes.NodeID, e stdtypes.EpochNr) {
	c.apply(id, &iss.StableCheckpoint{Header: stdtypes.NewHeader(mc.Self), Epoch: e})
}

// delivered tells node id that value was delivered: the batch fetcher
// asks for its transactions.
func delivered(c *cluster, id stdtypes.NodeID, value []byte) {
	c.apply(id, &availability.RequestTxs{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "batchfetcher", Ref: 1, Cert: value})
	takeOne[*availability.ProvideTxs](c, id)
}

// returned returns the transactions node id handed back to its mempool.
func returned(c *cluster, id stdtypes.NodeID) []mempool.TxID {
	var ids []mempool.TxID
	for _, r := range take[*mempool.ReturnTxs](c, id) {
		ids = append(ids, r.Txs...)
	}
	return ids
}

func idsOf(batch []mempool.Tx) []mempool.TxID {
	ids := make([]mempool.TxID, len(batch))
	for i, tx := range batch {
		ids[i] = tx.TxID
	}
	return ids
}

// A batch whose certificate went to the orderer, and whose slot ended ⊥
// after a view change (the orderer had it pre-prepared in view 0; the
// new view's leader proposed the slot empty, and the orderer never asks
// availability again), goes back to the mempool once its epoch is over
// (its checkpoint is stable) without the certificate delivered. One
// delivered does not go back; nor does one of an epoch not over yet,
// whose certificate a later view may still deliver.
func TestProposalLostInAViewChangeGoesBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		// next: the orderer asks for the next slot after the first
		// proposal (which closes it), and gets it delivered.
		next bool
		// crossed: the orderer left view 0 while the proposal was on its
		// way (iss.CancelProposal), and drops it.
		crossed bool
	}{{"last slot", false, false}, {"next slot asked", true, false}, {"answer crossed the view change", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, four, nil)
			lost := txs("a", 0, 2)
			if c.propose("0", 1, 4, lost) == nil {
				t.Fatal("no proposal")
			}
			if tc.crossed {
				c.apply("0", iss.NewCancelProposal(mc.Self, 4))
			}
			var kept []mempool.Tx
			if tc.next {
				kept = txs("a", 2, 1)
				p := c.propose("0", 1, 5, kept)
				if p == nil {
					t.Fatal("no proposal of the next slot")
				}
				delivered(c, "0", p.Value)
			}
			// Slot 4 is ⊥: no RequestTxs names its certificate. The
			// checkpoint of epoch 0 does not end epoch 1.
			stable(c, "0", 0)
			if got := returned(c, "0"); len(got) != 0 {
				t.Fatalf("returned %v before epoch 1 is over", got)
			}
			stable(c, "0", 1)
			if got := returned(c, "0"); !slices.Equal(got, idsOf(lost)) {
				t.Fatalf("returned %v, want %v", got, idsOf(lost))
			}
			if s := c.nodes["0"].m.Stats(); s.Lost != 1 && !tc.crossed {
				t.Errorf("stats %+v; want 1 lost", s)
			}
			// Once only.
			stable(c, "0", 2)
			if got := returned(c, "0"); len(got) != 0 {
				t.Fatalf("returned %v again", got)
			}
		})
	}
}

// A delivered batch never goes back to the mempool, however its slot was
// reached (in view 0, or re-proposed after a view change), and even if
// its certificate is delivered twice.
func TestDeliveredProposalStaysOut(t *testing.T) {
	c := newCluster(t, four, nil)
	p := c.propose("0", 0, 0, txs("a", 0, 2))
	delivered(c, "0", p.Value)
	delivered(c, "0", p.Value)
	// One cancelled after it was answered (the answer crossed the
	// orderer's view change or timeout), kept, proposed in the next slot
	// and delivered there.
	q := c.propose("0", 0, 1, txs("b", 0, 1))
	c.apply("0", iss.NewCancelProposal(mc.Self, 1))
	c.apply("0", requestProposal(c, 0, 2))
	if again := takeOne[*iss.Proposal](c, "0"); again.SeqNr != 2 || string(again.Value) != string(q.Value) {
		t.Fatalf("proposal %+v", again)
	}
	delivered(c, "0", q.Value)
	stable(c, "0", 0)
	stable(c, "0", 3)
	if got := returned(c, "0"); len(got) != 0 {
		t.Fatalf("returned %v of a delivered batch", got)
	}
}

// A Byzantine leader that gets a certificate and never proposes it costs
// the signers its quota's room until a stable checkpoint collects the
// batch (its WAL record and the SIG in flight with it); the certificate
// orders nothing in a later epoch; and nothing goes back to a mempool:
// only a leader's own batches do.
func TestCertifiedButNeverProposed(t *testing.T) {
	c := newCluster(t, four, func(p *availability.ModuleParams) { p.MaxBatchesPerSender = 1; p.RetainedEpochs = 1 })
	p := c.propose("3", 1, 7, txs("a", 0, 2))
	if p == nil {
		t.Fatal("no certificate")
	}
	n := c.nodes["1"]
	flood := &availability.RequestSigMsg{Epoch: 1, Buckets: buckets, Txs: txs("a", 5, 1)}
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "3", flood))
	if s := n.m.Stats(); s.Signed != 1 || s.Flood != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Proposed in a later epoch: rejected at every validator.
	if err := c.verify("1", 2, "3", buckets, four, p.Value); err == "" {
		t.Fatal("a certificate of epoch 1 accepted in epoch 2")
	}
	stable(c, "1", 1) // Keeps epoch 1 (RetainedEpochs).
	stable(c, "1", 2)
	if cancels := take[*reliablenet.CancelPrefix](c, "1"); len(cancels) != 1 || cancels[0].Prefix != "1/" {
		t.Fatalf("cancels %+v", cancels)
	}
	if got := returned(c, "1"); len(got) != 0 {
		t.Fatalf("node 1 returned %v of another leader's batch", got)
	}
	c.apply("1", stdevents.NewMessageReceived(mc.Self, "3", &availability.RequestSigMsg{Epoch: 2, Buckets: buckets, Txs: txs("a", 6, 1)}))
	if s := n.m.Stats(); s.Signed != 2 || s.Flood != 1 || s.Collected != 1 {
		t.Fatalf("after the checkpoint: stats %+v", s)
	}
	// Node 3's own module, which handed the certificate to its orderer,
	// hands the batch back to its mempool once epoch 1 ends without it.
	stable(c, "3", 1)
	if got := returned(c, "3"); !slices.Equal(got, idsOf(txs("a", 0, 2))) {
		t.Fatalf("the leader returned %v", got)
	}
}
