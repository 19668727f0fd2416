package eventlog

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// A Sink stores what a Recorder records: a stream file (NewStreamSink), a
// SQLite database (package sqlitelog), or anything else. A Recorder calls
// its methods from one goroutine only, never concurrently.
type Sink interface {
	// WriteBatch stores a batch. The batch and its Entries slice are
	// reused after WriteBatch returns; the events may be kept.
	WriteBatch(b *Batch) error
	// Flush makes what was written so far durable enough to survive the
	// process being killed (written to the operating system).
	Flush() error
	// Close flushes and releases the sink. The Recorder calls it once.
	Close() error
}

// OnFull says what a Recorder does when its buffer is full.
type OnFull int

const (
	// Block makes the node wait until the recorder has caught up, so the
	// recording is complete: the default.
	Block OnFull = iota
	// Drop discards the events that do not fit and counts them (Stats);
	// the log marks where events are missing.
	Drop
)

// RecorderOptions configure a Recorder. The zero value is valid.
type RecorderOptions struct {
	// BufferEvents bounds the events waiting to be written (default 8 Ki:
	// the writer drains that in about a millisecond, and every buffered
	// event is heap the garbage collector must scan).
	BufferEvents int
	// OnFull says what happens when the buffer is full (default Block).
	OnFull OnFull
	// Filter selects the events to record (default all).
	Filter Filter
	// FlushInterval is how often buffered events are written and the sink
	// flushed (default 200 ms): at most about this much is lost if the
	// process is killed.
	FlushInterval time.Duration
}

const (
	defaultBufferEvents  = 8192
	defaultFlushInterval = 200 * time.Millisecond
	// chunkEvents is how many events the node hands over at once: the
	// recorder is woken once per chunk, not once per event.
	chunkEvents = 1024
)

// RecorderStats are a recorder's counters.
type RecorderStats struct {
	// Events counts the events the node handed to the recorder.
	Events uint64
	// Written counts the events written to the sink (after the filter).
	Written uint64
	// Dropped counts the events discarded because the buffer was full
	// (OnFull Drop only).
	Dropped uint64
}

// Recorder records every event a node dispatches to a Sink. It is an
// InputInterceptor: pass it to mir.NewNode. The node hands it each batch;
// the recorder keeps the events (events are immutable once emitted, so
// keeping pointers is enough) and a goroutine of its own filters, encodes
// and writes them, so the node spends a few nanoseconds per event on
// recording. Close it after the node has stopped: it writes what is
// buffered and closes the sink.
//
// A record's time is the wall clock's when the node handed the batch
// over, or the time its driver gave (TimedInterceptor): a simulation's
// recording carries simulated time.
type Recorder struct {
	node     stdtypes.NodeID
	sink     Sink
	opts     RecorderOptions
	filter   *compiledFilter
	maxQueue int

	// start is the wall time the recorder was created, and startUnix the
	// same in Unix ns: the node's side reads only the monotonic clock
	// (time.Since(start)) and adds it to startUnix.
	start     time.Time
	startUnix int64

	mu sync.Mutex
	// full wakes the writer when a chunk is queued and wakes a blocked node
	// when the writer has taken chunks.
	cond   *sync.Cond
	cur    *chunk
	queue  []*chunk
	spare  []*chunk
	closed bool
	// err is the writer's first error; the node's next Intercept returns
	// it, which stops the node: a recording that failed must not go on
	// looking complete.
	err error
	// seq and batch number the next event and batch.
	seq, batch uint64
	// droppedSince counts events dropped since the writer last looked.
	droppedSince uint64

	events, written, dropped atomic.Uint64

	wake chan struct{}
	done chan struct{}
}

var _ TimedInterceptor = (*Recorder)(nil)

// chunk is a run of batches handed from the node to the writer.
type chunk struct {
	batches []chunkBatch
	events  []stdtypes.Event
	inputs  []bool
	// dropped counts events dropped just before this chunk's first batch.
	dropped uint64
}

type chunkBatch struct {
	number, seq uint64
	unixNanos   int64 // the batch's time
	end         int   // index in events after the batch's last event
}

func (c *chunk) reset() {
	c.batches = c.batches[:0]
	clear(c.events)
	c.events = c.events[:0]
	c.inputs = c.inputs[:0]
	c.dropped = 0
}

