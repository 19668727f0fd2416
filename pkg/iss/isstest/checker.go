package isstest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// ErrViolation is wrapped by every property violation a Checker reports.
var ErrViolation = errors.New("property violated")

// DefaultLivenessBound is the default CheckerOptions.LivenessBound: with
// ISS's default timeouts a crashed leader's segment changes view within
// about 0.3 s, and a node that fell behind catches up within an epoch or
// two more.
const DefaultLivenessBound = 5 * time.Second

// CheckerOptions configure a Checker.
type CheckerOptions struct {
	// Seed is the run's seed, named in every failure message (when Now is
	// set: a Checker without a clock knows no seed).
	Seed uint64
	// Now is the clock that times the reports: the simulation's
	// (testsim.Sim.Now), or a real deployment's (deploytest's Now). Nil
	// means the time of the last event the Checker observed as a
	// testsim.Property (where it has no access to the simulation, as in a
	// stored scenario): liveness then takes every execution missing when
	// it is checked for a violation, whatever its deadline.
	Now func() time.Duration
	// Healed, if set, returns the time the last fault heals
	// (testsim.Sim.FaultsHealed): liveness is required from then on.
	Healed func() time.Duration
	// LivenessBound is how long after its submission, or after the last
	// fault healed if that is later, a request may take to be executed at
	// every correct node; 0 means DefaultLivenessBound.
	LivenessBound time.Duration
	// Faulty are the Byzantine nodes: what their Apps report is ignored.
	Faulty []stdtypes.NodeID
	// FaultyClients are clients that are not correct: their requests need
	// not have been submitted (a Byzantine leader may make them up) nor be
	// executed.
	FaultyClients []string
}

// Checker checks ISS's properties over what the Apps of all nodes report
// (give Checker.Report to every App as Params.Observer):
//
//   - agreement: no two correct nodes deliver different values, or one ⊥
//     and the other a value, for a slot; nor reach different states (their
//     chain links, and the requests they execute in it, are the same);
//   - total order: each correct node delivers slot after slot, from 0 or
//     from the next slot of a state it restored, with no gap and no slot
//     twice in one incarnation (a restarted node delivers again from
//     the state it restarts from);
//   - no duplication: a correct node executes a request in one slot only,
//     across all its incarnations;
//   - validity: every value a correct node delivers is a valid batch, and
//     every request of a correct client it executes was submitted, with
//     that payload;
//   - liveness (CheckLiveness): every request of a correct client
//     submitted to a correct node that is still up (in the incarnation
//     that took it), or executed by some correct node, is executed at
//     every correct node that is up, within LivenessBound of its
//     submission or of the last fault's healing, whichever is later. A
//     node that restored a state past the slot that executed a request
//     has it too; a node that restarted must have it again in its
//     current incarnation.
//
// A safety violation is kept (Err) and returned by Observe as a
// testsim.Property, which stops a simulation at the next event: add the
// Checker to a deployment with Check. Its methods are safe for concurrent
// use, so one Checker serves the nodes of a real deployment too.
type Checker struct {
	mu     sync.Mutex
	opts   CheckerOptions
	faulty map[stdtypes.NodeID]bool
	// faultyClients holds CheckerOptions.FaultyClients.
	faultyClients map[string]bool
	// slots holds what the first correct node to deliver each slot
	// delivered.
	slots map[stdtypes.SeqNr]*slotRecord
	// submitted holds the first submission of each request.
	submitted map[RequestID]*submission
	// order lists the submitted requests in order, for reports.
	order []RequestID
	// execSlot is the slot where correct nodes execute each request.
	execSlot map[RequestID]stdtypes.SeqNr
	nodes    map[stdtypes.NodeID]*nodeRecord
	err      error
	// observed is the time of the last event observed, the clock when
	// CheckerOptions.Now is nil.
	observed time.Duration
}

