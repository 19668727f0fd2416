package testsim

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdtypes"
)

// Forever is a deadline that never comes: RunUntil(cond, Forever) runs
// until cond holds or nothing is left to do.
const Forever = time.Duration(math.MaxInt64)

// DefaultMaxEventBatchSize is the default Options.MaxEventBatchSize, the
// same as a real node's default.
const DefaultMaxEventBatchSize = 512

// DefaultHistorySize is the default Options.HistorySize.
const DefaultHistorySize = 64

// Errors a run can return, wrapped in a *Failure.
var (
	// ErrEventLimit: the run dispatched more than Options.MaxEvents events.
	ErrEventLimit = errors.New("event limit reached")
	// ErrNodeDown: events were injected into a node that is not up.
	ErrNodeDown = errors.New("node is down")
	// errNested: Run was called from inside the run (an observer, a twin).
	errNested = errors.New("testsim: Run called from inside the simulation")
)

// errCrashNow is how a node's interceptor tells the driver that the node
// crashes instead of dispatching the batch it was shown.
var errCrashNow = errors.New("crash")

// errViolation is how a node's interceptor tells the driver that a
// property was violated; the failure is recorded already.
var errViolation = errors.New("property violated")

// Options configure a simulation. The zero value, with a seed, is the
// default.
type Options struct {
	// Seed determines everything random in the run: the order of
	// simultaneous actions, latencies, losses, the twins' Rand. The same
	// seed and the same test code give the same run.
	Seed uint64

	// MaxEventBatchSize is the largest batch handed to a module at once;
	// 0 means DefaultMaxEventBatchSize. Smaller batches interleave the
	// modules of a node more finely.
	MaxEventBatchSize int

	// BatchDelay is the simulated time a node takes to process one batch,
	// drawn for each batch; nil means none. A node's own NodeConfig may
	// override it (a slow node).
	BatchDelay Delay

	// HistorySize is the number of observations a failure report shows;
	// 0 means DefaultHistorySize, negative none. The run keeps no more
	// than that, however long it is.
	HistorySize int

	// HashContent makes the event-sequence hash cover what every event
	// holds (its encoding by package codec), not only its node, time, type
	// and destination. It costs about a microsecond per event, as much as
	// the rest of the simulation; turn it on to chase a nondeterminism
	// that the default hash does not show.
	HashContent bool

	// MaxEvents stops the run with ErrEventLimit once that many events
	// have been dispatched; 0 means no limit. It catches protocols that
	// never settle, such as two nodes bouncing messages with no latency,
	// where simulated time stops advancing.
	MaxEvents uint64

	// Logger receives the twins' log messages. Nil logs nothing.
	Logger *logging.Logger
}

// Sim is a simulation: nodes running protocol modules and simulated twins,
// driven by one discrete-event schedule in simulated time. Everything
// happens on the goroutine that calls Run, so a run depends only on the
// seed and the test code.
//
// A Sim is not safe for concurrent use.
type Sim struct {
	opts     Options
	maxBatch int
	now      time.Duration
	q        schedule
	// tie breaks ties between simultaneous actions.
	tie *rand.PCG
	// delays draws batch delays.
	delays *rand.Rand
	// rand is the test code's source, handed out by Rand.
	rand *rand.Rand

	nodes []*Node
	byID  map[stdtypes.NodeID]*Node

	props     []Property
	observers []func(*Observation)
	// obs is the observation handed to properties and observers, reused
	// so that observing allocates nothing.
	obs  Observation
	hist history
	hash hasher
	// seq counts observations, events counts dispatched events only.
	seq    uint64
	events uint64

	// err is the failure that ended the run; every later Run returns it.
	err     error
	running bool
	stopped bool
	// healed is the latest time a known fault ends (NoteFault).
	healed time.Duration
	// one holds a single event to be routed, so routing it needs no slice.
	one [1]stdtypes.Event

	// next, if nextSet, is the index of an action due now that is known
	// to come before everything in the heap: see scheduleAt.
	next    uint32
	nextSet bool
}