// NewRecorder returns a recorder of node's events writing to sink, and
// starts its goroutine.
func NewRecorder(node stdtypes.NodeID, sink Sink, opts RecorderOptions) (*Recorder, error) {
	if sink == nil {
		return nil, errors.New("eventlog: recorder needs a sink")
	}
	if opts.BufferEvents < 0 {
		return nil, fmt.Errorf("eventlog: BufferEvents %d is negative", opts.BufferEvents)
	}
	if opts.BufferEvents == 0 {
		opts.BufferEvents = defaultBufferEvents
	}
	if opts.FlushInterval < 0 {
		return nil, fmt.Errorf("eventlog: FlushInterval %v is negative", opts.FlushInterval)
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = defaultFlushInterval
	}
	if opts.OnFull != Block && opts.OnFull != Drop {
		return nil, fmt.Errorf("eventlog: unknown OnFull %d", opts.OnFull)
	}
	filter, err := opts.Filter.compile()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	r := &Recorder{
		node:      node,
		sink:      sink,
		opts:      opts,
		filter:    filter,
		maxQueue:  max(1, opts.BufferEvents/chunkEvents),
		start:     start,
		startUnix: start.UnixNano(),
		cur:       &chunk{},
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	r.cond = sync.NewCond(&r.mu)
	go r.writeLoop()
	return r, nil
}

// Intercept records evs, without telling inputs from outputs.
func (r *Recorder) Intercept(evs *stdtypes.EventList) error {
	return r.InterceptInputs(evs, nil)
}

// InterceptInputs records evs at the wall clock's time; inputs[i] tells
// whether the i-th is an input (nil: none is). It returns the writer's
// error, if any, which stops the node.
func (r *Recorder) InterceptInputs(evs *stdtypes.EventList, inputs []bool) error {
	return r.record(r.startUnix+int64(time.Since(r.start)), evs, inputs)
}

// InterceptInputsAt records evs at time at, given by the node's driver (a
// simulation's time); see InterceptInputs.
func (r *Recorder) InterceptInputsAt(at time.Time, evs *stdtypes.EventList, inputs []bool) error {
	return r.record(at.UnixNano(), evs, inputs)
}

// record records evs at unixNanos.
func (r *Recorder) record(unixNanos int64, evs *stdtypes.EventList, inputs []bool) error {
	batch := evs.Slice()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil && !r.closed && len(r.queue) >= r.maxQueue {
		if r.opts.OnFull == Drop {
			r.events.Add(uint64(len(batch)))
			r.dropped.Add(uint64(len(batch)))
			r.droppedSince += uint64(len(batch))
			r.batch++
			r.seq += uint64(len(batch))
			return nil
		}
		// Block until the writer takes queued chunks (it broadcasts).
		// Nothing of this batch is in r.cur yet: the writer may take
		// r.cur meanwhile.
		for len(r.queue) >= r.maxQueue && r.err == nil && !r.closed {
			r.cond.Wait()
		}
	}
	if r.err != nil {
		return r.err
	}
	if r.closed {
		return errors.New("eventlog: recorder closed")
	}
	r.events.Add(uint64(len(batch)))
	number, seq := r.batch, r.seq
	r.batch++
	r.seq += uint64(len(batch))
	c := r.cur
	if len(c.batches) == 0 {
		c.dropped, r.droppedSince = r.droppedSince, 0
	}
	c.batches = append(c.batches, chunkBatch{number: number, seq: seq, unixNanos: unixNanos, end: len(c.events) + len(batch)})
	c.events = append(c.events, batch...)
	if inputs != nil {
		c.inputs = append(c.inputs, inputs...)
	} else {
		c.inputs = append(c.inputs, make([]bool, len(batch))...)
	}
	if len(c.events) >= chunkEvents {
		r.queue = append(r.queue, c)
		r.cur = r.newChunk()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// newChunk returns an empty chunk; r.mu is held.
func (r *Recorder) newChunk() *chunk {
	if n := len(r.spare); n > 0 {
		c := r.spare[n-1]
		r.spare = r.spare[:n-1]
		return c
	}
	return &chunk{}
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Events: r.events.Load(), Written: r.written.Load(), Dropped: r.dropped.Load()}
}

// Close writes what is buffered, closes the sink and returns the first
// error of either. Call it once the node has stopped; events intercepted
// after Close are refused. Calling Close again returns the same error.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		r.cond.Broadcast()
		close(r.wake)
	}
	r.mu.Unlock()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// writeLoop is the recorder's goroutine: it takes queued chunks (and, every
// FlushInterval, the partial one), writes them and flushes the sink.
func (r *Recorder) writeLoop() {
	defer close(r.done)
	ticker := time.NewTicker(r.opts.FlushInterval)
	defer ticker.Stop()
	w := &batchWriter{r: r, batch: Batch{Node: r.node}}
	var taken []*chunk
	// dirty tells whether anything was written since the last flush.
	dirty := false
	for {
		closing := false
		flush := false
		select {
		case _, ok := <-r.wake:
			closing = !ok
		case <-ticker.C:
			flush = true
		}
		r.mu.Lock()
		taken = append(taken[:0], r.queue...)
		clear(r.queue)
		r.queue = r.queue[:0]
		if (flush || closing || r.closed) && len(r.cur.batches) > 0 {
			taken = append(taken, r.cur)
			r.cur = r.newChunk()
		}
		closing = closing || r.closed
		dropped := r.droppedSince
		if closing {
			r.droppedSince = 0
		}
		r.cond.Broadcast()
		r.mu.Unlock()

		var err error
		dirty = dirty || len(taken) > 0
		for _, c := range taken {
			if err == nil {
				err = w.write(c)
			}
			c.reset()
		}
		if err == nil && closing && dropped > 0 {
			err = w.gap(dropped)
		}
		if err == nil && dirty && (flush || closing) {
			err = r.sink.Flush()
			dirty = false
		}
		if closing {
			if cerr := r.sink.Close(); err == nil {
				err = cerr
			}
		}
		r.mu.Lock()
		r.spare = append(r.spare, taken...)
		if err != nil && r.err == nil {
			r.err = fmt.Errorf("eventlog: recording node %s: %w", r.node, err)
			r.cond.Broadcast()
		}
		stop := closing || r.err != nil
		r.mu.Unlock()
		clear(taken)
		if stop {
			if !closing {
				// Release whatever the sink still holds; the error
				// is already kept.
				_ = r.sink.Close()
				r.drainUntilClosed()
			}
			return
		}
	}
}

// drainUntilClosed discards chunks after a write error until Close, so that
// a node blocked on a full buffer is released (its next Intercept returns
// the error).
func (r *Recorder) drainUntilClosed() {
	for range r.wake {
		r.mu.Lock()
		for _, c := range r.queue {
			c.reset()
		}
		r.queue = r.queue[:0]
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// GapWriter is implemented by sinks that can mark where events were
// dropped; the recorder calls it before the first batch written after a
// drop.
type GapWriter interface {
	WriteGap(dropped uint64) error
}

// batchWriter turns chunks into Batches for the sink.
type batchWriter struct {
	r     *Recorder
	batch Batch
}

func (w *batchWriter) gap(dropped uint64) error {
	if g, ok := w.r.sink.(GapWriter); ok {
		return g.WriteGap(dropped)
	}
	return nil
}

func (w *batchWriter) write(c *chunk) error {
	if c.dropped > 0 {
		if err := w.gap(c.dropped); err != nil {
			return err
		}
	}
	start := 0
	for _, cb := range c.batches {
		b := &w.batch
		b.Number = cb.number
		b.Time = time.Unix(0, cb.unixNanos)
		b.Entries = b.Entries[:0]
		for i := start; i < cb.end; i++ {
			ev := c.events[i]
			if !w.r.filter.match(ev) {
				continue
			}
			b.Entries = append(b.Entries, Entry{Seq: cb.seq + uint64(i-start), Input: c.inputs[i], Event: ev})
		}
		start = cb.end
		if len(b.Entries) == 0 {
			continue
		}
		if err := w.r.sink.WriteBatch(b); err != nil {
			return err
		}
		w.r.written.Add(uint64(len(b.Entries)))
		clear(b.Entries)
	}
	return nil
}
