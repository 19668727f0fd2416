package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// PoolParams are the parameters of a Pool.
type PoolParams struct {
	// Workers is the number of worker goroutines; 0 means one per CPU the
	// Go scheduler uses (runtime.GOMAXPROCS).
	Workers int
	// MaxPendingItems bounds the items the pool holds at once, counted
	// from the request's arrival to the emission of its response (a request
	// of zero items counts as one). The node's backpressure normally keeps
	// the pool far below it: protocols that wait for responses slow down
	// when the node stops reading the pool's output. Passing it means the
	// node is flooded with requests faster than they can be served, and
	// ApplyEvents fails loudly (stopping the node) rather than let memory
	// grow without bound.
	MaxPendingItems int
}

// DefaultPoolParams returns one worker per CPU and room for about a million
// pending items.
func DefaultPoolParams() PoolParams {
	return PoolParams{MaxPendingItems: 1 << 20}
}

// Validate reports whether the parameters can be used.
func (p PoolParams) Validate() error {
	switch {
	case p.Workers < 0:
		return fmt.Errorf("runner: negative number of workers: %d", p.Workers)
	case p.MaxPendingItems < 1:
		return fmt.Errorf("runner: MaxPendingItems must be positive, not %d", p.MaxPendingItems)
	}
	return nil
}

// outCapacity is the capacity of a pool's output channel. The emitter
// gathers all responses ready while it waits into its next list, so a
// small channel costs no throughput.
const outCapacity = 4

// ErrPoolStopped is returned by Pool.ApplyEvents when called with a new
// context after the one its workers were started with ended: a pool serves
// one run of a node.
var ErrPoolStopped = errors.New("runner: pool stopped")

// Pool is an active module that computes responses on a pool of worker
// goroutines. Each request is split into chunks of Job.MinChunk to
// Job.MaxChunk items: into one chunk per worker when they have nothing
// queued, so that one large request is spread over them all; whole (up to
// MaxChunk) when every worker has work queued already.
//
// ApplyEvents only plans jobs and queues their chunks: it never waits for a
// worker, nor for the node to read EventsOut. The workers start at the
// first call to ApplyEvents and end when the context of that call ends.
// One more goroutine, the emitter, hands responses to the node: while the
// node does not read (backpressure), responses gather and go out together
// as one list when it reads again; workers never wait for it.
//
// Responses are emitted in the order they complete, not in the order of
// the requests: a response follows its request, and otherwise the order is
// up to the scheduler. The content of each response is the same as with
// Sync. Protocols that need an order among responses must not assume one.
//
// A job whose Run fails (a local fault, such as no key to sign with) or
// panics gets no response, and the next call to ApplyEvents returns the
// error, stopping the node. An active module has no other way to report
// an error, so a node that sends the pool nothing more does not learn of
// it; the synchronous module reports it at once.
type Pool struct {
	plan    Planner
	workers int
	maxHeld int
	out     chan *stdtypes.EventList

	// ctx is the context the workers were started with; ApplyEvents alone
	// sets it, at its first call.
	ctx context.Context

	// wake has a token for each worker that should look at the task queue
	// again; ready has one when responses wait for the emitter.
	wake  chan struct{}
	ready chan struct{}

	mu sync.Mutex
	// tasks are the chunks waiting for a worker, in order of arrival.
	tasks fifo[task]
	// responses are the completed responses waiting for the emitter.
	responses []finished
	// held counts the items the pool holds (see MaxPendingItems).
	held int
	// emitted counts the responses handed to the node.
	emitted uint64
	// err is the first error or panic of a worker, which the next
	// ApplyEvents returns.
	err error

	// stray counts the messages from other nodes ApplyEvents dropped.
	stray modules.StrayMessages
}

// task is one chunk of a job: items [lo, hi).
type task struct {
	job    *jobState
	lo, hi int
}

