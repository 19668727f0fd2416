package trantortest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// ClientOptions configure the simulated clients of a System.
type ClientOptions struct {
	// F is the number of faulty nodes the clients tolerate: a result is
	// accepted once F+1 nodes returned it. 0 means f of epoch 0's voters,
	// the most a third of them.
	F int
	// Timeout is how long a client waits for a result before it submits
	// the transaction again, to every node (0: 500 ms). The mempools drop
	// a transaction they hold or know executed: a retry only reaches the
	// nodes that lost it (a crash, a lost batch).
	Timeout time.Duration
	// Liars are nodes whose results reach the clients forged, as a
	// Byzantine replica's would: prefixed with "forged:", so that the
	// liars agree with each other. At most F of them.
	Liars []stdtypes.NodeID
}

// Op is one operation of a client, with its call and return times in
// simulated time: a history for a linearizability check.
type Op struct {
	// ClientID and TxNo name the transaction; Data is its payload.
	ClientID string
	TxNo     uint64
	Data     []byte
	// Call is the time the client first submitted the transaction;
	// Return the time the F+1-th matching result arrived, with Result
	// that result, if Done.
	Call, Return time.Duration
	Result       []byte
	Done         bool
}

// call is an operation in flight: its Op and the first result of each
// node.
type call struct {
	op    *Op
	votes map[stdtypes.NodeID][]byte
	done  func(*Op)
}

// Clients are simulated clients of a System: they submit transactions to
// the nodes' mempools (mempool.NewTxs, as the client server does), learn
// the results from every node's trantor.Executed, accept one that F+1
// nodes returned (a node's first result counting once), and submit again
// what is not answered within Timeout. They record every operation's
// call and return times.
type Clients struct {
	s     *System
	f     int
	opts  ClientOptions
	ops   []*Op
	calls map[mempool.TxID]*call
	next  map[string]uint64
	// loops counts the closed loops not finished; stopped ends them
	// (StopLoops).
	loops   int
	stopped bool
}