// slotRecord is a slot as the first correct node delivered it.
type slotRecord struct {
	node     stdtypes.NodeID
	aborted  bool
	value    []byte
	digest   Digest
	chain    Digest
	executed []RequestID
}

// submission is a request's first submission, and the nodes (in the
// incarnations) that took it.
type submission struct {
	payload []byte
	at      time.Duration
	takenBy []nodeInc
}

type nodeInc struct {
	node stdtypes.NodeID
	inc  int
}

// nodeRecord is what the Checker knows of one correct node.
type nodeRecord struct {
	incarnation int
	// epoch is the epoch of the last slot it delivered or state it
	// restored.
	epoch stdtypes.EpochNr
	// next is the slot the node delivers next in its incarnation.
	next stdtypes.SeqNr
	// coveredAt is when the node's current incarnation first had each
	// request executed, by executing it or restoring a state that holds
	// it: a restarted node must get its requests back, or fail liveness.
	coveredAt map[RequestID]time.Duration
	// history is what the node did with each request in any of its
	// incarnations.
	history map[RequestID]requestHistory
	// restores are the states the current incarnation restored: their
	// next slots and when.
	restores []restoreRecord
	// restoredTo is the highest next slot of a state it restored.
	restoredTo stdtypes.SeqNr
	// deliveredAt are the times of its deliveries, in all its
	// incarnations, in order.
	deliveredAt []time.Duration
}

// requestHistory is what a node did with a request, in any of its
// incarnations.
type requestHistory struct {
	// first is when it first had it (executed, or restored a state that
	// holds it): the latency figures count from it.
	first time.Duration
	// slot is the slot it executed it in, if executed.
	slot     stdtypes.SeqNr
	executed bool
}

type restoreRecord struct {
	next stdtypes.SeqNr
	at   time.Duration
}

// NewChecker returns a Checker with the given options.
func NewChecker(opts CheckerOptions) *Checker {
	if opts.LivenessBound == 0 {
		opts.LivenessBound = DefaultLivenessBound
	}
	c := &Checker{
		opts:          opts,
		faulty:        make(map[stdtypes.NodeID]bool),
		faultyClients: make(map[string]bool),
		slots:         make(map[stdtypes.SeqNr]*slotRecord),
		submitted:     make(map[RequestID]*submission),
		execSlot:      make(map[RequestID]stdtypes.SeqNr),
		nodes:         make(map[stdtypes.NodeID]*nodeRecord),
	}
	for _, id := range opts.Faulty {
		c.faulty[id] = true
	}
	for _, id := range opts.FaultyClients {
		c.faultyClients[id] = true
	}
	return c
}

// Name names the Checker as a testsim.Property.
func (c *Checker) Name() string { return "iss" }

// Observe, as a testsim.Property, returns the first violation found so
// far: the simulation stops at the event after the report that violated a
// property. It also notes the event's time (see CheckerOptions.Now).
func (c *Checker) Observe(o *testsim.Observation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observed = o.Time
	return c.err
}

// context returns what a failure message says of the run: the seed, and
// more, in parentheses. A Checker without a clock knows no seed: the
// runner of its scenario names it.
func (c *Checker) context(more string) string {
	switch {
	case c.opts.Now != nil && more != "":
		return fmt.Sprintf(" (seed %d, %s)", c.opts.Seed, more)
	case c.opts.Now != nil:
		return fmt.Sprintf(" (seed %d)", c.opts.Seed)
	case more != "":
		return " (" + more + ")"
	}
	return ""
}

// now returns the time on the Checker's clock; c.mu is held.
func (c *Checker) now() time.Duration {
	if c.opts.Now == nil {
		return c.observed
	}
	return c.opts.Now()
}

// Err returns the first violation found, or nil.
func (c *Checker) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// violation records the first violation.
func (c *Checker) violation(property, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: %s at %v%s: %s", ErrViolation, property, c.now(), c.context(""), fmt.Sprintf(format, args...))
	}
}