// jobState is a job being computed.
type jobState struct {
	run      func(lo, hi int) error
	finish   func()
	response stdtypes.Event
	// weight is what the job counts in Pool.held.
	weight int
	// chunksLeft counts the chunks not completed yet; the worker that
	// completes the last one hands the response to the emitter.
	chunksLeft atomic.Int32
}

// finished is a response waiting for the emitter.
type finished struct {
	event  stdtypes.Event
	weight int
}

// NewPool returns an active module that runs the jobs p makes on a pool of
// workers.
func NewPool(p Planner, params PoolParams) (*Pool, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	workers := params.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Pool{
		plan:    p,
		workers: workers,
		maxHeld: params.MaxPendingItems,
		out:     make(chan *stdtypes.EventList, outCapacity),
		wake:    make(chan struct{}, workers),
		ready:   make(chan struct{}, 1),
	}, nil
}

// Workers returns the number of worker goroutines.
func (p *Pool) Workers() int { return p.workers }

// EventsOut returns the channel on which the pool emits responses.
func (p *Pool) EventsOut() <-chan *stdtypes.EventList { return p.out }

// DroppedMessages returns how many messages from other nodes the pool got
// and dropped.
func (p *Pool) DroppedMessages() uint64 { return p.stray.Count() }

// ApplyEvents plans a job for every request and queues it for the workers.
// It returns at once. Init events are ignored; messages from other nodes
// are dropped and counted (DroppedMessages).
func (p *Pool) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	if err := p.start(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // The node is stopping; nobody would read the responses.
	}
	nTasks, nResponses := 0, 0
	for _, ev := range events.Slice() {
		if skip(ev, &p.stray) {
			continue
		}
		job, err := plan(p.plan, ev)
		if err != nil {
			return err
		}
		if job.Items == 0 && job.Finish != nil {
			job.Finish()
		}
		added, err := p.add(job)
		if err != nil {
			return err
		}
		if added == 0 {
			nResponses++
		}
		nTasks += added
	}
	for range min(nTasks, p.workers) {
		select {
		case p.wake <- struct{}{}:
		default: // Every worker has a token already.
		}
	}
	if nResponses > 0 {
		p.signalReady()
	}
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	return err
}

// start starts the workers and the emitter at the first call.
func (p *Pool) start(ctx context.Context) error {
	if p.ctx != nil {
		if p.ctx.Err() != nil && ctx != p.ctx && ctx.Err() == nil {
			return ErrPoolStopped
		}
		return nil
	}
	p.ctx = ctx
	for range p.workers {
		go p.work(ctx)
	}
	go p.emit(ctx)
	return nil
}

