package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir/pkg/trantor/client"
)

// Mode says how transactions are submitted.
type Mode int

const (
	// OpenLoop submits transactions at Load.Rate, whatever the answers.
	OpenLoop Mode = iota
	// ClosedLoop keeps Load.Outstanding transactions in flight per client.
	ClosedLoop
)

// String names the mode as cmd/bench's flags do.
func (m Mode) String() string {
	if m == ClosedLoop {
		return "closed"
	}
	return "open"
}

// Arrivals says how an open loop spaces its transactions.
type Arrivals int

const (
	// Poisson arrivals: exponentially distributed gaps of mean 1/Rate.
	Poisson Arrivals = iota
	// Uniform arrivals: one every 1/Rate exactly.
	Uniform
)

// String names the arrivals as cmd/bench's flags do.
func (a Arrivals) String() string {
	if a == Uniform {
		return "uniform"
	}
	return "poisson"
}

// Limits of the generator.
const (
	// maxQueued bounds the arrivals of an open loop that wait for a
	// client with room: beyond, the system is far behind, and more would
	// only hold memory (each is a time).
	maxQueued = 1 << 16
	// minWake is the least time the open loop's timer sleeps: at high
	// rates the arrivals of the last minWake are released together, so
	// that the generator wakes at most 1/minWake times a second rather
	// than once per transaction. Latency is measured from each arrival's
	// own time, so the grouping adds to what is measured, at most
	// minWake.
	minWake = 500 * time.Microsecond
	// maxClients bounds Target.Clients: the nodes know at most
	// batchfetcher's MaxClients (4,096 by default) clients at once.
	maxClients = 4096
)

// Target is the system to load and the clients to load it with.
type Target struct {
	// Addrs are the host:port of the nodes' client servers.
	Addrs []string
	// F is the number of faulty nodes tolerated: a result counts once
	// F+1 nodes returned it.
	F int
	// Clients is the number of clients (default 16), each a
	// client.Client; they share one connection to each node (a
	// client.Pool).
	Clients int
	// MaxOutstanding bounds the transactions in flight per client
	// (client.Options.MaxOutstanding; default and at most the client's
	// Window, 128, which the nodes' client window bounds).
	MaxOutstanding int
	// ClientIDPrefix starts every client's ID, followed by "-" and the
	// client's number. It must be new to the nodes (see the package
	// documentation); by default "loadgen-" and the time in base 36.
	ClientIDPrefix string
}

// Load is one run.
type Load struct {
	// Mode is OpenLoop or ClosedLoop.
	Mode Mode
	// Rate is the open loop's arrivals per second.
	Rate float64
	// Arrivals spaces the open loop's arrivals.
	Arrivals Arrivals
	// Outstanding is the closed loop's transactions in flight per client,
	// 1 to Target.MaxOutstanding.
	Outstanding int
	// Warmup is submitted first and left out of the Result; Duration is
	// the measured time after it. Run needs a Duration; a run that Start
	// starts without one lasts until it is stopped.
	Warmup, Duration time.Duration
	// Timeout is how long a transaction may take before it counts as a
	// timeout (default 10s).
	Timeout time.Duration
	// Workload makes the transactions.
	Workload Workload
	// Progress, if not nil, is called about once a second, on a goroutine
	// of its own, with the figures of the last second. (A caller that
	// would rather poll calls Running.Progress instead; the two share the
	// figures, so use one or the other.)
	Progress func(Progress)
	// Seed seeds the Poisson arrivals (0: from the time).
	Seed uint64
}

const defaultTimeout = 10 * time.Second

// validate checks the load; a Duration of 0 is valid for Start.
func (l *Load) validate(maxOutstanding int) error {
	switch {
	case l.Mode != OpenLoop && l.Mode != ClosedLoop:
		return fmt.Errorf("unknown mode %d", l.Mode)
	case l.Mode == OpenLoop && !(l.Rate > 0 && l.Rate <= 1e7):
		return fmt.Errorf("rate %g transactions/s, want more than 0 and at most 10,000,000", l.Rate)
	case l.Mode == OpenLoop && l.Arrivals != Poisson && l.Arrivals != Uniform:
		return fmt.Errorf("unknown arrivals %d", l.Arrivals)
	case l.Mode == ClosedLoop && (l.Outstanding < 1 || l.Outstanding > maxOutstanding):
		return fmt.Errorf("%d transactions outstanding per client, want 1 to %d", l.Outstanding, maxOutstanding)
	case l.Duration < 0 || l.Warmup < 0 || l.Timeout < 0:
		return fmt.Errorf("duration %v, warm-up %v, timeout %v: want none negative", l.Duration, l.Warmup, l.Timeout)
	case l.Workload == nil:
		return errors.New("no workload")
	}
	return nil
}

// Generator is a set of clients of one system, ready to run loads.
type Generator struct {
	target Target
	// pool is the clients' connections: one to each node, shared, so
	// that the generator costs the system calls of one client, not of
	// Target.Clients.
	pool    *client.Pool
	clients []*client.Client
	// turn makes runs (and Ready) take turns, as a lock whose wait ends
	// with the caller's context: they share the clients.
	turn chan struct{}
	// txNo counts the transactions of each client, across runs: the
	// number given to Workload.Tx.
	txNo []atomic.Uint64
}