// Report takes a report of an App: give it to every App as
// Params.Observer.
func (c *Checker) Report(r Report) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	now := c.now()
	if c.faulty[r.Node] {
		// A client's submission is the client's doing, whatever the
		// node: what a faulty node executes is not checked, but what it
		// got submitted was submitted.
		if r.Kind == Submitted {
			c.submit(r, now)
		}
		return
	}
	n := c.node(r.Node, r.Incarnation)
	switch r.Kind {
	case Submitted:
		c.submit(r, now)
	case Delivered:
		n.epoch = r.Epoch
		c.deliver(n, r, now)
	case Restored:
		n.epoch = r.Epoch + 1
		c.restore(n, r, now)
	default:
		c.violation("report", "node %s reported %v", r.Node, r.Kind)
	}
}

// node returns the record of node id, starting its incarnation inc if it
// is a new one.
func (c *Checker) node(id stdtypes.NodeID, inc int) *nodeRecord {
	n := c.nodes[id]
	if n == nil {
		n = &nodeRecord{history: make(map[RequestID]requestHistory)}
		c.nodes[id] = n
	}
	if inc != n.incarnation {
		n.incarnation = inc
		n.next = 0
		n.coveredAt = make(map[RequestID]time.Duration)
		n.restores, n.restoredTo = nil, 0
	}
	return n
}

func (c *Checker) submit(r Report, now time.Duration) {
	id := r.Request.RequestID
	s := c.submitted[id]
	if s == nil {
		s = &submission{payload: r.Request.Payload, at: now}
		c.submitted[id] = s
		c.order = append(c.order, id)
	}
	if r.Rejected == "" && !c.faulty[r.Node] {
		s.takenBy = append(s.takenBy, nodeInc{r.Node, r.Incarnation})
	}
}

func (c *Checker) deliver(n *nodeRecord, r Report, now time.Duration) {
	// Total order: slot after slot.
	if r.SeqNr != n.next {
		what := "a gap"
		if r.SeqNr < n.next {
			what = "a slot delivered twice"
		}
		c.violation("total order", "node %s (incarnation %d) delivered slot %d, its next slot is %d: %s",
			r.Node, r.Incarnation, r.SeqNr, n.next, what)
		return
	}
	n.next = r.SeqNr + 1
	n.deliveredAt = append(n.deliveredAt, now)
	// Validity of the value.
	if r.Invalid != "" {
		c.violation("validity", "node %s delivered in slot %d %s, which is no valid batch: %s", r.Node, r.SeqNr, describeValue(r.Aborted, r.Value), r.Invalid)
		return
	}
	executed := make([]RequestID, len(r.Executed))
	for i, req := range r.Executed {
		executed[i] = req.RequestID
	}
	if !c.agree(r, executed) {
		return
	}
	for _, req := range r.Executed {
		c.execute(n, r, req, now)
	}
}

// agree checks the slot against what the first correct node to deliver it
// delivered, or records it if r is the first.
func (c *Checker) agree(r Report, executed []RequestID) bool {
	first := c.slots[r.SeqNr]
	if first == nil {
		rec := &slotRecord{node: r.Node, aborted: r.Aborted, value: r.Value, digest: sha256.Sum256(r.Value), chain: r.Chain, executed: executed}
		c.slots[r.SeqNr] = rec
		for _, id := range executed {
			if _, ok := c.execSlot[id]; !ok {
				c.execSlot[id] = r.SeqNr
			}
		}
		c.coverRestored(r.SeqNr, executed)
		return true
	}
	switch {
	case first.aborted != r.Aborted || first.digest != sha256.Sum256(r.Value):
		c.violation("agreement", "slot %d: node %s delivered %s, node %s delivered %s",
			r.SeqNr, first.node, describeValue(first.aborted, first.value), r.Node, describeValue(r.Aborted, r.Value))
	case first.chain != r.Chain:
		c.violation("agreement", "slot %d: node %s and node %s delivered %s, but their logs up to it differ (chain links %v and %v)",
			r.SeqNr, first.node, r.Node, describeValue(r.Aborted, r.Value), first.chain, r.Chain)
	case !slices.Equal(first.executed, executed):
		c.violation("agreement", "slot %d: node %s executed %s of %s, node %s executed %s: their states differ",
			r.SeqNr, first.node, describeIDs(first.executed), describeValue(r.Aborted, r.Value), r.Node, describeIDs(executed))
	default:
		return true
	}
	return false
}

