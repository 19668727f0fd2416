package isstest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

const checkSeed = 42

// history feeds a Checker crafted reports, at times it sets, with the
// chain links each node's log has.
type history struct {
	t      *testing.T
	c      *isstest.Checker
	now    time.Duration
	healed time.Duration
	chains map[stdtypes.NodeID]isstest.Digest
	incs   map[stdtypes.NodeID]int
}

func newHistory(t *testing.T, opts isstest.CheckerOptions) *history {
	h := &history{t: t, chains: make(map[stdtypes.NodeID]isstest.Digest), incs: make(map[stdtypes.NodeID]int)}
	opts.Seed = checkSeed
	opts.Now = func() time.Duration { return h.now }
	opts.Healed = func() time.Duration { return h.healed }
	h.c = isstest.NewChecker(opts)
	return h
}

func req(client string, seq uint64) isstest.Request {
	return isstest.Request{RequestID: isstest.RequestID{Client: client, Seq: seq}, Payload: []byte(client + "-payload")}
}

func (h *history) inc(node stdtypes.NodeID) int { return max(h.incs[node], 1) }

// restart starts node's next incarnation, from the log's start.
func (h *history) restart(node stdtypes.NodeID) {
	h.incs[node] = h.inc(node) + 1
	h.chains[node] = isstest.Digest{}
}

func (h *history) submit(node stdtypes.NodeID, reqs ...isstest.Request) {
	for _, r := range reqs {
		h.c.Report(isstest.Report{Kind: isstest.Submitted, Node: node, Incarnation: h.inc(node), Request: r})
	}
}

// deliver reports that node delivered batch (⊥ if nil) in slot sn and
// executed it all.
func (h *history) deliver(node stdtypes.NodeID, sn stdtypes.SeqNr, batch ...isstest.Request) {
	var value []byte
	if batch != nil {
		value = isstest.EncodeBatch(batch)
	}
	h.deliverValue(node, sn, value, batch)
}

func (h *history) deliverValue(node stdtypes.NodeID, sn stdtypes.SeqNr, value []byte, executed []isstest.Request) {
	aborted := value == nil
	h.chains[node] = isstest.ChainNext(h.chains[node], sn, aborted, value)
	h.c.Report(isstest.Report{Kind: isstest.Delivered, Node: node, Incarnation: h.inc(node), SeqNr: sn,
		Aborted: aborted, Value: value, Executed: executed, Chain: h.chains[node]})
}

// restore reports that node restored the state before slot sn that node
// from has.
func (h *history) restore(node stdtypes.NodeID, sn stdtypes.SeqNr, chain isstest.Digest) {
	h.chains[node] = chain
	h.c.Report(isstest.Report{Kind: isstest.Restored, Node: node, Incarnation: h.inc(node), SeqNr: sn, Chain: chain})
}

// ok fails the test if the checker found a violation.
func (h *history) ok() {
	h.t.Helper()
	if err := h.c.Err(); err != nil {
		h.t.Fatal(err)
	}
}

// violated fails the test unless the checker found a violation whose
// message holds every one of want.
func (h *history) violated(want ...string) {
	h.t.Helper()
	err := h.c.Err()
	if err == nil {
		h.t.Fatalf("no violation; want one with %q", want)
	}
	checkErr(h.t, err, want...)
	// As a property, it stops the run.
	if h.c.Observe(&testsim.Observation{}) == nil {
		h.t.Error("Observe returns no error after a violation")
	}
}

func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if !errors.Is(err, isstest.ErrViolation) {
		t.Errorf("error %v does not wrap ErrViolation", err)
	}
	for _, w := range append(want, "seed 42") {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
}

var abc = []stdtypes.NodeID{"a", "b", "c"}

// good is a history of three nodes that all deliver the same log.
func good(t *testing.T, opts isstest.CheckerOptions) (*history, []isstest.Request) {
	h := newHistory(t, opts)
	reqs := []isstest.Request{req("x", 0), req("x", 1), req("y", 0)}
	for _, n := range abc {
		h.submit(n, reqs...)
	}
	h.now = time.Second
	for _, n := range abc {
		h.deliver(n, 0, reqs[:2]...)
		h.deliver(n, 1)
		h.deliver(n, 2, reqs[2])
		h.now += time.Millisecond
	}
	h.ok()
	return h, reqs
}