// NewClients returns the clients of s; create them before the run.
func (s *System) NewClients(opts ClientOptions) (*Clients, error) {
	f := opts.F
	if f == 0 {
		f = (len(s.Params.ISS.Voters) - 1) / 3
	}
	if len(opts.Liars) > f {
		return nil, fmt.Errorf("trantortest: %d liars, more than f = %d", len(opts.Liars), f)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	if opts.Timeout < 0 {
		return nil, errors.New("trantortest: negative client timeout")
	}
	c := &Clients{s: s, f: f, opts: opts, calls: make(map[mempool.TxID]*call), next: make(map[string]uint64)}
	s.Observe(c.observe)
	return c, nil
}

// Submit submits data now as client's next transaction, to every node,
// and calls done (if not nil) once it has F+1 matching results. Call it
// from the test between runs of the simulation, or from an action the
// simulation runs (Sim.At), not from an observer: it injects events.
func (c *Clients) Submit(client string, data []byte, done func(*Op)) *Op {
	op := &Op{ClientID: client, TxNo: c.next[client], Data: data, Call: c.s.Now()}
	c.next[client]++
	c.ops = append(c.ops, op)
	id := mempool.TxID{ClientID: client, TxNo: op.TxNo}
	c.calls[id] = &call{op: op, votes: make(map[stdtypes.NodeID][]byte), done: done}
	tx := []mempool.Tx{{TxID: id, Data: data}}
	var retry func()
	retry = func() {
		if op.Done {
			return
		}
		c.s.submit(nil, tx)
		c.s.Sim().After(c.opts.Timeout, retry)
	}
	retry()
	return op
}

// observe counts each node's first result for a transaction in flight.
func (c *Clients) observe(o *testsim.Observation) {
	ex, ok := o.Event.(*trantor.Executed)
	if !ok {
		return
	}
	for i, tx := range ex.Txs {
		cl := c.calls[tx.TxID]
		if cl == nil || cl.op.Done {
			continue
		}
		if _, voted := cl.votes[o.Node]; voted {
			continue
		}
		result := ex.Results[i]
		if slices.Contains(c.opts.Liars, o.Node) {
			result = append([]byte("forged:"), result...)
		}
		cl.votes[o.Node] = result
		matching := 0
		for _, r := range cl.votes {
			if string(r) == string(result) {
				matching++
			}
		}
		if matching > c.f {
			cl.op.Done, cl.op.Return, cl.op.Result = true, o.Time, append([]byte(nil), result...)
			delete(c.calls, tx.TxID)
			if cl.done != nil {
				// After this event's observation: the callback may
				// submit, which the simulation must not see in the
				// middle of a step.
				c.s.Sim().At(o.Time, func() { cl.done(cl.op) })
			}
		}
	}
}

// ClientLoad is a closed-loop workload: each of Clients clients ("c0",
// "c1", ...) submits Ops operations, one at a time, the next Think after
// the result of the one before, from Start on. Next returns the payload
// of client's i-th operation, drawn from r (the System's randomness).
type ClientLoad struct {
	Clients, Ops int
	Start, Think time.Duration
	Next         func(client, i int, r *rand.Rand) []byte
}

// Loop schedules the workload l.
func (c *Clients) Loop(l ClientLoad) error {
	if l.Clients <= 0 || l.Ops <= 0 || l.Next == nil || l.Think < 0 {
		return fmt.Errorf("trantortest: a closed loop of %d clients, %d operations each, think time %v", l.Clients, l.Ops, l.Think)
	}
	r := c.s.Sim().NewRand("trantortest/clients")
	for ci := range l.Clients {
		c.loops++
		id := fmt.Sprintf("c%d", ci)
		var step func(i int)
		step = func(i int) {
			if i == l.Ops || c.stopped {
				c.loops--
				return
			}
			c.Submit(id, l.Next(ci, i, r), func(*Op) { c.s.Sim().After(l.Think, func() { step(i + 1) }) })
		}
		c.s.Sim().At(l.Start, func() { step(0) })
	}
	return nil
}

// StopLoops ends the closed loops: each client submits no operation
// after the one in flight.
func (c *Clients) StopLoops() { c.stopped = true }

// Done reports whether every operation submitted has a result and every
// closed loop ended.
func (c *Clients) Done() bool { return c.loops == 0 && len(c.calls) == 0 }

// Wait runs the simulation until Done, for at most the System's limit of
// simulated time (Config.Limit).
func (c *Clients) Wait() error {
	if err := c.s.WaitFor(c.Done, c.s.limit); err != nil {
		var pending []string
		for _, op := range c.ops {
			if !op.Done && len(pending) < 10 {
				pending = append(pending, fmt.Sprintf("%s/%d (called at %v)", op.ClientID, op.TxNo, op.Call))
			}
		}
		return fmt.Errorf("%w: %d closed loops running; not answered: %v; reached %v", err, c.loops, pending, c.s.Checker.Reached())
	}
	return nil
}

// Settle waits until every node in want (the voters of epoch 0 if none)
// executed every operation submitted (or restored a state that holds it),
// and checks that their Apps' snapshots are equal. Call it after Wait:
// the clients need only f+1 nodes to answer, the others may lag.
func (c *Clients) Settle(want ...stdtypes.NodeID) error {
	ids := make([]mempool.TxID, len(c.ops))
	for i, op := range c.ops {
		ids[i] = mempool.TxID{ClientID: op.ClientID, TxNo: op.TxNo}
	}
	return c.s.WaitExecuted(ids, want...)
}

// History returns every operation submitted, in the order of their
// calls. The Ops are copies.
func (c *Clients) History() []Op {
	out := make([]Op, len(c.ops))
	for i, op := range c.ops {
		out[i] = *op
	}
	return out
}