// execute checks and records a request node n executed in slot r.SeqNr.
func (c *Checker) execute(n *nodeRecord, r Report, req Request, now time.Duration) {
	id := req.RequestID
	h, ok := n.history[id]
	if h.executed && h.slot != r.SeqNr {
		c.violation("no duplication", "node %s executed request %s in slot %d and again in slot %d", r.Node, id, h.slot, r.SeqNr)
		return
	}
	if !ok {
		h.first = now
	}
	h.slot, h.executed = r.SeqNr, true
	n.history[id] = h
	if _, ok := n.coveredAt[id]; !ok {
		n.coveredAt[id] = now
	}
	if c.faultyClients[id.Client] {
		return
	}
	switch s := c.submitted[id]; {
	case s == nil:
		c.violation("validity", "node %s executed request %s in slot %d, which no client submitted", r.Node, id, r.SeqNr)
	case !bytes.Equal(s.payload, req.Payload):
		c.violation("validity", "node %s executed request %s in slot %d with payload %q, submitted with %q",
			r.Node, id, r.SeqNr, shorten(req.Payload), shorten(s.payload))
	}
}

func (c *Checker) restore(n *nodeRecord, r Report, now time.Duration) {
	if r.SeqNr < n.next {
		c.violation("total order", "node %s (incarnation %d) restored a state of slot %d after delivering slot %d",
			r.Node, r.Incarnation, r.SeqNr, n.next-1)
		return
	}
	if r.SeqNr > 0 {
		if prev := c.slots[r.SeqNr-1]; prev != nil && prev.chain != r.Chain {
			c.violation("agreement", "node %s restored a state whose log up to slot %d differs from node %s's (chain links %v and %v)",
				r.Node, r.SeqNr-1, prev.node, r.Chain, prev.chain)
			return
		}
	} else if r.Chain != (Digest{}) {
		c.violation("agreement", "node %s restored a state before slot 0 with chain link %v", r.Node, r.Chain)
		return
	}
	n.next = r.SeqNr
	n.restores = append(n.restores, restoreRecord{next: r.SeqNr, at: now})
	if r.SeqNr <= n.restoredTo {
		return
	}
	n.restoredTo = r.SeqNr
	// Every request executed before the state's next slot is the node's
	// now.
	for id, sn := range c.execSlot {
		if sn < r.SeqNr {
			n.cover(id, now)
		}
	}
}

// cover records that the node has request id from time at on, unless it
// had it before.
func (n *nodeRecord) cover(id RequestID, at time.Duration) {
	if _, ok := n.coveredAt[id]; !ok {
		n.coveredAt[id] = at
	}
	if _, ok := n.history[id]; !ok {
		n.history[id] = requestHistory{first: at}
	}
}

// coverRestored gives the requests executed in slot sn, which the checker
// just learned of, to the nodes that restored a state past it, as of the
// first such restore.
func (c *Checker) coverRestored(sn stdtypes.SeqNr, executed []RequestID) {
	for _, n := range c.nodes {
		if n.restoredTo <= sn {
			continue
		}
		at := time.Duration(math.MaxInt64)
		for _, rs := range n.restores {
			if rs.next > sn {
				at = min(at, rs.at)
			}
		}
		for _, id := range executed {
			n.cover(id, at)
		}
	}
}

// Submitted returns the number of requests submitted so far.
func (c *Checker) Submitted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.submitted)
}