func up(nodes ...stdtypes.NodeID) []testsim.NodeStatus {
	out := make([]testsim.NodeStatus, len(nodes))
	for i, id := range nodes {
		out[i] = testsim.NodeStatus{ID: id, Up: true, Incarnation: 1}
	}
	return out
}

func TestCheckerGoodHistory(t *testing.T) {
	h, reqs := good(t, isstest.CheckerOptions{})
	if err := h.c.CheckLiveness(up(abc...)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		node              stdtypes.NodeID
		from, until, want time.Duration
	}{
		{"a", 0, 2 * time.Second, time.Second},
		{"a", time.Second, 3 * time.Second / 2, time.Second / 2},
		{"c", 0, time.Second, time.Second},
		{"c", 0, 2 * time.Second, time.Second + 2*time.Millisecond},
		{"x", time.Second, 2 * time.Second, time.Second},
		{"a", time.Second, time.Second, 0},
	} {
		if got := h.c.LongestStall(c.node, c.from, c.until); got != c.want {
			t.Errorf("node %s stalled for %v in [%v, %v], want %v", c.node, got, c.from, c.until, c.want)
		}
	}
	if h.c.Submitted() != 3 || h.c.Covered("a") != 3 || h.c.Slots("c") != 3 {
		t.Errorf("submitted %d, covered %d, slots %d", h.c.Submitted(), h.c.Covered("a"), h.c.Slots("c"))
	}
	// Of four equal voters, a, b and c make a strong quorum at c's
	// delivery; with a heavy a, a and b do at b's; d alone never does.
	qt := h.c.QuorumTimes(membership.EqualVoters("a", "b", "c", "d"))
	if qt[reqs[0].RequestID] != time.Second+2*time.Millisecond || len(qt) != 3 {
		t.Errorf("quorum times %v", qt)
	}
	qt = h.c.QuorumTimes(membership.Voters{{ID: "a", Weight: 4}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}})
	if qt[reqs[0].RequestID] != time.Second+time.Millisecond {
		t.Errorf("weighted quorum times %v", qt)
	}
	if qt := h.c.QuorumTimes(membership.Voters{{ID: "a", Weight: 1}, {ID: "d", Weight: 5}}); len(qt) != 0 {
		t.Errorf("quorum times %v without a quorum", qt)
	}
}

func TestCheckerAgreementValue(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	h.submit("a", req("x", 0), req("y", 0))
	h.deliver("a", 0, req("x", 0))
	h.deliver("b", 0, req("y", 0))
	h.violated("agreement", "slot 0", "node a delivered batch [x/0]", "node b delivered batch [y/0]")
}

func TestCheckerAgreementAborted(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	h.submit("a", req("x", 0))
	h.deliver("a", 0, req("x", 0))
	h.deliver("b", 0)
	h.violated("agreement", "slot 0", "node b delivered ⊥")
}

func TestCheckerAgreementChain(t *testing.T) {
	h, _ := good(t, isstest.CheckerOptions{})
	// d claims the same slot 3, after a log that differs.
	h.chains["d"] = isstest.Digest{1}
	h.restore("d", 3, isstest.Digest{1})
	h.violated("agreement", "node d restored a state", "slot 2")
	h, _ = good(t, isstest.CheckerOptions{})
	before := h.chains["a"]
	h.deliver("a", 3)
	h.restore("d", 3, before)
	h.deliver("d", 3) // The same chain: fine.
	h.ok()
	h.chains["b"] = isstest.Digest{2}
	h.deliver("b", 3)
	h.violated("agreement", "slot 3", "node a and node b delivered ⊥", "logs up to it differ")
}

func TestCheckerAgreementExecuted(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	r := []isstest.Request{req("x", 0), req("x", 1)}
	h.submit("a", r...)
	value := isstest.EncodeBatch(r)
	h.deliverValue("a", 0, value, r)
	h.deliverValue("b", 0, value, r[1:])
	h.violated("agreement", "slot 0", "node a executed [x/0 x/1]", "node b executed [x/1]", "states differ")
}

