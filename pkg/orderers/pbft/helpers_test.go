package pbft_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The unit tests run the orderer of segment 0 of epoch 0, led by node 0,
// with slots 0, 4 and 8, on one of 4 nodes of weight 1 (unless a test
// says otherwise), and look at what it emits for what it is given.

var (
	mc  = pbft.DefaultModuleConfig()
	ord = iss.OrdererID(mc.Self, 0, 0)
	sns = []stdtypes.SeqNr{0, 4, 8}
)

// testSegment returns the segment of the unit tests with voters.
func testSegment(voters membership.Voters) iss.Segment {
	return iss.Segment{Epoch: 0, Index: 0, Leader: "0", Voters: voters, SeqNrs: slices.Clone(sns), Buckets: []int{1, 3}}
}

// testParams are the defaults with small values.
func testParams() pbft.ModuleParams {
	p := pbft.DefaultModuleParams()
	p.MaxValueBytes = 1 << 10
	p.MsgBufferCount = 8
	return p
}

// harness is an orderer and what it emitted.
type harness struct {
	t    *testing.T
	self stdtypes.NodeID
	o    *pbft.Orderer
	seg  iss.Segment
}

// newHarness returns the Init'ed orderer of node self among n equal
// voters.
func newHarness(t *testing.T, self stdtypes.NodeID, n int) (*harness, []stdtypes.Event) {
	t.Helper()
	return newHarnessWith(t, self, testSegment(membership.EqualVoters(stdtypes.NumberedNodeIDs(n)...)))
}

func newHarnessWith(t *testing.T, self stdtypes.NodeID, seg iss.Segment) (*harness, []stdtypes.Event) {
	t.Helper()
	omc := mc
	omc.Self = ord
	o, err := pbft.NewOrderer(self, omc, testParams(), seg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, self: self, o: o, seg: seg}
	return h, h.apply(stdevents.NewInit(ord))
}

// apply hands evs to the orderer and returns its output, with the
// follow-ups of each event after it (flattened).
func (h *harness) apply(evs ...stdtypes.Event) []stdtypes.Event {
	h.t.Helper()
	out, err := h.o.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		h.t.Fatal(err)
	}
	return flatten(out.Slice())
}

// applyErr hands evs to the orderer and returns its error.
func (h *harness) applyErr(evs ...stdtypes.Event) error {
	_, err := h.o.ApplyEvents(stdtypes.ListOf(evs...))
	return err
}

func flatten(evs []stdtypes.Event) []stdtypes.Event {
	var all []stdtypes.Event
	for _, ev := range evs {
		all = append(all, ev)
		all = append(all, flatten(ev.FollowUps())...)
	}
	return all
}

// received is a message from a node, to the orderer.
func received(from stdtypes.NodeID, msg stdtypes.Message) stdtypes.Event {
	return stdevents.NewMessageReceived(ord, from, msg)
}

// of returns the events of type E among evs.
func of[E stdtypes.Event](evs []stdtypes.Event) []E {
	var got []E
	for _, ev := range evs {
		if e, ok := ev.(E); ok {
			got = append(got, e)
		}
	}
	return got
}

// sent returns the messages of type M that evs send through the
// reliablenet module, and their destinations.
func sent[M stdtypes.Message](evs []stdtypes.Event) ([]M, [][]stdtypes.NodeID) {
	var msgs []M
	var to [][]stdtypes.NodeID
	for _, s := range of[*reliablenet.SendMessage](evs) {
		if m, ok := s.Msg.(M); ok {
			msgs = append(msgs, m)
			to = append(to, s.Destinations)
		}
	}
	return msgs, to
}

// records returns the records of type R that evs append to the WAL.
func records[R stdtypes.Event](t *testing.T, evs []stdtypes.Event) []R {
	t.Helper()
	var got []R
	for _, a := range of[*wal.Append](evs) {
		rec, ok := a.Event.(*iss.OrdererRecord)
		if !ok || rec.Dest() != mc.ISS || a.Dest() != mc.WAL {
			t.Fatalf("Append of %T to %s; want an iss.OrdererRecord to %s", a.Event, a.Dest(), mc.ISS)
		}
		if r, ok := rec.Event.(R); ok {
			got = append(got, r)
		}
	}
	return got
}

// applyTop hands evs to the orderer and returns its output as it is,
// follow-ups inside the events they follow.
func (h *harness) applyTop(evs ...stdtypes.Event) []stdtypes.Event {
	h.t.Helper()
	out, err := h.o.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		h.t.Fatal(err)
	}
	return out.Slice()
}

// digest is the digest of value for slot sn.
func digest(sn stdtypes.SeqNr, value []byte) []byte { return pbft.ValueDigest(0, 0, sn, value, false) }

// abortDigest is the digest of ⊥ for slot sn.
func abortDigest(sn stdtypes.SeqNr) []byte { return pbft.ValueDigest(0, 0, sn, nil, true) }

// nodeCryptos returns the crypto of nodes 0 to n-1.
func nodeCryptos(t testing.TB, n int) []*crypto.NodeCrypto {
	t.Helper()
	cs, err := cryptos(n)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// cryptos returns the crypto of nodes 0 to n-1, with keys from a fixed
// seed.
func cryptos(n int) ([]*crypto.NodeCrypto, error) {
	keys, pubs, err := crypto.NodeKeysFromSeed(crypto.Ed25519, []byte("pbft tests"), stdtypes.NumberedNodeIDs(n))
	if err != nil {
		return nil, err
	}
	cs := make([]*crypto.NodeCrypto, n)
	for i := range cs {
		c, err := crypto.New(keys[i], pubs)
		if err != nil {
			return nil, err
		}
		cs[i] = c
	}
	return cs, nil
}

// signedVC returns node i's signed VIEWCHANGE for view.
func signedVC(t testing.TB, cs []*crypto.NodeCrypto, i int, view uint64, prepared, preprepared []pbft.Cert, values [][]byte) *pbft.ViewChangeMsg {
	t.Helper()
	sig, err := cs[i].Sign(pbft.ViewChangeDigest(0, 0, view, prepared, preprepared))
	if err != nil {
		t.Fatal(err)
	}
	return &pbft.ViewChangeMsg{View: view, Prepared: prepared, PrePrepared: preprepared, Values: values, Signature: sig}
}

// answerCrypto answers the crypto requests among evs with cs[self]'s keys.
func answerCrypto(t testing.TB, c *crypto.NodeCrypto, evs []stdtypes.Event) []stdtypes.Event {
	t.Helper()
	var answers []stdtypes.Event
	for _, ev := range evs {
		switch r := ev.(type) {
		case *crypto.SignRequest:
			var sigs [][]byte
			for _, m := range r.Msgs {
				sig, err := c.Sign(m)
				if err != nil {
					t.Fatal(err)
				}
				sigs = append(sigs, sig)
			}
			res := crypto.NewSignResult(r.Origin, sigs)
			answers = append(answers, res)
		case *crypto.VerifyRequest:
			valid := make([]bool, len(r.Items))
			c.VerifyMany(r.Items, valid)
			answers = append(answers, crypto.NewVerifyResult(r.Origin, valid))
		}
	}
	return answers
}