// Covered returns the number of requests node's current incarnation (the
// last that reported) has executed, or holds in a state it restored: a
// test waits for every node to have them all. In a simulation, a condition on it is checked after
// every action (Sim.RunUntil). A real deployment's WaitFor checks its
// condition when the deployment observes an event, which is before the
// App applies it and reports: there, wait for the events themselves
// (deploytest.Collect), or have other events follow (timers do).
func (c *Checker) Covered(node stdtypes.NodeID) int {
	return nodeValue(c, node, func(n *nodeRecord) int { return len(n.coveredAt) })
}

// Slots returns the number of slots node has delivered in its current
// incarnation, from the state it started from: the next slot it delivers.
func (c *Checker) Slots(node stdtypes.NodeID) stdtypes.SeqNr {
	return nodeValue(c, node, func(n *nodeRecord) stdtypes.SeqNr { return n.next })
}

// Epoch returns the epoch node is in, as far as its App knows: that of
// the last slot it delivered, or the one after the state it restored.
func (c *Checker) Epoch(node stdtypes.NodeID) stdtypes.EpochNr {
	return nodeValue(c, node, func(n *nodeRecord) stdtypes.EpochNr { return n.epoch })
}

// LongestStall returns the longest time in [from, until] during which
// node delivered no slot (a value, an empty value or ⊥): how long a fault
// stopped the log there. ISS fills every slot, with an empty value if a
// leader has nothing to propose, so a log that runs delivers a slot at
// least every MaxProposeDelay or so.
func (c *Checker) LongestStall(node stdtypes.NodeID, from, until time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	longest, last := time.Duration(0), from
	if n := c.nodes[node]; n != nil {
		for _, at := range n.deliveredAt {
			if at < from {
				continue
			}
			if at > until {
				break
			}
			longest, last = max(longest, at-last), at
		}
	}
	return max(longest, until-last)
}

// nodeValue returns f of node's record, or the zero value if node has
// reported nothing.
func nodeValue[T any](c *Checker, node stdtypes.NodeID, f func(n *nodeRecord) T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[node]; n != nil {
		return f(n)
	}
	var zero T
	return zero
}

// maxReported bounds the missing executions a liveness report names.
const maxReported = 5

// CheckLiveness checks liveness, as a testsim.Liveness, with the nodes'
// states now: every request of a correct client that a correct node that
// is up took (in its current incarnation), or that a correct node
// executed, is executed at every correct node that is up, each within
// LivenessBound of its submission or of the last fault's healing. A
// request not executed yet whose deadline has not come is not a
// violation. It also returns the first safety violation, if any.
func (c *Checker) CheckLiveness(nodes []testsim.NodeStatus) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	up := make(map[stdtypes.NodeID]int, len(nodes))
	for _, n := range nodes {
		if n.Up && !c.faulty[n.ID] {
			up[n.ID] = n.Incarnation
		}
	}
	now, healed := c.now(), time.Duration(0)
	if c.opts.Now == nil {
		// The last event observed may be well before the check: every
		// execution missing now is missing.
		now = math.MaxInt64
	}
	if c.opts.Healed != nil {
		healed = c.opts.Healed()
	}
	var missing []string
	count := 0
	for _, id := range c.order {
		s := c.submitted[id]
		if c.faultyClients[id.Client] || !c.required(id, s, up) {
			continue
		}
		deadline := max(s.at, healed) + c.opts.LivenessBound
		for _, node := range nodes {
			if _, ok := up[node.ID]; !ok {
				continue
			}
			var at time.Duration
			ok := false
			// A node's record is of the incarnation that last
			// reported: a later one has nothing yet.
			if n := c.nodes[node.ID]; n != nil && n.incarnation == node.Incarnation {
				at, ok = n.coveredAt[id]
			}
			var problem string
			switch {
			case !ok && now >= deadline:
				problem = fmt.Sprintf("node %s did not execute request %s, submitted at %v", node.ID, id, s.at)
				if c.opts.Now != nil {
					problem += fmt.Sprintf(", by %v", deadline)
				}
			case ok && at > deadline:
				problem = fmt.Sprintf("node %s executed request %s, submitted at %v, at %v, after %v", node.ID, id, s.at, at, deadline)
			default:
				continue
			}
			count++
			if len(missing) < maxReported {
				missing = append(missing, problem)
			}
		}
	}
	if count == 0 {
		return nil
	}
	more := ""
	if count > len(missing) {
		more = fmt.Sprintf("; and %d more", count-len(missing))
	}
	bounds := ""
	if c.opts.Now != nil {
		bounds = fmt.Sprintf("last fault healed at %v, bound %v", healed, c.opts.LivenessBound)
	}
	return fmt.Errorf("%w: liveness%s: %d executions missing or late: %s%s",
		ErrViolation, c.context(bounds), count, strings.Join(missing, "; "), more)
}