func TestCheckerTotalOrder(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	h.deliver("a", 0)
	h.deliver("a", 2)
	h.violated("total order", "node a (incarnation 1) delivered slot 2, its next slot is 1: a gap")

	h = newHistory(t, isstest.CheckerOptions{})
	h.deliver("a", 0)
	h.deliver("a", 1)
	// A restarted node delivers from the start again: fine.
	h.restart("a")
	h.deliver("a", 0)
	h.ok()
	h.deliver("a", 0)
	h.violated("total order", "node a (incarnation 2) delivered slot 0, its next slot is 1: a slot delivered twice")

	h = newHistory(t, isstest.CheckerOptions{})
	h.deliver("a", 0)
	h.deliver("a", 1)
	h.restore("b", 2, h.chains["a"])
	h.deliver("b", 2)
	h.ok()
	h.restore("b", 1, h.chains["a"])
	h.violated("total order", "node b (incarnation 1) restored a state of slot 1 after delivering slot 2")
}

func TestCheckerNoDuplication(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	r := req("x", 0)
	h.submit("a", r)
	h.deliver("a", 0, r)
	// Again after a restart, in the same slot: fine.
	h.restart("a")
	h.deliver("a", 0, r)
	h.deliver("a", 1)
	h.ok()
	h.deliver("a", 2, r)
	h.violated("no duplication", "node a executed request x/0 in slot 0 and again in slot 2")
}

func TestCheckerValidity(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	h.deliver("a", 0, req("x", 0))
	h.violated("validity", "node a executed request x/0 in slot 0, which no client submitted")

	h = newHistory(t, isstest.CheckerOptions{})
	h.submit("b", req("x", 0))
	forged := req("x", 0)
	forged.Payload = []byte("forged")
	h.deliver("a", 0, forged)
	h.violated("validity", `with payload "forged", submitted with "x-payload"`)

	h = newHistory(t, isstest.CheckerOptions{})
	h.deliverValue("a", 0, []byte("junk"), nil)
	h.ok() // The App says it is invalid, below.
	h.c.Report(isstest.Report{Kind: isstest.Delivered, Node: "b", Incarnation: 1, SeqNr: 0, Value: []byte("junk"), Invalid: "invalid batch: version 106"})
	h.violated("validity", "node b delivered in slot 0", "no valid batch: invalid batch: version 106")

	// A faulty client's requests need no submission; a faulty node's
	// reports are not checked.
	h = newHistory(t, isstest.CheckerOptions{FaultyClients: []string{"evil"}, Faulty: []stdtypes.NodeID{"z"}})
	h.deliver("a", 0, req("evil", 0))
	h.deliver("z", 0, req("x", 0))
	h.deliver("z", 7)
	h.ok()

	// A request submitted to a faulty node only was submitted all the
	// same; but that node's taking it requires nothing of the others.
	h = newHistory(t, isstest.CheckerOptions{Faulty: []stdtypes.NodeID{"z"}, LivenessBound: time.Second})
	h.submit("z", req("x", 0), req("x", 1))
	h.deliver("a", 0, req("x", 0))
	h.ok()
	h.now = time.Hour
	checkErr(t, h.c.CheckLiveness(up("a", "b", "z")), "1 executions missing", "node b did not execute request x/0")
}

func TestCheckerLiveness(t *testing.T) {
	opts := isstest.CheckerOptions{LivenessBound: 2 * time.Second}
	h, _ := good(t, opts)
	late := req("z", 0)
	h.now = 3 * time.Second
	h.submit("a", late)
	h.deliver("a", 3, late)
	h.deliver("b", 3, late)
	// c has not executed z/0 yet: fine before the deadline (5s).
	h.now = 5*time.Second - 1
	if err := h.c.CheckLiveness(up(abc...)); err != nil {
		t.Fatal(err)
	}
	h.now = 5 * time.Second
	err := h.c.CheckLiveness(up(abc...))
	checkErr(t, err, "liveness", "1 executions missing or late", "node c did not execute request z/0, submitted at 3s, by 5s")
	// Down, c is not required to.
	if err := h.c.CheckLiveness(append(up("a", "b"), testsim.NodeStatus{ID: "c"})); err != nil {
		t.Fatal(err)
	}
	// The deadline moves with the last fault.
	h.healed = 4 * time.Second
	if err := h.c.CheckLiveness(up(abc...)); err != nil {
		t.Fatal(err)
	}
	// Too late is a violation too.
	h.now = 6*time.Second + 1
	h.deliver("c", 3, late)
	checkErr(t, h.c.CheckLiveness(up(abc...)), "node c executed request z/0, submitted at 3s, at 6.000000001s, after 6s")
}