// New returns a simulation at time 0, with no nodes.
func New(opts Options) *Sim {
	if opts.MaxEventBatchSize <= 0 {
		opts.MaxEventBatchSize = DefaultMaxEventBatchSize
	}
	histSize := opts.HistorySize
	switch {
	case histSize == 0:
		histSize = DefaultHistorySize
	case histSize < 0:
		histSize = 0
	}
	s := &Sim{
		opts:     opts,
		maxBatch: opts.MaxEventBatchSize,
		tie:      rand.NewPCG(opts.Seed, streamOf("testsim/tie")),
		byID:     make(map[stdtypes.NodeID]*Node),
		hist:     newHistory(histSize),
		hash:     newHasher(opts.HashContent),
	}
	s.delays = s.NewRand("testsim/delays")
	s.rand = s.NewRand("testsim/test")
	return s
}

// streamOf derives a PCG stream number from a name.
func streamOf(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Seed returns the run's seed.
func (s *Sim) Seed() uint64 { return s.opts.Seed }

// Now returns the simulated time since the start of the simulation.
func (s *Sim) Now() time.Duration { return s.now }

// Timestamp returns the time at which a recording of a simulation puts
// simulated time d: the Unix epoch plus d. A simulated node hands it to
// its recorder (an eventlog.TimedInterceptor) with every batch, so that
// the recording of a failing seed lines up with its failure report:
// mircat shows the event a report puts at 4.749572ms at
// 1970-01-01T00:00:00.004749Z, and takes such times with --from and --to.
func Timestamp(d time.Duration) time.Time { return time.Unix(0, int64(d)).UTC() }

// Rand returns a source of randomness for the test code (choosing a node
// to crash, a time to partition), seeded from the run's seed. It is
// separate from the sources the simulation and the twins use.
func (s *Sim) Rand() *rand.Rand { return s.rand }

// NewRand returns a new source of randomness determined by the run's seed
// and name: two calls with the same name give the same sequence. Packages
// with twins (a simulated network) take their own, so that what they draw
// does not shift what others draw.
func (s *Sim) NewRand(name string) *rand.Rand {
	return rand.New(rand.NewPCG(s.opts.Seed, streamOf(name)))
}

// Logger returns the simulation's logger.
func (s *Sim) Logger() *logging.Logger { return s.opts.Logger }

// Events returns the number of events the nodes have dispatched so far.
func (s *Sim) Events() uint64 { return s.events }

// Hash returns the event-sequence hash so far: a digest of every event
// every node dispatched, with its node and time, and of every crash and
// start. Two runs with the same seed give the same hash; a difference
// means something in the run is not deterministic.
func (s *Sim) Hash() uint64 { return s.hash.sum }

// Unhashable returns how many events the hash could not cover the content
// of, with Options.HashContent (see there).
func (s *Sim) Unhashable() uint64 { return s.hash.unhashable }

// Pending returns the number of actions in the schedule: messages in
// flight, timers, steps and faults to come. Some may be dead (their node
// crashed); they are dropped when their time comes.
func (s *Sim) Pending() int { return s.q.len() + boolToInt(s.nextSet) }

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Err returns the failure that ended the run, if any.
func (s *Sim) Err() error { return s.err }

// Check adds properties, checked from the next event on. A property that
// implements PerRun is checked through a NewRun of its own, so the value
// handed in carries nothing from one run to the next.
func (s *Sim) Check(props ...Property) { s.props = append(s.props, ForRun(props)...) }

// Observe adds a function called with every event every node dispatches,
// after the properties. The Observation is valid only during the call.
func (s *Sim) Observe(f func(o *Observation)) { s.observers = append(s.observers, f) }

// Nodes returns the nodes, in the order they were added.
func (s *Sim) Nodes() []*Node { return slices.Clone(s.nodes) }

// Node returns the node with the given ID, or nil.
func (s *Sim) Node(id stdtypes.NodeID) *Node { return s.byID[id] }

// At calls f at simulated time t (now, if t has passed). Fault schedules
// and test inputs are written with it.
func (s *Sim) At(t time.Duration, f func()) {
	a, idx := s.q.newAction()
	a.kind = kindCall
	if a.node != nil {
		a.node = nil
	}
	a.inc = 0
	a.fn = f
	s.scheduleAt(max(t, s.now), idx)
}

// After calls f after the given simulated delay.
func (s *Sim) After(d time.Duration, f func()) { s.At(s.now+max(d, 0), f) }

// NoteFault tells the simulation that a fault lasts until time until:
// FaultsHealed then returns at least until. The simulated network notes
// its partitions; crashes note their restarts.
func (s *Sim) NoteFault(until time.Duration) { s.healed = max(s.healed, until) }

// FaultsHealed returns the time the last known fault heals (see
// NoteFault): liveness is typically checked some time after it.
func (s *Sim) FaultsHealed() time.Duration { return s.healed }

// Stop makes the current Run return after the action being processed. An
// observer or a scheduled function calls it when the test has seen enough.
func (s *Sim) Stop() { s.stopped = true }

// Run runs the simulation until simulated time until, when nothing is left
// to do, when Stop is called, or when the run fails; the error is then a
// *Failure. Once the schedule is past until, the clock is at until.
func (s *Sim) Run(until time.Duration) error {
	_, err := s.run(until, nil)
	return err
}

// RunFor runs the simulation for d of simulated time; see Run.
func (s *Sim) RunFor(d time.Duration) error { return s.Run(s.now + d) }

// RunUntil runs the simulation until cond holds, checked before the first
// action and after every one, and reports whether it does. It also stops
// as Run does, at the deadline (use Forever for none) or when nothing is
// left to do.
func (s *Sim) RunUntil(cond func() bool, deadline time.Duration) (bool, error) {
	return s.run(deadline, cond)
}

func (s *Sim) run(deadline time.Duration, cond func() bool) (bool, error) {
	if s.running {
		return false, errNested
	}
	if s.err != nil {
		return false, s.err
	}
	if cond != nil && cond() {
		return true, nil
	}
	s.running = true
	s.stopped = false
	defer func() {
		s.running = false
		s.flushNext()
	}()
	for {
		var idx uint32
		if s.nextSet {
			idx, s.nextSet = s.next, false
		} else {
			if s.q.len() == 0 || s.q.peek().at > deadline {
				break
			}
			e := s.q.pop()
			s.now, idx = e.at, e.idx
		}
		s.do(s.q.action(idx))
		s.q.recycle(idx)
		if s.err != nil {
			return false, s.err
		}
		if s.opts.MaxEvents > 0 && s.events > s.opts.MaxEvents {
			s.fail(nil, "", fmt.Errorf("%w: %d events", ErrEventLimit, s.opts.MaxEvents))
			return false, s.err
		}
		if cond != nil && cond() {
			return true, nil
		}
		if s.stopped {
			return false, nil
		}
	}
	if deadline != Forever && deadline > s.now {
		s.now = deadline
	}
	return false, nil
}

// CheckLiveness checks every Liveness property with the state of the
// nodes now, and returns the first violation as a *Failure.
func (s *Sim) CheckLiveness() error {
	if s.err != nil {
		return s.err
	}
	nodes := make([]NodeStatus, len(s.nodes))
	for i, n := range s.nodes {
		nodes[i] = NodeStatus{ID: n.id, Up: n.up, Incarnation: int(n.inc)}
	}
	for _, p := range s.props {
		l, ok := p.(Liveness)
		if !ok {
			continue
		}
		if err := l.CheckLiveness(nodes); err != nil {
			s.fail(nil, p.Name(), err)
			return s.err
		}
	}
	return nil
}

// CheckLivenessAfter runs the simulation until grace after the last known
// fault has healed (FaultsHealed), or after now if that is later, and then
// checks the Liveness properties: the usual end of a test under faults.
func (s *Sim) CheckLivenessAfter(grace time.Duration) error {
	if err := s.Run(max(s.healed, s.now) + grace); err != nil {
		return err
	}
	return s.CheckLiveness()
}

// scheduleAt puts the action with index idx in the schedule at time at.
//
// An action due now, while the run is running, when nothing else in the
// schedule is due now, is certain to be the next one: it skips the heap
// and waits in s.next. That is the common case of a node's next step, and
// saves a push and a pop per step. As soon as another action falls due
// now, the waiting one joins the heap with a tie-breaker of its own, so
// the order of simultaneous actions is drawn from the seed as if it had
// never waited.
func (s *Sim) scheduleAt(at time.Duration, idx uint32) {
	if at == s.now && s.running {
		if s.nextSet {
			s.flushNext()
		} else if s.q.len() == 0 || s.q.peek().at > at {
			s.next, s.nextSet = idx, true
			return
		}
	}
	s.q.push(entry{at: at, tie: s.tie.Uint64(), idx: idx})
}

// flushNext moves the action waiting in s.next, if any, into the heap.
func (s *Sim) flushNext() {
	if s.nextSet {
		s.nextSet = false
		s.q.push(entry{at: s.now, tie: s.tie.Uint64(), idx: s.next})
	}
}

// do carries out one action whose time has come.
func (s *Sim) do(a *action) {
	switch a.kind {
	case kindStep:
		if a.node.alive(a.inc) {
			s.step(a.node)
		}
	case kindEmit:
		if a.node.alive(a.inc) {
			evs := a.evs
			if evs == nil {
				s.one[0] = a.ev
				evs = s.one[:]
			}
			s.routeEmitted(a.node, a.mod, evs)
			s.one[0] = nil
		}
	case kindPost:
		s.post(a)
	case kindCall:
		if a.node == nil || a.node.alive(a.inc) {
			a.fn()
		}
	default:
		panic(fmt.Sprintf("testsim: unknown action kind %d", a.kind))
	}
}

// post routes a posted event into its node if the node is up and the
// gate lets it in.
func (s *Sim) post(a *action) {
	n := a.node
	if a.gate != nil && !a.gate.Admit(n, a.ev, n.up) {
		return
	}
	if !n.up {
		return
	}
	s.one[0] = a.ev
	s.routeEmitted(n, n.viaModule(a.via), s.one[:])
	s.one[0] = nil
}

// routeEmitted routes events that module mod of node n emitted on its own
// (nil: that came from outside through no module), as a real node routes
// what an active module emits: an event for a module the node does not
// have, and a message for a module that takes none, is dropped and
// counted, since its destination may come from a peer, which must not be
// able to stop the node.
func (s *Sim) routeEmitted(n *Node, mod *engine.Module, evs []stdtypes.Event) {
	if mod != nil {
		mod.Counters.EventsOut.Add(uint64(len(evs)))
	}
	if _, err := n.core.RouteEmitted(evs, mod); err != nil {
		s.fail(n, "", fmt.Errorf("node %s: %w", n.id, err))
		return
	}
	s.schedStep(n)
}

// schedStep schedules the next batch of node n, unless one is scheduled,
// the node is processing one, or it has nothing to do.
func (s *Sim) schedStep(n *Node) {
	if !n.up || n.stepPending || n.busy || !n.core.Ready() {
		return
	}
	n.stepPending = true
	a, idx := s.q.newAction()
	a.kind = kindStep
	a.node = n
	a.inc = n.inc
	s.scheduleAt(s.now+Draw(n.batchDelay, s.delays), idx)
}

// step hands the next batch of node n to its module.
func (s *Sim) step(n *Node) {
	n.stepPending = false
	m := n.core.Next()
	if m == nil {
		return
	}
	n.busy = true
	var err error
	if m.Passive() {
		err = n.core.ApplyPassive(m)
	} else {
		err = n.applyTwin(m)
	}
	n.busy = false
	switch {
	case err == nil:
	case errors.Is(err, errCrashNow):
		n.crashRequested = true
	case errors.Is(err, errViolation):
		return // recorded by the interceptor
	default:
		s.fail(n, "", fmt.Errorf("node %s: %w", n.id, err))
		return
	}
	if n.crashRequested {
		s.crash(n)
		return
	}
	s.schedStep(n)
}

// observe records an event node n dispatches and checks the properties.
// It returns errViolation, with the failure recorded, if one is violated.
func (s *Sim) observe(n *Node, ev stdtypes.Event) error {
	s.seq++
	s.events++
	s.hash.event(n.index, s.now, ev)
	s.hist.add(s.seq, s.now, n, ev, "")
	if len(s.props) == 0 && len(s.observers) == 0 {
		return nil
	}
	o := &s.obs
	*o = Observation{Seq: s.seq, Time: s.now, Node: n.id, Incarnation: int(n.inc), Event: ev}
	for _, p := range s.props {
		if err := p.Observe(o); err != nil {
			s.fail(n, p.Name(), err)
			return errViolation
		}
	}
	for _, f := range s.observers {
		f(o)
	}
	return nil
}

// note records something that happened to node n, such as a crash, in the
// hash and the history.
func (s *Sim) note(n *Node, what string) {
	s.seq++
	s.hash.note(n.index, s.now, n.inc, what)
	s.hist.add(s.seq, s.now, n, nil, what)
}

// fail records the failure that ends the run, if it is the first.
func (s *Sim) fail(n *Node, property string, err error) {
	if s.err != nil {
		return
	}
	f := &Failure{
		Seed:     s.opts.Seed,
		Time:     s.now,
		Property: property,
		Err:      err,
		Events:   s.events,
		Hash:     s.hash.sum,
		History:  s.hist.snapshot(),
	}
	if n != nil {
		f.Node = n.id
	}
	s.err = f
}