// Dial makes the target's clients; they connect in the background.
func Dial(t Target) (*Generator, error) {
	if t.Clients == 0 {
		t.Clients = 16
	}
	window := int(client.DefaultOptions().Window)
	if t.MaxOutstanding == 0 {
		t.MaxOutstanding = window
	}
	if t.Clients < 1 || t.Clients > maxClients {
		return nil, fmt.Errorf("loadgen: %d clients, want 1 to %d", t.Clients, maxClients)
	}
	if t.MaxOutstanding < 1 || t.MaxOutstanding > window {
		return nil, fmt.Errorf("loadgen: %d outstanding per client, want 1 to %d (the client window)", t.MaxOutstanding, window)
	}
	if t.ClientIDPrefix == "" {
		t.ClientIDPrefix = "loadgen-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	pool, err := client.NewPool(t.Addrs, t.F, client.PoolOptions{})
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	g := &Generator{target: t, pool: pool, turn: make(chan struct{}, 1), txNo: make([]atomic.Uint64, t.Clients)}
	for i := range t.Clients {
		c, err := pool.NewClient(client.Options{
			ClientID:       t.ClientIDPrefix + "-" + strconv.Itoa(i),
			MaxOutstanding: t.MaxOutstanding,
		})
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		g.clients = append(g.clients, c)
	}
	return g, nil
}

// Ready has every client submit one transaction of w and wait for its
// answer, or ctx to end: once it returns nil, every client is connected
// and the system executes, so that a run measures neither the clients'
// connections nor the start of the system.
func (g *Generator) Ready(ctx context.Context, w Workload) error {
	if err := g.takeTurn(ctx); err != nil {
		return fmt.Errorf("loadgen: not ready: %w", err)
	}
	defer g.endTurn()
	errs := make([]error, len(g.clients))
	var wg sync.WaitGroup
	for i, c := range g.clients {
		wg.Go(func() {
			res, err := c.Submit(ctx, w.Tx(i, g.txNo[i].Add(1)-1))
			if err == nil {
				err = w.Check(res)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("loadgen: not ready: %w", err)
	}
	return nil
}

// takeTurn waits for the run before to end, or ctx. A free turn is
// taken even if ctx ended: the run then ends at once, as it would have.
func (g *Generator) takeTurn(ctx context.Context) error {
	select {
	case g.turn <- struct{}{}:
		return nil
	default:
	}
	select {
	case g.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *Generator) endTurn() { <-g.turn }

// Close closes the clients and their connections.
func (g *Generator) Close() error {
	return g.pool.Close()
}

// Run runs one load of a positive Duration and returns its figures. It
// returns early, with an error, if ctx ends. Runs of one Generator take
// turns.
func (g *Generator) Run(ctx context.Context, l Load) (Result, error) {
	if l.Duration == 0 {
		return Result{}, fmt.Errorf("loadgen: duration %v, want a positive duration", l.Duration)
	}
	r, err := g.Start(ctx, l)
	if err != nil {
		return Result{}, err
	}
	return r.Wait()
}

// Start starts one load in the background and returns at once; Wait
// waits for its figures. A load with a Duration runs as Run does: for
// its warm-up and Duration, or until ctx ends, with an error. A load
// without one runs until ctx ends or Stop is called, and ends without
// error either way. Runs of one Generator take turns: Start waits for
// the run before to end, or returns ctx's error if ctx ends first.
func (g *Generator) Start(ctx context.Context, l Load) (*Running, error) {
	if err := l.validate(g.target.MaxOutstanding); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if l.Timeout == 0 {
		l.Timeout = defaultTimeout
	}
	if err := g.takeTurn(ctx); err != nil { // Ended when the run ends.
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	start := time.Now()
	var end time.Time // None: until stopped.
	if l.Duration > 0 {
		end = start.Add(l.Warmup + l.Duration)
	}
	stopCtx, stop := context.WithCancelCause(ctx)
	r := &run{g: g, load: l, start: start, rec: newRecorder(start, start.Add(l.Warmup), end), abort: stopCtx.Done()}
	h := &Running{r: r, stop: stop, done: make(chan struct{})}
	go func() {
		// The turn is free before Wait returns (deferred calls run last
		// first), so that a Start after Wait never waits for it.
		defer close(h.done)
		defer g.endTurn()
		h.res, h.err = r.run(ctx, stopCtx, end)
		stop(nil)
	}()
	return h, nil
}

// Running is a load that Start started.
type Running struct {
	r    *run
	stop context.CancelCauseFunc
	done chan struct{}
	// res and err are the run's outcome, once done is closed.
	res Result
	err error
}

// errStopped ends a run that Stop stopped.
var errStopped = errors.New("stopped")

// Stop ends the run now, if it runs: the transactions in flight are not
// waited for, and count in neither the figures nor the errors. It
// returns the run's figures, as Wait does.
func (h *Running) Stop() (Result, error) {
	h.stop(errStopped)
	return h.Wait()
}

// Wait waits for the run to end and returns its figures: those of the
// transactions submitted after the warm-up and answered before the end.
func (h *Running) Wait() (Result, error) {
	<-h.done
	return h.res, h.err
}

// Done is closed when the run has ended.
func (h *Running) Done() <-chan struct{} { return h.done }

// Progress returns the figures since the last call (or the run's start),
// and the totals so far, for a caller that shows them as the run goes.
// It may be called from any goroutine, and costs a lock and a copy of
// the last interval's percentiles: calling it once a second is nothing.
func (h *Running) Progress() Progress { return h.r.rec.take(time.Now()) }

// run is the state of one run.
type run struct {
	g     *Generator
	load  Load
	start time.Time
	rec   *recorder
	// abort is closed when the run is stopped or the caller's context
	// ends: the answers are not waited for any more.
	abort <-chan struct{}
	// waiters are the goroutines waiting for answers.
	waiters sync.WaitGroup
}

// run runs the loops until the end (if not zero) or until stopCtx ends,
// waits for the answers, and returns the figures. outer is the caller's
// context, stopCtx the run's (outer, or Stop).
func (r *run) run(outer, stopCtx context.Context, end time.Time) (Result, error) {
	ctx, cancel := stopCtx, context.CancelFunc(func() {})
	if !end.IsZero() {
		ctx, cancel = context.WithDeadline(stopCtx, end)
	}
	defer cancel()
	stopProgress := r.reportProgress()
	if r.load.Mode == OpenLoop {
		r.openLoop(ctx)
	} else {
		r.closedLoop(ctx)
	}
	r.waiters.Wait() // Each ends within Timeout, or at once if aborted.
	stopProgress()
	stopped := time.Now()
	if outer.Err() != nil && !end.IsZero() && !errors.Is(context.Cause(stopCtx), errStopped) {
		return Result{}, fmt.Errorf("loadgen: %w", context.Cause(outer))
	}
	if !end.IsZero() && stopped.After(end) {
		stopped = end // The measured time ends at the end, whatever waited after it.
	}
	return r.result(max(stopped.Sub(r.rec.from), 0)), nil
}

// openLoop releases arrivals at the load's rate until ctx ends, to one
// goroutine per client, which submits them.
func (r *run) openLoop(ctx context.Context) {
	start := r.start
	arrivals := make(chan time.Time, maxQueued)
	var submitters sync.WaitGroup
	for i := range r.g.clients {
		submitters.Go(func() {
			for {
				select {
				case at := <-arrivals:
					r.submit(ctx, i, at, false)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	seed := r.load.Seed
	if seed == 0 {
		seed = uint64(start.UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, 0x6c6f616467656e)) // "loadgen"
	gap := func() time.Duration {
		mean := float64(time.Second) / r.load.Rate
		if r.load.Arrivals == Uniform {
			return time.Duration(mean)
		}
		return time.Duration(rng.ExpFloat64() * mean)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := start.Add(gap())
	for {
		select {
		case <-ctx.Done():
			submitters.Wait()
			r.rec.shed(len(arrivals)) // Left waiting at the end.
			return
		case now := <-timer.C:
			for !next.After(now) {
				select {
				case arrivals <- next:
				default:
					r.rec.shed(1)
				}
				next = next.Add(gap())
			}
			timer.Reset(max(next.Sub(now), minWake))
		}
	}
}

// closedLoop keeps Outstanding transactions in flight per client until
// ctx ends.
func (r *run) closedLoop(ctx context.Context) {
	var workers sync.WaitGroup
	for i := range r.g.clients {
		for range r.load.Outstanding {
			workers.Go(func() {
				for ctx.Err() == nil {
					r.submit(ctx, i, time.Now(), true)
				}
			})
		}
	}
	workers.Wait()
}

// submit submits a transaction of client i that arrived at at. A closed
// loop waits for its answer; an open loop has a goroutine wait for it.
func (r *run) submit(ctx context.Context, i int, at time.Time, closed bool) {
	data := r.load.Workload.Tx(i, r.g.txNo[i].Add(1)-1)
	call, err := r.g.clients[i].SubmitAsync(ctx, data)
	if err == nil {
		r.rec.submitted()
	}
	switch {
	case err != nil && ctx.Err() == nil:
		r.rec.record(at, 0, err)
		return
	case err != nil:
		if !closed {
			r.rec.shed(1) // Arrived, never submitted: the run ended.
		}
		return
	}
	if closed {
		r.await(call, at)
		return
	}
	r.waiters.Go(func() { r.await(call, at) })
}

// await waits for call's answer, at most the load's timeout (or until
// the run is aborted), and records it.
func (r *run) await(call *client.Call, at time.Time) {
	t := time.NewTimer(r.load.Timeout - time.Since(at))
	defer t.Stop()
	select {
	case <-call.Done():
		res, err := call.Result()
		if err == nil {
			err = r.load.Workload.Check(res)
		}
		r.rec.record(at, time.Since(at), err)
	case <-t.C:
		r.rec.record(at, 0, errTimeout)
	case <-r.abort:
	}
}

var errTimeout = errors.New("timeout")