// TestCheckerLivenessSubmissions: a request only submitted is required
// once a node that took it is still up in that incarnation; a restored
// state covers the requests executed before it, even those the checker
// learns of later.
func TestCheckerLivenessSubmissions(t *testing.T) {
	opts := isstest.CheckerOptions{LivenessBound: time.Second}
	h := newHistory(t, opts)
	lost, kept := req("x", 0), req("y", 0)
	h.submit("a", lost)
	h.c.Report(isstest.Report{Kind: isstest.Submitted, Node: "b", Incarnation: 1, Request: kept, Rejected: "pending set full"})
	h.now = 2 * time.Second
	// a restarted: x/0 went with it; y/0 was refused.
	status := []testsim.NodeStatus{{ID: "a", Up: true, Incarnation: 2}, {ID: "b", Up: true, Incarnation: 1}}
	if err := h.c.CheckLiveness(status); err != nil {
		t.Fatal(err)
	}
	status[0].Incarnation = 1
	checkErr(t, h.c.CheckLiveness(status), "node a did not execute request x/0", "node b did not execute request x/0", "2 executions")

	// b restores a state past the slot that executed x/0 before a
	// reports that slot.
	h = newHistory(t, opts)
	h.submit("a", lost)
	var chain isstest.Digest
	chain = isstest.ChainNext(chain, 0, false, isstest.EncodeBatch([]isstest.Request{lost}))
	h.restore("b", 1, chain)
	h.now = time.Second / 2
	h.deliver("a", 0, lost)
	h.now = 2 * time.Second
	if err := h.c.CheckLiveness(up("a", "b")); err != nil {
		t.Fatal(err)
	}
	if h.c.Covered("b") != 1 {
		t.Errorf("b covers %d requests, want 1", h.c.Covered("b"))
	}
}

// TestCheckerWithApps: the checker over the reports of real Apps, fed
// different values for a slot, finds the disagreement; fed the same, none.
func TestCheckerWithApps(t *testing.T) {
	h := newHistory(t, isstest.CheckerOptions{})
	apps := make([]*testApp, 3)
	for i := range apps {
		apps[i] = newTestApp(t, func(p *isstest.Params) {
			p.Node = abc[i]
			p.Observer = h.c.Report
		})
	}
	r := inBucket("c", 0, 0, 3)
	for _, a := range apps {
		a.apply(submitAll(r)...)
	}
	v0 := isstest.EncodeBatch(r[:2])
	for _, a := range apps {
		a.apply(deliver(0, v0), deliver(1, nil))
	}
	h.ok()
	apps[0].apply(deliver(2, isstest.EncodeBatch(r[2:])))
	apps[1].apply(deliver(2, isstest.EncodeBatch(r[1:])))
	h.violated("agreement", "slot 2", "node a delivered batch [c/", "node b delivered batch [c/")
}

// TestCheckerLivenessRestart: a restarted node must have every request
// again, by delivering the log again or restoring a state; until it does,
// liveness fails once the deadline after its restart has passed.
func TestCheckerLivenessRestart(t *testing.T) {
	h, _ := good(t, isstest.CheckerOptions{LivenessBound: time.Second})
	chain := h.chains["a"]
	h.restart("c")
	h.healed = 5 * time.Second // c's restart
	h.now = 6 * time.Second
	status := append(up("a", "b"), testsim.NodeStatus{ID: "c", Up: true, Incarnation: 2})
	// Before its new incarnation reports anything, it has nothing.
	checkErr(t, h.c.CheckLiveness(status), "3 executions missing", "node c did not execute request x/0")
	// Its first report is one of its new incarnation.
	h.submit("c", req("x", 0))
	if h.c.Covered("c") != 0 {
		t.Fatalf("restarted c covers %d requests", h.c.Covered("c"))
	}
	checkErr(t, h.c.CheckLiveness(status), "3 executions missing", "node c did not execute request x/0, submitted at 0s, by 6s")
	h.restore("c", 3, chain)
	if err := h.c.CheckLiveness(status); err != nil {
		t.Fatal(err)
	}
	if h.c.Covered("c") != 3 {
		t.Errorf("c covers %d requests after the restore, want 3", h.c.Covered("c"))
	}
}