// add queues job's chunks, or its response if it has no items, and returns
// the number of chunks queued.
func (p *Pool) add(job Job) (int, error) {
	weight := max(job.Items, 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held+weight > p.maxHeld {
		return 0, fmt.Errorf("runner: pool overloaded: %d items pending, %d more requested by %s, limit %d",
			p.held, weight, stdtypes.TypeName(job.Response), p.maxHeld)
	}
	p.held += weight
	if job.Items == 0 {
		p.responses = append(p.responses, finished{event: job.Response, weight: weight})
		return 0, nil
	}
	chunk := p.chunkSize(job)
	nChunks := (job.Items + chunk - 1) / chunk
	js := &jobState{run: job.Run, finish: job.Finish, response: job.Response, weight: weight}
	js.chunksLeft.Store(int32(nChunks))
	for lo := 0; lo < job.Items; lo += chunk {
		p.tasks.push(task{job: js, lo: lo, hi: min(lo+chunk, job.Items)})
	}
	return nChunks, nil
}

// chunkSize returns the number of items per chunk of job. With workers
// idle, a request is spread over all of them, for latency; with work
// queued for every worker already, it goes whole (up to MaxChunk), since
// splitting would only add overhead and shrink verification batches.
// Called with p.mu held.
func (p *Pool) chunkSize(job Job) int {
	chunk := (job.Items + p.workers - 1) / p.workers
	if p.tasks.len() >= p.workers {
		chunk = job.Items
	}
	if job.MaxChunk > 0 {
		chunk = min(chunk, job.MaxChunk)
	}
	return max(chunk, job.MinChunk, 1)
}

// work is a worker: it runs tasks until ctx ends.
func (p *Pool) work(ctx context.Context) {
	for {
		t, ok := p.nextTask()
		if !ok {
			select {
			case <-p.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if !p.runTask(t) {
			continue
		}
		if t.job.chunksLeft.Add(-1) == 0 {
			// The atomic decrement orders every chunk's writes before
			// this point, so finish and the node see all the results.
			if t.job.finish != nil && !p.runFinish(t.job) {
				continue
			}
			p.mu.Lock()
			p.responses = append(p.responses, finished{event: t.job.response, weight: t.job.weight})
			p.mu.Unlock()
			p.signalReady()
		}
	}
}

// nextTask takes the first queued task, if any.
func (p *Pool) nextTask() (task, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tasks.len() == 0 {
		return task{}, false
	}
	return p.tasks.pop(), true
}

// runTask runs t. An error or a panic becomes the error the next
// ApplyEvents returns, and the job's response is never emitted. It reports
// whether t completed.
func (p *Pool) runTask(t task) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			p.fail(fmt.Errorf("runner: worker panicked computing %s: %v\n%s",
				stdtypes.TypeName(t.job.response), r, debug.Stack()))
			ok = false
		}
	}()
	if err := t.job.run(t.lo, t.hi); err != nil {
		p.fail(fmt.Errorf("computing %s: %w", stdtypes.TypeName(t.job.response), err))
		return false
	}
	return true
}

// runFinish runs job.finish, turning a panic into the error the next
// ApplyEvents returns. It reports whether finish completed.
func (p *Pool) runFinish(job *jobState) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			p.fail(fmt.Errorf("runner: worker panicked finishing %s: %v\n%s",
				stdtypes.TypeName(job.response), r, debug.Stack()))
			ok = false
		}
	}()
	job.finish()
	return true
}

// fail records err, unless an error is recorded already.
func (p *Pool) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

// signalReady wakes the emitter, unless it has a token already.
func (p *Pool) signalReady() {
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// emit hands the completed responses to the node until ctx ends: all those
// waiting as one list, then those that completed meanwhile, and so on.
func (p *Pool) emit(ctx context.Context) {
	for {
		select {
		case <-p.ready:
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		batch := p.responses
		p.responses = nil
		p.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		list := stdtypes.EmptyList()
		weight := 0
		for _, f := range batch {
			list.PushBack(f.event)
			weight += f.weight
		}
		select {
		case p.out <- list:
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		p.held -= weight
		p.emitted += uint64(len(batch))
		p.mu.Unlock()
	}
}

// PoolStats is a snapshot of a pool's state.
type PoolStats struct {
	// Workers is the number of worker goroutines.
	Workers int
	// PendingItems counts the items the pool holds, from the arrival of
	// their request to the emission of its response (see
	// PoolParams.MaxPendingItems).
	PendingItems int
	// QueuedChunks counts the chunks waiting for a worker.
	QueuedChunks int
	// Responses counts the responses handed to the node so far.
	Responses uint64
}

// Stats returns a snapshot of the pool's state. It is safe to call from
// any goroutine at any time.
func (p *Pool) Stats() PoolStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PoolStats{Workers: p.workers, PendingItems: p.held, QueuedChunks: p.tasks.len(), Responses: p.emitted}
}

// ReportStats returns Stats, for the node's statistics (it makes a Pool a
// modules.StatsReporter).
func (p *Pool) ReportStats() any { return p.Stats() }

// fifo is a queue backed by a slice that is reused once drained.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) len() int { return len(q.items) - q.head }

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

func (q *fifo[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head >= 1024 && q.head*2 >= len(q.items) {
		// Move the rest to the front, so a queue that never drains does not
		// keep growing its backing array.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	return v
}
