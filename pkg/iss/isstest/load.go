package isstest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// Load describes the requests a Driver submits: Requests requests from
// Clients clients, at Rate requests per second of simulated time in all,
// from Start on. Request i (from 0) is client i mod Clients's request
// number i div Clients, submitted at Start + i/Rate: each client submits
// its requests in order, and the clients take turns.
type Load struct {
	Clients  int
	Requests int
	Rate     float64
	Start    time.Duration
	// PayloadBytes is the size of each payload, made of the request's ID
	// repeated (at least 1).
	PayloadBytes int
	// To returns the nodes a request is submitted to; nil means every node
	// of the deployment (so a request survives the crash of any of them).
	// ToBucketLeader submits it to the leader of its bucket only.
	To func(id RequestID) []stdtypes.NodeID
	// App is the module ID of the Apps; empty means DefaultID.
	App stdtypes.ModuleID
}

// ClientName returns the ID of client number i: "c<i>".
func ClientName(i int) string { return "c" + strconv.Itoa(i) }

// Driver submits a Load to the nodes of a simulated deployment, and
// records when it submitted each request, for the latency figures.
type Driver struct {
	load Load
	// submitted is when each request was first handed to a node that was
	// up.
	submitted map[RequestID]time.Duration
	// down counts the submissions to nodes that were down.
	down int
	// err is the first submission a node refused.
	err error
}

// NewDriver returns a driver of load, which it checks.
func NewDriver(load Load) (*Driver, error) {
	switch {
	case load.Clients <= 0 || load.Requests < 0:
		return nil, fmt.Errorf("isstest: load of %d requests from %d clients", load.Requests, load.Clients)
	case !(load.Rate > 0):
		return nil, fmt.Errorf("isstest: load at rate %v, want a positive rate", load.Rate)
	case load.PayloadBytes <= 0:
		return nil, fmt.Errorf("isstest: payloads of %d bytes, want at least 1", load.PayloadBytes)
	case load.Start < 0:
		return nil, fmt.Errorf("isstest: load starts at %v", load.Start)
	}
	if load.App == "" {
		load.App = DefaultID
	}
	return &Driver{load: load, submitted: make(map[RequestID]time.Duration, load.Requests)}, nil
}

// Request returns request i of the load and the time it is submitted.
func (dr *Driver) Request(i int) (Request, time.Duration) {
	id := RequestID{Client: ClientName(i % dr.load.Clients), Seq: uint64(i / dr.load.Clients)}
	return Request{RequestID: id, Payload: payload(id, dr.load.PayloadBytes)}, dr.load.Start + time.Duration(float64(i)*float64(time.Second)/dr.load.Rate)
}

// payload returns n bytes of id's text repeated.
func payload(id RequestID, n int) []byte {
	s := id.String() + " "
	out := make([]byte, n)
	for i := range out {
		out[i] = s[i%len(s)]
	}
	return out
}

// Schedule schedules every submission of the load in d's simulation: at
// its time, each request is injected (Submit) into each of its nodes that
// is up then. Call it once, after d.Start.
func (dr *Driver) Schedule(d *deploytest.Simulated) error {
	if d.Node(d.Nodes()[0]) == nil {
		return errors.New("isstest: Schedule before the deployment started")
	}
	s := d.Sim()
	all := d.Nodes()
	for i := range dr.load.Requests {
		req, at := dr.Request(i)
		s.At(at, func() {
			to := all
			if dr.load.To != nil {
				to = dr.load.To(req.RequestID)
			}
			for _, id := range to {
				n := d.Node(id)
				if n == nil || !n.Up() {
					dr.down++
					continue
				}
				if err := n.Inject(NewSubmit(dr.load.App, req.Client, req.Seq, req.Payload)); err != nil {
					// The node has no module Load.App: a wiring bug,
					// which ends the run.
					if dr.err == nil {
						dr.err = fmt.Errorf("isstest: submit to node %s: %w", id, err)
					}
					s.Stop()
					return
				}
				if _, ok := dr.submitted[req.RequestID]; !ok {
					dr.submitted[req.RequestID] = s.Now()
				}
			}
		})
	}
	return nil
}

// Err returns the first submission a node refused (it has no module
// Load.App), which stopped the run.
func (dr *Driver) Err() error { return dr.err }

// Submitted returns the number of requests submitted so far to at least
// one node that was up.
func (dr *Driver) Submitted() int { return len(dr.submitted) }

// SubmittedToDown returns the number of submissions that found their node
// down.
func (dr *Driver) SubmittedToDown() int { return dr.down }

// Done reports whether each of nodes has every request of the load
// (Checker.Covered): the condition a test waits for.
func (dr *Driver) Done(c *Checker, nodes ...stdtypes.NodeID) bool {
	for _, id := range nodes {
		if c.Covered(id) < dr.load.Requests {
			return false
		}
	}
	return true
}

// ToBucketLeader returns a Load.To that submits each request to the
// leader of its bucket in the current epoch, as ISS assigns buckets with
// every node leading (iss.AllLeaders): bucket b to leaders[(b + e) mod
// len(leaders)] in epoch e. epoch returns the current epoch
// (Checker.Epoch of a node, say). With no leaders, requests go nowhere.
func ToBucketLeader(leaders []stdtypes.NodeID, numBuckets int, epoch func() stdtypes.EpochNr) func(RequestID) []stdtypes.NodeID {
	leaders = slices.Clone(leaders)
	return func(id RequestID) []stdtypes.NodeID {
		if len(leaders) == 0 {
			return nil
		}
		i := (uint64(BucketOf(id, numBuckets)) + uint64(epoch())) % uint64(len(leaders))
		return leaders[i : i+1]
	}
}

// Latency summarizes the simulated latency of requests, from their
// submission to their execution at a strong quorum of voters.
type Latency struct {
	// Count is the number of requests measured; Missing those submitted
	// but not executed at a strong quorum.
	Count, Missing   int
	Median, P99, Max time.Duration
}

// String prints the figures on one line.
func (l Latency) String() string {
	return fmt.Sprintf("%d requests: median %v, p99 %v, max %v; %d not executed at a strong quorum", l.Count, l.Median, l.P99, l.Max, l.Missing)
}

// Latency returns the latency of the requests the driver submitted, from
// submission to execution at a strong quorum of voters, as c saw it.
func (dr *Driver) Latency(c *Checker, voters membership.Voters) Latency {
	return dr.LatencyIn(c, voters, 0, time.Duration(math.MaxInt64))
}

// LatencyIn returns the latency of the requests the driver submitted in
// [from, until): of those submitted around a fault, say, to see how soon
// the system recovers from it.
func (dr *Driver) LatencyIn(c *Checker, voters membership.Voters, from, until time.Duration) Latency {
	at := c.QuorumTimes(voters)
	var l Latency
	latencies := make([]time.Duration, 0, len(dr.submitted))
	for id, sub := range dr.submitted {
		if sub < from || sub >= until {
			continue
		}
		done, ok := at[id]
		if !ok {
			l.Missing++
			continue
		}
		latencies = append(latencies, max(done-sub, 0))
	}
	slices.Sort(latencies)
	if l.Count = len(latencies); l.Count > 0 {
		l.Median = quantile(latencies, 0.5)
		l.P99 = quantile(latencies, 0.99)
		l.Max = latencies[l.Count-1]
	}
	return l
}

// quantile returns the q-quantile of sorted, nearest rank: the smallest
// value with at least q of the values at or below it.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(float64(len(sorted))*q+0.999999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