// required reports whether request id must be executed at every correct
// node that is up: a correct node that is up took it in its current
// incarnation, or a correct node executed it.
func (c *Checker) required(id RequestID, s *submission, up map[stdtypes.NodeID]int) bool {
	if _, ok := c.execSlot[id]; ok {
		return true
	}
	for _, t := range s.takenBy {
		if inc, ok := up[t.node]; ok && inc == t.inc {
			return true
		}
	}
	return false
}

// QuorumTimes returns, for each request executed so far, when the correct
// nodes that have it first reached a strong quorum of voters: the time
// it was executed, from the system's point of view. Requests not at a
// strong quorum yet are left out.
func (c *Checker) QuorumTimes(voters membership.Voters) map[RequestID]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	type nodeTime struct {
		node stdtypes.NodeID
		at   time.Duration
	}
	out := make(map[RequestID]time.Duration, len(c.execSlot))
	var times []nodeTime
	for id := range c.execSlot {
		times = times[:0]
		for nid, n := range c.nodes {
			if h, ok := n.history[id]; ok {
				times = append(times, nodeTime{nid, h.first})
			}
		}
		slices.SortFunc(times, func(a, b nodeTime) int {
			if a.at != b.at {
				return compareDurations(a.at, b.at)
			}
			return strings.Compare(string(a.node), string(b.node))
		})
		var weight uint64
		for _, t := range times {
			w, _ := voters.Weight(t.node)
			if weight += w; voters.IsStrongQuorum(weight) {
				out[id] = t.at
				break
			}
		}
	}
	return out
}

func compareDurations(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// describeValue describes a slot's value for a failure message: ⊥, or the
// requests of the batch (the first few) and the value's digest.
func describeValue(aborted bool, value []byte) string {
	if aborted {
		return "⊥"
	}
	digest := Digest(sha256.Sum256(value))
	if len(value) == 0 {
		return "an empty value"
	}
	reqs, err := DecodeBatch(value, Limits{MaxRequests: math.MaxInt32, MaxBytes: math.MaxInt, MaxClientBytes: math.MaxInt32, MaxPayloadBytes: math.MaxInt})
	if err != nil {
		return fmt.Sprintf("%d bytes %q (digest %v)", len(value), shorten(value), digest)
	}
	ids := make([]RequestID, len(reqs))
	for i, r := range reqs {
		ids[i] = r.RequestID
	}
	return fmt.Sprintf("batch %s (digest %v)", describeIDs(ids), digest)
}

// describeIDs lists the first few request IDs.
func describeIDs(ids []RequestID) string {
	const shown = 4
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i == shown {
			fmt.Fprintf(&b, " ...%d more", len(ids)-shown)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(id.String())
	}
	b.WriteByte(']')
	return b.String()
}

// shorten cuts a byte string for a failure message.
func shorten(b []byte) []byte {
	const maxShown = 32
	if len(b) > maxShown {
		return b[:maxShown]
	}
	return b
}
